// Package hugepages backs memory with transparent huge pages, for a
// short-lived command: part of the Go heap, about to hold megabytes it
// touches once (Reserve), or the large buffers it reads into and renders
// documents into (Bytes, Carved).
//
// On Linux every 4 KiB page a program touches for the first time costs a
// page fault, and some virtual machines make a fault dear: a compare that
// allocates six megabytes can spend more time faulting than working. A
// 2 MiB huge page takes one fault. The Go runtime does not ask for huge
// pages for its heap, and many systems give them only where a program asks
// (transparent_hugepage set to madvise).
//
// The start of the heap, which every program touches as it starts, is put
// on huge pages before (package heapstart, which this package imports, and
// whose reading of GODEBUG it shares).
package hugepages

import "sync"

// once makes Reserve act on its first call; reserved is what it reported.
var (
	once     sync.Once
	reserved bool
)

// Reserve asks the kernel to back at least n bytes of heap that the
// allocations after it use with transparent huge pages, and reports
// whether the advice was taken (the kernel may still find no huge page
// free). It acts on its first call only, where the system gives huge pages
// on request, with 4 KiB pages, unless GODEBUG has disablethp set, and only
// on Linux; later calls report what the first did. Call it early, before
// the allocations it is for.
//
// Up to 12 MiB, on amd64, it lends the heap a goroutine's stack: the
// goroutine grows its stack to 16 MiB, heap that early in a process the
// runtime maps afresh for it, marks it, and ends, and the runtime frees
// the stack to the heap. Otherwise it allocates n bytes and more, marks
// them, and frees them with a garbage collection; while that runs,
// collections are off (debug.SetGCPercent(-1)), a percentage set
// meanwhile is kept, unless it is -1, and code that saves and restores the
// percentage must not run beside it.
//
// It changes no result, only how memory is backed: the process may hold
// up to 2 MiB more for each huge page it touches in part.
func Reserve(n int) bool {
	once.Do(func() { reserved = reserve(n) })
	return reserved
}

// minCarved is the smallest buffer Bytes carves from a block: a smaller one
// shares its pages with other allocations, whose faults it rides on.
const minCarved = 64 << 10

// carveBudget is how much memory, at most, blocks of buffers map: enough
// for the few large values a command reads as it starts, and the document
// it renders from them.
const carveBudget = 8 << 20

// UseForBuffers has Bytes carve large buffers from blocks of memory marked
// for transparent huge pages, where the system gives them on request
// (transparent_hugepage set to madvise) and GODEBUG has no disablethp set.
// It suits a short-lived process that reads a few large values once, and
// renders a document from them: the blocks are mapped outside the Go heap
// and never freed, at most carveBudget of them in all, in whole huge
// pages, each of which the process may hold whole once it has touched part
// of it.
func UseForBuffers() { useForBuffers() }

// Bytes returns a slice of n zero bytes (length and capacity n). After
// UseForBuffers, unless Reserve has put heap on huge pages already, one
// of minCarved bytes or more is carved from a block while the blocks'
// budget lasts: its first touches may then fault 2 MiB at a time rather
// than 4 KiB (the kernel gives a huge page where it has one free), and it
// is never freed, nor returned again by Bytes or Carved: its holder may
// hand it on as a string once it stops writing it. It is safe for
// concurrent use.
func Bytes(n int) []byte { return alloc(n) }

// Carved is Bytes where Bytes would carve the slice from a block, and nil
// where it would allocate it from the heap: the caller then allocates as
// it would have without huge pages (a strings.Builder, for one, does not
// zero what it allocates).
func Carved(n int) []byte { return carved(n) }
