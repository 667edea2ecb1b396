// Package filecache keeps values by key in a directory, one file per key,
// with the methods of an eventstore.Cache: for what one machine works out
// from a store and may lose, kept outside the store so that keeping it
// writes nothing to the store.
package filecache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Cache keeps each value in a file under its root directory: the parts of
// a key between slashes are the directories and the name of its file. A
// value is written whole under a temporary name and renamed into place, so
// that a reader finds the earlier value or the new one, never part of one,
// whatever other processes write at the same time. Nothing is synced to
// the disk: what a power cut loses is worked out again, and what it tears
// the caller must be able to tell (the checkpoints' authentication does).
// Files and directories are made readable by their owner only. The zero
// Cache is not usable; New makes one.
type Cache struct {
	root string
}

// New returns the Cache kept in the directory root, which is made when
// the first value is put.
func New(root string) *Cache { return &Cache{root: root} }

// Root is the directory the Cache keeps its files in.
func (c *Cache) Root() string { return c.root }

// tempPrefix starts the names of the files being written: never a key's.
const tempPrefix = ".put-"

// staleAfter is how old a file being written must be for CacheKeys to take
// it for one a process stopped writing (killed, or its machine stopped):
// a value is written in milliseconds.
const staleAfter = time.Hour

// path returns the file of key, or an error naming what makes key no
// path: an empty part, ".", "..", a NUL, a backslash or a colon (a
// separator, or a drive, on some systems), a part too long for a file
// name, or a last part that a file being written could have.
func (c *Cache) path(key string) (string, error) {
	parts := strings.Split(key, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "\x00\\:") || len(p) > 255 {
			return "", fmt.Errorf("cache key %q: %q cannot be part of a file's path", key, p)
		}
	}
	if strings.HasPrefix(parts[len(parts)-1], tempPrefix) {
		return "", fmt.Errorf("cache key %q: a name starting with %q is a file being written", key, tempPrefix)
	}
	return filepath.Join(append([]string{c.root}, parts...)...), nil
}

// CacheGet returns the value stored under key, or nil and no error when
// there is none.
func (c *Cache) CacheGet(ctx context.Context, key string) ([]byte, error) {
	path, err := c.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || isDirectory(path, err) {
		return nil, nil
	}
	return b, err
}

// isDirectory reports whether err, from reading path, is that path is a
// directory: a key that only starts others', with no value of its own.
func isDirectory(path string, err error) bool {
	if err == nil {
		return false
	}
	fi, serr := os.Stat(path)
	return serr == nil && fi.IsDir()
}

// CachePut stores value under key, replacing any earlier value.
func (c *Cache) CachePut(ctx context.Context, key string, value []byte) error {
	return c.CachePutParts(ctx, key, value)
}

// CachePutParts is CachePut of the value parts make one after the other,
// written from where each lies rather than joined first.
func (c *Cache) CachePutParts(ctx context.Context, key string, parts ...[]byte) error {
	path, err := c.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err = f.Write(p); err != nil {
			break
		}
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// CacheKeys lists the keys that start with prefix, in byte order: the
// files under the directories the prefix names, or starts to name. Files
// left half written in those directories long ago are removed.
func (c *Cache) CacheKeys(ctx context.Context, prefix string) ([]string, error) {
	dir, start := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, start = prefix[:i+1], prefix[i+1:]
		if _, err := c.path(dir + "x"); err != nil {
			return nil, err
		}
	}
	entries, err := os.ReadDir(filepath.Join(c.root, filepath.FromSlash(dir)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tempPrefix) {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
				os.Remove(filepath.Join(c.root, filepath.FromSlash(dir), name))
			}
			continue
		}
		if !strings.HasPrefix(name, start) {
			continue
		}
		if !e.IsDir() {
			keys = append(keys, dir+name)
			continue
		}
		under, err := c.CacheKeys(ctx, dir+name+"/")
		if err != nil {
			return nil, err
		}
		keys = append(keys, under...)
	}
	slices.Sort(keys)
	return keys, nil
}

// CacheDelete removes key; removing an absent key is not an error.
func (c *Cache) CacheDelete(ctx context.Context, key string) error {
	path, err := c.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) && !isDirectory(path, err) {
		return err
	}
	return nil
}
