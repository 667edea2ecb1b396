package sqlite

import (
	"context"
	"database/sql"
	"errors"

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
	var v []byte
	err := s.rCache.QueryRowContext(ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.ended(ctx, op, s.wrap(op, err))
	}
	if v == nil {
		v = []byte{} // stored, and empty: not absent
	}
	return v, nil
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
