package projections

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// Diff is the redline of a negotiation's agreed text between two moments.
// Its JSON form is CLI.md's.
type Diff struct {
	Treaty    string         `json:"treaty"`
	Title     string         `json:"title"`
	From      Point          `json:"from"`
	To        Point          `json:"to"`
	Clauses   []ClauseChange `json:"clauses"`
	Proposals Activity       `json:"proposals"`
}

// Kinds of ClauseChange.
const (
	ChangeAdded    = "added"
	ChangeRemoved  = "removed"
	ChangeModified = "modified"
	ChangeMoved    = "moved"
)

// ClauseChange is one clause whose agreed text, heading or place changed.
type ClauseChange struct {
	ID string `json:"id"`
	// Change is added, removed, modified (text or heading changed; it may
	// also have moved) or moved (only its place changed).
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
	// NumberBefore and NumberAfter are the clause's numbers in the agreed
	// text at each end (0: not there).
	NumberBefore int  `json:"number_before"`
	NumberAfter  int  `json:"number_after"`
	Moved        bool `json:"moved"`
}

// Activity lists the proposals tabled, adopted and withdrawn between the two
// moments, in the order it happened.
type Activity struct {
	Tabled    []string `json:"tabled"`
	Adopted   []string `json:"adopted"`
	Withdrawn []string `json:"withdrawn"`
	// Counts are the lengths of the three lists; they are known without
	// the lists, which a long history makes costly to gather.
	Counts ActivityCounts `json:"counts"`
}

// ActivityCounts counts the proposals tabled, adopted and withdrawn.
type ActivityCounts struct {
	Tabled    int `json:"tabled"`
	Adopted   int `json:"adopted"`
	Withdrawn int `json:"withdrawn"`
}

// agreedClause is one clause of the agreed text.
type agreedClause struct {
	id, heading, text string
	number            int
}

func agreedText(s *domain.State) []agreedClause {
	var cs []agreedClause
	for _, c := range s.Draft() {
		if c.Agreed() {
			cs = append(cs, agreedClause{id: c.ID, heading: c.Heading, text: c.Text, number: len(cs) + 1})
		}
	}
	return cs
}

// Redlines returns the diff of the agreed text between the moments from and
// to (either may come first). With ids it lists the proposals tabled,
// adopted and withdrawn in between, which in a long history means reading
// every closed proposal; without, it only counts them.
func (r *Reader) Redlines(ctx context.Context, from, to Ref, ids bool) (Diff, error) {
	head, err := r.Head(ctx)
	if err != nil {
		return Diff{}, err
	}
	a, err := r.AtFrom(ctx, from, head)
	if err != nil {
		return Diff{}, err
	}
	b, err := r.AtFrom(ctx, to, head)
	if err != nil {
		return Diff{}, err
	}
	return BuildDiff(a, b, head.State, ids)
}

// BuildDiff compares the agreed text at two moments. head, a state at or
// after both, supplies what happened to proposals in between when ids asks
// for the list (see Redlines).
func BuildDiff(from, to Moment, head *domain.State, ids bool) (Diff, error) {
	d := Diff{Treaty: head.Treaty, Title: head.Title, From: from.Point, To: to.Point, Clauses: []ClauseChange{}}
	before, after := agreedText(from.State), agreedText(to.State)
	d.Clauses = compareClauses(before, after)
	if ids {
		var err error
		if d.Proposals, err = activity(head, from.Point.Event, to.Point.Event); err != nil {
			return Diff{}, err
		}
	}
	abs := func(x int) int { return max(x, -x) }
	d.Proposals.Counts = ActivityCounts{Tabled: abs(to.State.Tabled - from.State.Tabled),
		Adopted: abs(to.State.Adopted - from.State.Adopted), Withdrawn: abs(to.State.Withdrawn - from.State.Withdrawn)}
	return d, nil
}

func compareClauses(before, after []agreedClause) []ClauseChange {
	old := map[string]agreedClause{}
	for _, c := range before {
		old[c.id] = c
	}
	now := map[string]agreedClause{}
	for _, c := range after {
		now[c.id] = c
	}
	// The order of the listing: the new text's, with each removed clause
	// right after the clause that preceded it in the old text.
	removedAfter := map[string][]string{}
	anchor := ""
	for _, c := range before {
		if _, ok := now[c.id]; ok {
			anchor = c.id
		} else {
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
		o, existed := old[id]
		c, exists := now[id]
		ch := ClauseChange{ID: id, Before: o.text, HeadingBefore: o.heading, NumberBefore: o.number,
			After: c.text, HeadingAfter: c.heading, NumberAfter: c.number, Moved: moved[id]}
		switch {
		case !existed:
			ch.Change = ChangeAdded
		case !exists:
			ch.Change = ChangeRemoved
		case o.text != c.text || o.heading != c.heading:
			ch.Change = ChangeModified
		case ch.Moved:
			ch.Change = ChangeMoved
		default:
			continue
		}
		changes = append(changes, ch)
	}
	redlineAll(changes)
	return changes
}

// redlineAll fills in the word-level ops of every change, on every core: a
// long negotiation changes hundreds of clauses between two rounds.
func redlineAll(changes []ClauseChange) {
	parallel(len(changes), func(i int) {
		ch := &changes[i]
		if ch.Ops = redline.Words(ch.Before, ch.After); ch.Ops == nil {
			ch.Ops = []redline.Op{}
		}
		if ch.HeadingBefore != ch.HeadingAfter && ch.Change == ChangeModified {
			ch.HeadingOps = redline.Words(ch.HeadingBefore, ch.HeadingAfter)
		}
	})
}

// parallel calls f(0) … f(n-1) on every core.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// movedClauses finds the clauses present at both ends whose place changed:
// those outside a longest common subsequence of the two orders, so that one
// clause moving does not make every clause it jumped over count as moved.
func movedClauses(before, after []agreedClause) map[string]bool {
	inAfter := map[string]bool{}
	for _, c := range after {
		inAfter[c.id] = true
	}
	inBefore := map[string]bool{}
	var a, b []string
	for _, c := range before {
		if inAfter[c.id] {
			a = append(a, c.id)
			inBefore[c.id] = true
		}
	}
	for _, c := range after {
		if inBefore[c.id] {
			b = append(b, c.id)
		}
	}
	// Classic dynamic-programming LCS; drafts have hundreds of clauses,
	// not millions.
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	stay := map[string]bool{}
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[i] == b[j]:
			stay[a[i]] = true
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			j++
		}
	}
	moved := map[string]bool{}
	for _, id := range a {
		if !stay[id] {
			moved[id] = true
		}
	}
	return moved
}

// activity lists what happened to proposals in events (lo, hi], whichever
// order the two ends were given in.
func activity(s *domain.State, x, y int) (Activity, error) {
	lo, hi := min(x, y), max(x, y)
	in := func(n int) bool { return n > lo && n <= hi }
	type ev struct {
		n  int
		id string
	}
	var tabled, adopted, withdrawn []ev
	for _, p := range s.Proposals {
		if in(p.Tabled) {
			tabled = append(tabled, ev{p.Tabled, p.Proposal})
		}
	}
	for p, err := range s.ClosedProposals() {
		if err != nil {
			return Activity{}, err
		}
		if _, whole := s.Proposals[p.ID]; in(p.Tabled) && !whole {
			tabled = append(tabled, ev{p.Tabled, p.ID})
		}
		if in(p.Closed) {
			switch p.Status {
			case domain.StatusAdopted:
				adopted = append(adopted, ev{p.Closed, p.ID})
			case domain.StatusWithdrawn:
				withdrawn = append(withdrawn, ev{p.Closed, p.ID})
			}
		}
	}
	ids := func(evs []ev) []string {
		sort.Slice(evs, func(i, j int) bool { return evs[i].n < evs[j].n })
		out := make([]string, len(evs))
		for i, e := range evs {
			out[i] = e.id
		}
		return out
	}
	return Activity{Tabled: ids(tabled), Adopted: ids(adopted), Withdrawn: ids(withdrawn)}, nil
}

// changeLabel says what happened to a clause, for people.
func changeLabel(c ClauseChange) string {
	switch {
	case c.Change == ChangeMoved:
		return fmt.Sprintf("moved from %d", c.NumberBefore)
	case c.Moved:
		return fmt.Sprintf("%s, moved from %d", c.Change, c.NumberBefore)
	}
	return c.Change
}
