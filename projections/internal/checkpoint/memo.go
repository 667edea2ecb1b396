package checkpoint

import (
	"encoding/binary"

	"github.com/pierrec/lz4/v4"
)

// packMemo compresses a memo as an LZ4 block (pierrec/lz4) after its length
// as a uvarint; one that does not shrink is kept as it is after its length.
// LZ4 rather than S2 or Snappy: as fast to compress and twice as fast to
// read back, and the others build a CRC table when a process starts, which
// every command would pay for.
func packMemo(value []byte) []byte {
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

// unpackMemo returns what packMemo packed, or nil when b is not that: a
// length over maxMemo, or a block that does not decompress to it. An empty
// memo is returned as an empty slice, not nil.
func unpackMemo(b []byte) []byte {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxMemo {
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
