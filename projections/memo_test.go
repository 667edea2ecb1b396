package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/internal/filecache"
	"github.com/treaty-engine/treaty/projections/redline"
)

// TestRedlinesKept: a compare's redlines are kept in the cache, and the
// next compare of the same moments, in another Reader as another process
// would have, reads them and gives the same document; a kept redline that
// does not account for its texts is worked out again.
func TestRedlinesKept(t *testing.T) {
	ss := meetings(t, 3, 6)
	ctx := context.Background()
	from, to := ref(t, "round:1"), ref(t, "head")
	plain, err := NewReader(ss.store, "berlin", Options{}).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(ss.store, "berlin", withCheckpoints)
	first, err := r.Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	name := first.From.Hash + "-" + first.To.Hash
	kept := r.savedRedlines(ctx, first.From, first.To)
	if len(kept.ops) == 0 {
		t.Fatal("the compare kept no redlines")
	}
	again, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Diff{first, again} {
		if !reflect.DeepEqual(d, plain) {
			t.Fatalf("with kept redlines the compare differs:\n%+v\nwithout:\n%+v", d, plain)
		}
	}
	// The kept redlines are what the next compare reads: each clause's
	// replaced by one that strikes the old text whole and inserts the new.
	swapped := 0
	for _, ch := range first.Clauses {
		if ch.Before != "" && ch.After != "" && ch.Before != ch.After {
			kept.ops[pairKey(ch.Before, ch.After)] = encodeOps(struckWhole(ch.Before, ch.After))
			swapped++
		}
	}
	if swapped == 0 {
		t.Fatal("no clause changed: nothing to test")
	}
	kept.added = true
	r.saveRedlines(ctx, kept)
	read, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range read.Clauses {
		if ch.Before != "" && ch.After != "" && ch.Before != ch.After && !reflect.DeepEqual(ch.Ops, struckWhole(ch.Before, ch.After)) {
			t.Fatalf("clause %s: the kept redline was not read: %v", ch.ID, ch.Ops)
		}
	}
	// Every kept redline replaced by one that strikes a byte too few.
	var b []byte
	bad := encodeOps([]redline.Op{{Kind: redline.Delete, Text: "x"}})
	for k := range kept.ops {
		b = append(b, k[:]...)
		b = append(b, byte(len(bad)))
		b = append(b, bad...)
	}
	if err := r.cps.SaveMemo(ctx, redlinesMemo, name, b); err != nil {
		t.Fatal(err)
	}
	lied, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lied, plain) {
		t.Fatalf("a kept redline that does not fit its texts was used:\n%+v", lied)
	}
}

// TestOpsEncoding: the ops of a redline, kept as kinds and lengths, come
// back as they were against their texts; ops that do not account for the
// texts given are refused.
func TestOpsEncoding(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	vocabulary := strings.Fields("the Parties shall may consult within days Сторони погоджуються 同意 , . ;")
	text := func() string {
		ws := make([]string, rng.Intn(30))
		for i := range ws {
			ws[i] = vocabulary[rng.Intn(len(vocabulary))]
		}
		return strings.Join(ws, " ")
	}
	for range 2000 {
		before, after := text(), text()
		ops := words(before, after)
		got, ok := decodeOps(encodeOps(ops), before, after)
		if !ok || !reflect.DeepEqual(got, ops) {
			t.Fatalf("%q → %q: %v came back as %v (%v)", before, after, ops, got, ok)
		}
		// Ops that do not use up both texts, or that keep unequal
		// text, are refused.
		if _, ok := decodeOps(encodeOps(ops), before+"x", after); ok {
			t.Fatalf("the ops of %q → %q were taken for a longer text's", before, after)
		}
		if before != "" && after != "" && before[:1] != after[:1] {
			if _, ok := decodeOps(encodeOps([]redline.Op{{Kind: redline.Equal, Text: before[:1]}}), before[:1], after[:1]); ok {
				t.Fatalf("%q kept as equal to %q", before[:1], after[:1])
			}
		}
	}
}

// TestCompareDocumentKept: a compare document worked out a second time is
// kept (the first keeps only its redlines), and the next WriteCompare of
// the same moments, options and form, in another Reader as another process
// would have, writes it without working the compare out (the render is not
// called); another form, other options, another round opened since (the
// places it names), an edited document or a Reader that saves nothing each
// get the document worked out afresh.
func TestCompareDocumentKept(t *testing.T) {
	ss := meetings(t, 2, 4)
	// An adoption after the last round's end: its place ("between rounds
	// 2 and 3", or "after round 2") depends on whether round 3 is opened.
	ss.agree("d", "A clause agreed between rounds.")
	ctx := context.Background()
	// The later moment is this event, whatever follows it.
	from, to := ref(t, "round:1"), ref(t, fmt.Sprintf("@%d", len(ss.stored())))
	calls := 0
	render := func(w io.Writer, d Diff) error {
		calls++
		return WriteDiffText(w, d, Style{})
	}
	write := func(r *Reader, opts CompareOptions, form string) string {
		t.Helper()
		return written(t, func(w io.Writer) error { return r.WriteCompare(ctx, w, from, to, opts, form, render) })
	}
	fresh := func(opts CompareOptions) string {
		t.Helper()
		d, err := NewReader(ss.store, "berlin", Options{}).Redlines(ctx, from, to, opts)
		if err != nil {
			t.Fatal(err)
		}
		return written(t, func(w io.Writer) error { return WriteDiffText(w, d, Style{}) })
	}
	want := fresh(CompareOptions{})
	if got := write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text"); got != want || calls != 1 {
		t.Fatalf("first compare (%d renders):\n%s\nwant:\n%s", calls, got, want)
	}
	if documents := keptDocuments(t, ss.store); documents != 0 {
		t.Fatalf("a first compare kept %d documents", documents)
	}
	if got := write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text"); got != want || calls != 2 {
		t.Fatalf("second compare (%d renders):\n%s\nwant:\n%s", calls, got, want)
	}
	if got := write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text"); got != want || calls != 2 {
		t.Fatalf("the kept document was not written as kept (%d renders):\n%s", calls, got)
	}
	// The same moments: their redlines are kept, so another form's
	// document is kept the first time it is worked out.
	if write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text wrapped"); calls != 3 {
		t.Fatal("another form was answered with the first form's document")
	}
	if write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text wrapped"); calls != 3 {
		t.Fatal("another form's document was not kept the first time, the moments' redlines kept")
	}
	if got := write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{Whole: true}, "text"); got != fresh(CompareOptions{Whole: true}) || calls != 4 {
		t.Fatalf("other options were answered with the first options' document (%d renders):\n%s", calls, got)
	}
	if write(NewReader(ss.store, "berlin", Options{Secret: withCheckpoints.Secret}), CompareOptions{}, "text"); calls != 5 {
		t.Fatal("a Reader that saves nothing used a kept document")
	}
	// A round opened since: the same moments, other places.
	ss.openRound()
	want = fresh(CompareOptions{})
	if !strings.Contains(want, "between rounds 2 and 3") {
		t.Fatalf("the test's adoption is not placed between rounds:\n%s", want)
	}
	if got := write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text"); got != want || calls != 6 {
		t.Fatalf("after a round was opened (%d renders):\n%s\nwant:\n%s", calls, got, want)
	}
	// Every kept document edited: none is trusted.
	var c eventstore.Cache = ss.store
	keys, err := c.CacheKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	edited := 0
	for _, k := range keys {
		if strings.Contains(k, "/memo/") && strings.Contains(k, "/"+documentsMemo+"/") {
			v, err := c.CacheGet(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			v = []byte(strings.Replace(string(v), "meet", "MEET", 1))
			if err := c.CachePut(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			edited++
		}
	}
	if edited == 0 {
		t.Fatal("no document was kept")
	}
	if got := write(NewReader(ss.store, "berlin", withCheckpoints), CompareOptions{}, "text"); got != want || calls != 7 {
		t.Fatalf("an edited document was trusted (%d renders):\n%s", calls, got)
	}
}

// keptDocuments counts the compare documents kept in store.
func keptDocuments(t *testing.T, store eventstore.Cache) int {
	t.Helper()
	return len(memoKeys(t, store, documentsMemo))
}

// memoKeys lists the keys of the memos of the given kind kept in store.
func memoKeys(t *testing.T, store eventstore.Cache, kind string) []string {
	t.Helper()
	keys, err := store.CacheKeys(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var memos []string
	for _, k := range keys {
		if strings.Contains(k, "/memo/") && strings.Contains(k, "/"+kind+"/") && !strings.HasSuffix(k, ".read") {
			memos = append(memos, k)
		}
	}
	return memos
}

// TestPositionsDocumentKept: a positions document is kept the first time it
// is worked out, and written again as kept at the same ref, event, options
// and form, without working it out; an act, another ref, form or option,
// an edited memo, or a log whose event at that number is another, has it
// worked out again.
func TestPositionsDocumentKept(t *testing.T) {
	var kyiv string // the US proposal, the same in both logs
	session := func(last string) *session {
		ss := meetings(t, 2, 4)
		kyiv = ss.table("US", "b", "The Parties shall meet in Kyiv.")
		ss.table("UA", "c", last)
		return ss
	}
	ss := session("The Parties shall meet in Berlin.")
	ctx := context.Background()
	calls, working := 0, 0
	render := func(w io.Writer, p Positions) error {
		calls++
		return WritePositionsText(w, p, Style{})
	}
	opened := func(opts Options) *Reader {
		opts.Working = func() { working++ }
		return NewReader(ss.store, "berlin", opts)
	}
	write := func(r *Reader, at string, opts PositionsOptions, form string) string {
		t.Helper()
		return written(t, func(w io.Writer) error { return r.WritePositions(ctx, w, ref(t, at), opts, form, render) })
	}
	fresh := func(at string, opts PositionsOptions) string {
		t.Helper()
		r := NewReader(ss.store, "berlin", Options{})
		m, err := r.At(ctx, ref(t, at))
		if err != nil {
			t.Fatal(err)
		}
		p, err := BuildPositions(m, opts)
		if err != nil {
			t.Fatal(err)
		}
		return written(t, func(w io.Writer) error { return WritePositionsText(w, p, Style{}) })
	}
	check := func(what, got, want string, renders, workings int) {
		t.Helper()
		if got != want || calls != renders || working != workings {
			t.Fatalf("%s: %d renders and %d calls of Working, want %d and %d:\n%s\nwant:\n%s", what, calls, working, renders, workings, got, want)
		}
	}
	want := fresh("head", PositionsOptions{})
	if !strings.Contains(want, "Kyiv") || !strings.Contains(want, "Berlin") {
		t.Fatalf("the test's open proposals are not in its positions document:\n%s", want)
	}
	check("first", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), want, 1, 1)
	if kept := len(memoKeys(t, ss.store, positionsMemo)); kept != 1 {
		t.Fatalf("the first positions document left %d kept", kept)
	}
	check("second", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), want, 1, 1)
	check("another form", write(opened(withCheckpoints), "head", PositionsOptions{}, "text wrapped"), want, 2, 2)
	check("every clause", write(opened(withCheckpoints), "head", PositionsOptions{All: true}, "text"), fresh("head", PositionsOptions{All: true}), 3, 3)
	check("one clause", write(opened(withCheckpoints), "head", PositionsOptions{Clause: "b"}, "text"), fresh("head", PositionsOptions{Clause: "b"}), 4, 4)
	round := fresh("round:2", PositionsOptions{All: true})
	check("a round's end", write(opened(withCheckpoints), "round:2", PositionsOptions{All: true}, "text"), round, 5, 5)
	check("a round's end again", write(opened(withCheckpoints), "round:2", PositionsOptions{All: true}, "text"), round, 5, 5)
	check("a Reader that saves nothing", write(opened(Options{Secret: withCheckpoints.Secret}), "head", PositionsOptions{}, "text"), want, 6, 6)

	// An act: the document now is another, the round's the same.
	ss.accept(kyiv, "UA")
	want = fresh("head", PositionsOptions{})
	if !strings.Contains(want, "accepts") {
		t.Fatalf("the acceptance is not in the positions document:\n%s", want)
	}
	check("after an act", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), want, 7, 7)
	check("after an act, again", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), want, 7, 7)
	check("a round's end after an act", write(opened(withCheckpoints), "round:2", PositionsOptions{All: true}, "text"), round, 7, 7)

	// The last event's recorded hash edited, what the hash covers left as
	// it was: a fresh read reports it, and so does WritePositions, the
	// document kept at that event notwithstanding.
	var original []byte
	ss.tamper(func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		last := &evs[len(evs)-1]
		original = last.Metadata
		edited := bytes.Clone(original)
		edited[bytes.Index(edited, []byte(`"hash":"`))+len(`"hash":"`)] ^= 1
		last.Metadata = edited
		return evs
	})
	var tampered strings.Builder
	if err := opened(withCheckpoints).WritePositions(ctx, &tampered, ref(t, "head"), PositionsOptions{}, "text", render); err == nil {
		t.Fatalf("the last event's hash edited: the document was written\n%s", tampered.String())
	}
	ss.tamper(func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		evs[len(evs)-1].Metadata = original
		return evs
	})
	check("the last event as it was", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), want, 7, 8)

	// Every kept document edited: none is trusted.
	var c eventstore.Cache = ss.store
	for _, k := range memoKeys(t, ss.store, positionsMemo) {
		v, err := c.CacheGet(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CachePut(ctx, k, append(v[:len(v)-1:len(v)-1], v[len(v)-1]^1)); err != nil {
			t.Fatal(err)
		}
	}
	check("edited", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), want, 8, 9)

	// Another log, as many events, the last another: its kept documents
	// (authentic: the same secret) name another event.
	other := session("The Parties shall meet in Geneva.")
	other.accept(kyiv, "UA")
	geneva := written(t, func(w io.Writer) error {
		return NewReader(other.store, "berlin", withCheckpoints).WritePositions(ctx, w, ref(t, "head"), PositionsOptions{}, "another log", render)
	})
	for _, k := range memoKeys(t, other.store, positionsMemo) {
		v, _ := other.store.CacheGet(ctx, k)
		if err := c.CachePut(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if got := write(opened(withCheckpoints), "head", PositionsOptions{}, "another log"); got != want || !strings.Contains(geneva, "Geneva") || calls != 10 {
		t.Fatalf("another log's kept document was written (%d renders):\n%s", calls, got)
	}

	// Two refs to the same event: two documents (each prints its ref).
	ss.openRound()
	checkpointed(t, opened(withCheckpoints)) // the round opened before the head's summary
	now := write(opened(withCheckpoints), "head", PositionsOptions{}, "text")
	check("round 3, open, at the same event as now", write(opened(withCheckpoints), "round:3", PositionsOptions{}, "text"), fresh("round:3", PositionsOptions{}), 12, 12)
	check("now again", write(opened(withCheckpoints), "head", PositionsOptions{}, "text"), now, 12, 12)
	check("round 3 again", write(opened(withCheckpoints), "round:3", PositionsOptions{}, "text"), fresh("round:3", PositionsOptions{}), 12, 12)
	if now == fresh("round:3", PositionsOptions{}) {
		t.Fatal("the documents of head and round:3 print the same")
	}
}

// TestCompareDocumentChainBroken: a compare ending now is not answered with
// its kept document once the chain past the head checkpoint is broken before
// now's event, that event left as it was (its hash still matches it): a
// fresh read reports the break, and so does WriteCompare.
func TestCompareDocumentChainBroken(t *testing.T) {
	ss := meetings(t, 2, 4)
	ctx := context.Background()
	checkpointed(t, NewReader(ss.store, "berlin", withCheckpoints))
	ss.table("US", "b", "The Parties shall meet in Kyiv.")
	ss.table("UA", "c", "The Parties shall meet in Berlin.")
	calls := 0
	render := func(w io.Writer, d Diff) error {
		calls++
		return WriteDiffText(w, d, Style{})
	}
	compare := func() (string, error) {
		var b strings.Builder
		err := NewReader(ss.store, "berlin", withCheckpoints).WriteCompare(ctx, &b, ref(t, "round:1"), ref(t, "head"), CompareOptions{}, "text", render)
		return b.String(), err
	}
	for i := range 3 {
		if _, err := compare(); err != nil {
			t.Fatalf("compare %d: %v", i+1, err)
		}
	}
	if calls != 2 {
		t.Fatalf("three compares rendered %d times, want 2 (the document kept the second time)", calls)
	}
	// The event before the last edited and its hash made to match it again:
	// the last event, unchanged, is chained to the hash it had.
	ss.tamper(func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		e := &evs[len(evs)-2]
		e.Data = bytes.Replace(e.Data, []byte("Kyiv"), []byte("Kiev"), 1)
		var m domain.Meta
		if err := json.Unmarshal(e.Metadata, &m); err != nil {
			t.Fatal(err)
		}
		h, err := domain.Seal(e.Type, e.Data, e.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		e.Metadata = bytes.Replace(e.Metadata, []byte(m.Hash), []byte(h), 1)
		return evs
	})
	if _, err := NewReader(ss.store, "berlin", Options{}).Head(ctx); err == nil {
		t.Fatal("the tampering left a chain a fresh read accepts")
	}
	if got, err := compare(); err == nil {
		t.Fatalf("the chain broken before now's event: the kept document was written\n%s", got)
	}
}

// TestCompareDocumentKeptUnchanged: the document of a compare in which no
// clause changed, which has no redlines to keep, is kept the second time it
// is worked out too.
func TestCompareDocumentKeptUnchanged(t *testing.T) {
	ss := meetings(t, 2, 4)
	ctx := context.Background()
	calls := 0
	render := func(w io.Writer, d Diff) error {
		calls++
		if len(d.Clauses) != 0 {
			t.Errorf("%d clauses changed between a round's end and itself", len(d.Clauses))
		}
		return WriteDiffText(w, d, Style{})
	}
	for i, want := range []int{1, 2, 2} {
		var b strings.Builder
		if err := NewReader(ss.store, "berlin", withCheckpoints).WriteCompare(ctx, &b, ref(t, "round:1"), ref(t, "round:1"), CompareOptions{}, "text", render); err != nil {
			t.Fatal(err)
		}
		if calls != want {
			t.Fatalf("compare %d: %d renders in all, want %d", i+1, calls, want)
		}
	}
}

// TestCompareDocumentTooLarge: a rendering larger than keepDocument is
// written whole, in the order written, and not kept.
func TestCompareDocumentTooLarge(t *testing.T) {
	ss := newSession(t)
	ss.amendRounds(1, 2, func(i, round int, clause string) string {
		return fmt.Sprintf("Text %d of clause %s.", i, clause)
	})
	ctx := context.Background()
	calls := 0
	render := func(w io.Writer, d Diff) error {
		calls++
		for i := range keepDocument/1000 + 10 {
			if _, err := fmt.Fprintf(w, "%0999d\n", i); err != nil {
				return err
			}
		}
		return nil
	}
	// Kept, if it were, the second time.
	for range 3 {
		var b strings.Builder
		if err := NewReader(ss.store, "berlin", withCheckpoints).WriteCompare(ctx, &b, ref(t, "round:1"), ref(t, "head"), CompareOptions{}, "big", render); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != keepDocument/1000+10 || lines[0] != fmt.Sprintf("%0999d", 0) || lines[len(lines)-1] != fmt.Sprintf("%0999d", len(lines)-1) {
			t.Fatalf("%d lines written, %d bytes", len(lines), b.Len())
		}
	}
	if calls != 3 {
		t.Fatalf("a document over %d bytes was kept (%d renders in three compares)", keepDocument, calls)
	}
}

// TestCompareDocumentKeptPastTail: a kept document is found from the head
// checkpoint's summary, without folding the events since, which the
// document does not reach: a broken event after it does not stop the kept
// document from being written, nor a first compare of two moments before
// it, while every compare that needs the events folded (one to now, one
// that lists every adoption) reports it.
func TestCompareDocumentKeptPastTail(t *testing.T) {
	ss := meetings(t, 2, 20)
	ctx := context.Background()
	from, to := ref(t, "round:1"), ref(t, "round:2")
	calls := 0
	render := func(w io.Writer, d Diff) error {
		calls++
		return WriteDiffText(w, d, Style{})
	}
	write := func(form string) (string, error) {
		var b strings.Builder
		err := NewReader(ss.store, "berlin", withCheckpoints).WriteCompare(ctx, &b, from, to, CompareOptions{}, form, render)
		return b.String(), err
	}
	// Worked out twice: kept.
	kept, err := write("text")
	if err == nil {
		_, err = write("text")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := NewReader(ss.store, "berlin", withCheckpoints).cps.HeadSummary(ctx); !ok {
		t.Fatal("no head checkpoint was left: the summary has nothing to read")
	}
	ss.table("UA", "a", "A proposal after the round.")
	ss.rawBytes(domain.TypeProposalTabled, []byte(`{"not":"sealed"}`), []byte(`{}`))
	if got, err := write("text"); err != nil || got != kept || calls != 2 {
		t.Fatalf("the kept document was not written past the broken tail (%d renders): %v\n%s", calls, err, got)
	}
	// A first compare of the same moments reads both from their
	// checkpoints, and of now only the summary: it does not fold the tail
	// either.
	if got, err := write("another form"); err != nil || got != kept {
		t.Fatalf("a first compare of two moments before the broken tail: %v\n%s", err, got)
	}
	// One that needs now whole folds the tail, and reports it.
	var p *Problem
	for _, c := range []struct {
		to   Ref
		opts CompareOptions
	}{{ref(t, "head"), CompareOptions{}}, {to, CompareOptions{EveryAdoption: true}}} {
		var b strings.Builder
		err := NewReader(ss.store, "berlin", withCheckpoints).WriteCompare(ctx, &b, from, c.to, c.opts, "text", render)
		if !errors.As(err, &p) {
			t.Fatalf("a compare to %s (%+v) that folds the broken tail: %v, want a Problem", c.to.text, c.opts, err)
		}
	}
}

// TestProposalRedlinesKept: a positions document's proposal redlines are
// kept, and the next one, at another moment and in another Reader, reads
// them (a kept redline is what it shows) and gives the same document;
// past the limit, a save keeps only the redlines its command asked for.
func TestProposalRedlinesKept(t *testing.T) {
	ss := meetings(t, 2, 6)
	ids := []string{ss.table("UA", "a", "The Parties shall meet often."), ss.table("US", "b", "The Parties shall never meet.")}
	ctx := context.Background()
	head, err := NewReader(ss.store, "berlin", Options{}).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := BuildPositions(head, PositionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(ss.store, "berlin", withCheckpoints)
	first, err := r.Positions(ctx, head, PositionsOptions{})
	if err != nil || !reflect.DeepEqual(first, plain) {
		t.Fatalf("positions with kept redlines differ (%v):\n%+v\nwant\n%+v", err, first, plain)
	}
	kept := r.proposalRedlines(ctx, positionsRedlines)
	if len(kept.ops) < len(ids) {
		t.Fatalf("%d redlines kept for %d open proposals", len(kept.ops), len(ids))
	}
	// Each kept redline replaced by one that strikes the old text whole.
	keepStruckWhole(ctx, r, kept, head.State, ids)
	ss.table("EU", "c", "Another proposal, tabled since.")
	later, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read, err := NewReader(ss.store, "berlin", withCheckpoints).Positions(ctx, later, PositionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var shown []shownRedline
	for _, c := range read.Clauses {
		for _, col := range c.Columns {
			for _, p := range col.Proposals {
				shown = append(shown, shownRedline{p.Proposal, p.Ops})
			}
		}
	}
	checkStruckWhole(t, ids, shown)
	// Past the limit: only what was asked for is kept.
	s := &savedRedlines{name: positionsRedlines, kind: proposalsMemo, ops: map[[16]byte][]byte{}, used: map[[16]byte]bool{}, limit: 2}
	for i := range 5 {
		s.words(fmt.Sprintf("text %d", i), fmt.Sprintf("text %d amended", i))
	}
	s.used = map[[16]byte]bool{pairKey("text 1", "text 1 amended"): true}
	r.saveRedlines(ctx, s)
	if again := r.proposalRedlines(ctx, positionsRedlines); len(again.ops) != 1 {
		t.Fatalf("%d redlines kept past the limit, want the 1 used", len(again.ops))
	}
}

// TestCompareOpenRedlinesKept: the open proposals' redlines a compare
// works out are kept apart from the compare's own (they do not depend on
// the earlier moment), and a compare of another earlier moment to the same
// later one reads them; the document is the same as without them.
func TestCompareOpenRedlinesKept(t *testing.T) {
	ss := meetings(t, 3, 6)
	ids := []string{ss.table("UA", "a", "The Parties shall meet often."), ss.table("US", "b", "The Parties shall never meet.")}
	ctx := context.Background()
	to := ref(t, "head")
	plain, err := NewReader(ss.store, "berlin", Options{}).Redlines(ctx, ref(t, "round:2"), to, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(ss.store, "berlin", withCheckpoints)
	first, err := r.Redlines(ctx, ref(t, "round:1"), to, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kept := r.proposalRedlines(ctx, compareRedlines)
	if len(kept.ops) < len(ids) {
		t.Fatalf("%d redlines kept for %d open proposals", len(kept.ops), len(ids))
	}
	if positions := r.proposalRedlines(ctx, positionsRedlines); len(positions.ops) != 0 {
		t.Fatalf("a compare kept %d redlines where positions reads them", len(positions.ops))
	}
	open := 0
	for _, ch := range first.Clauses {
		open += len(ch.OpenProposals)
	}
	if open < len(ids) {
		t.Fatalf("the compare shows %d open proposals, want %d", open, len(ids))
	}
	// The same document, made with what was kept, from another moment.
	second, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, ref(t, "round:2"), to, CompareOptions{})
	if err != nil || !reflect.DeepEqual(second, plain) {
		t.Fatalf("with kept redlines the compare differs (%v):\n%+v\nwithout:\n%+v", err, second, plain)
	}
	// What was kept is what a compare from a third moment shows.
	head, err := NewReader(ss.store, "berlin", Options{}).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keepStruckWhole(ctx, r, kept, head.State, ids)
	third, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, ref(t, "round:3"), to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	var shown []shownRedline
	for _, ch := range third.Clauses {
		for _, p := range ch.OpenProposals {
			shown = append(shown, shownRedline{p.ID, p.Ops})
		}
	}
	checkStruckWhole(t, ids, shown)
}

// struckWhole is a redline that strikes before whole and inserts after,
// which the tests' texts, sharing most words, never get worked out: a
// document showing it read the kept one.
func struckWhole(before, after string) []redline.Op {
	return []redline.Op{{Kind: redline.Delete, Text: before}, {Kind: redline.Insert, Text: after}}
}

// keepStruckWhole replaces the kept redline of each open proposal of s that
// ids names by struckWhole, and saves them.
func keepStruckWhole(ctx context.Context, r *Reader, kept *savedRedlines, s *domain.State, ids []string) {
	for _, id := range ids {
		p := s.Proposals[id]
		kept.ops[pairKey(p.BaseText, p.Text)] = encodeOps(struckWhole(p.BaseText, p.Text))
	}
	kept.added = true
	r.saveRedlines(ctx, kept)
}

// shownRedline is a proposal a document shows, with its redline.
type shownRedline struct {
	id  string
	ops []redline.Op
}

// checkStruckWhole checks that a document shows each proposal ids names
// once, with the redline keepStruckWhole kept.
func checkStruckWhole(t *testing.T, ids []string, shown []shownRedline) {
	t.Helper()
	n := 0
	for _, p := range shown {
		if slices.Contains(ids, p.id) {
			if len(p.ops) != 2 || p.ops[0].Kind != redline.Delete {
				t.Fatalf("proposal %s: the kept redline was not read: %v", p.id, p.ops)
			}
			n++
		}
	}
	if n != len(ids) {
		t.Fatalf("%d of the %d proposals shown", n, len(ids))
	}
}

// meetings is a session of the given rounds, in each of which acts
// amendments of clauses a, b and c are adopted (see amendRounds).
func meetings(t *testing.T, rounds, acts int) *session {
	ss := newSession(t)
	ss.amendRounds(rounds, acts, func(i, round int, clause string) string {
		return fmt.Sprintf("The Parties shall meet %d times in round %d, clause %s.", i, round, clause)
	})
	return ss
}

// A compare's moments before now, read beside the head from its checkpoint's
// summary, are the moments AtFrom reads given the head; now, and a moment
// the summary cannot place, are left to be read once the head is.
func TestReadEarlyAsAtFrom(t *testing.T) {
	ss := meetings(t, 3, 4)
	ctx := context.Background()
	r := NewReader(ss.store, "berlin", withCheckpoints)
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	summary, _, ok := r.headSummary(ctx)
	if !ok {
		t.Fatal("no summary of the head checkpoint")
	}
	early := func(wait bool, hashes [2]string, refs ...string) [2]*Moment {
		var read [2]*Moment
		var reading sync.WaitGroup
		r.readEarly(ctx, &reading, summary, [2]Ref{ref(t, refs[0]), ref(t, refs[1])}, hashes, &read, wait)
		reading.Wait()
		return read
	}
	refs := []string{"round:1", "round:2"}
	name, checked := r.documentName(ctx, ref(t, refs[0]), ref(t, refs[1]), Moment{State: summary}, CompareOptions{}, "text")
	if name == "" || checked[0] == "" || checked[1] == "" {
		t.Fatalf("documentName: %q, hashes %q", name, checked)
	}
	wrong := [2]string{checked[1], checked[0]}
	for _, c := range []struct {
		name   string
		refs   []string
		hashes [2]string
		reads  int // of the log: the anchors
	}{
		{"no hashes", refs, [2]string{}, 2},
		{"checked hashes", refs, checked, 0},
		{"wrong hashes", refs, wrong, 2},
		{"a moment past a round's end", []string{"round:1", "@5"}, [2]string{checked[0], checked[0]}, 1},
	} {
		for _, wait := range []bool{false, true} {
			before := ss.store.readCount()
			read := early(wait, c.hashes, c.refs...)
			if got := ss.store.readCount() - before; got != c.reads {
				t.Errorf("%s: %d reads of the log, want %d", c.name, got, c.reads)
			}
			for i, s := range c.refs {
				want, err := r.AtFrom(ctx, ref(t, s), head)
				if err != nil {
					t.Fatal(err)
				}
				if read[i] == nil {
					t.Fatalf("%s was not read early", s)
				}
				if !reflect.DeepEqual(read[i].Point, want.Point) || !reflect.DeepEqual(read[i].State.Draft(), want.State.Draft()) ||
					read[i].State.Events != want.State.Events {
					t.Fatalf("%s: %s read early as %+v, AtFrom reads %+v", c.name, s, read[i].Point, want.Point)
				}
			}
		}
	}
	if read := early(true, [2]string{}, "head", "round:9"); read[0] != nil || read[1] != nil {
		t.Fatalf("now or a round not held read early: %v %v", read[0], read[1])
	}
}

// A moment read early is used only where the head, read after it, places
// its ref: a round closed meanwhile moves the last closed round, and the
// compare is from the moment the head names.
func TestReadEarlyOvertaken(t *testing.T) {
	ss := meetings(t, 3, 4)
	ss.openRound()
	ss.agree("a", "A clause agreed in round 4.")
	ctx := context.Background()
	r := NewReader(ss.store, "berlin", withCheckpoints)
	if _, err := r.Head(ctx); err != nil {
		t.Fatal(err)
	}
	summary, _, ok := r.headSummary(ctx)
	if !ok {
		t.Fatal("no summary of the head checkpoint")
	}
	refs := [2]Ref{LastClosedRound, ref(t, "head")}
	var read [2]*Moment
	var reading sync.WaitGroup
	r.readEarly(ctx, &reading, summary, refs, [2]string{}, &read, true)
	reading.Wait()
	if read[0] == nil || read[1] != nil {
		t.Fatalf("read early: %v, %v; want the last closed round alone", read[0], read[1])
	}
	ss.closeRound() // another process closes round 4
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.AtFrom(ctx, LastClosedRound, head)
	if err != nil {
		t.Fatal(err)
	}
	if want.State.Events == read[0].State.Events {
		t.Fatal("closing round 4 left the last closed round where it was")
	}
	d, save, _, err := r.redlines(ctx, refs[0], refs[1], head, CompareOptions{}, &read)
	save()
	if err != nil {
		t.Fatal(err)
	}
	if d.From != want.Point {
		t.Fatalf("compared from %+v, where the head places it at %+v", d.From, want.Point)
	}
}

// TestKeeperOrder: what a renderer writes, in strings held as they are or
// in bytes copied, is held in the order written, and what grows past
// keepDocument is written to the writer whole, in order, and not held.
func TestKeeperOrder(t *testing.T) {
	var out strings.Builder
	k := &keeper{w: &out}
	io.WriteString(k, "the whole ")
	k.Write([]byte("then bytes "))
	io.WriteString(k, "then a string")
	if got := string(k.held()); got != "the whole then bytes then a string" || k.passed || out.Len() != 0 {
		t.Fatalf("held %q (passed %v, written %q)", got, k.passed, out.String())
	}
	// Past keepDocument in one string: written as it comes, nothing held.
	out.Reset()
	k = &keeper{w: &out}
	over := strings.Repeat("y", keepDocument+1)
	io.WriteString(k, over)
	io.WriteString(k, " then more")
	if !k.passed || len(k.held()) != 0 || out.String() != over+" then more" {
		t.Fatalf("a string past %d bytes: passed %v, %d held, %d written", keepDocument, k.passed, len(k.held()), out.Len())
	}
	big := strings.Repeat("x", keepDocument)
	for _, first := range []string{"", "a start "} {
		out.Reset()
		k := &keeper{w: &out}
		if first != "" {
			io.WriteString(k, first)
		}
		io.WriteString(k, big)
		io.WriteString(k, " an end")
		if !k.passed || out.String() != first+big+" an end" {
			t.Fatalf("after %q, a document past %d bytes: passed %v, %d bytes written", first, keepDocument, k.passed, out.Len())
		}
	}
	// Written in parts (writeJoined): held whole in one allocation where it
	// fits, after what was held before; written as it comes where not.
	for _, first := range []string{"", "a start "} {
		out.Reset()
		k := &keeper{w: &out}
		io.WriteString(k, first)
		parts := []string{strings.Repeat("one ", 10000), strings.Repeat("two ", 10000), "three"}
		whole := strings.Join(parts, "")
		if err := writeJoined(k, parts[:1], parts[1:]); err != nil {
			t.Fatal(err)
		}
		// Room made once: no doubling past what it holds.
		if got := string(k.held()); got != first+whole || k.passed || out.Len() != 0 || k.doc.Cap() > len(got)+len(got)/16 {
			t.Fatalf("after %q, parts: held %d bytes (right: %v) in %d (passed %v, written %q)", first, len(got), got == first+whole, k.doc.Cap(), k.passed, out.String())
		}
		io.WriteString(k, big)
		if err := writeJoined(k, parts); err != nil {
			t.Fatal(err)
		}
		if !k.passed || len(k.held()) != 0 || out.String() != first+whole+big+whole {
			t.Fatalf("after %q, parts past %d bytes: passed %v, %d bytes written", first, keepDocument, k.passed, out.Len())
		}
	}
}

// TestMemosKeptOutsideTheStore: with Options.Memos, what a compare keeps
// (its document, its redlines, the open proposals' redlines) goes there,
// authenticated as in the store, and nothing of it to the store: a compare
// whose checkpoints are in place writes nothing to the store at all. The
// next Reader with the same Memos writes the kept document; one keeping
// its memos in the store does not find it; an edited one is not trusted.
func TestMemosKeptOutsideTheStore(t *testing.T) {
	ss := meetings(t, 2, 4)
	ctx := context.Background()
	var store eventstore.Cache = ss.store
	memos := filecache.New(filepath.Join(t.TempDir(), "memos"))
	opts := withCheckpoints
	opts.Memos = memos
	from, to := ref(t, "round:1"), ref(t, "head")
	calls := 0
	write := func(r *Reader) string {
		t.Helper()
		var b strings.Builder
		err := r.WriteCompare(ctx, &b, from, to, CompareOptions{}, "text", func(w io.Writer, d Diff) error {
			calls++
			return WriteDiffText(w, d, Style{})
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	keys := func(c eventstore.Cache) []string {
		t.Helper()
		k, err := c.CacheKeys(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// The checkpoints in place first, as the commands before a compare
	// leave them.
	if _, err := NewReader(ss.store, "berlin", opts).Head(ctx); err != nil {
		t.Fatal(err)
	}
	before := keys(store)
	want := write(NewReader(ss.store, "berlin", Options{}))
	if got := write(NewReader(ss.store, "berlin", opts)); got != want || calls != 2 {
		t.Fatalf("first compare (%d renders):\n%s\nwant:\n%s", calls, got, want)
	}
	// The second keeps the document.
	if got := write(NewReader(ss.store, "berlin", opts)); got != want || calls != 3 {
		t.Fatalf("second compare (%d renders):\n%s\nwant:\n%s", calls, got, want)
	}
	if after := keys(store); !slices.Equal(after, before) {
		t.Fatalf("the compare wrote to the store:\nbefore %q\nafter  %q", before, after)
	}
	kinds := map[string]bool{}
	for _, k := range keys(memos) {
		if parts := strings.Split(k, "/"); len(parts) > 4 && parts[1] == "memo" {
			kinds[parts[4]] = true
		}
	}
	for _, kind := range []string{documentsMemo, redlinesMemo} {
		if !kinds[kind] {
			t.Errorf("no %s kept outside the store: %v", kind, kinds)
		}
	}
	if got := write(NewReader(ss.store, "berlin", opts)); got != want || calls != 3 {
		t.Fatalf("the kept document was not written as kept (%d renders):\n%s", calls, got)
	}
	if write(NewReader(ss.store, "berlin", withCheckpoints)); calls != 4 {
		t.Fatal("a Reader keeping its memos in the store found one kept outside it")
	}
	for _, k := range keys(memos) {
		if strings.Contains(k, "/"+documentsMemo+"/") {
			v, err := memos.CacheGet(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			v[len(v)/2] ^= 1
			if err := memos.CachePut(ctx, k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := write(NewReader(ss.store, "berlin", opts)); got != want || calls != 5 {
		t.Fatalf("an edited document was trusted (%d renders):\n%s", calls, got)
	}
}

// TestCompareWorkingOnlyWhenNotKept: Options.Working is called once by a
// compare that works its document out, before it reads the moments, and
// not by one that finds the document kept, nor by one on a Reader without
// checkpoints, which keeps nothing but still works the document out.
func TestCompareWorkingOnlyWhenNotKept(t *testing.T) {
	var before int
	ss := meetings(t, 2, 4)
	ctx := context.Background()
	from, to := ref(t, "round:1"), ref(t, "round:2")
	renders := 0
	render := func(w io.Writer, d Diff) error {
		renders++
		return WriteDiffText(w, d, Style{})
	}
	compare := func(opts Options) (working int) {
		t.Helper()
		opts.Working = func() {
			if renders != before {
				t.Error("Working called after the render")
			}
			working++
		}
		before = renders
		if err := NewReader(ss.store, "berlin", opts).WriteCompare(ctx, io.Discard, from, to, CompareOptions{}, "text", render); err != nil {
			t.Fatal(err)
		}
		return working
	}
	if n := compare(withCheckpoints); n != 1 || renders != 1 {
		t.Errorf("first compare: Working called %d times, %d renders; want 1 and 1", n, renders)
	}
	if n := compare(withCheckpoints); n != 1 || renders != 2 {
		t.Errorf("second compare, which keeps the document: Working called %d times, %d renders; want 1 and 2", n, renders)
	}
	if n := compare(withCheckpoints); n != 0 || renders != 2 {
		t.Errorf("kept compare: Working called %d times, %d renders; want 0 and still 2", n, renders)
	}
	if n := compare(Options{}); n != 1 || renders != 3 {
		t.Errorf("compare without checkpoints: Working called %d times, %d renders; want 1 and 3", n, renders)
	}
}

// hashesOf reads the hashes of two events, once for one event named twice,
// none for the event the head ends at, and fails for an event the log does
// not hold.
func TestHashesOf(t *testing.T) {
	ss := meetings(t, 3, 4)
	ctx := context.Background()
	r := NewReader(ss.store, "berlin", withCheckpoints)
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := func(n int) string {
		h, ok := r.hashOf(ctx, n)
		if !ok {
			t.Fatalf("no hash of event %d", n)
		}
		return h
	}
	last := head.State.Events
	for _, c := range []struct {
		at    [2]int
		reads int
	}{
		{[2]int{3, 7}, 2},
		{[2]int{7, 3}, 2},
		{[2]int{5, 5}, 1},
		{[2]int{4, last}, 1},
		{[2]int{last, last}, 0},
	} {
		before := ss.store.readCount()
		got, ok := r.hashesOf(ctx, c.at, head)
		if n := ss.store.readCount() - before; !ok || n != c.reads {
			t.Fatalf("hashesOf(%v): ok %v after %d reads of the log, want true after %d", c.at, ok, n, c.reads)
		}
		for i, n := range c.at {
			if got[i] != want(n) {
				t.Errorf("hashesOf(%v)[%d] = %q, want event %d's %q", c.at, i, got[i], n, want(n))
			}
		}
	}
	if got, ok := r.hashesOf(ctx, [2]int{2, last + 1}, head); ok {
		t.Errorf("hashesOf an event past the log: %q, reported held", got)
	}
	// Head without a hash (a summary whose events past the checkpoint do
	// not follow each other): its event is not read for one.
	unchecked := head
	unchecked.Point.Hash = ""
	before := ss.store.readCount()
	if got, ok := r.hashesOf(ctx, [2]int{4, last}, unchecked); ok || ss.store.readCount() != before+1 {
		t.Errorf("hashesOf head's event without head's hash: %q, reported held %v after %d reads of the log", got, ok, ss.store.readCount()-before)
	}
}
