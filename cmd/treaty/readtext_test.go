package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// readText reads one byte past the limit to tell a text at the limit from
// a longer one; at the largest limit an int can hold, that byte must not
// wrap the count around and read nothing.
func TestReadTextAtTheLargestLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(path, []byte("The Parties shall consult.\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{math.MaxInt, math.MaxInt - 1, 28} {
		a := &app{maxText: limit}
		got, err := a.readText(path)
		if err != nil || got != "The Parties shall consult.\n" {
			t.Errorf("readText with --max-text %d = %q, %v", limit, got, err)
		}
	}
	if _, err := (&app{maxText: 27}).readText(path); err == nil {
		t.Error("readText read 28 bytes under a limit of 27")
	}
}
