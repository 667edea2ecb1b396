package redline

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Kind says what a redline Op does to the text. Its zero value is not a
// valid kind: every Op produced by Words carries Equal, Insert or
// Delete.
type Kind uint8

// The three kinds of redline operation.
const (
	// Equal marks text present, unchanged, in both versions.
	Equal Kind = iota + 1
	// Insert marks text present only in the later version.
	Insert
	// Delete marks text present only in the earlier version.
	Delete
)

// String returns "equal", "insert" or "delete", the names used in the JSON
// output of the diff command, and "Kind(n)" for any other value.
func (k Kind) String() string {
	switch k {
	case Equal:
		return "equal"
	case Insert:
		return "insert"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalJSON encodes a valid kind as the JSON string "equal", "insert" or
// "delete"; it returns an error for any other value, so an invalid kind is
// never written out.
func (k Kind) MarshalJSON() ([]byte, error) {
	switch k {
	case Equal, Insert, Delete:
		return json.Marshal(k.String())
	}
	return nil, fmt.Errorf("redline: cannot marshal invalid %v", k)
}

// UnmarshalJSON accepts exactly the JSON strings "equal", "insert" and
// "delete"; anything else is an error and leaves k unchanged.
func (k *Kind) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("redline: op kind must be a JSON string: %w", err)
	}
	switch s {
	case "equal":
		*k = Equal
	case "insert":
		*k = Insert
	case "delete":
		*k = Delete
	default:
		return fmt.Errorf("redline: unknown op kind %q (want equal, insert or delete)", s)
	}
	return nil
}

// Op is one step of a word-level redline: a run of text that is kept
// (Equal), added (Insert) or removed (Delete). It encodes to JSON as
// {"op": "equal|insert|delete", "text": "…"}, the shape of the ops of the
// diff command.
type Op struct {
	Kind Kind   `json:"op"`
	Text string `json:"text"`
}

// Rebuild joins the ops back into the two texts they compare: before is the
// concatenation of the Equal and Delete texts, after that of the Equal
// and Insert texts, in order. For any ops returned by Words(b, a),
// Rebuild gives back exactly b and a, byte for byte. Ops of any other kind
// are ignored.
func Rebuild(ops []Op) (before, after string) {
	nb, na := 0, 0
	for _, op := range ops {
		switch op.Kind {
		case Equal:
			nb += len(op.Text)
			na += len(op.Text)
		case Delete:
			nb += len(op.Text)
		case Insert:
			na += len(op.Text)
		}
	}
	var b, a strings.Builder
	b.Grow(nb)
	a.Grow(na)
	for _, op := range ops {
		switch op.Kind {
		case Equal:
			b.WriteString(op.Text)
			a.WriteString(op.Text)
		case Delete:
			b.WriteString(op.Text)
		case Insert:
			a.WriteString(op.Text)
		}
	}
	return b.String(), a.String()
}

// Words compares two texts word by word and returns the ops that turn
// before into after. It is the one word-level diff of the project. It
// guarantees, for every pair of strings, including invalid UTF-8, NUL bytes
// and very large texts:
//
//   - it does not panic, and returns within about a second even for
//     megabytes of unrelated text (past its time budget it settles for a
//     coarser, still correct, redline of what is left);
//   - joining the Equal and Delete texts gives before exactly, and joining
//     the Equal and Insert texts gives after exactly (see Rebuild);
//   - every op boundary is a token boundary of both texts, so no word is ever
//     cut in two. A word is a maximal run of letters, digits and combining
//     marks (unicode.IsLetter, IsDigit, IsMark, in any script), with any
//     apostrophe (', ’, ʼ) that stands between two of them, as in
//     "зобов'язуються"; a maximal run of white space is one token; every
//     other rune (punctuation, symbols, emoji) and every byte of invalid
//     UTF-8 is a token by itself;
//   - no op has empty text, no two adjacent ops have the same kind, and where
//     text is replaced the Delete comes immediately before the Insert;
//   - the clean-up strikes no word that the token diff keeps unchanged: it
//     folds into the changes around it a run of white space and
//     punctuation, never a run that holds a word, however short;
//   - identical texts give a single Equal (nil when both are empty); an
//     empty before gives a single Insert and an empty after a single
//     Delete;
//   - the result depends only on the inputs as long as the work fits in the
//     time budget, which clause-sized texts (thousands of words) always do.
//
// Texts are compared byte for byte: no Unicode normalisation, so "é" and
// "e"+U+0301 differ. Each distinct token is given a private-use code point,
// the code point sequences are diffed as go-diff's DiffMainRunes does (see
// myers.go), or, when they differ by much, from their longest common
// subsequence (see lcs.go), then put through DiffCleanupSemantic keeping the
// runs that hold words (see cleanupSemantic), and the result is mapped back
// to text. The
// text of each op is a substring of before (Equal, Delete) or after (Insert).
func Words(before, after string) []Op {
	return redline(before, after, redlineLimits{alphabet: maxTokenAlphabet, chunk: chunkTokens, minD: bitParallelMinD})
}

// The private-use code points that stand for tokens, in order. None is a
// surrogate, a space or punctuation, so go-diff's semantic clean-up scores
// every token boundary alike.
var tokenPlanes = [...]struct{ lo, hi rune }{
	{0xE000, 0xF8FF},
	{0xF0000, 0xFFFFD},
	{0x100000, 0x10FFFD},
}

// maxTokenAlphabet is how many distinct tokens can be given a code point.
var maxTokenAlphabet = func() int {
	n := 0
	for _, p := range tokenPlanes {
		n += int(p.hi-p.lo) + 1
	}
	return n
}()

// runeToID is the inverse of idToRune; it returns -1 for a code point that
// stands for no token.
func runeToID(r rune) int {
	// The first plane, where a clause's tokens have their code points,
	// inline; the others in a call.
	if p := tokenPlanes[0]; p.lo <= r && r <= p.hi {
		return int(r - p.lo)
	}
	return runeToIDPlanes(r)
}

func runeToIDPlanes(r rune) int {
	base := 0
	for _, p := range tokenPlanes {
		if p.lo <= r && r <= p.hi {
			return base + int(r-p.lo)
		}
		base += int(p.hi-p.lo) + 1
	}
	return -1
}

func idToRune(id int) rune {
	if p := tokenPlanes[0]; id <= int(p.hi-p.lo) {
		return p.lo + rune(id)
	}
	for _, p := range tokenPlanes {
		size := int(p.hi-p.lo) + 1
		if id < size {
			return p.lo + rune(id)
		}
		id -= size
	}
	panic("redline: token id out of range") // unreachable: ids are capped
}

// Token classes.
const (
	tokenOther = iota
	tokenWord
	tokenSpace
)

func tokenClass(r rune) int {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return tokenWord
		case r == ' ', r == '\t', r == '\n', r == '\r', r == '\v', r == '\f':
			return tokenSpace
		}
		return tokenOther
	}
	switch {
	case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
		return tokenWord
	case unicode.IsSpace(r):
		return tokenSpace
	}
	return tokenOther
}

// isWordToken reports whether a token (see tokenBounds) is a word: words
// start with a letter, digit or mark.
func isWordToken(t string) bool {
	if t == "" {
		return false
	}
	_, _, class := classAt(t, 0)
	return class == tokenWord
}

// isApostrophe reports the characters written as apostrophes inside words:
// ASCII ', the right single quotation mark and the modifier letter
// apostrophe.
func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' || r == '\u02bc' }

// asciiClass is tokenClass of each ASCII character.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		t[c] = uint8(tokenClass(rune(c)))
	}
	return t
}()

// twoByteClass is tokenClass of each rune encoded in two bytes of UTF-8
// (U+0080 to U+07FF: accented Latin, Greek, Cyrillic, Armenian, Hebrew,
// Arabic), looked up so that tokenizing such a text does not search
// Unicode's tables rune by rune. It is filled on first use (see classAt):
// a command that never redlines such text does not pay for it.
var (
	twoByteClass     [0x800]uint8
	twoByteClassOnce sync.Once
)

func fillTwoByteClass() {
	for r := rune(utf8.RuneSelf); r < 0x800; r++ {
		twoByteClass[r] = uint8(tokenClass(r))
	}
}

// classAt decodes the rune that starts at s[i] and returns it, its size and
// its class (see tokenClass); a byte of invalid UTF-8 has size 1 and class
// -1.
func classAt(s string, i int) (r rune, size, class int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, int(asciiClass[c])
	}
	if c >= 0xC2 && c <= 0xDF && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
		twoByteClassOnce.Do(fillTwoByteClass)
		r = rune(c&0x1F)<<6 | rune(s[i+1]&0x3F)
		return r, 2, int(twoByteClass[r])
	}
	r, size = utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return r, 1, -1
	}
	return r, size, tokenClass(r)
}

// tokenBounds appends to b the byte offsets of the token boundaries of s:
// 0, the end of each token, the last being len(s). Token i of s is
// s[b[i]:b[i+1]]; the tokens concatenate to s exactly.
func tokenBounds(s string, b []int) []int {
	b = append(b, 0)
	for i := 0; i < len(s); {
		var c int
		if s[i] < utf8.RuneSelf {
			c = int(asciiClass[s[i]])
			i++
		} else {
			_, size, class := classAt(s, i)
			i += size
			if class < 0 {
				// A byte of invalid UTF-8: a token by itself.
				b = append(b, i)
				continue
			}
			c = class
		}
		if c != tokenOther {
			for i < len(s) {
				if r := s[i]; r < utf8.RuneSelf && r != '\'' {
					// ASCII other than the apostrophe: its class says.
					if int(asciiClass[r]) != c {
						break
					}
					i++
					continue
				}
				r, size, class := classAt(s, i)
				if c == tokenWord && isApostrophe(r) && i+size < len(s) {
					// An apostrophe between letters belongs to the word:
					// зобов'язуються, don't.
					if _, n, next := classAt(s, i+size); next == tokenWord {
						i += size + n
						continue
					}
				}
				if class != c {
					break
				}
				i += size
			}
		}
		b = append(b, i)
	}
	return b
}

// Limits that keep Words fast on any input.
const (
	// redlineBudget is the time Words gives itself, from its start. Past
	// it, what is left is redlined coarsely; the go-diff call in hand may
	// overrun it a little, as its clean-up does not watch the clock
	// (chunkTokens bounds that).
	redlineBudget = 700 * time.Millisecond
	// chunkTokens bounds the size, in tokens of its longer side, of any
	// problem handed to go-diff. Its half-match heuristic, its naive
	// substring search and DiffCleanupSemantic are quadratic in the worst
	// case and do not watch the clock; at this size they take a few tens of
	// milliseconds at worst. Larger ranges are first cut up (see large).
	chunkTokens = 4096
	// maxCutDepth bounds the recursion of large.
	maxCutDepth = 6
	// contextTokens is how many of the common tokens around a change go-diff
	// is shown.
	contextTokens = 64
	// minCommonRun is the fewest tokens a run common to both sides must have
	// for segmented to keep it as equal.
	minCommonRun = 8
)

// redlineLimits are the sizes redline works within; tests shrink them.
type redlineLimits struct {
	alphabet int // distinct tokens that can be given a code point
	chunk    int // most tokens, on the longer side, in one go-diff call
	minD     int // fewest edits for the bit-parallel diff; 0: bitParallelMinD
}

// tokenText is one text cut into tokens.
type tokenText struct {
	text   string
	bounds []int // len = tokens+1
}

func (s *tokenText) n() int               { return len(s.bounds) - 1 }
func (s *tokenText) tok(i int) string     { return s.text[s.bounds[i]:s.bounds[i+1]] }
func (s *tokenText) span(i, j int) string { return s.text[s.bounds[i]:s.bounds[j]] }

func redline(before, after string, lim redlineLimits) []Op {
	switch {
	case before == after:
		if before == "" {
			return nil
		}
		return []Op{{Equal, before}}
	case before == "":
		return []Op{{Insert, after}}
	case after == "":
		return []Op{{Delete, before}}
	}
	deadline := time.Now().Add(redlineBudget)
	w := redliners.Get().(*redliner)
	defer w.release()
	w.b = tokenText{before, tokenBounds(before, w.b.bounds[:0])}
	w.a = tokenText{after, tokenBounds(after, w.a.bounds[:0])}
	w.chunk = min(max(lim.chunk, 1), maxTokenAlphabet/2-2)
	w.deadline = deadline
	w.differ.minD = lim.minD
	nb, na := w.b.n(), w.a.n()

	// Give each distinct token an id, and so a code point; note which
	// stand for words.
	alphabet := min(lim.alphabet, maxTokenAlphabet)
	if w.ids == nil {
		w.ids = make(map[string]int, (nb+na)/8+16)
	}
	ids := w.ids
	// Tokens of one byte (a space, a comma) are most of a text's: they are
	// looked up in an array instead of the map.
	var byteIDs [256]int32
	intern := func(s *tokenText, runes []rune) ([]rune, bool) {
		runes = slices.Grow(runes[:0], s.n())[:s.n()]
		for i := range runes {
			t := s.tok(i)
			var id int
			if len(t) == 1 {
				if id = int(byteIDs[t[0]]) - 1; id < 0 {
					id = len(w.word)
					if id >= alphabet {
						return runes, false
					}
					byteIDs[t[0]] = int32(id + 1)
					w.word = append(w.word, isWordToken(t))
				}
			} else {
				var ok bool
				if id, ok = ids[t]; !ok {
					id = len(w.word)
					if id >= alphabet {
						return runes, false
					}
					ids[t] = id
					w.word = append(w.word, isWordToken(t))
				}
			}
			runes[i] = idToRune(id)
		}
		return runes, true
	}
	var okb, oka bool
	w.rb, okb = intern(&w.b, w.rb)
	if okb {
		w.ra, oka = intern(&w.a, w.ra)
	}
	w.differ.word = w.word
	if !okb || !oka {
		// Too many distinct tokens to give each a code point.
		w.coarse(nb, na, func(i, j int) bool { return w.b.tok(i) == w.a.tok(j) })
		return w.finish()
	}

	p := 0
	for p < nb && p < na && w.rb[p] == w.ra[p] {
		p++
	}
	s := 0
	for s < nb-p && s < na-p && w.rb[nb-1-s] == w.ra[na-1-s] {
		s++
	}
	if max(nb-p-s, na-p-s) <= w.chunk {
		// The common case: go-diff sees what differs, with some context for
		// its clean-up. Not all of it: a long common prefix or suffix makes
		// DiffCleanupSemantic slow (it counts the runes of an equality each
		// time it passes it, and may pass it once per edit).
		cp, cs := min(p, contextTokens), min(s, contextTokens)
		w.equal(p - cp)
		w.diffOrCoarse(nb-s+cs, na-s+cs)
		w.equal(s - cs)
	} else {
		w.equal(p)
		w.large(nb-s, na-s, 0)
		w.equal(s)
	}
	return w.finish()
}

// redliner turns token ranges into normalised ops: no empty op, equal runs
// merged, and between two equal runs all deleted text as one Delete
// followed by all inserted text as one Insert. It consumes the tokens of
// both texts in order; every method that takes i1 and j1 consumes the tokens
// from where it stands (i, j) up to i1 of before and j1 of after.
type redliner struct {
	b, a     tokenText
	rb, ra   []rune // token code points
	word     []bool // by token id: whether the token is a word
	differ   differ
	chunk    int
	deadline time.Time

	ids map[string]int // token ids, for redline

	ops      []Op
	i, j     int // tokens consumed in b and a
	di, dj   int // start of the pending edit run in b and a
	eqStart  int // token of b where the last equal op starts
	lastSize int // len(ops) just after the last equal op was emitted
}

// redliners keep the work arrays of redline between calls.
var redliners = sync.Pool{New: func() any { return new(redliner) }}

// maxKeptTokens bounds the tokens of the texts whose work arrays and
// token map release keeps for the next call: past it, they would cost more
// to clear than to make again.
const maxKeptTokens = 1 << 14

// release returns w to redliners, keeping only its work arrays: no text
// and no op stays reachable from it.
func (w *redliner) release() {
	if max(w.b.n(), w.a.n()) > maxKeptTokens || len(w.ids) > maxKeptTokens {
		return
	}
	clear(w.ids)
	d := &w.differ
	*w = redliner{
		b:    tokenText{bounds: w.b.bounds[:0]},
		a:    tokenText{bounds: w.a.bounds[:0]},
		rb:   w.rb[:0],
		ra:   w.ra[:0],
		word: w.word[:0],
		ids:  w.ids,
		differ: differ{
			v1: d.v1, v2: d.v2, slot: d.slot,
			cols: d.cols, rev: d.rev[:0], lcsOut: d.lcsOut[:0], align: d.align[:0],
			ex:  runeText{off: d.ex.off[:0], buf: d.ex.buf[:0]},
			ey:  runeText{off: d.ey.off[:0], buf: d.ey.buf[:0]},
			sem: d.sem,
			raw: emptied(d.raw), clean: emptied(d.clean),
		},
	}
	redliners.Put(w)
}

// emptied returns diffs emptied, its memory kept but no text reachable.
func emptied(diffs []diffmatchpatch.Diff) []diffmatchpatch.Diff {
	clear(diffs[:cap(diffs)])
	return diffs[:0]
}

// flush emits the pending edit run: its deletion, then its insertion.
func (w *redliner) flush() {
	if w.i > w.di {
		w.ops = append(w.ops, Op{Delete, w.b.span(w.di, w.i)})
	}
	if w.j > w.dj {
		w.ops = append(w.ops, Op{Insert, w.a.span(w.dj, w.j)})
	}
	w.di, w.dj = w.i, w.j
}

// equal consumes k tokens common to both texts.
func (w *redliner) equal(k int) {
	if k <= 0 {
		return
	}
	w.flush()
	if n := len(w.ops); n > 0 && n == w.lastSize {
		w.ops[n-1].Text = w.b.span(w.eqStart, w.i+k)
	} else {
		w.eqStart = w.i
		w.ops = append(w.ops, Op{Equal, w.b.span(w.i, w.i+k)})
		w.lastSize = len(w.ops)
	}
	w.i += k
	w.j += k
	w.di, w.dj = w.i, w.j
}

func (w *redliner) finish() []Op {
	w.flush()
	return w.ops
}

// coarse: the common leading and trailing tokens are equal, everything
// between is one delete and one insert.
func (w *redliner) coarse(i1, j1 int, same func(i, j int) bool) {
	p := 0
	for w.i+p < i1 && w.j+p < j1 && same(w.i+p, w.j+p) {
		p++
	}
	w.equal(p)
	s := 0
	for w.i+s < i1 && w.j+s < j1 && same(i1-1-s, j1-1-s) {
		s++
	}
	w.i, w.j = i1-s, j1-s
	w.equal(s)
}

func (w *redliner) sameToken(i, j int) bool { return w.rb[i] == w.ra[j] }

// diffOrCoarse uses go-diff, or the coarse redline when the time is up or
// go-diff's answer does not hold.
func (w *redliner) diffOrCoarse(i1, j1 int) {
	if !w.diff(i1, j1) {
		w.coarse(i1, j1, w.sameToken)
	}
}

// diff uses go-diff and its semantic clean-up. It returns false, having
// consumed nothing, when no time is left or when neither the cleaned nor the
// raw diff is a faithful account of the two token ranges.
func (w *redliner) diff(i1, j1 int) bool {
	left := time.Until(w.deadline)
	if left < time.Millisecond {
		return false
	}
	xs, ys := w.rb[w.i:i1:i1], w.ra[w.j:j1:j1]
	cleaned, raw := goDiffRunes(&w.differ, xs, ys, left, true, true)
	// DiffCleanupSemantic mixes rune counts and byte offsets in places (see
	// DiffCleanupSemanticLossless and DiffCommonOverlap in go-diff v1.4.0),
	// and our code points are 3 or 4 bytes long: its result is checked
	// against the two token ranges, and dropped for the uncleaned diff if it
	// does not hold.
	for _, diffs := range [][]diffmatchpatch.Diff{cleaned, raw} {
		if faithful(diffs, w.differ.ex.s, w.differ.ey.s) {
			w.follow(diffs)
			return true
		}
	}
	return false
}

// follow consumes tokens as a faithful diff says.
func (w *redliner) follow(diffs []diffmatchpatch.Diff) {
	for _, d := range diffs {
		k := validRuneCount(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			w.equal(k)
		case diffmatchpatch.DiffDelete:
			w.i += k
		case diffmatchpatch.DiffInsert:
			w.j += k
		}
	}
}

// faithful reports whether diffs turn two runs of token code points into
// one another, given ex and ey, their UTF-8: every code point of an equal
// or delete diff is the next of ex, every code point of an equal or insert
// diff the next of ey, and both are used up exactly. The diffs' texts may
// be any bytes. They are compared as bytes, each diff having to end
// between two code points of the texts it takes from: since ex and ey are
// valid UTF-8 of token code points (none of them U+FFFD, which a decoder
// makes of bytes that are not UTF-8), that is the same as comparing code
// points.
func faithful(diffs []diffmatchpatch.Diff, ex, ey string) bool {
	x, y := 0, 0
	for _, d := range diffs {
		t := d.Text
		if t == "" {
			continue
		}
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			if !strings.HasPrefix(ex[x:], t) || !strings.HasPrefix(ey[y:], t) {
				return false
			}
			x, y = x+len(t), y+len(t)
		case diffmatchpatch.DiffDelete:
			if !strings.HasPrefix(ex[x:], t) {
				return false
			}
			x += len(t)
		case diffmatchpatch.DiffInsert:
			if !strings.HasPrefix(ey[y:], t) {
				return false
			}
			y += len(t)
		default:
			return false
		}
		if !runeStart(ex, x) || !runeStart(ey, y) {
			return false
		}
	}
	return x == len(ex) && y == len(ey)
}

// runeStart reports whether byte i of s is where a code point starts, or
// the end of s.
func runeStart(s string, i int) bool { return i == len(s) || utf8.RuneStart(s[i]) }

// goDiffPanics counts panics raised inside go-diff and recovered by
// goDiffRunes; the tests require it to stay zero.
var goDiffPanics atomic.Int64

// goDiffRunes runs go-diff on code points within timeout: raw is the diff as
// DiffMainRunes gives it (worked out by its port, see myers.go), or, with
// align, as alignDiff gives it (the same unless the two differ in much),
// cleaned a copy put through the semantic clean-up (see cleanupSemantic)
// when clean is set, keeping the equalities that hold a word (m.word).
// Should either panic, both are nil, which no caller takes for a faithful
// diff of non-empty input.
func goDiffRunes(m *differ, xs, ys []rune, timeout time.Duration, clean, align bool) (cleaned, raw []diffmatchpatch.Diff) {
	defer func() {
		if recover() != nil {
			goDiffPanics.Add(1)
			cleaned, raw = nil, nil
		}
	}()
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = timeout
	diff := m.mainDiff
	if align {
		diff = m.alignDiff
	}
	// First, so that they are xs and ys even if the diff panics: the
	// callers check its answer against them.
	m.ex.encode(xs)
	m.ey.encode(ys)
	spans := diff(xs, ys, time.Now().Add(timeout))
	if clean {
		// Followed before the next call (see diff): the same memory serves
		// every clean-up of a Words call.
		m.raw = slices.Grow(m.raw[:0], len(spans))[:len(spans)]
		raw = m.raw
	} else {
		// Held while the segments it names are diffed (see segmented).
		raw = make([]diffmatchpatch.Diff, len(spans))
	}
	for i, s := range spans {
		if s.op == diffmatchpatch.DiffInsert {
			raw[i] = diffmatchpatch.Diff{Type: s.op, Text: m.ey.sub(s.y, s.y+s.n)}
		} else {
			raw[i] = diffmatchpatch.Diff{Type: s.op, Text: m.ex.sub(s.x, s.x+s.n)}
		}
	}
	if clean {
		cleaned = m.cleanupSpans(dmp, spans, raw)
	}
	return cleaned, raw
}

// runeText is a run of code points as go-diff sees it: their UTF-8, and
// where each starts in it, so that any run of them is a substring.
type runeText struct {
	s   string
	off []int32 // len = code points + 1
	buf []byte
}

func (e *runeText) encode(rs []rune) {
	e.buf, e.off = e.buf[:0], e.off[:0]
	for _, r := range rs {
		e.off = append(e.off, int32(len(e.buf)))
		if utf8.RuneLen(r) == 3 {
			// A clause's tokens: three bytes, written here.
			e.buf = append(e.buf, byte(0xE0|r>>12), byte(0x80|r>>6&0x3F), byte(0x80|r&0x3F))
			continue
		}
		e.buf = utf8.AppendRune(e.buf, r)
	}
	e.off = append(e.off, int32(len(e.buf)))
	e.s = string(e.buf)
}

func (e *runeText) sub(i, j int) string { return e.s[e.off[i]:e.off[j]] }

// holdsWord reports whether xs[x:x+n] holds a word (m.word).
func (m *differ) holdsWord(x, n int) bool {
	for _, r := range m.xs[x : x+n] {
		if id := runeToID(r); id >= 0 && id < len(m.word) && m.word[id] {
			return true
		}
	}
	return false
}

// semanticEdits are the lengths, in code points, of a run of edits.
type semanticEdits struct{ ins, del int }

func (g semanticEdits) size() int { return max(g.ins, g.del) }

// semanticScratch is the work arrays of cleanupSemantic, kept between calls.
type semanticScratch struct {
	lens    []int           // length of each equality
	words   []bool          // whether each equality holds a word
	gaps    []semanticEdits // gaps[k]: the edits just before equality k
	gone    []bool          // whether each equality is folded into the edits
	stack   []semanticKept
	stretch []diffmatchpatch.Diff
	spans   []span // the stretch, for cleanupSpans
}

type semanticKept struct {
	k    int
	left semanticEdits
}

// fold decides which equalities go, given s.lens, s.words and s.gaps (see
// cleanupSemantic); it fills s.gone and reports whether any does.
func (s *semanticScratch) fold() (changed bool) {
	lens, words, gaps := s.lens, s.words, s.gaps
	s.gone = append(s.gone[:0], make([]bool, len(lens))...)
	gone := s.gone
	stack := s.stack[:0]
	cur := gaps[0]
	for k, n := range lens {
		right := gaps[k+1]
		if words[k] {
			// Kept whatever its length, and a wall: the edits on either
			// side of it never meet, so nothing before it is looked at
			// again.
			stack = stack[:0]
			cur = right
			continue
		}
		if n == 0 || n > cur.size() || n > right.size() {
			stack = append(stack, semanticKept{k, cur})
			cur = right
			continue
		}
		gone[k], changed = true, true
		cur = semanticEdits{cur.ins + n + right.ins, cur.del + n + right.del}
		// The edits after the equality kept before have grown: look again.
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			m := lens[top.k]
			if m == 0 || m > top.left.size() || m > cur.size() {
				break
			}
			stack = stack[:len(stack)-1]
			gone[top.k] = true
			cur = semanticEdits{top.left.ins + m + cur.ins, top.left.del + m + cur.del}
		}
	}
	s.stack = stack
	return changed
}

// cleanupSemantic returns what dmp.DiffCleanupSemantic(diffs) does, but
// that it keeps every equality that holds a word (holdsWord, given the
// equality's text; nil: none does), without DiffCleanupSemantic's worst case
// and leaving diffs as they are.
//
// DiffCleanupSemantic turns into edits every equality no longer than the
// edits on either side of it. On token code points that strikes and
// re-inserts unchanged words between changes whenever they are fewer than
// the words changed around them: an inflected language, which says in two
// words ("Сполучених Штатів") what English says in six ("the Congress of
// the United States"), loses them where English keeps them, and the
// redline overstates the change. So only equalities of white space and
// punctuation are folded into the edits around them; an unchanged word,
// however short the run, stays unchanged.
//
// DiffCleanupSemantic restarts its scan after each equality it removes,
// from the start of the diff once they are all gone: on a diff where most
// equalities go (a passage rewritten word for word) that takes time
// quadratic in the number of diffs and linear in the length of the equality
// before them, seconds for a few thousand tokens. So the removal is done
// here, to the same rule and in the same order but in linear time (see
// fold), and the diff merged as go-diff would; DiffCleanupSemantic then
// runs on each stretch between the equalities kept for their words, where
// it finds nothing more to remove and goes on with the rest of its work
// (aligning edits on boundaries, extracting overlaps).
func cleanupSemantic(dmp *diffmatchpatch.DiffMatchPatch, diffs []diffmatchpatch.Diff, holdsWord func(string) bool) []diffmatchpatch.Diff {
	// DiffMainRunes can leave empty diffs (its "one text inside the other"
	// shortcut does, at either end), which DiffCleanupSemantic treats as
	// edits of nothing; drop them first, and merge what they separated.
	if slices.ContainsFunc(diffs, func(d diffmatchpatch.Diff) bool { return d.Text == "" }) {
		diffs = dmp.DiffCleanupMerge(slices.DeleteFunc(slices.Clone(diffs),
			func(d diffmatchpatch.Diff) bool { return d.Text == "" }))
	}
	// The equalities, and the edits before each and after the last.
	var s semanticScratch
	s.gaps = []semanticEdits{{}}
	for _, d := range diffs {
		n := utf8.RuneCountInString(d.Text)
		g := &s.gaps[len(s.gaps)-1]
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			g.ins += n
		case diffmatchpatch.DiffDelete:
			g.del += n
		case diffmatchpatch.DiffEqual:
			s.lens = append(s.lens, n)
			s.words = append(s.words, holdsWord != nil && holdsWord(d.Text))
			s.gaps = append(s.gaps, semanticEdits{})
		}
	}
	changed := s.fold()
	// Rebuild the diff, each stretch between the equalities kept for their
	// words put through the rest of DiffCleanupSemantic on its own.
	out := make([]diffmatchpatch.Diff, 0, len(diffs))
	var del, ins strings.Builder
	flush := func() {
		if del.Len() > 0 {
			s.stretch = append(s.stretch, diffmatchpatch.Diff{Type: diffmatchpatch.DiffDelete, Text: del.String()})
			del.Reset()
		}
		if ins.Len() > 0 {
			s.stretch = append(s.stretch, diffmatchpatch.Diff{Type: diffmatchpatch.DiffInsert, Text: ins.String()})
			ins.Reset()
		}
	}
	e := 0         // equalities passed
	walls := false // whether an equality was kept for its words
	for _, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			del.WriteString(d.Text)
		case diffmatchpatch.DiffInsert:
			ins.WriteString(d.Text)
		case diffmatchpatch.DiffEqual:
			switch {
			case s.words[e]:
				flush()
				out = s.clean(dmp, out, changed)
				out, walls = append(out, d), true
			case s.gone[e]:
				del.WriteString(d.Text)
				ins.WriteString(d.Text)
			default:
				flush()
				s.stretch = append(s.stretch, d)
			}
			e++
		}
	}
	flush()
	out = s.clean(dmp, out, changed)
	if walls {
		// Align the edits next to the equalities kept for their words as
		// DiffCleanupSemantic aligns the others (it slides them; no word
		// is struck for it).
		out = dmp.DiffCleanupSemanticLossless(out)
	}
	return out
}

// clean appends to out the stretch put through DiffCleanupSemantic (after
// DiffCleanupMerge, if any equality was folded), and empties it.
func (s *semanticScratch) clean(dmp *diffmatchpatch.DiffMatchPatch, out []diffmatchpatch.Diff, changed bool) []diffmatchpatch.Diff {
	stretch := s.stretch
	if len(stretch) == 0 {
		return out
	}
	if changed {
		stretch = dmp.DiffCleanupMerge(stretch)
	}
	out = append(out, dmp.DiffCleanupSemantic(stretch)...)
	clear(s.stretch[:cap(s.stretch)])
	s.stretch = s.stretch[:0]
	return out
}

// cleanupSpans is cleanupSemantic(dmp, raw, holdsWord) for raw the diff
// of spans, with holdsWord as m.word says, worked out from the spans: no
// rune is decoded, and each run of edits is a substring of m.ex or m.ey.
func (m *differ) cleanupSpans(dmp *diffmatchpatch.DiffMatchPatch, spans []span, raw []diffmatchpatch.Diff) []diffmatchpatch.Diff {
	holdsWord := func(run string) bool {
		for _, r := range run {
			if id := runeToID(r); id >= 0 && id < len(m.word) && m.word[id] {
				return true
			}
		}
		return false
	}
	if len(spans) == 0 {
		return cleanupSemantic(dmp, raw, holdsWord)
	}
	// Spans that are empty, or do not follow each other, are left to the
	// general case.
	x, y := spans[0].x, spans[0].y
	for _, d := range spans {
		if d.n == 0 || d.x != x || d.y != y {
			return cleanupSemantic(dmp, raw, holdsWord)
		}
		if d.op != diffmatchpatch.DiffInsert {
			x += d.n
		}
		if d.op != diffmatchpatch.DiffDelete {
			y += d.n
		}
	}
	s := &m.sem
	// Emptied here, not only when the last call ended: a call cut short by
	// a panic in go-diff leaves its stretch behind in a pooled differ.
	s.spans, s.stretch = s.spans[:0], s.stretch[:0]
	s.lens, s.words = s.lens[:0], s.words[:0]
	s.gaps = append(s.gaps[:0], semanticEdits{})
	for _, d := range spans {
		g := &s.gaps[len(s.gaps)-1]
		switch d.op {
		case diffmatchpatch.DiffInsert:
			g.ins += d.n
		case diffmatchpatch.DiffDelete:
			g.del += d.n
		case diffmatchpatch.DiffEqual:
			s.lens = append(s.lens, d.n)
			s.words = append(s.words, m.holdsWord(d.x, d.n))
			s.gaps = append(s.gaps, semanticEdits{})
		}
	}
	changed := s.fold()
	out := slices.Grow(m.clean[:0], len(spans))
	defer func() { m.clean = out[:0] }()
	x, y = spans[0].x, spans[0].y
	px, py := x, y // start of the edits not yet in the stretch
	e := 0         // equalities passed
	walls := false // whether an equality was kept for its words
	for k, d := range spans {
		switch d.op {
		case diffmatchpatch.DiffDelete:
			x += d.n
		case diffmatchpatch.DiffInsert:
			y += d.n
		case diffmatchpatch.DiffEqual:
			if s.gone[e] {
				x, y, e = x+d.n, y+d.n, e+1
				break
			}
			m.stretchEdits(px, py, x, y)
			if s.words[e] {
				out = m.cleanStretch(dmp, out, changed, x, y)
				out, walls = append(out, raw[k]), true
			} else {
				s.spans = append(s.spans, d)
			}
			x, y = x+d.n, y+d.n
			px, py = x, y
			e++
		}
	}
	m.stretchEdits(px, py, x, y)
	out = m.cleanStretch(dmp, out, changed, x, y)
	if walls && !losslessNoOp(out) {
		if threeByteRunes(out) {
			out = losslessSlide(out)
		} else {
			out = dmp.DiffCleanupSemanticLossless(out)
		}
	}
	return out
}

// threeByteRunes reports diffs whose texts are none empty and all valid
// UTF-8 of code points three bytes long, as those of the tokens of a
// clause are.
func threeByteRunes(diffs []diffmatchpatch.Diff) bool {
	for _, d := range diffs {
		if d.Text == "" {
			return false
		}
		for i := 0; i < len(d.Text); i += 3 {
			if !rune3(d.Text[i:]) {
				return false
			}
		}
	}
	return true
}

// rune3 reports whether s starts with the UTF-8 of a code point three
// bytes long: what utf8.DecodeRuneInString decodes with size 3.
func rune3(s string) bool {
	if len(s) < 3 {
		return false
	}
	b0, b1 := s[0], s[1]
	if b0&0xF0 != 0xE0 || b1&0xC0 != 0x80 || s[2]&0xC0 != 0x80 {
		return false
	}
	// Neither overlong (E0 80 to E0 9F) nor a surrogate (ED A0 to ED BF).
	return (b0 != 0xE0 || b1 >= 0xA0) && (b0 != 0xED || b1 < 0xA0)
}

// validRuneCount is utf8.RuneCountInString of valid UTF-8 (the texts of a
// faithful diff): its bytes that start a code point.
func validRuneCount(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

// losslessSlide is DiffCleanupSemanticLossless on diffs for which
// threeByteRunes holds. Between two such texts its boundary score is 1,
// and 6 where one side is empty, whatever the code points: of the
// positions it tries for an edit between two equalities, it keeps the
// last, and since its first shift (left, by as many bytes as the edit and
// the equality before it have code points in common at their end) is
// stepped back over byte by byte, that is the edit slid right over as many
// whole code points as the equality after it starts with. Its result is
// held to go-diff's by TestLosslessSlideMatchesGoDiff.
func losslessSlide(diffs []diffmatchpatch.Diff) []diffmatchpatch.Diff {
	for p := 1; p < len(diffs)-1; p++ {
		if diffs[p-1].Type != diffmatchpatch.DiffEqual || diffs[p+1].Type != diffmatchpatch.DiffEqual {
			continue
		}
		edit, eq2 := diffs[p].Text, diffs[p+1].Text
		// The edit slid right by k bytes starts at byte k of edit+eq2.
		k := 0
		for k < len(eq2) {
			next := eq2[max(k-len(edit), 0):]
			if k < len(edit) {
				next = edit[k:]
			}
			if next[:3] != eq2[k:k+3] {
				break
			}
			k += 3
		}
		if k == 0 {
			continue
		}
		if k <= len(edit) {
			diffs[p-1].Text += edit[:k]
			diffs[p].Text = edit[k:] + eq2[:k]
		} else {
			diffs[p-1].Text += edit + eq2[:k-len(edit)]
			diffs[p].Text = eq2[k-len(edit) : k]
		}
		if k < len(eq2) {
			diffs[p+1].Text = eq2[k:]
		} else {
			diffs = append(diffs[:p+1], diffs[p+2:]...)
			p--
		}
	}
	return diffs
}

// losslessNoOp reports diffs that DiffCleanupSemanticLossless returns as
// they are: no diff between two equalities ends with the last code point of
// the equality before it (which it would shift the diff left over) or
// starts with the first of the equality after it (which it would step
// right over). A RuneError is taken for a match, as an invalid byte may
// decode to it.
func losslessNoOp(diffs []diffmatchpatch.Diff) bool {
	for p := 1; p < len(diffs)-1; p++ {
		if diffs[p-1].Type != diffmatchpatch.DiffEqual || diffs[p+1].Type != diffmatchpatch.DiffEqual {
			continue
		}
		eq1, edit, eq2 := diffs[p-1].Text, diffs[p].Text, diffs[p+1].Text
		if edit == "" {
			continue
		}
		if eq1 != "" {
			a, _ := utf8.DecodeLastRuneInString(eq1)
			b, _ := utf8.DecodeLastRuneInString(edit)
			if a == b || a == utf8.RuneError || b == utf8.RuneError {
				return false
			}
		}
		if _, size := utf8.DecodeRuneInString(edit); len(eq2) >= size && edit[:size] == eq2[:size] {
			return false
		}
	}
	return true
}

// stretchEdits adds to the stretch the edits from (px, py) to (x, y): the
// deletion of xs[px:x], then the insertion of ys[py:y].
func (m *differ) stretchEdits(px, py, x, y int) {
	s := &m.sem
	if px < x {
		s.spans = append(s.spans, span{diffmatchpatch.DiffDelete, x - px, px, py})
	}
	if py < y {
		s.spans = append(s.spans, span{diffmatchpatch.DiffInsert, y - py, x, py})
	}
}

// cleanStretch is clean for the stretch of spans ending at (x1, y1):
// merged by cleanupMerge, go-diff's DiffCleanupMerge on spans, and put
// through DiffCleanupSemantic only where it can change something.
func (m *differ) cleanStretch(dmp *diffmatchpatch.DiffMatchPatch, out []diffmatchpatch.Diff, changed bool, x1, y1 int) []diffmatchpatch.Diff {
	s := &m.sem
	st := s.spans
	if len(st) == 0 {
		return out
	}
	if changed {
		st = m.cleanupMerge(st, x1, y1)
	}
	for _, d := range st {
		var text string
		if d.op == diffmatchpatch.DiffInsert {
			text = m.ey.sub(d.y, d.y+d.n)
		} else {
			text = m.ex.sub(d.x, d.x+d.n)
		}
		s.stretch = append(s.stretch, diffmatchpatch.Diff{Type: d.op, Text: text})
	}
	s.spans = st[:0]
	if semanticNoOp(dmp, s.stretch) {
		out = append(out, s.stretch...)
		clear(s.stretch)
		s.stretch = s.stretch[:0]
		return out
	}
	return s.clean(dmp, out, false)
}

// semanticNoOp reports diffs that DiffCleanupSemantic returns as they are:
// with no equality, it has none to remove nor any edit to slide between
// two, and with no empty text it only splits a deletion followed by an
// insertion where one's end overlaps the other's start.
func semanticNoOp(dmp *diffmatchpatch.DiffMatchPatch, diffs []diffmatchpatch.Diff) bool {
	for k, d := range diffs {
		if d.Type == diffmatchpatch.DiffEqual || d.Text == "" {
			return false
		}
		if k > 0 && diffs[k-1].Type == diffmatchpatch.DiffDelete && d.Type == diffmatchpatch.DiffInsert &&
			(dmp.DiffCommonOverlap(diffs[k-1].Text, d.Text) != 0 || dmp.DiffCommonOverlap(d.Text, diffs[k-1].Text) != 0) {
			return false
		}
	}
	return true
}

// piece consumes a range that large has cut out: with go-diff if it is
// small enough, else by cutting it up again, else coarsely.
func (w *redliner) piece(i1, j1, depth int) {
	n := max(i1-w.i, j1-w.j)
	switch {
	case n == 0:
	case n <= w.chunk:
		w.diffOrCoarse(i1, j1)
	case depth < maxCutDepth && time.Now().Before(w.deadline):
		w.large(i1, j1, depth+1)
	default:
		w.coarse(i1, j1, w.sameToken)
	}
}

// large consumes a range too long for one go-diff call by cutting it into
// pieces: first at anchors, tokens that occur exactly once on each side
// (keeping the longest series of them in the same order on both, as patience
// diff does); failing that, by diffing the two ranges as sequences of
// segments, runs of tokens cut where the text itself says (see
// segmentBounds), and taking apart only the segments that differ. If neither
// finds common ground, the range is redlined coarsely.
func (w *redliner) large(i1, j1, depth int) {
	if anchors := w.anchors(i1, j1); len(anchors) > 0 {
		li, lj := w.i, w.j // end of the last anchor not yet consumed
		for k := 0; k <= len(anchors); k++ {
			ei, ej := i1, j1
			if k < len(anchors) {
				ei, ej = anchors[k][0]+1, anchors[k][1]+1
			}
			if max(ei-w.i, ej-w.j) > w.chunk && li > w.i {
				w.piece(li, lj, depth)
			}
			li, lj = ei, ej
		}
		w.piece(i1, j1, depth)
		return
	}
	if !w.segmented(i1, j1, depth) {
		w.coarse(i1, j1, w.sameToken)
	}
}

// anchors returns the positions {i, j} of a longest series of tokens, each
// occurring exactly once in rb[w.i:i1] and once in ra[w.j:j1], that come in
// the same order on both sides.
func (w *redliner) anchors(i1, j1 int) [][2]int {
	type seen struct {
		nb, na uint8 // occurrences, counted up to 2
		j      int   // where in ra, when na == 1
	}
	count := make(map[rune]seen, max(i1-w.i, j1-w.j)/4)
	for _, r := range w.rb[w.i:i1] {
		s := count[r]
		s.nb = min(s.nb+1, 2)
		count[r] = s
	}
	for j := w.j; j < j1; j++ {
		if s, ok := count[w.ra[j]]; ok { // tokens absent from b cannot anchor
			s.na = min(s.na+1, 2)
			s.j = j
			count[w.ra[j]] = s
		}
	}
	var pairs [][2]int
	for i := w.i; i < i1; i++ {
		if s := count[w.rb[i]]; s.nb == 1 && s.na == 1 {
			pairs = append(pairs, [2]int{i, s.j})
		}
	}
	return longestIncreasing(pairs)
}

// longestIncreasing returns a longest subsequence of pairs (already
// increasing in [0]) that is increasing in [1].
func longestIncreasing(pairs [][2]int) [][2]int {
	if len(pairs) == 0 {
		return nil
	}
	tails := make([]int, 0, 16) // tails[l]: index of the smallest end of a run of length l+1
	prev := make([]int, len(pairs))
	for k, p := range pairs {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if pairs[tails[mid]][1] < p[1] {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		prev[k] = -1
		if lo > 0 {
			prev[k] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, k)
		} else {
			tails[lo] = k
		}
	}
	out := make([][2]int, len(tails))
	for k, l := tails[len(tails)-1], len(tails)-1; l >= 0; k, l = prev[k], l-1 {
		out[l] = pairs[k]
	}
	return out
}

// segmentCutBits is how many of the top bits of a pair hash choose where
// segments are cut.
const segmentCutBits = 14

// tokenPairHash mixes two neighbouring token code points into 64 bits.
func tokenPairHash(p, q rune) uint64 {
	h := uint64(p)*0x9E3779B97F4A7C15 ^ uint64(q)
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 32
	return h
}

// segmentBounds cuts xs into runs of tokens and returns their bounds (0, …,
// len(xs)). A run ends after token p when the top segmentCutBits bits of the
// hash of tokens p-1 and p are at most cut: the cuts depend on the text
// alone, so passages common to both texts are cut alike wherever they stand.
func segmentBounds(xs []rune, cut int) []int {
	b := []int{0}
	for p := 1; p < len(xs); p++ {
		if int(tokenPairHash(xs[p-1], xs[p])>>(64-segmentCutBits)) <= cut {
			b = append(b, p+1)
		}
	}
	if b[len(b)-1] != len(xs) {
		b = append(b, len(xs))
	}
	return b
}

// segmentCutLevel returns the highest cut for segmentBounds that leaves neither xs nor
// ys with more than most cuts, or -1 when there is none.
func segmentCutLevel(xs, ys []rune, most int) int {
	var hx, hy [1 << segmentCutBits]int
	for p := 1; p < len(xs); p++ {
		hx[tokenPairHash(xs[p-1], xs[p])>>(64-segmentCutBits)]++
	}
	for p := 1; p < len(ys); p++ {
		hy[tokenPairHash(ys[p-1], ys[p])>>(64-segmentCutBits)]++
	}
	nx, ny := 0, 0
	for c := range hx {
		nx, ny = nx+hx[c], ny+hy[c]
		if max(nx, ny) > most {
			return c - 1
		}
	}
	return len(hx) - 1
}

// segmented diffs the two ranges as sequences of segments and takes apart,
// piece by piece, the runs of segments that differ. It returns false, having
// consumed nothing, when it finds no segment in common.
func (w *redliner) segmented(i1, j1, depth int) bool {
	xs, ys := w.rb[w.i:i1], w.ra[w.j:j1]
	cut := segmentCutLevel(xs, ys, w.chunk-2)
	if cut < 0 {
		return false // some pair of tokens is too frequent
	}
	bx, by := segmentBounds(xs, cut), segmentBounds(ys, cut)
	if len(bx) <= 2 && len(by) <= 2 {
		return false // one segment a side: nothing to learn
	}
	codes := make(map[string]rune, len(bx)+len(by))
	code := func(ts []rune, b []int) []rune {
		out := make([]rune, len(b)-1)
		for k := range out {
			key := string(ts[b[k]:b[k+1]])
			c, ok := codes[key]
			if !ok {
				c = idToRune(len(codes)) // at most 2*chunk+2 of them
				codes[key] = c
			}
			out[k] = c
		}
		return out
	}
	sx, sy := code(xs, bx), code(ys, by)
	left := time.Until(w.deadline)
	if left < time.Millisecond {
		return false
	}
	_, diffs := goDiffRunes(&w.differ, sx, sy, left, false, false)
	if !faithful(diffs, w.differ.ex.s, w.differ.ey.s) {
		return false
	}
	// Only runs of at least minCommonRun equal tokens are kept as such
	// here: shorter ones (a space, a comma, a common word between rewritten
	// passages) go with the pieces around them, whose token diff finds
	// again the words they keep.
	long := func(d diffmatchpatch.Diff, si int) bool {
		return d.Type == diffmatchpatch.DiffEqual &&
			bx[si+validRuneCount(d.Text)]-bx[si] >= minCommonRun
	}
	common := false
	for k, si := 0, 0; k < len(diffs) && !common; k++ {
		common = long(diffs[k], si)
		if diffs[k].Type != diffmatchpatch.DiffInsert {
			si += validRuneCount(diffs[k].Text)
		}
	}
	if !common {
		return false
	}
	i0, j0 := w.i, w.j
	ti, tj := w.i, w.j // tokens up to which the segment diff has been read
	si, sj := 0, 0     // segments read
	for _, d := range diffs {
		k := validRuneCount(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			n := bx[si+k] - bx[si] // equal segments: as many tokens in ys
			if long(d, si) {
				w.piece(ti, tj, depth)
				w.equal(n)
			}
			ti, tj = ti+n, tj+n
			si, sj = si+k, sj+k
		case diffmatchpatch.DiffDelete:
			si += k
			ti = i0 + bx[si]
		case diffmatchpatch.DiffInsert:
			sj += k
			tj = j0 + by[sj]
		}
	}
	w.piece(i1, j1, depth)
	return true
}
