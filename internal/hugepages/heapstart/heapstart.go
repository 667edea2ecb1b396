// Package heapstart puts the start of the Go heap on transparent huge
// pages. It acts in its init, which runs before that of almost every other
// package (it imports only syscall): a program that imports it, even for its
// side effect alone, has it done before its own packages initialize.
//
// The runtime maps its heap 4 MiB at a time without asking for huge pages,
// and every 4 KiB page a program touches for the first time costs a page
// fault, which some virtual machines make dear. A command-line program
// touches hundreds of pages of its heap as it starts (package
// initialization, its command tree, goroutine stacks). heapstart marks the
// heap's first span from where the heap starts to the span's end for huge
// pages (MADV_HUGEPAGE), so that the first touch of each 2 MiB half nothing
// has touched yet faults once, and collapses the half already in use into a
// huge page (MADV_COLLAPSE), copying what it holds. Since Go 1.26 the heap
// starts at a random page of its first span, so this covers between a few
// pages and 4 MiB of it, 2 MiB on average; built with
// GOEXPERIMENT=norandomizedheapbase64 (as treaty's README installs it), the
// heap starts at the span's start, as before 1.26, and this covers all 4
// MiB. What the heap takes beyond the span stays on 4 KiB pages (the runtime
// maps each span afresh, dropping any advice given before).
//
// It changes no result, only how memory is backed: the process may hold up
// to 4 MiB more than it touches. It does nothing where GODEBUG has
// disablethp set (see disabled), where pages are not 4 KiB, off Linux, and
// where the system does not give huge pages on request (see OnRequest).
package heapstart

// onRequest and available are what init found (see OnRequest and
// Available).
var onRequest, available bool

// OnRequest reports whether the system backs memory with transparent huge
// pages where a program asks for them, and only there
// (transparent_hugepage set to madvise, for 2 MiB pages), with pages of
// 4 KiB: as the program found it when it started. Always false off Linux.
func OnRequest() bool { return onRequest }

// Available reports whether huge pages are to be asked for in this
// process: the system gives them on request (OnRequest), and GODEBUG, as
// the program started with it, does not keep the heap off them (see disabled).
// Where it is true, heapstart has acted.
func Available() bool { return available }

// disabled reports whether godebug, a value of the GODEBUG variable, asks
// the runtime to keep the heap off huge pages: disablethp set to a number
// other than 0, the last setting winning, read as the runtime reads the
// variable (a decimal int32, with an optional sign). The defaults built
// into a binary (go.mod's godebug lines, //go:debug directives) are not
// read: this module sets none for disablethp.
func disabled(godebug string) bool {
	disable := false
	for len(godebug) > 0 {
		kv := godebug
		if i := indexByte(godebug, ','); i >= 0 {
			kv, godebug = godebug[:i], godebug[i+1:]
		} else {
			godebug = ""
		}
		const key = "disablethp="
		if len(kv) > len(key) && kv[:len(key)] == key {
			if nonzero, ok := int32Value(kv[len(key):]); ok {
				disable = nonzero
			}
		}
	}
	return disable
}

// indexByte, int32Value and bracketed stand in for strings.IndexByte,
// strconv.ParseInt and strings.Fields, whose packages would initialize
// first.
func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// int32Value reports whether s is a decimal int32 as strconv.ParseInt(s,
// 10, 32) reads one (a sign, then digits), and whether it is other than 0.
func int32Value(s string) (nonzero, ok bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" {
		return false, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false, false
		}
		if n = n*10 + uint64(s[i]-'0'); n > 1<<31 {
			return false, false
		}
	}
	if n == 1<<31 && !neg {
		return false, false
	}
	return n != 0, true
}

// bracketed is the bracketed word of a transparent_hugepage enabled file
// ("always [madvise] never": madvise), or "" when there is none.
func bracketed(enabled string) string {
	start := -1
	for i := 0; i < len(enabled); i++ {
		switch c := enabled[i]; {
		case c == '[' && (i == 0 || isSpace(enabled[i-1])):
			start = i + 1
		case c == ']' && start >= 0 && (i+1 == len(enabled) || isSpace(enabled[i+1])):
			if i > start {
				return enabled[start:i]
			}
			start = -1
		case isSpace(c):
			start = -1
		}
	}
	return ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }
