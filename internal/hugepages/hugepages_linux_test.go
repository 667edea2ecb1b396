package hugepages

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestMode(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n":         "madvise",
		"[always] madvise never\n":         "always",
		"always madvise [never]\n":         "never",
		"":                                 "",
		"[] madvise":                       "",
		"[inherit] always madvise never\n": "inherit",
	} {
		if got := mode(in); got != want {
			t.Errorf("mode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDisabled(t *testing.T) {
	for in, want := range map[string]bool{
		"":                             false,
		"disablethp=1":                 true,
		"disablethp=2":                 true,
		"gctrace=1,disablethp=1":       true,
		"disablethp=0":                 false,
		"disablethp=1,disablethp=0":    false,
		"disablethp=x":                 false,
		"disablethp=1,disablethp=x":    true,
		"madvdontneed=1, disablethp=1": false, // the runtime trims nothing
		"xdisablethp=1":                false,
	} {
		if got := disabled(in); got != want {
			t.Errorf("disabled(%q) = %v, want %v", in, got, want)
		}
	}
}

// childEnv marks the test binary run again by TestReserve, in a process of
// its own whose heap nothing else has grown.
const childEnv = "HUGEPAGES_TEST_CHILD"

// TestReserve checks, in a fresh process, that Reserve reports what it did
// and that where it did, an allocation that follows lands on memory marked
// for huge pages (VmFlags hg in /proc/self/smaps), and that GODEBUG's
// disablethp=1 turns it off.
func TestReserve(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		child()
		return
	}
	thp := onRequest()
	for _, c := range []struct {
		godebug string
		want    bool
	}{
		{"", thp},
		{"disablethp=1", false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReserve$")
		cmd.Env = append(os.Environ(), childEnv+"=1", "GODEBUG="+c.godebug)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GODEBUG=%q: %v\n%s", c.godebug, err, out)
		}
		want := fmt.Sprintf("reserved %v, marked %v, again %v", c.want, c.want, c.want)
		if !strings.Contains(string(out), want) {
			t.Errorf("GODEBUG=%q: want %q, got\n%s", c.godebug, want, out)
		}
		t.Logf("GODEBUG=%q (transparent huge pages on request: %v): %s", c.godebug, thp, strings.SplitN(string(out), "\n", 2)[0])
	}
}

func child() {
	reserved := Reserve(8 << 20)
	// An allocation of 6 MiB ends inside the marked part of the block
	// (which starts at most 2 MiB into it) where it starts in less than
	// 4 MiB of free heap below the block, as in a fresh process.
	next := make([]byte, 6<<20)
	for i := 0; i < len(next); i += 4096 {
		next[i] = 1
	}
	last := uintptr(unsafe.Pointer(&next[len(next)-1]))
	flags, huge, err := mapping(last)
	if err != nil {
		fmt.Println("smaps:", err)
		os.Exit(1)
	}
	// A second call does nothing more (were it to act, 1 GiB would be
	// allocated) and reports what the first did.
	again := Reserve(1 << 30)
	fmt.Printf("reserved %v, marked %v, again %v (AnonHugePages of the mapping: %d kB)\n", reserved, strings.Contains(" "+flags+" ", " hg "), again, huge)
}

// mapping returns the VmFlags and AnonHugePages of the mapping that holds
// addr, from /proc/self/smaps.
func mapping(addr uintptr) (flags string, huge int, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				if in {
					break
				}
				in = uint64(addr) >= l && uint64(addr) < h
				continue
			}
		}
		if !in {
			continue
		}
		switch fields[0] {
		case "AnonHugePages:":
			huge, _ = strconv.Atoi(fields[1])
		case "VmFlags:":
			flags = strings.Join(fields[1:], " ")
		}
	}
	if err := s.Err(); err != nil {
		return "", 0, err
	}
	if !in {
		return "", 0, fmt.Errorf("no mapping holds %#x", addr)
	}
	return flags, huge, nil
}

// TestReserveLeavesTheCollectorAsSet checks that reserve leaves the
// garbage collector's percentage as the program set it: before it, while it
// runs (another call at the same time, a percentage set meanwhile), and
// collections off altogether (GOGC=off).
func TestReserveLeavesTheCollectorAsSet(t *testing.T) {
	if !onRequest() {
		t.Skip("this system does not give huge pages on request (transparent_hugepage is not madvise): reserve turns nothing off")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	check := func(name string, want int) {
		t.Helper()
		if got := debug.SetGCPercent(want); got != want {
			t.Errorf("%s: GC percentage after reserve %d, want %d", name, got, want)
		}
	}
	debug.SetGCPercent(123)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if !reserve(4 << 20) {
				t.Error("reserve reported no advice taken")
			}
		})
	}
	wg.Wait()
	check("four at once", 123)

	afterBlock = func() { debug.SetGCPercent(200) }
	defer func() { afterBlock = nil }()
	reserve(4 << 20)
	check("set meanwhile", 200)
	afterBlock = nil

	debug.SetGCPercent(-1)
	reserve(4 << 20)
	check("GOGC=off", -1)
}
