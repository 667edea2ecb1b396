// Package heapstart puts the start of the Go heap on transparent huge
// pages. It acts in its init, which runs before that of almost every other
// package (it imports only syscall): a program that imports it, even for its
// side effect alone, has it done before its own packages initialize.
//
// The runtime maps its heap 4 MiB at a time without asking for huge pages,
// and every 4 KiB page a program touches for the first time costs a page
// fault, which some virtual machines make dear. A command-line program
// touches hundreds of pages of its first 4 MiB as it starts (package
// initialization, its command tree, goroutine stacks). heapstart marks that
// first span for huge pages (MADV_HUGEPAGE), so that the first touch of each
// of its untouched 2 MiB halves faults once, and collapses the half already
// in use into a huge page (MADV_COLLAPSE), copying what it holds.
//
// It changes no result, only how memory is backed: the process may hold up
// to 4 MiB more than it touches. It does nothing where GODEBUG has
// disablethp set (as the runtime reads it, see Disabled), where pages are
// not 4 KiB, or off Linux; where the system gives no huge pages, or none is
// free, the heap stays as it was.
package heapstart

// Disabled reports whether godebug (the GODEBUG variable) asks the runtime
// to keep the heap off huge pages: disablethp set to a number other than
// 0, the last setting winning, as the runtime reads it.
func Disabled(godebug string) bool {
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
			if nonzero, ok := number(kv[len(key):]); ok {
				disable = nonzero
			}
		}
	}
	return disable
}

// indexByte and number stand in for strings.IndexByte and strconv.Atoi,
// whose packages would initialize first.
func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// number reports whether s is a decimal integer as strconv.Atoi reads one
// (a sign, then digits), and whether it is other than 0.
func number(s string) (nonzero, ok bool) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false, false
		}
		nonzero = nonzero || s[i] != '0'
	}
	return nonzero, true
}
