package sqlite

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/internal/hugepages"
	"github.com/treaty-engine/treaty/internal/hugepages/heapstart"
)

// pageCacheValue is the value the page cache test reads back: as large as a
// checkpoint that runs to dozens of overflow pages.
func pageCacheValue() []byte {
	return bytes.Repeat([]byte("the parties shall consult within 48 hours; "), 5000)
}

// TestPageCacheOnHugePages: in a process that reads into buffers on huge
// pages, SQLite's page cache takes its lines from the block configured for
// it, and what is read through them is what was written; in one that does
// not, SQLite is left as it is. Each case runs in a process of its own: the
// page cache is set before the first connection, once.
func TestPageCacheOnHugePages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "treaty.db")
	ctx := context.Background()
	s, err := Open(ctx, path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CachePut(ctx, "checkpoint", pageCacheValue()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, buffers := range []bool{true, false} {
		t.Run(fmt.Sprintf("buffers=%v", buffers), func(t *testing.T) {
			out, err := child(ctx, t, "pagecache", childPath+"="+path, childExpect+"="+strconv.FormatBool(buffers)).CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			used, err := strconv.Atoi(strings.TrimSpace(string(out)))
			if err != nil {
				t.Fatalf("child printed %q, not a count of page cache lines", out)
			}
			switch {
			case buffers && heapstart.OnRequest() && used == 0:
				t.Errorf("no page was read into the configured page cache, where huge pages are given on request")
			case (!buffers || !heapstart.OnRequest()) && used != 0:
				t.Errorf("%d pages were read into a page cache that should not have been configured", used)
			}
		})
	}
}

// childPageCache opens the store at path after asking for buffers on huge
// pages (when buffers), reads the value the test wrote, and prints the most
// page cache lines SQLite used from the configured block.
func childPageCache(ctx context.Context, path string, buffers bool) error {
	if buffers {
		hugepages.UseForBuffers()
	}
	s, err := Open(ctx, path, eventstore.Config{})
	if err != nil {
		return err
	}
	defer s.Close()
	got, err := s.CacheGet(ctx, "checkpoint")
	if err != nil {
		return err
	}
	if !bytes.Equal(got, pageCacheValue()) {
		return fmt.Errorf("read back %d bytes unlike the %d written", len(got), len(pageCacheValue()))
	}
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xcalloc(tls, 2, 8)
	if p == 0 {
		return fmt.Errorf("out of memory")
	}
	defer libc.Xfree(tls, p)
	if rc := sqlite3.Xsqlite3_status(tls, sqlite3.SQLITE_STATUS_PAGECACHE_USED, p, p+8, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlite3_status: %d", rc)
	}
	fmt.Println(int32(binary.NativeEndian.Uint32(cBytes(p+8, 4))))
	_ = os.Stdout.Sync()
	return nil
}
