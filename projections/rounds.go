package projections

import (
	"context"
	"fmt"
	"io"
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
	tabled, adopted, err := roundCounts(s)
	if err != nil {
		return nil, err
	}
	for i := range views {
		views[i].Tabled, views[i].Adopted = tabled[i], adopted[i]
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

// roundCounts counts, for each round of s, the proposals tabled during it
// and those adopted during it.
func roundCounts(s *domain.State) (tabled, adopted []int, err error) {
	tabled, adopted = make([]int, len(s.Rounds)), make([]int, len(s.Rounds))
	count := func(tabledAt, closedAt int, isAdopted bool) {
		if i := s.RoundIndex(tabledAt); i >= 0 {
			tabled[i]++
		}
		if i := s.RoundIndex(closedAt); isAdopted && i >= 0 {
			adopted[i]++
		}
	}
	for _, p := range s.Proposals {
		if p.Status == domain.StatusOpen {
			count(p.Tabled, 0, false)
		}
	}
	for p, err := range s.ClosedProposals() {
		if err != nil {
			return nil, nil, err
		}
		count(p.Tabled, p.Closed, p.Status == domain.StatusAdopted)
	}
	return tabled, adopted, nil
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

// WriteRoundsText writes the round index as a table.
func WriteRoundsText(w io.Writer, rounds []RoundView) error {
	rounds = Printable(rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUND\tNAME\tOPENED\tCLOSED\tEVENTS\tTABLED\tADOPTED")
	for _, r := range rounds {
		closed, events := "open", fmt.Sprintf("%d-", r.Opened)
		if r.ClosedAt != nil {
			closed, events = FormatTime(*r.ClosedAt), fmt.Sprintf("%d-%d", r.Opened, r.Closed)
		}
		name := r.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\n", r.Number, name, FormatTime(r.OpenedAt), closed, events, r.Tabled, r.Adopted)
	}
	return tw.Flush()
}
