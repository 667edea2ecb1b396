package checkpoint

import (
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/pierrec/lz4/v4"

	"github.com/treaty-engine/treaty/internal/parallel"
)

// pack compresses a checkpoint's state or a memo as LZ4 blocks
// (pierrec/lz4): the value's length as a uvarint, then each block as the
// length of what it holds and its own length, both uvarints, and its bytes;
// a block that does not shrink is kept as it is. Checkpoints and compare
// documents compress about threefold: less for the store to write twice (its
// write-ahead log, then the file) and to read back. A large value is cut
// into a block for each core, compressed side by side. LZ4 rather than S2
// or Snappy: as fast to compress, faster to read back, and those build a
// CRC table as each process starts, which every command would pay for.
func pack(value []byte) []byte {
	parts := cut(len(value))
	blocks := make([][]byte, len(parts))
	parallel.Each(len(parts), func(i int) {
		raw := value[parts[i][0]:parts[i][1]]
		out := make([]byte, lz4.CompressBlockBound(len(raw)))
		c := compressors.Get().(*lz4.Compressor)
		n, err := c.CompressBlock(raw, out)
		compressors.Put(c)
		if err != nil || n == 0 || n >= len(raw) {
			blocks[i] = raw
		} else {
			blocks[i] = out[:n]
		}
	})
	size := binary.MaxVarintLen64 * (1 + 2*len(blocks))
	for _, b := range blocks {
		size += len(b)
	}
	out := binary.AppendUvarint(make([]byte, 0, size), uint64(len(value)))
	for i, b := range blocks {
		out = binary.AppendUvarint(out, uint64(parts[i][1]-parts[i][0]))
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
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
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(max) {
		return nil
	}
	b = b[k:]
	type block struct {
		at, raw int
		packed  []byte
	}
	var blocks []block
	at := 0
	for len(b) > 0 {
		raw, k1 := binary.Uvarint(b)
		if k1 <= 0 || raw > n-uint64(at) || raw == 0 && n > 0 || len(blocks) == maxBlocks {
			return nil
		}
		size, k2 := binary.Uvarint(b[k1:])
		if k2 <= 0 || size > uint64(len(b)-k1-k2) || size > raw || size < raw && raw > lz4Ratio*size+64 {
			return nil
		}
		b = b[k1+k2:]
		blocks = append(blocks, block{at: at, raw: int(raw), packed: b[:size]})
		at += int(raw)
		b = b[size:]
	}
	if uint64(at) != n {
		return nil
	}
	// Read back one block after another: a reader is often one of several
	// goroutines already (a compare reads its moments beside the head), and
	// each block takes a fraction of a millisecond.
	v := make([]byte, n)
	for _, bl := range blocks {
		dst := v[bl.at : bl.at+bl.raw]
		if len(bl.packed) == bl.raw {
			copy(dst, bl.packed)
		} else if m, err := lz4.UncompressBlock(bl.packed, dst); err != nil || m != bl.raw {
			return nil
		}
	}
	return v
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

// cut returns the spans of a value of n bytes that pack compresses each as a
// block: one for each core, none under packBlock, and one for nothing.
func cut(n int) [][2]int {
	parts := max(1, min(runtime.GOMAXPROCS(0), maxBlocks, n/packBlock))
	spans := make([][2]int, parts)
	for i := range spans {
		spans[i] = [2]int{n * i / parts, n * (i + 1) / parts}
	}
	return spans
}
