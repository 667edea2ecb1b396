//go:build linux

package sqlite

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/treaty-engine/treaty/eventstore"
)

// fileLocks counts the POSIX locks this process holds on the file at path,
// as /proc/locks lists them.
func fileLocks(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// "1: POSIX  ADVISORY  READ 4242 fd:01:123456 1073741826 1073742335"
		if len(f) < 6 || f[1] != "POSIX" || f[4] != pid {
			continue
		}
		if dev := strings.Split(f[5], ":"); len(dev) == 3 && dev[2] == strconv.FormatUint(ino, 10) {
			n++
		}
	}
	return n
}

// TestSecondOpenKeepsLocks: opening a store this process already has open
// leaves the locks SQLite holds on its file for the first (closing a
// descriptor of the file would drop them all, and another process could
// then take the write-ahead log for unused).
func TestSecondOpenKeepsLocks(t *testing.T) {
	path := storeFile(t, "treaty.db", "treaty-locks", 1)
	// Opened as commands open it, on read connections alone.
	a, err := Open(context.Background(), path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	count(t, a, "treaty-locks")
	before := fileLocks(t, path)
	if before == 0 {
		t.Fatal("an open store holds no lock on its file: nothing to keep")
	}
	b, err := Open(context.Background(), path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if after := fileLocks(t, path); after < before {
		t.Fatalf("%d locks on the file before a second Open, %d after", before, after)
	}
}
