package hugepages

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// enabledPath is where Linux says when it backs anonymous memory with
// transparent huge pages: "always [madvise] never", the bracketed word
// chosen.
const enabledPath = "/sys/kernel/mm/transparent_hugepage/enabled"

// hugePage is the size of a transparent huge page on amd64 and arm64 with
// 4 KiB pages; a range not aligned to it gets none.
const hugePage = 2 << 20

// mu serializes reserve.
var mu sync.Mutex

func reserve(n int) bool {
	if n < hugePage || disabled(os.Getenv("GODEBUG")) {
		return false
	}
	b, err := os.ReadFile(enabledPath)
	if err != nil || mode(string(b)) != "madvise" {
		return false
	}
	// A collection started by the block's allocation would keep it, and
	// the one below would have to finish that one first: collections are
	// off meanwhile. Calls at the same time take turns, or one would turn
	// them back on while the other relies on their being off.
	mu.Lock()
	defer mu.Unlock()
	prev := debug.SetGCPercent(-1)
	defer func() {
		// Whatever else the program set meanwhile stands.
		if set := debug.SetGCPercent(prev); set != -1 {
			debug.SetGCPercent(set)
		}
	}()
	block := make([]byte, n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	begin := (start+hugePage-1)&^(hugePage-1) - start
	end := (start+uintptr(n))&^(hugePage-1) - start
	if begin < end {
		err = unix.Madvise(block[begin:end], unix.MADV_HUGEPAGE)
	}
	ok := begin < end && err == nil
	// The runtime maps new heap afresh, without the advice: the marked
	// pages are used only once the block, no longer used, is freed.
	runtime.GC()
	return ok
}

// mode is the bracketed word of the enabled file: always, madvise or never.
func mode(enabled string) string {
	for _, w := range strings.Fields(enabled) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			return w[1 : len(w)-1]
		}
	}
	return ""
}

// disabled reports whether godebug (the GODEBUG variable) asks the runtime
// to keep the heap off huge pages.
func disabled(godebug string) bool {
	disable := false
	for _, kv := range strings.Split(godebug, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "disablethp" {
			disable = v == "1" // the last setting wins, as in the runtime
		}
	}
	return disable
}
