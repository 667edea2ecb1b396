package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/treaty-engine/treaty/internal/testtool"
)

// TestInstallMapsHugePages checks what install's 2 MiB writes are for:
// the first 2 MiB of the installed binary, mapped at an address aligned to
// 2 MiB as a Go executable's code is, are mapped a huge page at a time
// (FilePmdMapped in /proc/self/smaps), where a copy written 32 KiB at a
// time (as io.Copy writes) is not. On a kernel or file system that keeps no
// file's page cache in huge folios, neither is, and the test says so and
// skips.
func TestInstallMapsHugePages(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	done, err := installBinary(context.Background(), exe, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if done.Bytes < installChunk {
		t.Fatalf("the test binary is %d bytes, under one chunk", done.Bytes)
	}
	installed := pmdMapped(t, done.Path)

	// The yardstick: the binary's first 2 MiB written at once, which
	// shows whether this kernel and file system map a file so at all.
	head := make([]byte, installChunk)
	in, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := io.ReadFull(in, head); err != nil {
		t.Fatal(err)
	}
	once := filepath.Join(t.TempDir(), "treaty")
	if err := os.WriteFile(once, head, 0o755); err != nil {
		t.Fatal(err)
	}
	yardstick := pmdMapped(t, once)

	// A copy written 32 KiB at a time, as io.Copy writes.
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "treaty")
	out, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, in, make([]byte, 32<<10)); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	copied := pmdMapped(t, plain)
	t.Logf("FilePmdMapped of the first 2 MiB: installed %d kB, written at once %d kB, copied 32 KiB at a time %d kB", installed, yardstick, copied)
	if yardstick <= 0 { // none, or no FilePmdMapped in smaps at all
		t.Skip("this kernel or file system maps no file a huge page at a time: install's writes make no difference here")
	}
	if installed != installChunk>>10 {
		t.Errorf("installed: %d kB mapped a huge page at a time, want %d", installed, installChunk>>10)
	}
	if copied != 0 {
		t.Errorf("copied 32 KiB at a time: %d kB mapped a huge page at a time, want none (so the test shows nothing)", copied)
	}
}

// pmdMapped maps the first 2 MiB of path, read-only, at an address aligned
// to 2 MiB, reads a byte of it, and returns FilePmdMapped of the mapping in
// kB.
func pmdMapped(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Address space for an aligned 2 MiB, reserved, then the file mapped
	// over its aligned part.
	space, err := unix.Mmap(-1, 0, 2*installChunk, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(space)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(space)))
	aligned := unsafe.Add(unsafe.Pointer(unsafe.SliceData(space)), (start+installChunk-1)&^(installChunk-1)-start)
	p, err := unix.MmapPtr(int(f.Fd()), 0, aligned, installChunk, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		t.Fatal(err)
	}
	if *(*byte)(p) != 0x7f { // ELF's first byte
		t.Fatalf("%s does not start as an ELF file", path)
	}
	m, err := testtool.Mapping(uintptr(p))
	if err != nil {
		t.Fatal(err)
	}
	return testtool.KB(m["FilePmdMapped"])
}
