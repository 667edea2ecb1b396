package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The cache lives in treaty_cache, beside the log: Read never returns it.
// Each call is one statement, bounded by the timeout and tried again if the
// connection is lost (each is safe to repeat).

// CacheGet returns the value cached under key, or nil when there is none.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.call(ctx, "read cache", func(ctx context.Context) error {
		v = nil
		if !validText(key) {
			return nil // no such key can be stored
		}
		err := s.pool.QueryRow(ctx, `SELECT value FROM treaty_cache WHERE key = $1`, key).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err == nil && v == nil {
			v = noBytes // stored and empty is not absent
		}
		return err
	})
	return v, err
}

// CachePut caches value under key, replacing any earlier value. On a
// read-only store it fails wrapping eventstore.ErrReadOnly. Keys must be
// valid UTF-8 without NUL bytes.
func (s *Store) CachePut(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = noBytes
	}
	return s.cacheWrite(ctx, "write cache", key, `INSERT INTO treaty_cache (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, value)
}

// CacheKeys lists the cached keys that start with prefix, in byte order.
func (s *Store) CacheKeys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := s.call(ctx, "list cache", func(ctx context.Context) error {
		keys = keys[:0]
		return s.prefixed(ctx, `SELECT key FROM treaty_cache`, "key", prefix, func(r pgxRow) error {
			var k string
			err := r.Scan(&k)
			keys = append(keys, k)
			return err
		})
	})
	return keys, err
}

// CacheDelete removes the value cached under key, if any.
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	const op = "delete from cache"
	if !validText(key) && s.checkOpen(op) == nil && !s.readOnly {
		return nil // no such key can be stored
	}
	return s.cacheWrite(ctx, op, key, `DELETE FROM treaty_cache WHERE key = $1`)
}

// cacheWrite runs sql, a write of the cache with key as its first argument
// and then args, as the operation op. A key PostgreSQL cannot store is
// refused.
func (s *Store) cacheWrite(ctx context.Context, op, key, sql string, args ...any) error {
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if s.readOnly {
		return s.readOnlyErr(op)
	}
	if !validText(key) {
		return fmt.Errorf("%s: %s: the key %q is not valid UTF-8 without NUL bytes, which PostgreSQL cannot store as given", op, s.uri, key)
	}
	return s.call(ctx, op, func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, sql, append([]any{key}, args...)...)
		return err
	})
}
