package redline

import (
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// This file is go-diff's DiffMainRunes (github.com/sergi/go-diff v1.4.0,
// diff.go: diffMainRunes, diffCompute, diffHalfMatch, diffBisect,
// DiffCleanupMerge), step for step, on token code points held in place:
// each op is a count of tokens at a position of the two sequences instead of
// a string, so that no text is copied or converted while the diff is worked
// out. It gives the diff DiffMainRunes gives (TestMainMatchesGoDiff and
// FuzzMainMatchesGoDiff hold it to that), in a fraction of the time and
// memory: DiffMainRunes turns runes into strings and back at every level of
// its recursion, and most of a redline's time went there.

// span is one op of a diff of xs and ys: n tokens starting at xs[x] (equal,
// delete) and ys[y] (equal, insert). A delete sits at y in ys, an insert at
// x in xs. n may be 0: DiffMainRunes leaves empty ops in places, and so
// does this.
type span struct {
	op   diffmatchpatch.Operation
	n    int
	x, y int
}

// differ works out diffs of two token sequences, keeping its work arrays
// between calls.
type differ struct {
	xs, ys   []rune
	deadline time.Time
	v1, v2   []int
	slot     []int32 // by token id, for lcsTable; all zero between calls
	minD     int     // for alignDiff; 0: bitParallelMinD
	word     []bool  // for alignDiff, by token id: whether it is a word

	cols        []uint64 // for lcsTable
	rev, lcsOut []span   // for lcsSpans
	align       []span   // for alignDiff; its answer, until the next call
	ex, ey      runeText // xs and ys, for goDiffRunes
	sem         semanticScratch
	// raw and clean hold goDiffRunes's answers when it cleans them up, until
	// the next such call: its caller follows them at once.
	raw, clean []diffmatchpatch.Diff
}

// mainDiff returns what DiffMainRunes(xs, ys, false) returns for a
// DiffMatchPatch whose DiffTimeout ends at deadline (not zero).
func (m *differ) mainDiff(xs, ys []rune, deadline time.Time) []span {
	m.xs, m.ys, m.deadline = xs, ys, deadline
	return m.main(0, len(xs), 0, len(ys))
}

// main is diffMainRunes on xs[x0:x1] and ys[y0:y1].
func (m *differ) main(x0, x1, y0, y1 int) []span {
	xs, ys := m.xs, m.ys
	if x1-x0 == y1-y0 && equalRunes(xs[x0:x1], ys[y0:y1]) {
		if x1 > x0 {
			return []span{{diffmatchpatch.DiffEqual, x1 - x0, x0, y0}}
		}
		return nil
	}
	p := prefixLen(xs[x0:x1], ys[y0:y1])
	s := suffixLen(xs[x0+p:x1], ys[y0+p:y1])
	mid := m.compute(x0+p, x1-s, y0+p, y1-s)
	diffs := make([]span, 0, len(mid)+3)
	if p > 0 {
		diffs = append(diffs, span{diffmatchpatch.DiffEqual, p, x0, y0})
	}
	diffs = append(diffs, mid...)
	if s > 0 {
		diffs = append(diffs, span{diffmatchpatch.DiffEqual, s, x1 - s, y1 - s})
	}
	return m.cleanupMerge(diffs, x1, y1)
}

// compute is diffCompute: the ranges have no common prefix or suffix.
func (m *differ) compute(x0, x1, y0, y1 int) []span {
	nx, ny := x1-x0, y1-y0
	switch {
	case nx == 0:
		return []span{{diffmatchpatch.DiffInsert, ny, x0, y0}}
	case ny == 0:
		return []span{{diffmatchpatch.DiffDelete, nx, x0, y0}}
	}
	xs, ys := m.xs[x0:x1], m.ys[y0:y1]
	long, short := ys, xs
	if nx > ny {
		long, short = xs, ys
	}
	if i := indexRunes(long, short); i != -1 {
		// The shorter inside the longer.
		if nx > ny {
			return []span{{diffmatchpatch.DiffDelete, i, x0, y0},
				{diffmatchpatch.DiffEqual, ny, x0 + i, y0},
				{diffmatchpatch.DiffDelete, nx - i - ny, x0 + i + ny, y1}}
		}
		return []span{{diffmatchpatch.DiffInsert, i, x0, y0},
			{diffmatchpatch.DiffEqual, nx, x0, y0 + i},
			{diffmatchpatch.DiffInsert, ny - i - nx, x1, y0 + i + nx}}
	}
	if len(short) == 1 {
		return []span{{diffmatchpatch.DiffDelete, nx, x0, y0}, {diffmatchpatch.DiffInsert, ny, x1, y0}}
	}
	if hm, ok := m.halfMatch(x0, x1, y0, y1); ok {
		a := m.main(x0, hm.x1a, y0, hm.y1a)
		b := m.main(hm.x1b, x1, hm.y1b, y1)
		diffs := make([]span, 0, len(a)+1+len(b))
		diffs = append(diffs, a...)
		diffs = append(diffs, span{diffmatchpatch.DiffEqual, hm.common, hm.x1a, hm.y1a})
		return append(diffs, b...)
	}
	return m.bisect(x0, x1, y0, y1)
}

// halfMatch is where diffHalfMatch splits two ranges: the first ends at
// x1a and y1a, the common part of length common follows, and the second
// starts at x1b and y1b.
type halfMatch struct {
	x1a, y1a, x1b, y1b, common int
}

// halfMatch is diffHalfMatch (with a DiffTimeout, which it needs).
func (m *differ) halfMatch(x0, x1, y0, y1 int) (halfMatch, bool) {
	// In the long and short texts' own coordinates.
	l, s := m.ys[y0:y1], m.xs[x0:x1]
	xLong := x1-x0 > y1-y0
	if xLong {
		l, s = s, l
	}
	if len(l) < 4 || len(s)*2 < len(l) {
		return halfMatch{}, false
	}
	hm1, ok1 := halfMatchAt(l, s, int(float64(len(l)+3)/4))
	hm2, ok2 := halfMatchAt(l, s, int(float64(len(l)+1)/2))
	var hm halfMatchI
	switch {
	case !ok1 && !ok2:
		return halfMatch{}, false
	case !ok2:
		hm = hm1
	case !ok1:
		hm = hm2
	case hm1.common > hm2.common:
		hm = hm1
	default:
		hm = hm2
	}
	if xLong {
		return halfMatch{x1a: x0 + hm.la, y1a: y0 + hm.sa, x1b: x0 + hm.lb, y1b: y0 + hm.sb, common: hm.common}, true
	}
	return halfMatch{x1a: x0 + hm.sa, y1a: y0 + hm.la, x1b: x0 + hm.sb, y1b: y0 + hm.lb, common: hm.common}, true
}

// halfMatchI is diffHalfMatchI's answer in its texts' coordinates: the long
// text's first part ends at la and its second starts at lb, the short
// text's at sa and sb; common tokens lie between.
type halfMatchI struct {
	la, lb, sa, sb, common int
}

// halfMatchAt is diffHalfMatchI(l, s, i).
func halfMatchAt(l, s []rune, i int) (halfMatchI, bool) {
	var best halfMatchI
	seed := l[i : i+len(l)/4]
	for j := indexRunesFrom(s, seed, 0); j != -1; j = indexRunesFrom(s, seed, j+1) {
		pre := prefixLen(l[i:], s[j:])
		suf := suffixLen(l[:i], s[:j])
		if best.common < suf+pre {
			best = halfMatchI{la: i - suf, lb: i + pre, sa: j - suf, sb: j + pre, common: suf + pre}
		}
	}
	if best.common*2 < len(l) {
		return halfMatchI{}, false
	}
	return best, true
}

// bisect is diffBisect: Myers' middle snake, and the two halves either side
// of it diffed on their own.
func (m *differ) bisect(bx0, bx1, by0, by1 int) []span {
	r1, r2 := m.xs[bx0:bx1], m.ys[by0:by1]
	n1, n2 := len(r1), len(r2)
	maxD := (n1 + n2 + 1) / 2
	vOffset := maxD
	vLength := 2 * maxD
	if cap(m.v1) < vLength {
		m.v1 = make([]int, vLength)
		m.v2 = make([]int, vLength)
	}
	v1, v2 := m.v1[:vLength], m.v2[:vLength]
	for i := range v1 {
		v1[i] = -1
		v2[i] = -1
	}
	v1[vOffset+1] = 0
	v2[vOffset+1] = 0
	delta := n1 - n2
	front := delta%2 != 0
	k1start, k1end, k2start, k2end := 0, 0, 0, 0
	for d := 0; d < maxD; d++ {
		if d%16 == 0 && time.Now().After(m.deadline) {
			break
		}
		for k1 := -d + k1start; k1 <= d-k1end; k1 += 2 {
			k1Offset := vOffset + k1
			var x1 int
			if k1 == -d || (k1 != d && v1[k1Offset-1] < v1[k1Offset+1]) {
				x1 = v1[k1Offset+1]
			} else {
				x1 = v1[k1Offset-1] + 1
			}
			y1 := x1 - k1
			for x1 < n1 && y1 < n2 && r1[x1] == r2[y1] {
				x1++
				y1++
			}
			v1[k1Offset] = x1
			if x1 > n1 {
				k1end += 2
			} else if y1 > n2 {
				k1start += 2
			} else if front {
				k2Offset := vOffset + delta - k1
				if k2Offset >= 0 && k2Offset < vLength && v2[k2Offset] != -1 {
					if x1 >= n1-v2[k2Offset] {
						return m.split(bx0, bx1, by0, by1, bx0+x1, by0+y1)
					}
				}
			}
		}
		for k2 := -d + k2start; k2 <= d-k2end; k2 += 2 {
			k2Offset := vOffset + k2
			var x2 int
			if k2 == -d || (k2 != d && v2[k2Offset-1] < v2[k2Offset+1]) {
				x2 = v2[k2Offset+1]
			} else {
				x2 = v2[k2Offset-1] + 1
			}
			y2 := x2 - k2
			for x2 < n1 && y2 < n2 && r1[n1-x2-1] == r2[n2-y2-1] {
				x2++
				y2++
			}
			v2[k2Offset] = x2
			if x2 > n1 {
				k2end += 2
			} else if y2 > n2 {
				k2start += 2
			} else if !front {
				k1Offset := vOffset + delta - k2
				if k1Offset >= 0 && k1Offset < vLength && v1[k1Offset] != -1 {
					x1 := v1[k1Offset]
					y1 := vOffset + x1 - k1Offset
					if x1 >= n1-x2 {
						return m.split(bx0, bx1, by0, by1, bx0+x1, by0+y1)
					}
				}
			}
		}
	}
	// Out of time, or nothing in common.
	return []span{{diffmatchpatch.DiffDelete, n1, bx0, by0}, {diffmatchpatch.DiffInsert, n2, bx1, by0}}
}

// split is diffBisectSplit: the ranges diffed on either side of (x, y).
func (m *differ) split(x0, x1, y0, y1, x, y int) []span {
	a := m.main(x0, x, y0, y)
	b := m.main(x, x1, y, y1)
	return append(a, b...)
}

// cleanupMerge is DiffCleanupMerge on a diff of xs[…:x1] and ys[…:y1]:
// edits between two equalities merged into one deletion and one insertion,
// with what they have in common at either end moved into the equalities, and
// equalities merged; then single edits between equalities slid sideways
// where that removes an equality, and again from the start if any was.
func (m *differ) cleanupMerge(diffs []span, x1, y1 int) []span {
	xs, ys := m.xs, m.ys
	diffs = append(diffs, span{diffmatchpatch.DiffEqual, 0, x1, y1}) // the end
	pointer := 0
	countDelete, countInsert := 0, 0
	nDelete, nInsert := 0, 0 // tokens deleted and inserted since the last equality
	for pointer < len(diffs) {
		d := diffs[pointer]
		switch d.op {
		case diffmatchpatch.DiffInsert:
			countInsert++
			nInsert += d.n
			pointer++
		case diffmatchpatch.DiffDelete:
			countDelete++
			nDelete += d.n
			pointer++
		case diffmatchpatch.DiffEqual:
			if countDelete+countInsert > 1 {
				start := pointer - countDelete - countInsert
				rx, ry := diffs[start].x, diffs[start].y
				if countDelete != 0 && countInsert != 0 {
					// Common prefix, into the equality before.
					if c := prefixLen(ys[ry:ry+nInsert], xs[rx:rx+nDelete]); c != 0 {
						if start > 0 && diffs[start-1].op == diffmatchpatch.DiffEqual {
							diffs[start-1].n += c
						} else {
							diffs = append(diffs, span{})
							copy(diffs[1:], diffs)
							diffs[0] = span{diffmatchpatch.DiffEqual, c, rx, ry}
							pointer++
							start++
						}
						rx, ry = rx+c, ry+c
						nInsert -= c
						nDelete -= c
					}
					// Common suffix, into the equality after.
					if c := suffixLen(ys[ry:ry+nInsert], xs[rx:rx+nDelete]); c != 0 {
						diffs[pointer].n += c
						diffs[pointer].x -= c
						diffs[pointer].y -= c
						nInsert -= c
						nDelete -= c
					}
				}
				var merged [2]span
				k := 0
				if countDelete != 0 {
					merged[k] = span{diffmatchpatch.DiffDelete, nDelete, rx, ry}
					k++
				}
				if countInsert != 0 {
					merged[k] = span{diffmatchpatch.DiffInsert, nInsert, rx + nDelete, ry}
					k++
				}
				diffs = spliceSpans(diffs, start, countDelete+countInsert, merged[:k]...)
				pointer = start + k + 1
			} else if pointer != 0 && diffs[pointer-1].op == diffmatchpatch.DiffEqual {
				diffs[pointer-1].n += d.n
				diffs = append(diffs[:pointer], diffs[pointer+1:]...)
			} else {
				pointer++
			}
			countInsert, countDelete = 0, 0
			nInsert, nDelete = 0, 0
		}
	}
	if diffs[len(diffs)-1].n == 0 {
		diffs = diffs[:len(diffs)-1]
	}

	// Single edits between equalities, slid over one of them.
	changes := false
	for pointer = 1; pointer < len(diffs)-1; pointer++ {
		prev, edit, next := &diffs[pointer-1], &diffs[pointer], &diffs[pointer+1]
		if prev.op != diffmatchpatch.DiffEqual || next.op != diffmatchpatch.DiffEqual {
			continue
		}
		var text []rune
		if edit.op == diffmatchpatch.DiffInsert {
			text = ys[edit.y : edit.y+edit.n]
		} else {
			text = xs[edit.x : edit.x+edit.n]
		}
		switch {
		case prev.n <= edit.n && equalRunes(text[edit.n-prev.n:], xs[prev.x:prev.x+prev.n]):
			// A<ins>BA</ins>C -> <ins>AB</ins>AC
			edit.x -= prev.n
			edit.y -= prev.n
			next.n += prev.n
			next.x -= prev.n
			next.y -= prev.n
			diffs = spliceSpans(diffs, pointer-1, 1)
			changes = true
		case next.n <= edit.n && equalRunes(text[:next.n], xs[next.x:next.x+next.n]):
			// A<ins>BC</ins>B -> AB<ins>CB</ins>
			prev.n += next.n
			edit.x += next.n
			edit.y += next.n
			diffs = spliceSpans(diffs, pointer+1, 1)
			changes = true
		}
	}
	if changes {
		return m.cleanupMerge(diffs, x1, y1)
	}
	return diffs
}

// spliceSpans is go-diff's splice: amount spans at index replaced by
// elements.
func spliceSpans(s []span, index, amount int, elements ...span) []span {
	switch {
	case len(elements) == amount:
		copy(s[index:], elements)
		return s
	case len(elements) < amount:
		copy(s[index:], elements)
		copy(s[index+len(elements):], s[index+amount:])
		return s[:len(s)-amount+len(elements)]
	}
	need := len(s) - amount + len(elements)
	for len(s) < need {
		s = append(s, span{})
	}
	copy(s[index+len(elements):], s[index+amount:])
	copy(s[index:], elements)
	return s
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i, r := range a {
		if r != b[i] {
			return false
		}
	}
	return true
}

func prefixLen(a, b []rune) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func suffixLen(a, b []rune) int {
	i, j := len(a)-1, len(b)-1
	n := 0
	for i >= 0 && j >= 0 && a[i] == b[j] {
		i--
		j--
		n++
	}
	return n
}

// indexRunes is the first index of pattern in s, or -1.
func indexRunes(s, pattern []rune) int {
	if len(pattern) == 0 {
		return 0
	}
	first := pattern[0]
	for i, last := 0, len(s)-len(pattern); i <= last; i++ {
		if s[i] == first && equalRunes(s[i:i+len(pattern)], pattern) {
			return i
		}
	}
	return -1
}

// indexRunesFrom is go-diff's runesIndexOf: the first index of pattern in s
// at or after i, or -1.
func indexRunesFrom(s, pattern []rune, i int) int {
	if i > len(s)-1 {
		return -1
	}
	if i <= 0 {
		return indexRunes(s, pattern)
	}
	if k := indexRunes(s[i:], pattern); k != -1 {
		return k + i
	}
	return -1
}

// diffsOf turns spans into go-diff's diffs of xs and ys.
func diffsOf(spans []span, xs, ys []rune) []diffmatchpatch.Diff {
	out := make([]diffmatchpatch.Diff, len(spans))
	for i, s := range spans {
		var text []rune
		if s.op == diffmatchpatch.DiffInsert {
			text = ys[s.y : s.y+s.n]
		} else {
			text = xs[s.x : s.x+s.n]
		}
		out[i] = diffmatchpatch.Diff{Type: s.op, Text: string(text)}
	}
	return out
}
