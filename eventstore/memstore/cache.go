package memstore

import (
	"bytes"
	"context"
	"slices"
	"strings"
)

// CacheGet returns a copy of the value cached under key, or nil when there
// is none. The cache is shared by the stores on the same events, and is
// not part of the log: Read never returns it.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, "read cache"); err != nil {
		return nil, err
	}
	s.log.mu.RLock()
	defer s.log.mu.RUnlock()
	v, ok := s.log.cache[key]
	if !ok {
		return nil, nil
	}
	return append([]byte{}, v...), nil // stored and empty is not absent: never nil then
}

// CachePut caches a copy of value under key, replacing any earlier value.
// On a read-only store it fails wrapping eventstore.ErrReadOnly.
func (s *Store) CachePut(ctx context.Context, key string, value []byte) error {
	if err := s.checkWrite(ctx, "write cache"); err != nil {
		return err
	}
	v := bytes.Clone(value)
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.cache[key] = v
	return nil
}

// CacheKeys lists the cached keys that start with prefix, in byte order.
func (s *Store) CacheKeys(ctx context.Context, prefix string) ([]string, error) {
	if err := s.check(ctx, "list cache"); err != nil {
		return nil, err
	}
	s.log.mu.RLock()
	var keys []string
	for k := range s.log.cache {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	s.log.mu.RUnlock()
	slices.Sort(keys)
	return keys, nil
}

// CacheDelete removes the value cached under key, if any. On a read-only
// store it fails wrapping eventstore.ErrReadOnly.
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	if err := s.checkWrite(ctx, "delete from cache"); err != nil {
		return err
	}
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	delete(s.log.cache, key)
	return nil
}
