package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// A value is worked out once however many ask at the same time; failures
// are not kept; the cache holds at most its budget, and one value per key.
func TestCache(t *testing.T) {
	c := New[string, []byte](100, func(b []byte) int { return len(b) })
	ctx := context.Background()
	var made atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.Get(ctx, "k", 1, func() ([]byte, error) {
				made.Add(1)
				<-release
				return []byte("0123456789"), nil
			})
			if err != nil || string(b) != "0123456789" {
				t.Errorf("got %q, %v", b, err)
			}
		}()
	}
	for made.Load() == 0 {
	}
	close(release)
	wg.Wait()
	if made.Load() != 1 {
		t.Fatalf("worked out %d times", made.Load())
	}
	fail := errors.New("no")
	if _, err := c.Get(ctx, "f", 1, func() ([]byte, error) { return nil, fail }); err != fail {
		t.Fatal(err)
	}
	if b, _ := c.Get(ctx, "f", 1, func() ([]byte, error) { return []byte("ok"), nil }); string(b) != "ok" {
		t.Fatal("a failure was kept")
	}
	for i := range 50 {
		c.Get(ctx, fmt.Sprint(i), 1, func() ([]byte, error) { return []byte("0123456789"), nil })
	}
	if c.Size() > 100 {
		t.Fatalf("holds %d, more than its budget", c.Size())
	}
	c.Get(ctx, "big", 1, func() ([]byte, error) { return make([]byte, 60), nil })
	if _, ok := c.entries["big"]; ok {
		t.Fatal("kept a value larger than a quarter of the budget")
	}
	// Another version replaces the value.
	n := 0
	count := New[string, int](2, nil)
	next := func() (int, error) { n++; return n, nil }
	if v, _ := count.Get(ctx, "a", 1, next); v != 1 {
		t.Fatal(v)
	}
	if v, _ := count.Get(ctx, "a", 1, next); v != 1 {
		t.Fatal("not kept")
	}
	if v, _ := count.Get(ctx, "a", 2, next); v != 2 {
		t.Fatal("kept at another version")
	}
	count.Get(ctx, "b", 1, next)
	count.Get(ctx, "c", 1, next)
	if count.Len() != 2 {
		t.Fatalf("%d values, budget 2", count.Len())
	}
}
