package hugepages

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/treaty-engine/treaty/internal/hugepages/heapstart"
)

// hugePage is the size of a transparent huge page with 4 KiB pages; a
// range not aligned to it gets none.
const hugePage = 2 << 20

// afterBlock, when set by a test, runs once the block is allocated.
var afterBlock func()

// mu serializes reserveByCollection (which Reserve calls once at most;
// tests call it more).
var mu sync.Mutex

func reserve(n int) bool {
	if n <= 0 || !heapstart.Available() {
		return false
	}
	ok := false
	if n <= onStack {
		ok = reserveOnStack()
	} else {
		ok = reserveByCollection(n)
	}
	if ok {
		heapReserved.Store(true)
	}
	return ok
}

// reserveByCollection allocates a block of n bytes and more, marks its
// whole huge pages and frees it with a garbage collection, for the heap
// to reuse.
func reserveByCollection(n int) bool {
	// A collection started by the block's allocation would keep it, and
	// the one below would have to finish that one first: collections are
	// off meanwhile. Calls at the same time take turns, or one would turn
	// them back on while the other relies on their being off.
	mu.Lock()
	defer mu.Unlock()
	prev := debug.SetGCPercent(-1)
	defer func() {
		// Whatever else the program set meanwhile stands (but -1,
		// which cannot be told from this function's own).
		if set := debug.SetGCPercent(prev); set != -1 {
			debug.SetGCPercent(set)
		}
	}()
	// Rounded up to whole huge pages, and one more, so that its aligned
	// middle holds at least n bytes.
	size := (n+hugePage-1)&^(hugePage-1) + hugePage
	block := make([]byte, size)
	if afterBlock != nil {
		afterBlock()
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	begin := (start+hugePage-1)&^(hugePage-1) - start
	ok := unix.Madvise(block[begin:begin+uintptr(size-hugePage)], unix.MADV_HUGEPAGE) == nil
	// The runtime maps new heap afresh, without the advice: the marked
	// pages are used only once the block, no longer used, is freed.
	runtime.GC()
	return ok
}

// heapReserved is set once reserve has put heap on huge pages: buffers are
// then carved from no block.
var heapReserved atomic.Bool

// carving is what alloc carves buffers from.
var carving struct {
	sync.Mutex
	decided bool   // useForBuffers has run
	on      bool   // blocks are mapped: the system gives huge pages on request
	budget  int    // how much more memory blocks may map
	rest    []byte // the unused end of the current block
}

func useForBuffers() {
	carving.Lock()
	defer carving.Unlock()
	if !carving.decided {
		carving.decided = true
		carving.on = heapstart.Available()
		carving.budget = carveBudget
	}
}

func alloc(n int) []byte {
	if b := carved(n); b != nil {
		return b
	}
	return make([]byte, n)
}

func carved(n int) []byte {
	if n < minCarved {
		return nil
	}
	return carve(n)
}

// carve returns n zero bytes from a block, or nil when it does not carve
// them.
func carve(n int) []byte {
	carving.Lock()
	defer carving.Unlock()
	if !carving.on || heapReserved.Load() {
		return nil
	}
	// Each buffer starts on a cache line of its own: two filled side by
	// side (a compare reads two checkpoints at once) share none.
	size := (n + 63) &^ 63
	if size > len(carving.rest) {
		length := (size + hugePage - 1) &^ (hugePage - 1)
		if length > carving.budget {
			return nil
		}
		block, err := mapBlock(length)
		if err != nil {
			carving.on = false
			return nil
		}
		carving.budget -= length
		carving.rest = block
	}
	b := carving.rest[:n:n]
	carving.rest = carving.rest[size:]
	return b
}

// mapBlock maps length bytes (whole huge pages) of anonymous memory,
// aligned to a huge page and marked for huge pages. It is outside the Go
// heap: the kernel's zero pages, which the runtime neither clears again
// nor counts towards its next collection. This package never unmaps it.
func mapBlock(length int) ([]byte, error) {
	span := uintptr(length + hugePage)
	p, err := unix.MmapPtr(-1, 0, nil, span, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	start := uintptr(p)
	begin := (start+hugePage-1)&^(hugePage-1) - start
	// What lies outside the aligned part goes back to the system; a trim
	// that fails leaves only address space nothing uses.
	if begin > 0 {
		unix.MunmapPtr(p, begin)
	}
	if end := begin + uintptr(length); end < span {
		unix.MunmapPtr(unsafe.Add(p, end), span-end)
	}
	block := unsafe.Slice((*byte)(unsafe.Add(p, begin)), length)
	if err := unix.Madvise(block, unix.MADV_HUGEPAGE); err != nil {
		unix.MunmapPtr(unsafe.Add(p, begin), uintptr(length))
		return nil, err
	}
	return block, nil
}
