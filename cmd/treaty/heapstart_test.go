package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestHeapStartInitializesEarly checks that heapstart's init, which puts
// the start of the heap on huge pages, runs before the packages that
// allocate as a command starts: in this test binary, which links what the
// command does, in the order GODEBUG=inittrace=1 lists the inits.
func TestHeapStartInitializesEarly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("heapstart has an init on Linux only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	order := map[string]int{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "init" {
			if _, seen := order[f[1]]; !seen {
				order[f[1]] = len(order)
			}
		}
	}
	const heapstart = "github.com/treaty-engine/treaty/internal/hugepages/heapstart"
	at, ok := order[heapstart]
	if !ok {
		t.Fatalf("inittrace lists no init of %s:\n%.2000s", heapstart, out)
	}
	if at >= 20 {
		t.Errorf("%s is initialized %d-th, want among the first 20", heapstart, at+1)
	}
	for _, later := range []string{"os", "github.com/spf13/cobra", "modernc.org/libc", "modernc.org/sqlite/lib", "net/http"} {
		if i, ok := order[later]; !ok {
			t.Errorf("inittrace lists no init of %s: the test no longer checks what it says", later)
		} else if i < at {
			t.Errorf("%s is initialized before %s (%d-th, heapstart %d-th)", later, heapstart, i+1, at+1)
		}
	}
}
