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

// TestStart checks that in this test binary, which imports the package,
// the start of the heap is marked for huge pages (VmFlags hg) and, where
// the system gives them, on one.
func TestStart(t *testing.T) {
	if Disabled(os.Getenv("GODEBUG")) {
		t.Skip("GODEBUG has disablethp set: TestDisabledByGODEBUG covers it")
	}
	if !acted {
		t.Fatalf("init did not act (page size %d)", os.Getpagesize())
	}
	m, err := testtool.Mapping(start)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+m["VmFlags"]+" ", " hg ") {
		t.Errorf("the mapping holding the heap's first object (%#x) is not marked for huge pages: VmFlags %q", start, m["VmFlags"])
	}
	enabled, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(enabled), "[never]") {
		t.Logf("no transparent huge pages here (%q, %v): only the marking is checked", enabled, err)
		return
	}
	if errors.Is(collapsed[0], syscall.EAGAIN) || errors.Is(collapsed[0], syscall.ENOMEM) {
		t.Skipf("the kernel had no huge page free to collapse into: %v", collapsed[0])
	}
	if collapsed[0] != nil {
		t.Fatalf("collapsing the heap's first half-span: %v", collapsed[0])
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
		fmt.Printf("acted %v, VmFlags %s\n", acted, m["VmFlags"])
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
