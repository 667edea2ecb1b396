package heapstart

import (
	"syscall"
	"unsafe"
)

// Advice values of madvise(2) that package syscall does not name.
const madvCollapse = 25

const (
	hugePage = 2 << 20
	// chunk is the size and alignment of the spans in which the runtime
	// maps its heap (pallocChunkBytes).
	chunk = 4 << 20
)

// enabledPath is where Linux says when it backs anonymous memory with
// transparent huge pages: "always [madvise] never", the bracketed word
// chosen. sizePath, where it exists, says it for 2 MiB pages alone, or
// "inherit" to follow enabledPath.
const (
	enabledPath = "/sys/kernel/mm/transparent_hugepage/enabled"
	sizePath    = "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled"
)

// For the tests: probe is the object whose address places the start of the
// heap, and start that address; collapsed is what MADV_COLLAPSE returned
// for each half of the first span it was asked to collapse, from the half
// that holds the probe up (nil where it collapsed; the second entry stays
// nil where the probe lies in the upper half).
var (
	probe     *[64]byte
	start     uintptr
	collapsed [chunk / hugePage]error
)

func init() {
	if onRequest = readOnRequest(); !onRequest {
		return
	}
	if godebug, _ := syscall.Getenv("GODEBUG"); disabled(godebug) {
		return
	}
	// Made here, this object is among the first the program allocates:
	// it lies in the span the runtime mapped first, which what the runtime
	// allocated before it has started to fill.
	probe = new([64]byte)
	start = uintptr(unsafe.Pointer(probe))
	first := start &^ (chunk - 1)
	// From the half that holds the object: the runtime starts its heap at
	// a random page of the span, and leaves the pages below unused.
	for i, half := 0, start&^(hugePage-1); half < first+chunk; i, half = i+1, half+hugePage {
		// Addresses, not slices: a slice over heap that is not allocated
		// would be a bad pointer to the collector.
		madvise(half, hugePage, syscall.MADV_HUGEPAGE)
		// A half nothing has touched has nothing to collapse (EINVAL):
		// marked, its first touch faults a huge page.
		collapsed[i] = madvise(half, hugePage, madvCollapse)
	}
	available = true
}

func madvise(addr, n uintptr, advice int) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}

// readOnRequest reads what OnRequest reports.
func readOnRequest() bool {
	if syscall.Getpagesize() != 4<<10 {
		return false
	}
	if b, ok := readSmall(sizePath); ok {
		if m := bracketed(b); m != "inherit" {
			return m == "madvise"
		}
	}
	b, ok := readSmall(enabledPath)
	return ok && bracketed(b) == "madvise"
}

// readSmall returns the start of the file at path (its first 256 bytes),
// and whether it could be read; straight through syscall, as os would
// initialize first.
func readSmall(path string) (string, bool) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", false
	}
	defer syscall.Close(fd)
	var buf [256]byte
	n, err := syscall.Read(fd, buf[:])
	if err != nil || n < 0 {
		return "", false
	}
	return string(buf[:n]), true
}
