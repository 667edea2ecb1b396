//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryToTerminal: a Word document is not written to a terminal (a
// usage error, before any work); to a file it is.
func TestBinaryToTerminal(t *testing.T) {
	control, tty := openPTY(t, 80)
	t.Cleanup(func() { control.Close(); tty.Close() })
	dir := t.TempDir()
	store := filepath.Join(dir, "treaty.db")
	var out, errb bytes.Buffer
	if code := run([]string{"--store", store, "--keys", filepath.Join(dir, "keys"), "demo"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("demo: %d\n%s", code, errb.String())
	}
	for _, args := range [][]string{{"draft", "--format", "docx"}, {"diff", "--format", "docx"}} {
		errb.Reset()
		code := run(append([]string{"--store", store, "--keys", filepath.Join(dir, "keys")}, args...), strings.NewReader(""), tty, &errb)
		want := "treaty: --format docx is a binary file, not for a terminal: give --output FILE, or redirect standard output (> FILE)\n"
		if code != exitUsage || !strings.HasPrefix(errb.String(), want) {
			t.Errorf("%v to a terminal: exit %d\n%s", args, code, errb.String())
		}
	}
	errb.Reset()
	f := filepath.Join(dir, "draft.docx")
	if code := run([]string{"--store", store, "--keys", filepath.Join(dir, "keys"), "draft", "--format", "docx", "--output", f}, strings.NewReader(""), tty, &errb); code != 0 {
		t.Fatalf("--output with a terminal: %d\n%s", code, errb.String())
	}
	if st, err := os.Stat(f); err != nil || st.Size() == 0 {
		t.Fatalf("no document: %v", err)
	}
}
