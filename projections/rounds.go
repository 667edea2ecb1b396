package projections

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/treaty-engine/treaty/domain"
)

// RoundView is one round of the round index.
type RoundView struct {
	Number int    `json:"round"`
	Name   string `json:"name"`
	// Status is "open" or "closed".
	Status string `json:"status"`
	// Opened and Closed are the numbers of the events that opened and
	// closed the round (Closed is 0 while it is open), with their times.
	Opened   int        `json:"opened"`
	Closed   int        `json:"closed"`
	OpenedAt time.Time  `json:"opened_at"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	// Tabled and Adopted count the proposals tabled, and adopted, during
	// the round.
	Tabled  int `json:"tabled"`
	Adopted int `json:"adopted"`
	// After is what was recorded after the round closed and before the
	// next opened (between rounds N and N+1), when anything was; Before,
	// on the first round only, what was recorded before it opened, the
	// negotiation's opening aside.
	Before *Stretch `json:"before,omitempty"`
	After  *Stretch `json:"after,omitempty"`
}

// Stretch is a stretch of the log outside every round: its first and last
// events, and the proposals tabled and adopted in it. Acts there are
// recorded with round 0 (see domain.State.RoundOf).
type Stretch struct {
	First   int `json:"first"`
	Last    int `json:"last"`
	Tabled  int `json:"tabled"`
	Adopted int `json:"adopted"`
	// Place is where it stands, as RoundPlace says: "before round 1",
	// "between rounds 2 and 3".
	Place string `json:"place"`
}

// events is the stretch's events for people: "7", "7-9".
func (st Stretch) events() string {
	if st.First == st.Last {
		return fmt.Sprint(st.First)
	}
	return fmt.Sprintf("%d-%d", st.First, st.Last)
}

// RoundPlace says, for people, where event n stands among rounds (those of
// a state at or after it): "round 2" from the round's opening to its close,
// both included; "between rounds 2 and 3" after round 2 closed and before
// round 3 opened, or since, while it has not; "before round 1" before the
// first opened; "" in a negotiation that has opened no round, where rounds
// say nothing. Every view names the place of an event with it, so that all
// say the same of an act between rounds, which the log records with round
// 0.
func RoundPlace(rounds []domain.Round, n int) string {
	if len(rounds) == 0 {
		return ""
	}
	// Rounds follow one another: the last opened at or before n.
	i := sort.Search(len(rounds), func(i int) bool { return rounds[i].Opened > n }) - 1
	switch {
	case i < 0:
		return "before round 1"
	case rounds[i].Contains(n):
		return fmt.Sprintf("round %d", rounds[i].Number)
	}
	return fmt.Sprintf("between rounds %d and %d", rounds[i].Number, rounds[i].Number+1)
}

// placeColumn is a place in a column of round numbers: the number of a
// round, the words for the stretches between them (see RoundPlace), "-"
// without rounds.
func placeColumn(place string) string {
	if n, ok := strings.CutPrefix(place, "round "); ok {
		return n
	}
	if place == "" {
		return "-"
	}
	return place
}

// placePhrase is a place after a verb: "in round 2", "between rounds 2 and
// 3", "before round 1"; "" without rounds.
func placePhrase(place string) string {
	if strings.HasPrefix(place, "round ") {
		return "in " + place
	}
	return place
}

// Rounds returns the negotiation's round index: every round with where it
// starts and ends in the log, and what it produced.
func (r *Reader) Rounds(ctx context.Context) ([]RoundView, error) {
	head, err := r.Head(ctx)
	if err != nil {
		return nil, err
	}
	views, err := roundViews(head.State)
	if err != nil {
		return nil, err
	}
	return views, r.roundTimes(ctx, views)
}

// roundViews is the round index of s, without the times of the events that
// opened and closed each round (see roundTimes).
func roundViews(s *domain.State) ([]RoundView, error) {
	views := make([]RoundView, len(s.Rounds))
	for i, rd := range s.Rounds {
		v := RoundView{Number: rd.Number, Name: rd.Name, Status: StatusOpen, Opened: rd.Opened, Closed: rd.Closed}
		if rd.Closed != 0 {
			v.Status = "closed"
		}
		views[i] = v
	}
	if err := countRounds(s, views); err != nil {
		return nil, err
	}
	return views, nil
}

// roundTimes reads from the log when each round opened and closed.
func (r *Reader) roundTimes(ctx context.Context, views []RoundView) error {
	for i := range views {
		v := &views[i]
		var err error
		if v.OpenedAt, err = r.eventTime(ctx, v.Opened); err != nil {
			return err
		}
		if v.Closed != 0 {
			t, err := r.eventTime(ctx, v.Closed)
			if err != nil {
				return err
			}
			v.ClosedAt = &t
		}
	}
	return nil
}

// countRounds counts, for each round of s (views, in order), the proposals
// tabled during it and those adopted during it, and those of the stretches
// outside rounds, which it gives the round before them (After) or, before
// the first, the first (Before).
func countRounds(s *domain.State, views []RoundView) error {
	if len(views) != len(s.Rounds) || len(views) == 0 {
		return nil
	}
	// stretches[k]: the stretch after round k (k = 0: before round 1).
	stretches := make([]*Stretch, len(s.Rounds)+1)
	if first := s.Rounds[0].Opened; first > 2 {
		stretches[0] = &Stretch{First: 2, Last: first - 1}
	}
	for k, rd := range s.Rounds {
		last := s.Events
		if k+1 < len(s.Rounds) {
			last = s.Rounds[k+1].Opened - 1
		}
		if rd.Closed != 0 && rd.Closed < last {
			stretches[k+1] = &Stretch{First: rd.Closed + 1, Last: last}
		}
	}
	for _, st := range stretches {
		if st != nil {
			st.Place = RoundPlace(s.Rounds, st.First)
		}
	}
	// where counts an act at event n: in the round it belongs to, else in
	// the stretch it falls in.
	where := func(n int, round func(*RoundView) *int, stretch func(*Stretch) *int) {
		if i := s.RoundIndex(n); i >= 0 {
			*round(&views[i])++
			return
		}
		k := sort.Search(len(s.Rounds), func(i int) bool { return s.Rounds[i].Opened > n })
		if st := stretches[k]; st != nil && n >= st.First {
			*stretch(st)++
		}
	}
	count := func(tabled, closed int, adopted bool) {
		where(tabled, func(v *RoundView) *int { return &v.Tabled }, func(st *Stretch) *int { return &st.Tabled })
		if adopted {
			where(closed, func(v *RoundView) *int { return &v.Adopted }, func(st *Stretch) *int { return &st.Adopted })
		}
	}
	for _, p := range s.Proposals {
		if p.Status == domain.StatusOpen {
			count(p.Tabled, 0, false)
		}
	}
	for p, err := range s.ClosedProposals() {
		if err != nil {
			return err
		}
		count(p.Tabled, p.Closed, p.Status == domain.StatusAdopted)
	}
	views[0].Before = stretches[0]
	for k := range views {
		views[k].After = stretches[k+1]
	}
	return nil
}

// eventTime reads the writer's time of event number n.
func (r *Reader) eventTime(ctx context.Context, n int) (time.Time, error) {
	for rec, err := range Events(ctx, r.store, r.treaty, n-1) {
		if err != nil {
			return time.Time{}, err
		}
		m, err := rec.Meta()
		return m.Time, err
	}
	return time.Time{}, fmt.Errorf("event %d of %s is missing", n, r.treaty)
}

// WriteRoundsText writes the round index as a table, with a row for each
// stretch of acts outside rounds.
func WriteRoundsText(w io.Writer, rounds []RoundView) error {
	rounds = Printable(rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUND\tNAME\tOPENED\tCLOSED\tEVENTS\tTABLED\tADOPTED")
	stretch := func(st *Stretch) {
		if st != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\t%d\t%d\n", st.Place, st.events(), st.Tabled, st.Adopted)
		}
	}
	for _, r := range rounds {
		stretch(r.Before)
		closed, events := "open", fmt.Sprintf("%d-", r.Opened)
		if r.ClosedAt != nil {
			closed, events = FormatTime(*r.ClosedAt), fmt.Sprintf("%d-%d", r.Opened, r.Closed)
		}
		name := r.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\n", r.Number, name, FormatTime(r.OpenedAt), closed, events, r.Tabled, r.Adopted)
		stretch(r.After)
	}
	return tw.Flush()
}
