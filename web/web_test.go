package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The vendored scripts are the ones VENDORED.md names: a change is
// deliberate.
func TestVendoredScripts(t *testing.T) {
	doc, err := staticFiles.ReadFile("static/VENDORED.md")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
		"sse.js":      "3b5992a541619babefc4c169505af474df5c3039da51e59b96ccf9241ecd61d2",
	} {
		b, err := staticFiles.ReadFile("static/" + file)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want || !strings.Contains(string(doc), want) {
			t.Errorf("%s has SHA-256 %s; VENDORED.md and this test say %s", file, got, want)
		}
	}
	for _, licence := range []string{"htmx.LICENSE", "sse.LICENSE"} {
		if _, err := staticFiles.ReadFile("static/" + licence); err != nil {
			t.Errorf("the licence %s is not beside its script: %v", licence, err)
		}
	}
	htmx, _ := staticFiles.ReadFile("static/htmx.min.js")
	if !strings.Contains(string(htmx), `version:"2.0.11"`) {
		t.Error("htmx.min.js is not htmx 2.0.11")
	}
}

// An answer is worked out once however many ask at the same time; failures
// are not kept; the cache holds at most its size.
func TestAnswers(t *testing.T) {
	c := newAnswers(100)
	var made atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.get(context.Background(), "k", func() ([]byte, error) {
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
	if _, err := c.get(context.Background(), "f", func() ([]byte, error) { return nil, fail }); err != fail {
		t.Fatal(err)
	}
	if b, _ := c.get(context.Background(), "f", func() ([]byte, error) { return []byte("ok"), nil }); string(b) != "ok" {
		t.Fatal("a failure was kept")
	}
	for i := range 50 {
		c.get(context.Background(), strings.Repeat("x", i+1), func() ([]byte, error) { return []byte("0123456789"), nil })
	}
	if c.size > c.max {
		t.Fatalf("holds %d bytes, more than %d", c.size, c.max)
	}
	// An answer larger than a quarter of the cache is not kept.
	c.get(context.Background(), "big", func() ([]byte, error) { return make([]byte, 60), nil })
	if _, ok := c.entries["big"]; ok {
		t.Fatal("kept an answer too large")
	}
}

// A view that replays the log is kept as of one head: asked at a newer
// head, it is worked out again and the older one dropped.
func TestValues(t *testing.T) {
	c := newValues(2)
	n := 0
	make := func() (any, error) { n++; return n, nil }
	ctx := context.Background()
	if v, _ := c.get(ctx, "a", 1, make); v != 1 {
		t.Fatal(v)
	}
	if v, _ := c.get(ctx, "a", 1, make); v != 1 {
		t.Fatal("not kept")
	}
	if v, _ := c.get(ctx, "a", 2, make); v != 2 {
		t.Fatal("kept past its head")
	}
	c.get(ctx, "b", 2, make)
	c.get(ctx, "c", 2, make)
	if len(c.entries) != 2 {
		t.Fatalf("%d entries", len(c.entries))
	}
}
