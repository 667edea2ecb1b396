//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pipeHolds returns how much the pipe f holds.
func pipeHolds(t *testing.T, f *os.File) int {
	t.Helper()
	var n int
	var err error
	conn, cerr := f.SyscallConn()
	if cerr != nil {
		t.Fatal(cerr)
	}
	if cerr := conn.Control(func(fd uintptr) { n, err = unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0) }); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A pipe is widened to hold a document whole, and then holds what it is
// written without a reader; anything else is left as it is.
func TestWidenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if before := pipeHolds(t, w); before >= pipeSize {
		t.Skipf("this system's pipes hold %d bytes already", before)
	}
	// A system may let users ask for less than the default megabyte
	// (root is not held to it): widenPipe then leaves the pipe alone.
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil {
		if most, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && most < pipeSize && os.Geteuid() != 0 {
			t.Skipf("this system lets a user's pipe hold at most %d bytes", most)
		}
	}
	widenPipe(w)
	if got := pipeHolds(t, w); got < pipeSize {
		t.Fatalf("the pipe holds %d bytes after widenPipe, want %d", got, pipeSize)
	}
	// Nothing reads r: the write completes only if the pipe holds it all
	// (a pipe that did not would block here, and the test time out).
	if n, err := w.Write(make([]byte, pipeSize*9/10)); err != nil || n != pipeSize*9/10 {
		t.Fatalf("wrote %d bytes to the widened pipe: %v", n, err)
	}
	// A regular file, and a pipe widened twice, are no error.
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	widenPipe(f)
	widenPipe(w)
	if got := pipeHolds(t, w); got < pipeSize {
		t.Fatalf("the pipe holds %d bytes after a second widenPipe", got)
	}
}
