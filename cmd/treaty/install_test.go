package main

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestInstallInterrupted: a Ctrl-C (the command's context ending) while
// install writes leaves nothing in the directory.
func TestInstallInterrupted(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := installBinary(ctx, exe, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("installBinary with its context ended: %v, want context.Canceled", err)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind: %s", e.Name())
	}
}
