package sqlite

import (
	"context"
	"database/sql"

	"github.com/treaty-engine/treaty/eventstore"
)

var _ eventstore.Cache = (*Store)(nil)

// CacheGet returns the value cached under key, or nil when there is none. The
// cache table is not part of the log: Read never returns it.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, error) {
	op := "read cache"
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	rows, err := s.rCache.QueryContext(ctx, key)
	if err != nil {
		return nil, s.ended(ctx, op, s.wrap(op, err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, s.ended(ctx, op, s.wrap(op, err))
		}
		return nil, nil
	}
	// RawBytes spares database/sql's copy of a value that may run to
	// megabytes; the one copy made here is the caller's.
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return nil, s.wrap(op, err)
	}
	return append([]byte{}, raw...), nil // stored and empty is not absent: never nil
}

// CachePut caches value under key, replacing any earlier value, in its own
// transaction. On a read-only store it fails wrapping eventstore.ErrReadOnly.
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
	if _, err := s.wCache.ExecContext(ctx, key, value); err != nil {
		return s.ended(ctx, op, s.wrap(op, err))
	}
	return nil
}

// CacheKeys lists the cached keys that start with prefix, in byte order.
func (s *Store) CacheKeys(ctx context.Context, prefix string) ([]string, error) {
	op := "list cache"
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	var rows *sql.Rows
	var err error
	if end, ok := prefixEnd(prefix); ok {
		rows, err = s.rCacheKeys.QueryContext(ctx, prefix, end)
	} else {
		rows, err = s.rCacheKeysFrom.QueryContext(ctx, prefix)
	}
	if err != nil {
		return nil, s.ended(ctx, op, s.wrap(op, err))
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, s.wrap(op, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.ended(ctx, op, s.wrap(op, err))
	}
	return keys, nil
}

// CacheDelete removes the value cached under key, if any.
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	op := "delete from cache"
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if s.readOnly != nil {
		return s.readOnly
	}
	if _, err := s.wCacheDelete.ExecContext(ctx, key); err != nil {
		return s.ended(ctx, op, s.wrap(op, err))
	}
	return nil
}
