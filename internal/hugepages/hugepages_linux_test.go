package hugepages

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/treaty-engine/treaty/internal/hugepages/heapstart"
	"github.com/treaty-engine/treaty/internal/testtool"
)

// childEnv marks the test binary run again by TestReserve, in a process of
// its own whose heap nothing else has grown.
const childEnv = "HUGEPAGES_TEST_CHILD"

// TestReserve checks, in a fresh process, that Reserve reports what it did
// and that where it did, an allocation that follows lands on memory marked
// for huge pages (VmFlags hg in /proc/self/smaps), and that GODEBUG's
// disablethp=1 turns it off. It asks for as much as a goroutine's stack
// lends (where one does: no collection runs) and for more (a collection
// frees a block).
func TestReserve(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		child(t)
		return
	}
	thp := heapstart.OnRequest()
	for _, c := range []struct {
		godebug string
		size    int
		want    bool
	}{
		{"", 8 << 20, thp},
		{"", onStack + 4<<20, thp},
		{"disablethp=1", 8 << 20, false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReserve$")
		cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(c.size), "GODEBUG="+c.godebug)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GODEBUG=%q, %d MiB: %v\n%s", c.godebug, c.size>>20, err, out)
		}
		collects := c.want && c.size > onStack
		want := fmt.Sprintf("reserved %v, marked %v, collected %v, again %v", c.want, c.want, collects, c.want)
		if !strings.Contains(string(out), want) {
			t.Errorf("GODEBUG=%q, %d MiB: want %q, got\n%s", c.godebug, c.size>>20, want, out)
		}
		t.Logf("GODEBUG=%q, %d MiB (transparent huge pages on request: %v): %s", c.godebug, c.size>>20, thp, strings.SplitN(string(out), "\n", 2)[0])
	}
}

func child(t *testing.T) {
	size, err := strconv.Atoi(os.Getenv(childEnv))
	if err != nil {
		t.Fatal(err)
	}
	// Collections paced as treaty's commands pace them (cmd/treaty's
	// main), for whom Reserve is made: the test binary's own start
	// allocates enough to start one at Go's default pace.
	debug.SetGCPercent(400)
	collections, stacks := numGC(), stackBytes()
	reserved := Reserve(size)
	collected := numGC() > collections
	// The lent stack is freed as its goroutine ends, which a schedule may
	// put after Reserve's return: the allocation below is to find it.
	for i := 0; i < 1000 && stackBytes() >= stacks+8<<20; i++ {
		runtime.Gosched()
	}
	note := ""
	if stackBytes() >= stacks+8<<20 {
		// A collection was under way as the goroutine ended (begun
		// before the percentage above was set, on a loaded machine
		// still running): the runtime keeps the stack until its end.
		// runtime.GC waits for that end.
		runtime.GC()
		note = "; the lent stack freed at the end of a collection under way"
		if stackBytes() >= stacks+8<<20 {
			note = "; the lent stack not yet freed, after a collection"
		}
	}
	// An allocation of 6 MiB ends inside the marked part of the stack or
	// block (which starts at most 2 MiB into it) where it starts in less
	// than 4 MiB of free heap below it, as in a fresh process.
	next := make([]byte, 6<<20)
	for i := 0; i < len(next); i += 4096 {
		next[i] = 1
	}
	last := uintptr(unsafe.Pointer(&next[len(next)-1]))
	flags, huge, err := mapping(last)
	if err != nil {
		t.Fatal("smaps:", err)
	}
	// A second call does nothing more (were it to act, 1 GiB would be
	// allocated) and reports what the first did.
	again := Reserve(1 << 30)
	fmt.Printf("reserved %v, marked %v, collected %v, again %v (AnonHugePages of the mapping: %d kB%s)\n", reserved, strings.Contains(" "+flags+" ", " hg "), collected, again, huge, note)
}

// stackBytes is how much heap the runtime holds for goroutines' stacks.
func stackBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// numGC is how many collections the runtime has finished.
func numGC() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

// mapping returns the VmFlags and AnonHugePages (kB) of the mapping that
// holds addr.
func mapping(addr uintptr) (flags string, huge int, err error) {
	m, err := testtool.Mapping(addr)
	if err != nil {
		return "", 0, err
	}
	return m["VmFlags"], testtool.KB(m["AnonHugePages"]), nil
}

// TestReserveLeavesTheCollectorAsSet checks that reserveByCollection leaves
// the garbage collector's percentage as the program set it: before it, while it
// runs (another call at the same time, a percentage set meanwhile), and
// collections off altogether (GOGC=off).
func TestReserveLeavesTheCollectorAsSet(t *testing.T) {
	if !heapstart.OnRequest() {
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
			if !reserveByCollection(4 << 20) {
				t.Error("reserveByCollection reported no advice taken")
			}
		})
	}
	wg.Wait()
	check("four at once", 123)

	afterBlock = func() { debug.SetGCPercent(200) }
	defer func() { afterBlock = nil }()
	reserveByCollection(4 << 20)
	check("set meanwhile", 200)
	afterBlock = nil

	debug.SetGCPercent(-1)
	reserveByCollection(4 << 20)
	check("GOGC=off", -1)
}

// freshCarving puts Bytes back as it is when a process starts, for the
// test, and as it was after it.
func freshCarving(t *testing.T) {
	t.Helper()
	carving.Lock()
	decided, on, budget, rest := carving.decided, carving.on, carving.budget, carving.rest
	carving.decided, carving.on, carving.budget, carving.rest = false, false, 0, nil
	carving.Unlock()
	reserved := heapReserved.Swap(false)
	t.Cleanup(func() {
		carving.Lock()
		carving.decided, carving.on, carving.budget, carving.rest = decided, on, budget, rest
		carving.Unlock()
		heapReserved.Store(reserved)
	})
}

// checkBuffer checks that b is n zero bytes, of capacity n, and fills it
// with fill.
func checkBuffer(t *testing.T, name string, b []byte, n int, fill byte) {
	t.Helper()
	if len(b) != n || cap(b) != n {
		t.Fatalf("%s: len %d cap %d, want both %d", name, len(b), cap(b), n)
	}
	for i, c := range b {
		if c != 0 {
			t.Fatalf("%s: byte %d is %d, want 0", name, i, c)
		}
	}
	for i := range b {
		b[i] = fill
	}
}

func address(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// untouched reports whether the carving state is untouched since freshCarving
// and UseForBuffers: no block taken.
func untouched() bool {
	carving.Lock()
	defer carving.Unlock()
	return carving.rest == nil && (!carving.on || carving.budget == carveBudget)
}

// checkPlain checks that Bytes gives a plain slice, carving no block.
func checkPlain(t *testing.T, when string) {
	t.Helper()
	checkBuffer(t, when, Bytes(1<<20), 1<<20, 1)
	if !untouched() {
		t.Errorf("Bytes carved a block %s", when)
	}
}

func TestBytesUnasked(t *testing.T) {
	freshCarving(t)
	checkPlain(t, "before UseForBuffers")
}

func TestBytesCarves(t *testing.T) {
	freshCarving(t)
	UseForBuffers()
	if !heapstart.OnRequest() {
		checkPlain(t, "where the system gives no huge pages on request")
		t.Skip("this system does not give huge pages on request (transparent_hugepage is not madvise): Bytes carves nothing")
	}
	const first, second = 100_000, 300_000
	a, b, small := Bytes(first), Bytes(second), Bytes(minCarved-1)
	checkBuffer(t, "first", a, first, 1)
	checkBuffer(t, "second", b, second, 2)
	checkBuffer(t, "small", small, minCarved-1, 3)
	for i, c := range a {
		if c != 1 {
			t.Fatalf("the first buffer's byte %d is %d after the second was written: they overlap", i, c)
		}
	}
	if address(a)%hugePage != 0 {
		t.Errorf("the first buffer of a block starts at %#x, not on a huge page", address(a))
	}
	if want := address(a) + (first+63)&^63; address(b) != want {
		t.Errorf("the second buffer starts at %#x, want %#x: right after the first, in the same block", address(b), want)
	}
	if s := address(small); s >= address(a) && s < address(a)+hugePage {
		t.Errorf("a buffer under %d bytes was carved from the block", minCarved)
	}
	flags, huge, err := mapping(address(a))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the block's mapping is not marked for huge pages: VmFlags %s", flags)
	}
	t.Logf("the block's mapping: AnonHugePages %d kB", huge)

	// What the block has left is too little: a new block, on a huge page
	// of its own.
	c := Bytes(hugePage - second)
	checkBuffer(t, "third", c, hugePage-second, 4)
	if address(c)%hugePage != 0 || address(c) == address(a) {
		t.Errorf("a buffer larger than the block's rest starts at %#x, not at a new block", address(c))
	}
	// Past the budget (two blocks of 2 MiB taken), a plain slice.
	carving.Lock()
	budget := carving.budget
	carving.Unlock()
	if budget != carveBudget-2*hugePage {
		t.Fatalf("budget left %d, want %d", budget, carveBudget-2*hugePage)
	}
	checkBuffer(t, "over the budget", Bytes(budget+1), budget+1, 5)
	carving.Lock()
	defer carving.Unlock()
	if carving.budget != budget {
		t.Errorf("a buffer over the budget took a block: budget left %d, want %d", carving.budget, budget)
	}
}

// TestCarved: Carved gives what Bytes would carve, and nil where Bytes
// would allocate from the heap: before UseForBuffers, under minCarved,
// past the budget, after Reserve.
func TestCarved(t *testing.T) {
	freshCarving(t)
	if b := Carved(1 << 20); b != nil || !untouched() {
		t.Fatalf("Carved before UseForBuffers: %d bytes", len(b))
	}
	UseForBuffers()
	if !heapstart.OnRequest() {
		if b := Carved(1 << 20); b != nil {
			t.Fatalf("Carved where the system gives no huge pages on request: %d bytes", len(b))
		}
		t.Skip("this system does not give huge pages on request (transparent_hugepage is not madvise): Carved carves nothing")
	}
	if b := Carved(minCarved - 1); b != nil {
		t.Errorf("Carved under %d bytes: %d bytes", minCarved, len(b))
	}
	a := Carved(100_000)
	checkBuffer(t, "carved", a, 100_000, 1)
	if address(a)%hugePage != 0 {
		t.Errorf("the first carved buffer starts at %#x, not on a huge page", address(a))
	}
	b := Bytes(100_000)
	checkBuffer(t, "then by Bytes", b, 100_000, 2)
	if address(b) != address(a)+(100_000+63)&^63 {
		t.Errorf("Bytes after Carved starts at %#x, not right after it in the block", address(b))
	}
	for i, c := range a {
		if c != 1 {
			t.Fatalf("the carved buffer's byte %d is %d after Bytes' was written: they overlap", i, c)
		}
	}
	if c := Carved(carveBudget); c != nil {
		t.Errorf("Carved past the budget: %d bytes", len(c))
	}
	heapReserved.Store(true)
	if c := Carved(1 << 20); c != nil {
		t.Errorf("Carved after Reserve had put heap on huge pages: %d bytes", len(c))
	}
}

func TestBytesAfterReserve(t *testing.T) {
	freshCarving(t)
	UseForBuffers()
	heapReserved.Store(true)
	checkPlain(t, "after Reserve had put heap on huge pages")
}

// TestBytesConcurrent carves from several goroutines at once: no two
// buffers share a byte. Under the race detector it checks the carving
// state's locking (the detector does not see memory mapped beside the
// heap; the bytes' check does).
func TestBytesConcurrent(t *testing.T) {
	freshCarving(t)
	UseForBuffers()
	const workers, each, n = 8, 4, minCarved + 1000
	bufs := make([][][]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				b := Bytes(n)
				for i := range b {
					b[i] = byte(w + 1)
				}
				bufs[w] = append(bufs[w], b)
			}
		})
	}
	wg.Wait()
	if heapstart.Available() {
		carving.Lock()
		budget := carving.budget
		carving.Unlock()
		if budget == carveBudget {
			t.Error("no buffer was carved: the test ran plain slices only")
		}
	}
	for w, bs := range bufs {
		for _, b := range bs {
			if len(b) != n || cap(b) != n {
				t.Fatalf("len %d cap %d, want %d", len(b), cap(b), n)
			}
			for i, c := range b {
				if c != byte(w+1) {
					t.Fatalf("worker %d's buffer has byte %d set to %d: buffers overlap", w, i, c)
				}
			}
		}
	}
}
