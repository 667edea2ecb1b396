//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its terminal end: what a
// user's shell gives a command as standard output.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("cannot unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("no pseudo-terminal number: %v", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("cannot open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

// TestBinaryToTerminal: a Word document is not written to a terminal (a
// usage error, before any work); to a file it is.
func TestBinaryToTerminal(t *testing.T) {
	tty := openPTY(t)
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
