package projections

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"unsafe"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/hugepages"
	"github.com/treaty-engine/treaty/projections/redline"
)

// words is redline.Words, remembered: a process that answers many questions
// (the web workspace) redlines the same texts again and again as events
// arrive, most clauses unchanged. The ops it returns are shared: callers
// must not change them.
func words(before, after string) []redline.Op {
	return wordsOf(pairKey(before, after), before, after)
}

// wordsOf is words, given pairKey(before, after): remembered by the hash
// of the two texts, not a copy of them.
func wordsOf(key [16]byte, before, after string) []redline.Op {
	if ops, ok := redlines.get(key); ok {
		return ops
	}
	ops := redline.Words(before, after)
	if ops == nil {
		ops = []redline.Op{}
	}
	redlines.put(key, ops)
	return ops
}

// redlines remembers the last few thousand redlines, in two generations:
// when the newer fills, the older is dropped and the newer takes its place,
// so that what is used often stays.
var redlines = &memo{max: 4096}

type memo struct {
	mu       sync.Mutex
	max      int
	cur, old map[[16]byte][]redline.Op
}

func (m *memo) get(key [16]byte) ([]redline.Op, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ops, ok := m.cur[key]; ok {
		return ops, true
	}
	if ops, ok := m.old[key]; ok {
		m.putLocked(key, ops)
		return ops, true
	}
	return nil, false
}

func (m *memo) put(key [16]byte, ops []redline.Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putLocked(key, ops)
}

func (m *memo) putLocked(key [16]byte, ops []redline.Op) {
	if m.cur == nil || len(m.cur) >= m.max {
		// Not sized for max: a command asked once fills a few hundred.
		m.old, m.cur = m.cur, map[[16]byte][]redline.Op{}
	}
	m.cur[key] = ops
}

// A fresh process remembers nothing, and a compare over a long history
// redlines hundreds of rewritten clauses: most of diff's time. So the
// redlines of a compare are kept in the store's cache beside the
// checkpoints, authenticated as they are (checkpoint.Store.Memo), under the
// hashes of its two moments, and the next compare of the same moments reads
// them instead. A redline is a pure function of its two texts: what is kept
// is, for each pair of texts (by a hash of both), the kinds and byte lengths
// of its ops, which are substrings of the texts.
const redlinesMemo = "redlines"

// savedRedlines are the redlines of one compare, as read from the cache and
// as worked out since.
type savedRedlines struct {
	name  string // the two moments' hashes; "" keeps nothing
	kind  string // of memo: redlinesMemo, or proposalsMemo
	mu    sync.Mutex
	ops   map[[16]byte][]byte // encoded ops (see encodeOps) by pairKey
	added bool
	// found: a memo was read, kept by an earlier command (for a compare:
	// one that worked out the same two moments).
	found bool
	// used records the redlines asked for, when limit is not 0: a save
	// that would keep more than limit keeps only those.
	used  map[[16]byte]bool
	limit int
}

// The redlines of the proposals open at a moment (each against the text it
// was drafted against) are asked for by every positions document, whatever
// the moment, and by every compare document for its later moment; they
// change only as proposals are tabled, and a proposal stays open across
// rounds. So they are kept, among at most keepProposalRedlines under each
// name: positionsRedlines for positions (at a million events, about 2,300
// proposals are open), compareRedlines for compares, whose later moments
// vary more (kept apart so that positions reads no more than it needs).
const (
	proposalsMemo        = "proposal-redlines"
	keepProposalRedlines = 8192
	positionsRedlines    = "open"
	compareRedlines      = "compare-open"
)

// proposalRedlines reads the open proposals' redlines kept under name by
// earlier commands.
func (r *Reader) proposalRedlines(ctx context.Context, name string) *savedRedlines {
	s := &savedRedlines{kind: proposalsMemo, ops: map[[16]byte][]byte{}, used: map[[16]byte]bool{}, limit: keepProposalRedlines}
	if r.cps == nil || !r.save {
		return s
	}
	s.name = name
	s.read(r.cps.Memo(ctx, proposalsMemo, s.name))
	return s
}

// savedRedlines reads the redlines kept for the compare of from and to.
func (r *Reader) savedRedlines(ctx context.Context, from, to Point) *savedRedlines {
	s := &savedRedlines{kind: redlinesMemo, ops: map[[16]byte][]byte{}}
	if r.cps == nil || !r.save || from.Hash == "" || to.Hash == "" {
		return s
	}
	s.name = from.Hash + "-" + to.Hash
	b := r.cps.Memo(ctx, redlinesMemo, s.name)
	s.found = b != nil
	s.read(b)
	return s
}

// read adds the redlines of a kept memo, as saveRedlines wrote them.
func (s *savedRedlines) read(b []byte) {
	for len(b) > 0 {
		var k [16]byte
		if len(b) < len(k) {
			return
		}
		copy(k[:], b)
		b = b[len(k):]
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return
		}
		s.ops[k] = b[w : w+int(n)]
		b = b[w+int(n):]
	}
}

// saveRedlines keeps s's redlines if any were worked out since they were
// read; a compare's the first time even if there were none, as its memo
// also says that the compare was worked out before (see writeCompare).
func (r *Reader) saveRedlines(ctx context.Context, s *savedRedlines) {
	if s.name == "" || !s.added && (s.found || s.kind != redlinesMemo) {
		return
	}
	if s.limit > 0 && len(s.ops) > s.limit {
		maps.DeleteFunc(s.ops, func(k [16]byte, _ []byte) bool { return !s.used[k] })
	}
	var b []byte
	for _, k := range slices.SortedFunc(maps.Keys(s.ops), func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) }) {
		b = append(b, k[:]...)
		b = binary.AppendUvarint(b, uint64(len(s.ops[k])))
		b = append(b, s.ops[k]...)
	}
	_ = r.cps.SaveMemo(ctx, s.kind, s.name, b)
}

// words is the package's words, answered from s where it can be, and
// recorded in s where not. It is safe to call concurrently.
func (s *savedRedlines) words(before, after string) []redline.Op {
	k := pairKey(before, after)
	s.mu.Lock()
	enc, ok := s.ops[k]
	if s.used != nil {
		s.used[k] = true
	}
	s.mu.Unlock()
	if ok {
		if ops, ok := decodeOps(enc, before, after); ok {
			return ops
		}
	}
	ops := wordsOf(k, before, after)
	enc = encodeOps(ops)
	s.mu.Lock()
	s.ops[k], s.added = enc, true
	s.mu.Unlock()
	return ops
}

func pairKey(before, after string) [16]byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(before)))])
	// The texts are hashed where they are: the hash does not take strings,
	// and io.WriteString would copy each.
	h.Write(readOnly(before))
	h.Write(readOnly(after))
	var sum [sha256.Size]byte
	var k [16]byte
	copy(k[:], h.Sum(sum[:0]))
	return k
}

// encodeOps writes the kind and byte length of each op.
func encodeOps(ops []redline.Op) []byte {
	b := make([]byte, 0, 3*len(ops))
	for _, op := range ops {
		b = append(b, byte(op.Kind))
		b = binary.AppendUvarint(b, uint64(len(op.Text)))
	}
	return b
}

// decodeOps rebuilds the ops encodeOps wrote of the redline of before and
// after, each a substring of them, and reports whether they account for
// both texts exactly (an Equal's text the same in both).
func decodeOps(b []byte, before, after string) ([]redline.Op, bool) {
	ops := []redline.Op{}
	i, j := 0, 0
	for len(b) > 0 {
		kind := redline.Kind(b[0])
		n, w := binary.Uvarint(b[1:])
		if w <= 0 || n > uint64(len(before)+len(after)) {
			return nil, false
		}
		b = b[1+w:]
		l := int(n)
		switch kind {
		case redline.Equal:
			if i+l > len(before) || j+l > len(after) || before[i:i+l] != after[j:j+l] {
				return nil, false
			}
			ops = append(ops, redline.Op{Kind: kind, Text: before[i : i+l]})
			i, j = i+l, j+l
		case redline.Delete:
			if i+l > len(before) {
				return nil, false
			}
			ops = append(ops, redline.Op{Kind: kind, Text: before[i : i+l]})
			i += l
		case redline.Insert:
			if j+l > len(after) {
				return nil, false
			}
			ops = append(ops, redline.Op{Kind: kind, Text: after[j : j+l]})
			j += l
		default:
			return nil, false
		}
	}
	return ops, i == len(before) && j == len(after)
}

// A compare document is a pure function of the log up to its later moment,
// and of where the rounds fell (the places it names), so a rendering of one
// is kept too, under a hash of everything it was worked out from, and
// written again without loading either moment or redlining a clause. Its
// two moments are named by their events' hashes, as the redlines' are: a
// log rewritten before them names other events, and finds nothing kept.
const documentsMemo = "compare"

// keepDocument bounds the size of a rendering worth keeping.
const keepDocument = 2 << 20

// WriteCompare writes the compare document of from and to (as Redlines works
// it out) through render. form names the rendering (its format, layout and
// styling): render must write the same bytes for the same Diff and form. A
// Reader with Options.Save keeps the redlines it worked out, and, when it
// found those of the same two moments kept (the compare was worked out
// before), what it wrote, authenticated as checkpoints are; the next
// WriteCompare by this build of the same two moments, with the same options
// and form and the rounds where they were, writes it again as kept. Such a
// Reader reads two moments that the head checkpoint's summary places before
// now from their own checkpoints, and of now only the summary: the events
// since are folded, and checked, by a compare that reaches them or lists
// every adoption.
func (r *Reader) WriteCompare(ctx context.Context, w io.Writer, from, to Ref, opts CompareOptions, form string, render func(io.Writer, Diff) error) error {
	// A kept document is found by the head checkpoint's summary, if the
	// events since leave what names it as it was: folding them is most of
	// what the command would otherwise do.
	var read [2]*Moment
	var reading sync.WaitGroup
	defer reading.Wait()
	// Called where the document is found not kept; once, though a compare
	// whose early reads fail reaches the second call too.
	work := sync.OnceFunc(func() {
		if r.working != nil {
			r.working()
		}
	})
	if summary, last, ok := r.headSummary(ctx); ok {
		now := Moment{State: summary}
		name, hashes := r.documentName(ctx, from, to, Moment{State: summary, Point: Point{Hash: last}}, opts, form)
		if name != "" {
			// Written as it is read back, a block at a time: a JSON
			// document runs to megabytes.
			if kept, err := r.cps.WriteMemo(ctx, documentsMemo, name, w); kept {
				return err
			}
		}
		work()
		// Of now, a document between two moments before it needs only where
		// the rounds fell, which the summary holds, unless it lists every
		// adoption, which reads every closed proposal: the events since
		// are not folded, as for a kept document.
		if both := r.readEarly(ctx, &reading, summary, [2]Ref{from, to}, hashes, &read, !opts.EveryAdoption); both && !opts.EveryAdoption {
			if read[0] != nil && read[1] != nil {
				return r.writeCompare(ctx, w, from, to, now, name, opts, render, &read)
			}
		}
	}
	work()
	head, err := r.Head(ctx)
	if err != nil {
		return err
	}
	name, _ := r.documentName(ctx, from, to, head, opts, form)
	reading.Wait()
	return r.writeCompare(ctx, w, from, to, head, name, opts, render, &read)
}

// writeCompare is WriteCompare given now (the head, or its summary when
// both moments were read before it) and the document's name.
func (r *Reader) writeCompare(ctx context.Context, w io.Writer, from, to Ref, now Moment, name string, opts CompareOptions, render func(io.Writer, Diff) error, read *[2]*Moment) error {
	d, save, before, err := r.redlines(ctx, from, to, now, opts, read)
	if err != nil {
		return err
	}
	// The redlines are kept while the document is rendered: the one writes
	// to the store, the other only reads d.
	var saving sync.WaitGroup
	saving.Go(save)
	defer saving.Wait()
	// The document is kept the second time it is worked out, when its
	// redlines were kept the first: packing and writing it costs a first
	// look a millisecond or more, and a compare asked for once would take
	// the place of one asked for again (see keepMemos).
	if name == "" || !before {
		return render(w, d)
	}
	return r.writeKept(ctx, w, documentsMemo, name, false, func(w io.Writer) error { return render(w, d) }, saving.Wait)
}

// writeKept writes to w what render writes, and keeps it as the memo of the
// given kind called name, unless it runs past keepDocument (it is written
// as it comes then); asIs keeps it unpacked (see SaveMemoAsIs). saved
// returns once earlier saves are done: the store takes one write at a time.
func (r *Reader) writeKept(ctx context.Context, w io.Writer, kind, name string, asIs bool, render func(io.Writer) error, saved func()) error {
	k := &keeper{w: w}
	if err := render(k); err != nil {
		return err
	}
	if k.passed {
		return nil
	}
	saved()
	save := r.cps.SaveMemo
	if asIs {
		save = r.cps.SaveMemoAsIs
	}
	// Written while it is kept: both only read it.
	var err error
	var writing sync.WaitGroup
	writing.Go(func() { _, err = w.Write(k.held()) })
	_ = save(ctx, kind, name, k.held())
	writing.Wait()
	return err
}

// readEarly starts reading, on reading, each of refs that the summary of
// the negotiation now (see headSummary) places before now: a round's
// checkpoint, read beside the head's rather than after it. What it reads is
// what AtFrom would, given the head: a moment before now is found from the
// rounds and the number of events alone, which the summary holds. A moment
// that fails to read is left nil, to be read (and its error reported) once
// the head is. It reports whether it read both; with wait, it reads both
// itself, one after the other, and returns when both are read: side by
// side, the second often waited for a core, or for the connection the
// store opens beside a command's first reads, and took longer than on the
// caller's connection after the first. hashes are those
// documentName read of the events refs end at ("" where it read none):
// a checkpoint that ends at one is then not anchored by reading it again.
func (r *Reader) readEarly(ctx context.Context, reading *sync.WaitGroup, summary *domain.State, refs [2]Ref, hashes [2]string, read *[2]*Moment, wait bool) bool {
	var at [2]int
	started := 0
	for i, ref := range refs {
		n, ok, err := Resolve(ref, summary)
		if err != nil || !ok || n >= summary.Events {
			at[i] = -1
			continue
		}
		at[i] = n
		started++
	}
	readOne := func(i int) {
		if m, err := r.stateAt(ctx, refs[i], at[i], summary, hashes[i]); err == nil {
			read[i] = &m
		}
	}
	for i := range refs {
		switch {
		case at[i] < 0:
		case wait && started == len(refs):
			readOne(i)
		default:
			reading.Go(func() { readOne(i) })
		}
	}
	return started == len(refs)
}

// keeper holds what is written to it, to be kept, up to keepDocument
// bytes; past that it writes all it holds, and the rest as it comes, to w:
// a document too large to keep is not held whole either.
type keeper struct {
	w   io.Writer
	doc bytes.Buffer
	// whole is the document when it came in one string, as the
	// renderers write it: held as it is, not copied.
	whole  string
	passed bool
}

func (k *keeper) Write(p []byte) (int, error) {
	if k.passed || !k.fits(len(p)) {
		if err := k.pass(); err != nil {
			return 0, err
		}
		return k.w.Write(p)
	}
	k.spill()
	return k.doc.Write(p)
}

func (k *keeper) WriteString(s string) (int, error) {
	switch {
	case k.passed || !k.fits(len(s)):
		if err := k.pass(); err != nil {
			return 0, err
		}
		return io.WriteString(k.w, s)
	case k.whole == "" && k.doc.Len() == 0:
		k.whole = s
		return len(s), nil
	}
	k.spill()
	return k.doc.WriteString(s)
}

// spill moves the document k holds as one string, if it does, into its
// buffer, for more to follow it there.
func (k *keeper) spill() {
	if k.whole != "" {
		k.doc.WriteString(k.whole)
		k.whole = ""
	}
}

// Hold reports whether k will hold n bytes more, and makes room for them:
// a document written in parts (see writeJoined) is then held in one
// allocation, not copied as its buffer doubles.
func (k *keeper) Hold(n int) bool {
	if k.passed || !k.fits(n) {
		return false
	}
	if k.doc.Len() == 0 {
		// Where a command has readied buffers on huge pages
		// (hugepages.UseForBuffers), the document's buffer lies beside
		// the checkpoints it read, already faulted in where it fits in
		// the block they touched.
		if b := hugepages.Carved(len(k.whole) + n); b != nil {
			k.doc = *bytes.NewBuffer(b[:0])
		}
	}
	k.doc.Grow(len(k.whole) + n)
	k.spill()
	return true
}

// fits reports whether n bytes more leave what k holds within
// keepDocument.
func (k *keeper) fits(n int) bool { return len(k.whole)+k.doc.Len()+n <= keepDocument }

// pass writes what k holds to w, once: from then on k writes everything to
// w as it comes.
func (k *keeper) pass() error {
	if k.passed {
		return nil
	}
	k.passed = true
	held := k.held()
	k.whole, k.doc = "", bytes.Buffer{}
	if len(held) == 0 {
		return nil
	}
	_, err := k.w.Write(held)
	return err
}

// held returns what k holds. It may share the memory of a string: it is
// only read.
func (k *keeper) held() []byte {
	if k.whole != "" {
		return readOnly(k.whole)
	}
	return k.doc.Bytes()
}

// readOnly returns the bytes of s without copying them, for a reader that
// only reads them (a hash, an io.Writer, the cache's packing).
func readOnly(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// headSummary returns the negotiation now as far as a kept document's
// name needs it (its name, title, events and rounds), from the head
// checkpoint's summary and the types of the events since (the events
// themselves are not folded: what a compare document says ends before
// them), and the hash of its last event: each event since is checked to
// follow the one before it in the hash chain, as a fold would, and the
// hash is "" where one does not. ok is false when there is no authentic
// checkpoint, or an event since may have opened or closed a round.
func (r *Reader) headSummary(ctx context.Context) (*domain.State, string, bool) {
	if r.cps == nil || !r.save {
		return nil, "", false
	}
	s, p, ok := r.cps.HeadSummary(ctx)
	if !ok {
		return nil, "", false
	}
	// Read past the event the checkpoint ended at, which binds the summary
	// to the log.
	last := p.Hash
	for rec, err := range r.eventsPast(ctx, p.Events, p.Hash) {
		if err != nil || rec.Number != s.Events+1 {
			return nil, "", false
		}
		switch rec.Type {
		case domain.TypeTreatyOpened, domain.TypeRoundOpened, domain.TypeRoundClosed:
			return nil, "", false
		}
		s.Events = rec.Number
		if last != "" {
			m, err := rec.Meta()
			if err == nil {
				last, err = domain.CheckLink(last, rec.ID.String(), rec.Type, rec.Data, rec.RawMeta, m)
			}
			if err != nil {
				last = ""
			}
		}
	}
	return s, last, true
}

// documentName names the compare document of from and to by what it is
// worked out from: the two refs as given (the document prints them), the
// events they end at, by number and hash, the negotiation's name and title
// and its rounds (the places of the moments and adoptions), the options and
// the form. "" when nothing is kept, or a moment cannot be named so. It
// returns the two hashes too, each read from the log and checked against
// its event unless it is head's: a moment read from a checkpoint that ends
// at that event need not read the event again (see stateAt).
func (r *Reader) documentName(ctx context.Context, from, to Ref, head Moment, opts CompareOptions, form string) (string, [2]string) {
	var none [2]string
	if r.cps == nil || !r.save {
		return "", none
	}
	var at [2]int
	for i, ref := range []Ref{from, to} {
		if ref.kind == refTime {
			return "", none // resolved by reading the log up to it: not worth it
		}
		n, ok, err := Resolve(ref, head.State)
		if err != nil || !ok {
			return "", none
		}
		at[i] = n
	}
	hashes, ok := r.hashesOf(ctx, at, head)
	if !ok {
		return "", none
	}
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %q %+v %q\n", head.State.Treaty, head.State.Title, from.text, to.text, opts, form)
	for _, rd := range head.State.Rounds {
		fmt.Fprintf(h, "%d %q %d %d\n", rd.Number, rd.Name, rd.Opened, rd.Closed)
	}
	for i, n := range at {
		fmt.Fprintf(h, "%d %s\n", n, hashes[i])
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), hashes
}

// hashesOf returns the hashes of events at[0] and at[1] (see hashAt); an
// event named twice is read once. It reports whether it has both. The two
// are read one after the other: side by side, the second waits for the
// connection the store is opening beside the command's first reads, which
// is seldom open by then.
func (r *Reader) hashesOf(ctx context.Context, at [2]int, head Moment) ([2]string, bool) {
	var hashes [2]string
	for i, n := range at {
		ok := true
		if i == 1 && n == at[0] {
			hashes[i] = hashes[0]
		} else {
			hashes[i], ok = r.hashAt(ctx, n, head)
		}
		if !ok {
			return [2]string{}, false
		}
	}
	return hashes, true
}

// hashAt returns the hash of event n, which names a kept document: head's
// point's where n is the event head ends at, and otherwise as the log holds
// it, if it matches the event. It reports whether it has one. Head's event
// has no hash but head's point's: where that is "" (the events past the
// head checkpoint do not follow each other, see headSummary), reading the
// event would find its hash matching it all the same, and name a document
// a fresh read refuses.
func (r *Reader) hashAt(ctx context.Context, n int, head Moment) (string, bool) {
	if n == head.State.Events {
		return head.Point.Hash, head.Point.Hash != ""
	}
	return r.hashOf(ctx, n)
}
