package hugepages

import "golang.org/x/sys/unix"

// onStack is how much heap reserveOnStack puts on huge pages, at least:
// the whole huge pages within a stack of twice stackFrame, less a margin
// at each end.
const onStack = 12 << 20

// stackFrame is the size of growStack's frame.
const stackFrame = 8 << 20

// stackMargin bounds the part of the stack above growStack's frame: the
// frames of the goroutine that calls it.
const stackMargin = 64 << 10

// growStack returns its stack pointer. Its frame (stackFrame bytes, in
// assembly: Go moves a variable that large to the heap) makes the runtime
// move the goroutine that calls it to a stack of twice that size, since
// stacks come in powers of two, and copy there only what the old stack
// held. The new stack is a span of heap pages, the lowest free run of that
// length: early in a process, heap the runtime maps afresh for it. growStack
// touches only the top of its frame.
func growStack() uintptr

// reserveOnStack puts heap on huge pages without a collection. A
// goroutine grows its stack (growStack) and marks the stack's whole huge
// pages (MADV_HUGEPAGE), which nothing has touched where the span is fresh
// (pages touched before stay as they are, marked for the kernel to
// collapse later). When the goroutine ends, the runtime frees a stack of
// that size to the heap at once, unless a collection is under way, and
// the allocations after it take the lowest free pages first: those.
//
// The goroutine ends on the core it hands the caller back to, before the
// caller resumes there, but for a schedule in which another core takes
// the caller first: the allocations made before the stack is freed then
// come from elsewhere. Where a collection was under way, the stack waits
// for its end, and the marked pages go to later allocations, or stacks.
// All this is the Go runtime's way with stacks and heap as of Go 1.26,
// which TestReserve holds it to; where it changes, Reserve gains less and
// nothing else changes: the advice never alters what memory holds.
func reserveOnStack() bool {
	marked := make(chan bool)
	go func() {
		top := growStack() + stackFrame
		begin := (top - 2*stackFrame + stackMargin + hugePage - 1) &^ (hugePage - 1)
		end := (top - stackMargin) &^ (hugePage - 1)
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, begin, end-begin, unix.MADV_HUGEPAGE)
		marked <- errno == 0
	}()
	return <-marked
}
