package projections

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math/bits"
	"slices"
	"sync"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/parallel"
	"github.com/treaty-engine/treaty/projections/redline"
)

// Diff is the compare document of a negotiation between two moments: the
// agreed text's changes in the order of the later text, each with the
// adopted proposals that made it and the proposals still open on the clause
// at the later moment. Its JSON form is docs/cli.md's.
type Diff struct {
	Treaty string `json:"treaty"`
	Title  string `json:"title"`
	From   Point  `json:"from"`
	To     Point  `json:"to"`
	// Whole lists every clause, unchanged ones included (CompareOptions).
	Whole   bool           `json:"whole"`
	Parties []domain.Party `json:"parties"`
	Clauses []ClauseChange `json:"clauses"`
	// Proposals counts what happened to proposals in between; the IDs
	// of those adopted are on the clauses they changed.
	Proposals Activity `json:"proposals"`
}

// Kinds of ClauseChange.
const (
	ChangeAdded    = "added"
	ChangeRemoved  = "removed"
	ChangeModified = "modified"
	ChangeMoved    = "moved"
	// ChangeUnchanged is a clause whose agreed text, heading and place
	// are the same at both ends (listed only in a whole compare).
	ChangeUnchanged = "unchanged"
)

// ClauseChange is one clause of the compare document.
type ClauseChange struct {
	ID string `json:"id"`
	// Change is added, removed, modified (text or heading changed; it may
	// also have moved), moved (only its place changed) or unchanged.
	Change string `json:"change"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Ops is the word-level redline from Before to After.
	Ops           []redline.Op `json:"ops"`
	HeadingBefore string       `json:"heading_before"`
	HeadingAfter  string       `json:"heading_after"`
	// HeadingOps is the word-level redline of the heading, when it
	// changed.
	HeadingOps []redline.Op `json:"heading_ops,omitempty"`
	// NumberBefore and NumberAfter are the clause's numbers in the draft
	// at each end, as `draft --at` numbers it (0: not in the draft then).
	NumberBefore int `json:"number_before"`
	NumberAfter  int `json:"number_after"`
	// Moved says where a clause whose place among the agreed clauses
	// changed went, by its numbers at each end; null when it stayed.
	Moved *Move `json:"moved"`
	// Adoptions counts the adopted proposals that changed the clause
	// between the two moments, all of them, whether or not Adopted lists
	// them all.
	Adoptions AdoptionCounts `json:"adoptions"`
	// Adopted lists the adopted proposals that changed the clause between
	// the two moments, in the order of their adoption: all of them with
	// CompareOptions.EveryAdoption, else the last domain.RecentAdoptions.
	Adopted []Attribution `json:"adopted"`
	// OpenProposals are the proposals open on the clause at the later
	// moment, as the draft shows them, each with its redline against the
	// text it was drafted against.
	OpenProposals []OpenProposal `json:"open_proposals"`
}

// Move is a clause's change of place: its draft numbers before and after.
type Move struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Attribution names an adopted proposal: its party, and the event (and the
// round it fell in) that adopted it.
type Attribution struct {
	ID    string `json:"id"`
	Party string `json:"party"`
	Round int    `json:"round"`
	Event int    `json:"event"`
	// Place says where Event stands among the rounds, as RoundPlace does
	// ("round 2", "between rounds 2 and 3"; "" with no round opened): the
	// text shows it, and Round (0 outside rounds) alone cannot say it.
	Place string `json:"place,omitempty"`
}

// Activity counts the proposals tabled, adopted and withdrawn between the
// two moments. (The lists of their IDs are gone from the compare document:
// at a million events they made it 17 MB. `proposals --all` lists every
// proposal with the events that tabled and closed it.)
type Activity struct {
	Counts ActivityCounts `json:"counts"`
}

// ActivityCounts counts the proposals tabled, adopted and withdrawn.
type ActivityCounts struct {
	Tabled    int `json:"tabled"`
	Adopted   int `json:"adopted"`
	Withdrawn int `json:"withdrawn"`
}

// CompareOptions say what a compare document holds.
type CompareOptions struct {
	// Whole lists every clause of the later draft (and those removed),
	// unchanged ones included, so that the document reads end to end.
	Whole bool
	// EveryAdoption lists on each clause every adopted proposal that
	// changed it (`diff --every-adoption`, and the Word document, which
	// attributes each change to them all), which means reading the
	// closed proposals. Without it a clause lists the last few and counts
	// them all by party: the two moments say that alone
	// (domain.Clause.Adoptions, Recent), however long the history between
	// them.
	EveryAdoption bool
}

// AdoptedBy counts the adopted proposals of party that changed the clause
// between the two moments, all of them whether or not Adopted lists them
// all.
func (c ClauseChange) AdoptedBy(party string) int { return c.Adoptions.ByParty[party] }

// AdoptionCounts counts a clause's adoptions between two moments: the same
// counts with or without CompareOptions.EveryAdoption.
type AdoptionCounts struct {
	Total int `json:"total"`
	// ByParty holds only the parties with at least one; never nil in a
	// Diff, so that the JSON reads {} rather than null.
	ByParty map[string]int `json:"by_party"`
}

// add counts one adoption of party.
func (c *AdoptionCounts) add(party string, n int) {
	c.ByParty[party] += n
	c.Total += n
}

// ReversedError is a compare asked from a moment later than its end.
type ReversedError struct {
	From, To Point
}

func (e *ReversedError) Error() string {
	if e.From.Ref == LastClosedRound.text {
		return fmt.Sprintf("--to %s (event %d) comes before the end of the last closed round (event %d), where a compare starts by default; give an earlier --from",
			e.To.Ref, e.To.Event, e.From.Event)
	}
	return fmt.Sprintf("--from %s (event %d) is later than --to %s (event %d); swap them: --from %s --to %s",
		e.From.Ref, e.From.Event, e.To.Ref, e.To.Event, e.To.Ref, e.From.Ref)
}

// Redlines returns the compare document between the moments from and to;
// from must not be later than to (a *ReversedError).
func (r *Reader) Redlines(ctx context.Context, from, to Ref, opts CompareOptions) (Diff, error) {
	head, err := r.Head(ctx)
	if err != nil {
		return Diff{}, err
	}
	d, save, _, err := r.redlines(ctx, from, to, head, opts, nil)
	save()
	return d, err
}

// redlines is Redlines, given the negotiation now, but that it leaves to
// save, which it returns, keeping what it worked out: a caller may do it
// beside other work (it writes to the store, and only reads d). save is
// never nil. read holds the moments from and to when they have been read
// already (see readEarly); nil ones, and ones the head places elsewhere, are
// read here. before reports whether the redlines of the same two moments
// were found kept by an earlier compare.
func (r *Reader) redlines(ctx context.Context, from, to Ref, head Moment, opts CompareOptions, read *[2]*Moment) (d Diff, save func(), before bool, err error) {
	save = func() {}
	// The two moments are read side by side: each is a checkpoint to read
	// and check, and perhaps events to fold.
	var a, b Moment
	var errA, errB error
	var wg sync.WaitGroup
	if m := readAs(read, 0, from, head.State); m != nil {
		a = *m
	} else {
		wg.Go(func() { a, errA = r.AtFrom(ctx, from, head) })
	}
	if m := readAs(read, 1, to, head.State); m != nil {
		b = *m
	} else {
		b, errB = r.AtFrom(ctx, to, head)
	}
	wg.Wait()
	if err := cmp.Or(errA, errB); err != nil {
		return Diff{}, save, false, err
	}
	saved := r.savedRedlines(ctx, a.Point, b.Point)
	open := r.proposalRedlines(ctx, compareRedlines)
	d, err = buildDiff(a, b, head.State, opts, saved.words, open.words)
	if err == nil {
		save = func() {
			r.saveRedlines(ctx, saved)
			r.saveRedlines(ctx, open)
		}
	}
	return d, save, saved.found, err
}

// readAs returns the moment read[i], read early for ref, if the head places
// ref where it was read: a round closed since the summary it was placed by
// moves the last closed round.
func readAs(read *[2]*Moment, i int, ref Ref, head *domain.State) *Moment {
	if read == nil || read[i] == nil {
		return nil
	}
	if n, ok, err := Resolve(ref, head); err != nil || !ok || n != read[i].State.Events {
		return nil
	}
	return read[i]
}

// BuildDiff compares two moments. head, a state at or after both, supplies
// the adopted proposals that made each change.
func BuildDiff(from, to Moment, head *domain.State, opts CompareOptions) (Diff, error) {
	return buildDiff(from, to, head, opts, words, words)
}

// buildDiff is BuildDiff, each change's redline worked out by w and each
// open proposal's by wOpen (see words).
func buildDiff(from, to Moment, head *domain.State, opts CompareOptions, w, wOpen func(before, after string) []redline.Op) (Diff, error) {
	if from.Point.Event > to.Point.Event {
		return Diff{}, &ReversedError{From: from.Point, To: to.Point}
	}
	d := Diff{Treaty: head.Treaty, Title: head.Title, From: from.Point, To: to.Point, Whole: opts.Whole,
		Parties: nonNilParties(to.State.Parties)}
	// Each draft listed on a core of its own (listing one indexes its
	// open proposals on first use): one state may be both moments.
	var before []listedClause
	var listing sync.WaitGroup
	if from.State != to.State {
		listing.Go(func() { before = listDraft(from.State) })
	} else {
		before = listDraft(from.State)
	}
	after := listDraft(to.State)
	listing.Wait()
	d.Clauses = compareClauses(before, after, opts.Whole)
	// Who made each change: counted from the two moments, or listed from
	// every closed proposal while the redlines are worked out (a long
	// history has hundreds of thousands).
	var adopted [][]Attribution
	var redlines []func()
	for i := range d.Clauses {
		ch := &d.Clauses[i]
		redlines = append(redlines, func() { redlineChange(ch, w) })
		open := to.State.OpenProposals(ch.ID)
		ch.OpenProposals = make([]OpenProposal, len(open))
		for j, p := range open {
			ch.OpenProposals[j] = openProposal(to.State, p)
			redlines = append(redlines, func() { ch.OpenProposals[j].Ops = proposalOpsBy(p, wOpen) })
		}
		numberOptions(ch.OpenProposals)
	}
	// The closed proposals are read (below) only once the open ones are
	// listed: listing one looks up the proposals its acceptances are
	// subject to, which reads the same record of closed proposals when to is
	// head, and that record is not safe for concurrent use.
	attributed := make(chan error, 1)
	if opts.EveryAdoption {
		ids := make([]string, len(d.Clauses))
		for i, ch := range d.Clauses {
			ids[i] = ch.ID
		}
		go func() {
			var err error
			if to.State.Adopted == from.State.Adopted {
				// Nothing adopted in between: the closed proposals need
				// not be read.
				adopted, err = attributions(ids, head, 0, 0)
			} else {
				adopted, err = attributions(ids, head, from.Point.Event, to.Point.Event)
			}
			attributed <- err
		}()
	} else {
		// Beside the redlines: it fills in each change's count of
		// adoptions, they its ops.
		go func() {
			adopted = recentAttributions(d.Clauses, from.State, to.State, head)
			attributed <- nil
		}()
	}
	parallel.Each(len(redlines), func(i int) { redlines[i]() })
	if err := <-attributed; err != nil {
		return Diff{}, err
	}
	for i, as := range adopted {
		ch := &d.Clauses[i]
		ch.Adopted = as
		if opts.EveryAdoption {
			for _, a := range as {
				ch.Adoptions.add(a.Party, 1)
			}
		}
	}
	d.Proposals.Counts = ActivityCounts{Tabled: to.State.Tabled - from.State.Tabled,
		Adopted: to.State.Adopted - from.State.Adopted, Withdrawn: to.State.Withdrawn - from.State.Withdrawn}
	return d, nil
}

func nonNilParties(ps []domain.Party) []domain.Party {
	if ps == nil {
		return []domain.Party{}
	}
	return ps
}

// listedClause is one clause of a draft as `draft` lists it.
type listedClause struct {
	id, heading, text string
	agreed            bool
	number            int
}

// listDraft lists the clauses of the draft at s, numbered as the draft
// numbers them (clauses in brackets count).
func listDraft(s *domain.State) []listedClause {
	var cs []listedClause
	for _, c := range s.Draft() {
		cs = append(cs, listedClause{id: c.ID, heading: c.Heading, text: c.Text, agreed: c.Agreed(), number: len(cs) + 1})
	}
	return cs
}

// compareClauses lists the clauses of the compare document: those of the
// later draft in its order, each removed one right after the clause that
// preceded it in the earlier draft. Unless whole, only those whose agreed
// text, heading or place changed.
func compareClauses(before, after []listedClause, whole bool) []ClauseChange {
	old := make(map[string]listedClause, len(before))
	for _, c := range before {
		old[c.id] = c
	}
	now := make(map[string]listedClause, len(after))
	for _, c := range after {
		now[c.id] = c
	}
	removedAfter := map[string][]string{}
	anchor := ""
	for _, c := range before {
		if _, ok := now[c.id]; ok {
			anchor = c.id
		} else if c.agreed {
			removedAfter[anchor] = append(removedAfter[anchor], c.id)
		}
	}
	order := removedAfter[""]
	for _, c := range after {
		order = append(order, c.id)
		order = append(order, removedAfter[c.id]...)
	}
	moved := movedClauses(before, after)
	changes := []ClauseChange{}
	for _, id := range order {
		o, c := old[id], now[id]
		ch := ClauseChange{ID: id, NumberBefore: o.number, NumberAfter: c.number, Adopted: []Attribution{}, Ops: []redline.Op{},
			Adoptions: AdoptionCounts{ByParty: map[string]int{}}}
		if o.agreed {
			ch.Before, ch.HeadingBefore = o.text, o.heading
		}
		if c.agreed {
			ch.After, ch.HeadingAfter = c.text, c.heading
		} else if !o.agreed {
			// In brackets at both ends: what heading it has.
			ch.HeadingBefore, ch.HeadingAfter = o.heading, c.heading
		}
		if moved[id] {
			ch.Moved = &Move{From: o.number, To: c.number}
		}
		switch {
		case !o.agreed && !c.agreed:
			ch.Change = ChangeUnchanged
		case !o.agreed:
			ch.Change = ChangeAdded
		case !c.agreed:
			ch.Change = ChangeRemoved
		case o.text != c.text || o.heading != c.heading:
			ch.Change = ChangeModified
		case ch.Moved != nil:
			ch.Change = ChangeMoved
		default:
			ch.Change = ChangeUnchanged
		}
		if ch.Change == ChangeUnchanged && !whole {
			continue
		}
		changes = append(changes, ch)
	}
	return changes
}

// redlineChange fills in the word-level ops of a change.
func redlineChange(ch *ClauseChange, words func(before, after string) []redline.Op) {
	if ch.Before != ch.After {
		ch.Ops = words(ch.Before, ch.After)
	} else if ch.Before != "" {
		ch.Ops = []redline.Op{{Kind: redline.Equal, Text: ch.Before}}
	}
	if ch.HeadingBefore != ch.HeadingAfter && ch.Change == ChangeModified {
		ch.HeadingOps = words(ch.HeadingBefore, ch.HeadingAfter)
	}
}

// attributions lists, for each clause named, the adopted proposals that
// changed it in events (lo, hi], in the order of their adoption. It reads
// what head keeps of every closed proposal: their fate, not their text,
// which is what is needed.
func attributions(clauses []string, head *domain.State, lo, hi int) ([][]Attribution, error) {
	out := make([][]Attribution, len(clauses))
	for i := range out {
		out[i] = []Attribution{}
	}
	if lo == hi || len(clauses) == 0 {
		return out, nil
	}
	at := make(map[string]int, len(clauses))
	for i, id := range clauses {
		at[id] = i
	}
	closed := head.ClosedProposals()
	if b, ok := head.Closed.(interface {
		Between(lo, hi int) iter.Seq2[domain.ClosedProposal, error]
	}); ok {
		// A checkpoint's closed proposals: only those in range decoded.
		closed = b.Between(lo, hi)
	}
	for p, err := range closed {
		if err != nil {
			return nil, err
		}
		if p.Status != domain.StatusAdopted || p.Closed <= lo || p.Closed > hi {
			continue
		}
		if i, ok := at[p.Clause]; ok {
			out[i] = append(out[i], Attribution{ID: p.ID, Party: p.Party, Round: roundAt(head, p.Closed), Event: p.Closed,
				Place: RoundPlace(head.Rounds, p.Closed)})
		}
	}
	for _, as := range out {
		slices.SortFunc(as, func(a, b Attribution) int { return cmp.Compare(a.Event, b.Event) })
	}
	return out, nil
}

// recentAttributions lists, for each change, the last few adopted proposals
// that changed its clause between the moments from and to, and sets its
// counts of them, from the clause's adoptions at either moment.
func recentAttributions(changes []ClauseChange, from, to, head *domain.State) [][]Attribution {
	out := make([][]Attribution, len(changes))
	for i := range changes {
		ch := &changes[i]
		out[i] = []Attribution{}
		now := to.Clauses[ch.ID]
		if now == nil {
			continue
		}
		var was map[string]int
		if c := from.Clauses[ch.ID]; c != nil {
			was = c.Adoptions
		}
		for party, n := range now.Adoptions {
			if k := n - was[party]; k > 0 {
				ch.Adoptions.add(party, k)
			}
		}
		for _, a := range now.Recent {
			if a.Event > from.Events {
				out[i] = append(out[i], Attribution{ID: a.Proposal, Party: a.Party, Round: roundAt(head, a.Event), Event: a.Event,
					Place: RoundPlace(head.Rounds, a.Event)})
			}
		}
	}
	return out
}

// roundAt is the number of the round event n happened in (0: between
// rounds).
func roundAt(s *domain.State, n int) int {
	if i := s.RoundIndex(n); i >= 0 {
		return s.Rounds[i].Number
	}
	return 0
}

// movedClauses finds the clauses agreed at both ends whose place among the
// agreed clauses changed: those outside a longest common subsequence of the
// two orders, so that one clause moving does not make every clause it
// jumped over count as moved. The subsequence is the one the classic table
// of such subsequences walks to from its start, passing over a clause of
// the earlier order where that keeps as many; the table is worked out 64
// columns to a word.
func movedClauses(before, after []listedClause) map[string]bool {
	inAfter := make(map[string]bool, len(after))
	for _, c := range after {
		if c.agreed {
			inAfter[c.id] = true
		}
	}
	index := make(map[string]int, len(before))
	var a, b []string
	for _, c := range before {
		if c.agreed && inAfter[c.id] {
			index[c.id] = len(a)
			a = append(a, c.id)
		}
	}
	for _, c := range after {
		if _, ok := index[c.id]; ok {
			b = append(b, c.id)
		}
	}
	moved := map[string]bool{}
	if slices.Equal(a, b) {
		return moved // the usual case: nothing moved
	}
	// Each clause is in both orders once: a[i] is b[at[i]].
	n := len(a)
	at := make([]int, n)
	for j, id := range b {
		at[index[id]] = j
	}
	t := newOrderTable(at)
	stay := make([]bool, n)
	for i, j := 0, 0; i < n && j < n; {
		switch {
		case at[i] == j:
			stay[i] = true
			i++
			j++
		case t.lcs(i+1, j) >= t.lcs(i, j+1):
			i++
		default:
			j++
		}
	}
	for i, id := range a {
		if !stay[i] {
			moved[id] = true
		}
	}
	return moved
}

// orderTable is the table of longest common subsequences of two orders of
// the same n items, a and b, where a[i] is b[at[i]], kept as the bit
// vectors of Allison and Dix's and Hyyrö's algorithm run on the reverses of
// both: row k is the vector after the last k items of a, so that the
// longest common subsequence of a[i:] and b[j:] is the number of zero bits
// among the first n-j of row n-i.
type orderTable struct {
	n, w int
	rows []uint64
}

// newOrderTable works out the orderTable of at, a row at a time.
func newOrderTable(at []int) orderTable {
	n := len(at)
	w := (n + 63) / 64
	t := orderTable{n: n, w: w, rows: make([]uint64, (n+1)*w)}
	for x := range t.rows[:w] {
		t.rows[x] = ^uint64(0)
	}
	for k := 1; k <= n; k++ {
		v, next := t.rows[(k-1)*w:k*w], t.rows[k*w:(k+1)*w]
		copy(next, v)
		// The reversed b holds a[n-k] at p alone: U = V & PM has that
		// bit at most, V - U clears it, and V' = (V + U) | (V - U).
		p := n - 1 - at[n-k]
		word, bit := p/64, uint64(1)<<(p%64)
		if v[word]&bit == 0 {
			continue
		}
		next[word] &^= bit
		sum, carry := bits.Add64(v[word], bit, 0)
		next[word] |= sum
		for x := word + 1; x < w && carry != 0; x++ {
			sum, carry = bits.Add64(v[x], carry, 0)
			next[x] |= sum
		}
	}
	return t
}

// lcs is the length of the longest common subsequence of a[i:] and b[j:].
func (t orderTable) lcs(i, j int) int {
	row := t.rows[(t.n-i)*t.w:]
	l := t.n - j
	ones := 0
	for x := range l / 64 {
		ones += bits.OnesCount64(row[x])
	}
	if r := l % 64; r != 0 {
		ones += bits.OnesCount64(row[l/64] & (1<<r - 1))
	}
	return l - ones
}

// changeLabel says what happened to a clause, for people.
func changeLabel(c ClauseChange) string {
	label := c.Change
	switch {
	case c.Change == ChangeMoved:
		label = fmt.Sprintf("moved from %d to %d", c.Moved.From, c.Moved.To)
	case c.Moved != nil:
		label += fmt.Sprintf("; moved from %d to %d", c.Moved.From, c.Moved.To)
	case c.Change == ChangeUnchanged && c.Before == "" && c.After == "":
		label = "not agreed yet"
	case c.NumberBefore > 0 && c.NumberAfter > 0 && c.NumberBefore != c.NumberAfter:
		label += fmt.Sprintf("; was %d", c.NumberBefore)
	}
	return label
}
