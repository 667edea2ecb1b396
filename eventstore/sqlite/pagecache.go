package sqlite

import (
	"encoding/binary"
	"math"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/treaty-engine/treaty/internal/hugepages"
)

// pageCacheBytes is the memory SQLite's page cache takes its lines from, in
// a process that reads into buffers on huge pages: half a huge page (some
// 230 lines), the other half left to the buffers carved after it. A whole
// one held megabytes more at the peak (the huge page and the next block the
// buffers then took) and was no faster.
const pageCacheBytes = 1 << 20

// pageCacheLine is the size of a page of the stores this package creates;
// a page cache line holds one and SQLite's header for it. Pages of a store
// with larger ones (written by another tool) come from SQLite's heap, as
// they would without a configured page cache.
const pageCacheLine = 4096

// configurePageCache runs before this package opens its first connection,
// the only time SQLite takes such settings: it has SQLite read pages into
// lines of memory carved from a block on huge pages (hugepages.Carved), when
// the process reads into such buffers (hugepages.UseForBuffers). Every page
// a command reads (a checkpoint runs to hundreds of them) otherwise lands
// in memory SQLite allocates afresh, 4 KiB and a page fault at a time, and
// some virtual machines make a fault dear. SQLite shares the lines among
// all connections and, once they are taken, allocates as it would have.
// Where nothing is carved (serve, which holds a connection for hours, or a
// system without huge pages on request) SQLite is left as it is. The block
// is never freed: SQLite may use its lines until the process ends.
var configurePageCache = sync.OnceFunc(func() {
	block := hugepages.Carved(pageCacheBytes)
	if block == nil {
		return
	}
	tls := libc.NewTLS()
	defer tls.Close()
	header := pageHeaderSize(tls)
	if header < 0 {
		return
	}
	line := (pageCacheLine + header + 7) &^ 7 // SQLite wants lines 8-byte aligned
	_ = config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, uintptr(unsafe.Pointer(unsafe.SliceData(block))), int32(line), int32(len(block)/line))
})

// pageHeaderSize returns the bytes SQLite keeps beside each page in its
// cache (SQLITE_CONFIG_PCACHE_HDRSZ), or -1 when it does not say.
func pageHeaderSize(tls *libc.TLS) int {
	p := libc.Xmalloc(tls, 8)
	if p == 0 {
		return -1
	}
	defer libc.Xfree(tls, p)
	size := cBytes(p, 4)
	binary.NativeEndian.PutUint32(size, math.MaxUint32)
	if config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, p) != sqlite3.SQLITE_OK {
		return -1
	}
	return int(int32(binary.NativeEndian.Uint32(size)))
}

// config calls sqlite3_config with op and args (pointers and int32s).
func config(tls *libc.TLS, op int32, args ...any) int32 {
	va := libc.NewVaList(args...)
	if va == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	defer libc.Xfree(tls, va)
	return sqlite3.Xsqlite3_config(tls, op, va)
}
