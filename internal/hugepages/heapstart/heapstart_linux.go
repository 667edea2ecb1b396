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

// probe is the object whose address places the start of the heap; start is
// that address, and collapsed what MADV_COLLAPSE returned for each half
// of the first span (nil where it collapsed), for the tests.
var (
	probe     *[64]byte
	start     uintptr
	collapsed [chunk / hugePage]error
	acted     bool
)

func init() {
	if syscall.Getpagesize() != 4<<10 {
		return
	}
	if godebug, _ := syscall.Getenv("GODEBUG"); Disabled(godebug) {
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
	acted = true
}

func madvise(addr, n uintptr, advice int) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}
