package main

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestInstallInterrupted: a Ctrl-C (the command's context ending) while
// install writes, before it begins or after its first chunk, leaves nothing
// in the directory.
func TestInstallInterrupted(t *testing.T) {
	src, err := runningBinary()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { afterChunk = nil }()
	for _, when := range []string{"before", "after the first chunk"} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		chunks := 0
		afterChunk = func() { chunks++; cancel() }
		if when == "before" {
			cancel()
		}
		if _, err := installBinary(ctx, src, dir); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: installBinary with its context ended: %v, want context.Canceled", when, err)
		}
		if when != "before" && chunks != 1 {
			t.Errorf("%s: %d chunks written, want 1", when, chunks)
		}
		left, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range left {
			t.Errorf("%s: left behind: %s", when, e.Name())
		}
	}
}
