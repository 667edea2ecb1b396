package redline

import "math/bits"

// lcs works out lengths of longest common subsequences, keeping its
// buffers between calls.
type lcs struct {
	row   []int32 // by id: 1 + the index of its mask in masks, 0 for none
	masks []uint64
	v     []uint64
}

// len returns the length of a longest common subsequence of xs and ys,
// sequences of ids below alphabet, bit-parallel (Hyyrö's formulation of
// Allison and Dix's algorithm): a few word operations per element of ys for
// every 64 elements of xs, however different the two are, where Myers'
// algorithm takes time proportional to their difference.
func (l *lcs) len(xs, ys []int32, alphabet int) int {
	if len(xs) == 0 || len(ys) == 0 {
		return 0
	}
	words := (len(xs) + 63) / 64
	if len(l.row) < alphabet {
		l.row = make([]int32, alphabet)
	}
	// The positions in xs of each id, as bits.
	masks := l.masks[:0]
	for i, id := range xs {
		k := l.row[id]
		if k == 0 {
			for range words {
				masks = append(masks, 0)
			}
			k = int32(len(masks) / words)
			l.row[id] = k
		}
		masks[int(k-1)*words+i/64] |= 1 << (i % 64)
	}
	v := l.v[:0]
	for range words {
		v = append(v, ^uint64(0))
	}
	for _, id := range ys {
		k := int(l.row[id])
		if k == 0 {
			continue // matches nothing in xs
		}
		m := masks[(k-1)*words : k*words]
		var carry uint64
		for i, x := range v {
			var sum uint64
			sum, carry = bits.Add64(x, x&m[i], carry)
			v[i] = sum | x&^m[i]
		}
	}
	for _, id := range xs {
		l.row[id] = 0
	}
	l.masks, l.v = masks, v
	// Each zero bit of v, among the first len(xs), is one element of the
	// subsequence.
	zeros := 0
	for i, x := range v {
		if i == words-1 && len(xs)%64 != 0 {
			x |= ^uint64(0) << (len(xs) % 64)
		}
		zeros += bits.OnesCount64(^x)
	}
	return zeros
}
