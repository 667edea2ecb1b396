package sqlite

import (
	"context"

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
	if err := s.ready(ctx, &s.wCache); err != nil {
		return s.ended(ctx, op, s.wrap(op, err))
	}
	if _, err := s.wCache.ExecContext(ctx, key, value); err != nil {
		return s.ended(ctx, op, s.wrap(op, err))
	}
	return nil
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

// CacheDelete removes the value cached under key, if any.
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	op := "delete from cache"
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if s.readOnly != nil {
		return s.readOnly
	}
	if err := s.ready(ctx, &s.wCacheDelete); err != nil {
		return s.ended(ctx, op, s.wrap(op, err))
	}
	if _, err := s.wCacheDelete.ExecContext(ctx, key); err != nil {
		return s.ended(ctx, op, s.wrap(op, err))
	}
	return nil
}
