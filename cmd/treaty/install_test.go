package main

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestInstallInterrupted: a Ctrl-C (the command's context ending) while
// install works, before it begins, after its first chunk or after its last
// (while the copy is synced), leaves nothing in the directory.
func TestInstallInterrupted(t *testing.T) {
	src, err := runningBinary()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	last := int((st.Size() + installChunk - 1) / installChunk)
	if last < 2 {
		t.Fatalf("the test binary is %d bytes, one chunk", st.Size())
	}
	defer func() { afterChunk = nil }()
	for _, c := range []struct {
		name  string
		after int // the chunk after which Ctrl-C comes; 0: before any
	}{{"before", 0}, {"after the first chunk", 1}, {"after the last chunk", last}} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		chunks := 0
		afterChunk = func() {
			if chunks++; chunks == c.after {
				cancel()
			}
		}
		if c.after == 0 {
			cancel()
		}
		if _, err := installBinary(ctx, src, dir); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: installBinary with its context ended: %v, want context.Canceled", c.name, err)
		}
		if c.after > 0 && chunks != c.after {
			t.Errorf("%s: %d chunks written, want %d", c.name, chunks, c.after)
		}
		left, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range left {
			t.Errorf("%s: left behind: %s", c.name, e.Name())
		}
	}
}
