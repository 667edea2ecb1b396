package checkpoint

import (
	"encoding/binary"

	"github.com/pierrec/lz4/v4"
)

// pack compresses a checkpoint's state or a memo as an LZ4 block
// (pierrec/lz4) after its length as a uvarint; a value that does not shrink
// is kept as it is after its length. Checkpoints and compare documents
// compress about threefold: less for the store to write twice (its
// write-ahead log, then the file) and to read back. LZ4 rather than S2 or
// Snappy: as fast to compress, faster to read back, and those build a CRC
// table as each process starts, which every command would pay for.
func pack(value []byte) []byte {
	head := binary.AppendUvarint(nil, uint64(len(value)))
	if len(value) == 0 {
		return head
	}
	out := make([]byte, len(head)+lz4.CompressBlockBound(len(value)))
	copy(out, head)
	var c lz4.Compressor
	n, err := c.CompressBlock(value, out[len(head):])
	if err != nil || n == 0 || n >= len(value) {
		return append(head, value...)
	}
	return out[:len(head)+n]
}

// unpack returns what pack packed, or nil when b is not that: a length over
// max, or a block that does not decompress to it. An empty value is
// returned as an empty slice, not nil.
func unpack(b []byte, max int) []byte {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(max) {
		return nil
	}
	b = b[k:]
	if uint64(len(b)) == n {
		return append([]byte{}, b...)
	}
	if uint64(len(b)) > n {
		return nil
	}
	v := make([]byte, n)
	if m, err := lz4.UncompressBlock(b, v); err != nil || uint64(m) != n {
		return nil
	}
	return v
}

// maxPresent bounds the state of a checkpoint unpack decompresses: a
// thousand times that of a million events.
const maxPresent = 1 << 30
