package filecache

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

var _ eventstore.Cache = (*Cache)(nil)

var ctx = context.Background()

// A Cache answers as a store's cache does (eventstore.Cache, checked by
// the stores' suite), in a directory made at the first put: keys list by
// prefix whether the prefix ends a directory or starts a name, and a key
// with no value of its own (a directory) reads as absent and deletes
// without an error.
func TestCacheAsAStoreCache(t *testing.T) {
	c := New(filepath.Join(t.TempDir(), "made", "on", "first", "put"))
	p := "treaty-berlin/memo/b1/tag/compare/"
	if keys, err := c.CacheKeys(ctx, p); err != nil || len(keys) != 0 {
		t.Fatalf("keys before the directory exists: %q, %v", keys, err)
	}
	storetest.Cache(t, c, p)
	for _, k := range []string{"k1", "k1.read"} {
		if err := c.CachePut(ctx, p+k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CachePut(ctx, "treaty-berlin/memo/b1/tag/redlines/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string][]string{
		p + "k1":                      {p + "k1", p + "k1.read"},
		"treaty-berlin/memo/b1/tag/":  {p + "j", p + "k", p + "k1", p + "k1.read", p + "k2", p + "kk", "treaty-berlin/memo/b1/tag/redlines/x"},
		"treaty-berlin/memo/b1/tag/r": {"treaty-berlin/memo/b1/tag/redlines/x"},
		"treaty-other/":               nil,
	} {
		if keys, err := c.CacheKeys(ctx, prefix); err != nil || !slices.Equal(keys, want) {
			t.Errorf("CacheKeys(%q) = %q, %v; want %q", prefix, keys, err, want)
		}
	}
	for _, k := range []string{"treaty-none/x", "treaty-berlin/memo"} {
		if err := c.CacheDelete(ctx, k); err != nil {
			t.Fatalf("deleting %q, absent or no value: %v", k, err)
		}
		if v, err := c.CacheGet(ctx, k); err != nil || v != nil {
			t.Fatalf("%q reads %q, %v", k, v, err)
		}
	}
}

// A value put in parts reads back as the parts one after the other.
func TestCachePutParts(t *testing.T) {
	c := New(t.TempDir())
	for _, parts := range [][][]byte{
		{[]byte("Article 1. "), []byte("The Parties "), nil, []byte("shall meet.")},
		{},
		{nil},
	} {
		if err := c.CachePutParts(ctx, "treaty-berlin/memo/doc", parts...); err != nil {
			t.Fatal(err)
		}
		got, err := c.CacheGet(ctx, "treaty-berlin/memo/doc")
		if want := bytes.Join(parts, nil); err != nil || !bytes.Equal(got, want) || got == nil {
			t.Fatalf("put %q, read %q (%v)", parts, got, err)
		}
	}
	if err := c.CachePutParts(ctx, "treaty-berlin/../doc", []byte("x")); err == nil {
		t.Fatal("a key that is no path was put")
	}
}

// Keys that cannot be a path under the root are refused, by every method,
// naming the part that cannot be: nothing is read or written outside the
// root.
func TestCacheRefusesKeysThatAreNoPath(t *testing.T) {
	root := filepath.Join(t.TempDir(), "cache")
	c := New(root)
	for _, k := range []string{"", "a//b", "../escape", "a/../../escape", "a/./b", "/abs", "a/", "a\x00b", "a/..\\escape", "c:/x", "a/" + strings.Repeat("n", 256), "a/.put-123"} {
		if err := c.CachePut(ctx, k, []byte("v")); err == nil {
			t.Errorf("CachePut(%q) succeeded", k)
		} else if !strings.Contains(err.Error(), "cache key") {
			t.Errorf("CachePut(%q): %v", k, err)
		}
		if _, err := c.CacheGet(ctx, k); err == nil {
			t.Errorf("CacheGet(%q) succeeded", k)
		}
		if err := c.CacheDelete(ctx, k); err == nil {
			t.Errorf("CacheDelete(%q) succeeded", k)
		}
	}
	if _, err := c.CacheKeys(ctx, "../"); err == nil {
		t.Error("CacheKeys(\"../\") succeeded")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "escape")); !os.IsNotExist(err) {
		t.Fatalf("a key wrote outside the root: %v", err)
	}
}

// A value being replaced is read whole, old or new, by readers while other
// writers put it (as processes keeping the same memo do); a file half
// written is never listed as a key; files and directories are the owner's.
func TestCacheWholeValuesUnderConcurrentPuts(t *testing.T) {
	c := New(filepath.Join(t.TempDir(), "cache"))
	values := make([][]byte, 4)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10)
	}
	if err := c.CachePut(ctx, "t/k", values[0]); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range values {
		wg.Go(func() {
			for range 20 {
				if err := c.CachePut(ctx, "t/k", values[i]); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				got, err := c.CacheGet(ctx, "t/k")
				if err != nil || !slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, got) }) {
					t.Errorf("read %d bytes, not one whole value: %v", len(got), err)
					return
				}
				if keys, err := c.CacheKeys(ctx, "t/"); err != nil || !slices.Equal(keys, []string{"t/k"}) {
					t.Errorf("keys while writing: %q, %v", keys, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, path := range []string{c.Root(), filepath.Join(c.Root(), "t"), filepath.Join(c.Root(), "t", "k")} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: others may read it", path, fi.Mode().Perm())
		}
	}
	entries, err := os.ReadDir(filepath.Join(c.Root(), "t"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("files left beside the value: %v, %v", entries, err)
	}
}

// A file a process stopped writing long ago is removed when its directory
// is listed; one being written now is left to its writer. Neither is a key.
func TestCacheRemovesStaleHalfWrittenFiles(t *testing.T) {
	c := New(filepath.Join(t.TempDir(), "cache"))
	if err := c.CachePut(ctx, "t/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.Root(), "t")
	stale, fresh := filepath.Join(dir, tempPrefix+"1"), filepath.Join(dir, tempPrefix+"2")
	for _, f := range []string{stale, fresh} {
		if err := os.WriteFile(f, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAfter)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if keys, err := c.CacheKeys(ctx, "t/"); err != nil || !slices.Equal(keys, []string{"t/k"}) {
		t.Fatalf("keys: %q, %v", keys, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a file left half written long ago is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a file being written was removed: %v", err)
	}
}
