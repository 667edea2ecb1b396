package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/pierrec/lz4/v4"

	"github.com/treaty-engine/treaty/internal/hugepages"
	"github.com/treaty-engine/treaty/internal/parallel"
)

// pack compresses a checkpoint's state or a memo as LZ4 blocks
// (pierrec/lz4): the value's length as a uvarint, then each block as the
// length of what it holds and its own length, both uvarints, and its bytes;
// a block that does not shrink is kept as it is. Checkpoints and compare
// documents compress about threefold: less for the store to write twice (its
// write-ahead log, then the file) and to read back. A large value is cut
// into blocks (see cut), compressed side by side. LZ4 rather than S2
// or Snappy: as fast to compress, faster to read back, and those build a
// CRC table as each process starts, which every command would pay for.
// The packed value follows head (a checkpoint's header; nil for none) in
// the slice returned, so that it is not copied again behind it.
func pack(head, value []byte) []byte {
	return joined(append([][]byte{head}, layOut(value, true)...))
}

// layOut lays value out as pack does, as the parts to write one after the
// other (the lengths before each block, then the block), each block
// compressed, or with compress false kept as it is: for a value whose
// packing would cost more than writing its bytes (see Store.SaveMemoAsIs),
// which unpack and writeUnpacked read as they read pack's. A block kept as
// it is shares value's memory.
func layOut(value []byte, compress bool) [][]byte {
	parts := cut(len(value))
	blocks := make([][]byte, len(parts))
	for i, p := range parts {
		blocks[i] = value[p[0]:p[1]]
	}
	if compress {
		parallel.Each(len(parts), func(i int) {
			raw := blocks[i]
			out := make([]byte, lz4.CompressBlockBound(len(raw)))
			c := compressors.Get().(*lz4.Compressor)
			n, err := c.CompressBlock(raw, out)
			compressors.Put(c)
			if err == nil && n > 0 && n < len(raw) {
				blocks[i] = out[:n]
			}
		})
	}
	laid := make([][]byte, 0, 2*len(blocks))
	lengths := binary.AppendUvarint(nil, uint64(len(value)))
	for i, b := range blocks {
		lengths = binary.AppendUvarint(lengths, uint64(parts[i][1]-parts[i][0]))
		lengths = binary.AppendUvarint(lengths, uint64(len(b)))
		laid = append(laid, lengths, b)
		lengths = nil
	}
	return laid
}

// joined is parts one after the other in one slice, with room for the
// authentication put appends: appended past the capacity, it would copy the
// whole value again.
func joined(parts [][]byte) []byte {
	size := sha256.Size
	for _, p := range parts {
		size += len(p)
	}
	out := make([]byte, 0, size)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// compressors are reused by the blocks a process packs: each holds a
// 128 KiB table, which CompressBlock clears, and a new one is that much
// fresh memory for the process to fault in.
var compressors = sync.Pool{New: func() any { return new(lz4.Compressor) }}

// unpack returns what pack packed, or nil when b does not read as that: a
// length over max, blocks that do not add up to it, a block that claims more
// than LZ4 can make of its size (so that a few bytes cannot have it allocate
// up to max), or one that does not decompress to what it says it holds. It
// is no check of integrity: that is the authentication's, before it. An
// empty value is returned as an empty slice, not nil.
func unpack(b []byte, max int) []byte {
	n, blocks, ok := packedBlocks(b, max)
	if !ok {
		return nil
	}
	// Read back one block after another: a reader is often one of several
	// goroutines already (a compare reads its moments beside the head), and
	// each block takes a fraction of a millisecond.
	v := hugepages.Bytes(n)
	at := 0
	for _, bl := range blocks {
		if !bl.unpackTo(v[at : at+bl.raw]) {
			return nil
		}
		at += bl.raw
	}
	return v
}

// writeUnpacked writes what pack packed in b to w a block at a time, so
// that a large value is never held whole: a compare document read back to
// be printed. It refuses b as unpack does, before writing anything; a block
// that then fails to decompress (which the authentication before it leaves
// to a fault of this build) ends the writing with an error, what was
// written standing.
func writeUnpacked(w io.Writer, b []byte, limit int) (read bool, err error) {
	_, blocks, ok := packedBlocks(b, limit)
	if !ok {
		return false, nil
	}
	// A buffer for the largest compressed block: those kept as they are
	// are written from where they lie.
	largest := 0
	for _, bl := range blocks {
		if len(bl.packed) != bl.raw {
			largest = max(largest, bl.raw)
		}
	}
	buf := make([]byte, largest)
	for i, bl := range blocks {
		dst := bl.packed // stored as it is: written from where it lies
		if len(bl.packed) != bl.raw {
			if dst = buf[:bl.raw]; !bl.unpackTo(dst) {
				if i == 0 {
					return false, nil
				}
				return true, fmt.Errorf("%w: block %d of %d does not decompress", errUnpacking, i+1, len(blocks))
			}
		}
		if _, err := w.Write(dst); err != nil {
			return true, err
		}
	}
	return true, nil
}

// errUnpacking is a packed value that fails to decompress once some of it
// has been written out.
var errUnpacking = errors.New("cannot be read back")

// block is one block of a packed value: what it holds (raw bytes), as
// packed.
type block struct {
	raw    int
	packed []byte
}

// unpackTo decompresses the block into dst, which is raw bytes long.
func (bl block) unpackTo(dst []byte) bool {
	if len(bl.packed) == bl.raw {
		copy(dst, bl.packed)
		return true
	}
	m, err := lz4.UncompressBlock(bl.packed, dst)
	return err == nil && m == bl.raw
}

// packedBlocks reads the layout of a packed value (see pack and unpack): its
// length and its blocks, each checked to be one LZ4 can make.
func packedBlocks(b []byte, max int) (int, []block, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(max) {
		return 0, nil, false
	}
	b = b[k:]
	var blocks []block
	at := 0
	for len(b) > 0 {
		raw, k1 := binary.Uvarint(b)
		if k1 <= 0 || raw > n-uint64(at) || raw == 0 && n > 0 || len(blocks) == maxBlocks {
			return 0, nil, false
		}
		size, k2 := binary.Uvarint(b[k1:])
		if k2 <= 0 || size > uint64(len(b)-k1-k2) || size > raw || size < raw && raw > lz4Ratio*size+64 {
			return 0, nil, false
		}
		b = b[k1+k2:]
		blocks = append(blocks, block{raw: int(raw), packed: b[:size]})
		at += int(raw)
		b = b[size:]
	}
	if uint64(at) != n {
		return 0, nil, false
	}
	return int(n), blocks, true
}

// maxPresent bounds the state of a checkpoint unpack decompresses: a
// thousand times that of a million events.
const maxPresent = 1 << 30

// maxBlocks bounds the blocks pack makes and unpack reads.
const maxBlocks = 1024

// lz4Ratio is the most an LZ4 block can hold for each of its bytes: a match
// of any length takes a byte for each 255 of it.
const lz4Ratio = 255

// packBlock is the least a block holds when a value is cut into several:
// below it, compressing on another core costs more than it saves.
const packBlock = 128 << 10

// streamBlock is the most a block holds, as far as maxBlocks allows: a
// value written out as it is read back (writeUnpacked) needs a buffer of a
// block, not of the whole.
const streamBlock = 256 << 10

// cut returns the spans of a value of n bytes that pack compresses each as a
// block: one for each core, none under packBlock, none over streamBlock
// unless that would take more than maxBlocks, and one for nothing.
func cut(n int) [][2]int {
	parts := min(maxBlocks, max(1, min(runtime.GOMAXPROCS(0), n/packBlock), (n+streamBlock-1)/streamBlock))
	spans := make([][2]int, parts)
	for i := range spans {
		spans[i] = [2]int{n * i / parts, n * (i + 1) / parts}
	}
	return spans
}
