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
// usage error, before any work), nor read from one; to a file it is.
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
	// Nor read from one: import-docx - with a terminal as standard input
	// would wait for a document no one types.
	errb.Reset()
	code := run([]string{"--store", store, "--keys", filepath.Join(dir, "keys"), "--as", "UA", "import-docx", "-"}, tty, &out, &errb)
	want := "treaty: import-docx - reads a .docx from standard input, which is a terminal: pipe or redirect the file into it (< FILE), or name it\n"
	if code != exitUsage || !strings.HasPrefix(errb.String(), want) {
		t.Errorf("import-docx - from a terminal: exit %d\n%s", code, errb.String())
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
