// Package hugepages backs part of the Go heap with transparent huge pages,
// for a command that is about to allocate megabytes it touches once.
//
// On Linux every 4 KiB page a program touches for the first time costs a
// page fault, and in some virtual machines a fault costs tens of
// microseconds: a compare that allocates six megabytes would spend more
// time faulting than working. A 2 MiB huge page takes one fault. The Go
// runtime does not ask for huge pages for its heap, and most systems give
// them only where a program asks (transparent_hugepage set to madvise).
package hugepages

// Reserve asks the kernel to back the next n bytes the Go heap grows into
// with transparent huge pages, and reports whether it did. It does nothing
// where the system already gives the heap huge pages, or never does, where
// GODEBUG has disablethp=1, and off Linux.
//
// It allocates n bytes of heap, marks them, and frees them with a garbage
// collection, which the allocations that follow then reuse. It changes no
// result, only how memory is backed: a program that calls it may hold up
// to 2 MiB more for each huge page it touches in part.
func Reserve(n int) bool { return reserve(n) }
