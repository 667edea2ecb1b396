package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/treaty-engine/treaty/eventstore"
)

var _ eventstore.Cache = (*Store)(nil)

// CacheGet returns the value cached under key, or nil when there is none. The
// cache table is not part of the log: Read never returns it.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, error) {
	const op = "read cache"
	var v []byte // stored and empty is not absent: never nil then
	err := s.withRaw(ctx, op, func(c *rawConn) (err error) {
		if v, err = c.cacheGet(key); err != nil {
			err = s.wrap(op, err)
		}
		return err
	})
	return v, err
}

// CachePut caches value under key, replacing any earlier value, in its own
// transaction. On a read-only store it fails wrapping eventstore.ErrReadOnly.
// The write does not wait for the disk (see cacheExec).
func (s *Store) CachePut(ctx context.Context, key string, value []byte) error {
	op := "write cache"
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if s.readOnly != nil {
		return s.readOnly
	}
	if value == nil {
		value = noBytes
	}
	return s.ended(ctx, op, s.cacheExec(ctx, op, cachePutSQL, key, value))
}

// CacheKeys lists the cached keys that start with prefix, in byte order.
func (s *Store) CacheKeys(ctx context.Context, prefix string) ([]string, error) {
	const op = "list cache"
	var keys []string
	err := s.withRaw(ctx, op, func(c *rawConn) (err error) {
		if keys, err = c.cacheKeysWith(prefix); err != nil {
			err = s.wrap(op, err)
		}
		return err
	})
	return keys, err
}

// CacheDelete removes the value cached under key, if any. The write does not
// wait for the disk (see cacheExec).
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	op := "delete from cache"
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if s.readOnly != nil {
		return s.readOnly
	}
	return s.ended(ctx, op, s.cacheExec(ctx, op, cacheDeleteSQL, key))
}

const (
	cachePutSQL = `INSERT INTO cache (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	cacheDeleteSQL = `DELETE FROM cache WHERE key = ?`
)

// cacheExec runs one write of the cache, in its own transaction, on the
// writer's connection with synchronous=NORMAL: committed to the write-ahead
// log without waiting for the disk. The cache holds checkpoints, which a
// power cut may lose (a lost one is folded again) but not tear: the log is
// written in order, so the next act, appended with synchronous=FULL, syncs
// every write before it. Waiting for the disk cost every command that left
// a checkpoint an fsync or two.
func (s *Store) cacheExec(ctx context.Context, op, query string, args ...any) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return s.wrap(op, err)
	}
	defer conn.Close()
	// The pragma takes effect when it is compiled: it may have even when
	// the call reports an error (a context ended during it), so the writer
	// is set back to FULL whatever the call returned.
	_, err = conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL")
	if err == nil {
		_, err = conn.ExecContext(ctx, query, args...)
	}
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=FULL"); rerr != nil {
		// A connection that might not sync an append goes: the pool
		// opens another, with synchronous=FULL from its DSN.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return s.wrap(op, errors.Join(err, rerr))
	}
	if err != nil {
		return s.wrap(op, err)
	}
	return nil
}
