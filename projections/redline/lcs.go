package redline

import (
	"math/bits"
	"slices"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// This file is the diff of texts that differ by much: Myers' algorithm, as
// go-diff runs it, takes time of the order of N·D for N tokens and D edits,
// about N² for a clause rewritten over many rounds, where a longest common
// subsequence worked out 64 tokens at a time (Allison and Dix, Hyyrö) takes
// N·M/64 whatever D is. Small differences, which are what proposals make,
// are still diffed as go-diff diffs them, op for op.

const (
	// bitParallelMinD is the fewest edits (tokens deleted plus inserted)
	// for which alignDiff leaves go-diff's answer for the bit-parallel one.
	// Below it Myers' time, which grows with the edits, is still small, and
	// the redline of a proposal, which changes a few words (two tokens
	// each), stays go-diff's op for op.
	bitParallelMinD = 64
	// maxLCSWords bounds the memory of the bit-parallel diff, in 64-bit
	// words (one bit vector per token of ys, and one match mask per
	// distinct token of xs): 4 MiB. Larger ranges are left to go-diff's
	// diff, which watches the clock.
	maxLCSWords = 1 << 19
)

// alignDiff returns a diff of xs and ys with as many equal tokens as can
// be: mainDiff's when the two differ by fewer than m.minD tokens
// (bitParallelMinD if unset) or are too large, else one worked out from
// their longest common subsequence (see lcsSpans) and put through the same
// merge.
func (m *differ) alignDiff(xs, ys []rune, deadline time.Time) []span {
	m.xs, m.ys, m.deadline = xs, ys, deadline
	minD := m.minD
	if minD <= 0 {
		minD = bitParallelMinD
	}
	nx, ny := len(xs), len(ys)
	p := prefixLen(xs, ys)
	s := suffixLen(xs[p:], ys[p:])
	x0, x1, y0, y1 := p, nx-s, p, ny-s
	if (x1-x0)+(y1-y0) < minD || !m.hard(x0, x1, y0, y1) {
		return m.main(0, nx, 0, ny)
	}
	mid, ok := m.lcsSpans(x0, x1, y0, y1, minD)
	if !ok {
		return m.main(0, nx, 0, ny)
	}
	diffs := slices.Grow(m.align[:0], len(mid)+4)
	if p > 0 {
		diffs = append(diffs, span{diffmatchpatch.DiffEqual, p, 0, 0})
	}
	diffs = append(diffs, mid...)
	if s > 0 {
		diffs = append(diffs, span{diffmatchpatch.DiffEqual, s, x1, y1})
	}
	diffs = m.cleanupMerge(diffs, nx, ny)
	m.align = diffs
	return diffs
}

// isWord reports whether a token code point stands for a word; every
// token does when m.word is unset.
func (m *differ) isWord(r rune) bool {
	if m.word == nil {
		return true
	}
	id := runeToID(r)
	return id < 0 || id >= len(m.word) || m.word[id]
}

// hard reports whether compute would go past its shortcuts (one range
// empty, one inside the other, one a single token) to the half-match and
// bisection on these ranges, which have no common prefix or suffix. The
// shortcuts' answers are kept as they are.
func (m *differ) hard(x0, x1, y0, y1 int) bool {
	nx, ny := x1-x0, y1-y0
	if nx <= 1 || ny <= 1 {
		return false
	}
	long, short := m.ys[y0:y1], m.xs[x0:x1]
	if nx > ny {
		long, short = short, long
	}
	return indexRunes(long, short) == -1
}

// lcsTable is the bit-parallel LCS of xs[x0:x1] (the rows) and ys[y0:y1]
// (the columns): col(j), for j from 0 to len(ys), holds a bit for each
// token of xs, clear for row i when the longest common subsequence of
// xs[:i+1] and ys[:j] is one longer than that of xs[:i] and ys[:j].
type lcsTable struct {
	w    int      // words per column
	cols []uint64 // (ny+1)·w
}

func (t *lcsTable) col(j int) []uint64 { return t.cols[j*t.w : (j+1)*t.w] }

// prefix is the length of the longest common subsequence of xs[:i] and
// ys[:j].
func (t *lcsTable) prefix(i, j int) int {
	c := t.col(j)
	n := 0
	for q := 0; q < i>>6; q++ {
		n += bits.OnesCount64(^c[q])
	}
	if i&63 != 0 {
		n += bits.OnesCount64(^c[i>>6] & (1<<(i&63) - 1))
	}
	return n
}

// bit reports whether row i of column j is set: the common subsequence of
// xs[:i+1] and ys[:j] is no longer than that of xs[:i] and ys[:j].
func (t *lcsTable) bit(i, j int) bool { return t.cols[j*t.w+i>>6]>>(i&63)&1 != 0 }

// lcsTable returns the length of the longest common subsequence of
// xs[x0:x1] and ys[y0:y1] and, when the two differ by at least minD tokens
// (deleted plus inserted), fills t. It returns false, leaving t unfilled,
// when t would take more than maxLCSWords words or the ranges hold code
// points that stand for no token.
func (m *differ) lcsTable(t *lcsTable, x0, x1, y0, y1, minD int) (int, bool) {
	xs, ys := m.xs[x0:x1], m.ys[y0:y1]
	w := (len(xs) + 63) / 64
	// Each distinct token of xs gets a slot, 1 up, and a mask of where it
	// stands in xs; slot 0 is the empty mask of the tokens xs lacks.
	maxID := -1
	for _, r := range xs {
		id := runeToID(r)
		if id < 0 {
			return 0, false
		}
		maxID = max(maxID, id)
	}
	if cap(m.slot) <= maxID {
		m.slot = make([]int32, maxID+1)
	}
	slot := m.slot[:maxID+1]
	distinct := 0
	for _, r := range xs {
		if id := runeToID(r); slot[id] == 0 {
			distinct++
			slot[id] = int32(distinct)
		}
	}
	defer func() {
		for _, r := range xs {
			slot[runeToID(r)] = 0
		}
	}()
	if (distinct+1+len(ys)+1)*w > maxLCSWords {
		return 0, false
	}
	// Clause-sized ranges need no memory but the stack for the length.
	var maskBuf [256]uint64
	var vBuf [8]uint64
	masks := maskBuf[:0]
	if n := (distinct + 1) * w; n <= len(maskBuf) {
		masks = maskBuf[:n]
	} else {
		masks = make([]uint64, n)
	}
	for i, r := range xs {
		masks[int(slot[runeToID(r)])*w+i>>6] |= 1 << (i & 63)
	}
	slotOf := func(r rune) int {
		if id := runeToID(r); id >= 0 && id < len(slot) {
			return int(slot[id])
		}
		return 0
	}
	v := vBuf[:0]
	if w <= len(vBuf) {
		v = vBuf[:w]
	} else {
		v = make([]uint64, w)
	}
	for q := range v {
		v[q] = ^uint64(0)
	}
	for _, r := range ys {
		if k := slotOf(r); k != 0 {
			lcsStep(v, v, masks[k*w:(k+1)*w])
		}
	}
	lcs := 0
	for q, word := range v {
		zeros := ^word
		if q == w-1 && len(xs)&63 != 0 {
			zeros &= 1<<(len(xs)&63) - 1
		}
		lcs += bits.OnesCount64(zeros)
	}
	if len(xs)+len(ys)-2*lcs < minD {
		return lcs, true
	}
	t.w = w
	// Every word of the table is written below.
	t.cols = slices.Grow(m.cols[:0], (len(ys)+1)*w)[:(len(ys)+1)*w]
	m.cols = t.cols
	v = t.cols[:w]
	for q := range v {
		v[q] = ^uint64(0)
	}
	for j, r := range ys {
		next := t.cols[(j+1)*w : (j+2)*w]
		if k := slotOf(r); k != 0 {
			lcsStep(next, v, masks[k*w:(k+1)*w])
		} else {
			copy(next, v)
		}
		v = next
	}
	return lcs, true
}

// lcsStep sets next to the bit vector of the column after v, whose token
// has the match mask pm: V' = (V + U) | (V - U), U = V & pm, in w-word
// arithmetic. next may be v.
func lcsStep(next, v, pm []uint64) {
	var carry, borrow uint64
	for q := range v {
		u := v[q] & pm[q]
		var sum, diff uint64
		sum, carry = bits.Add64(v[q], u, carry)
		diff, borrow = bits.Sub64(v[q], u, borrow)
		next[q] = sum | diff
	}
}

// lcsSpans returns a diff of xs[x0:x1] and ys[y0:y1] that keeps a longest
// common subsequence of them, when they differ by at least minD tokens;
// false when they differ by fewer, or lcsTable declines.
//
// It walks back from the ends. A token common to both ends is kept (some
// longest common subsequence keeps it), unless it is white space or
// punctuation (m.word) and can be let go without keeping fewer tokens:
// among the alignments that keep as many tokens, it favours those that
// keep words. Otherwise the last token of xs is deleted if that keeps as
// many, else the last of ys inserted. Equalities so come as late as they
// can, and cleanupMerge gathers each change into its deletion then its
// insertion.
func (m *differ) lcsSpans(x0, x1, y0, y1, minD int) ([]span, bool) {
	var t lcsTable
	lcs, ok := m.lcsTable(&t, x0, x1, y0, y1, minD)
	if !ok || (x1-x0)+(y1-y0)-2*lcs < minD {
		return nil, false
	}
	xs, ys := m.xs[x0:x1], m.ys[y0:y1]
	// The ops from the end back, in runs.
	rev := m.rev[:0]
	push := func(op diffmatchpatch.Operation) {
		if n := len(rev); n > 0 && rev[n-1].op == op {
			rev[n-1].n++
			return
		}
		rev = append(rev, span{op: op, n: 1})
	}
	i, j, l := len(xs), len(ys), lcs // l: the LCS of xs[:i] and ys[:j]
	for i > 0 && j > 0 {
		up := t.bit(i-1, j) // deleting xs[i-1] keeps as many
		if xs[i-1] == ys[j-1] && (m.isWord(xs[i-1]) || !up && t.prefix(i, j-1) != l) {
			push(diffmatchpatch.DiffEqual)
			i, j, l = i-1, j-1, l-1
		} else if up {
			push(diffmatchpatch.DiffDelete)
			i--
		} else {
			push(diffmatchpatch.DiffInsert)
			j--
		}
	}
	if i > 0 {
		rev = append(rev, span{op: diffmatchpatch.DiffDelete, n: i})
	}
	if j > 0 {
		rev = append(rev, span{op: diffmatchpatch.DiffInsert, n: j})
	}
	m.rev = rev
	out := slices.Grow(m.lcsOut[:0], len(rev))[:len(rev)]
	m.lcsOut = out
	x, y := x0, y0
	for k := range rev {
		s := rev[len(rev)-1-k]
		s.x, s.y = x, y
		if s.op != diffmatchpatch.DiffInsert {
			x += s.n
		}
		if s.op != diffmatchpatch.DiffDelete {
			y += s.n
		}
		out[k] = s
	}
	return out, true
}
