package heapstart

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/treaty-engine/treaty/internal/testtool"
)

// TestOnRequest checks what init read of the system against the files read
// here another way.
func TestOnRequest(t *testing.T) {
	mode := func(path string) (string, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", false
		}
		for _, w := range strings.Fields(string(b)) {
			if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
				return w[1 : len(w)-1], true
			}
		}
		return "", true
	}
	m, ok := mode(sizePath)
	if !ok || m == "inherit" {
		m, _ = mode(enabledPath)
	}
	want := m == "madvise" && os.Getpagesize() == 4<<10
	if OnRequest() != want {
		t.Errorf("OnRequest() = %v; the files say %q (pages of %d bytes)", OnRequest(), m, os.Getpagesize())
	}
}

// TestStart checks that in this test binary, which imports the package,
// the start of the heap is marked for huge pages (VmFlags hg) and on one,
// where the system gives them on request; and left alone where not.
func TestStart(t *testing.T) {
	if !OnRequest() || disabled(os.Getenv("GODEBUG")) {
		if available {
			t.Fatalf("init acted where the system gives no huge pages on request (%v) or GODEBUG keeps the heap off them", OnRequest())
		}
		t.Skipf("no huge pages on request here (%v), or GODEBUG has disablethp set (TestDisabledByGODEBUG covers that)", OnRequest())
	}
	if !available {
		t.Fatal("init did not act")
	}
	m, err := testtool.Mapping(start)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+m["VmFlags"]+" ", " hg ") {
		t.Errorf("the mapping holding the heap's first object (%#x) is not marked for huge pages: VmFlags %q", start, m["VmFlags"])
	}
	switch err := collapsed[0]; {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.EBUSY):
		t.Skipf("the kernel had no huge page free to collapse into: %v", err)
	case errors.Is(err, syscall.EINVAL):
		t.Skipf("this kernel does not collapse on request (MADV_COLLAPSE came with Linux 6.1): %v", err)
	case err != nil:
		t.Fatalf("collapsing the heap's first half-span: %v", err)
	}
	if kb := testtool.KB(m["AnonHugePages"]); kb < 2048 {
		t.Errorf("the mapping holding the heap's first object has %d kB on huge pages, want 2048 or more", kb)
	}
}

// childProbe is a heap object of the child process.
var childProbe *[64]byte

// childEnv marks the test binary run again by TestDisabledByGODEBUG.
const childEnv = "HEAPSTART_TEST_CHILD"

// TestDisabledByGODEBUG checks, in a fresh process, that GODEBUG's
// disablethp=1 leaves the heap as the runtime mapped it.
func TestDisabledByGODEBUG(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		childProbe = new([64]byte)
		m, err := testtool.Mapping(uintptr(unsafe.Pointer(childProbe)))
		if err != nil {
			fmt.Println("smaps:", err)
			os.Exit(1)
		}
		fmt.Printf("acted %v, VmFlags %s\n", available, m["VmFlags"])
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDisabledByGODEBUG$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "GODEBUG=disablethp=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(line, "acted false, VmFlags ") || strings.Contains(" "+line+" ", " hg ") {
		t.Errorf("with GODEBUG=disablethp=1: want the heap left alone, got %q", line)
	}
}
