package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// Problem is the first event of a log that breaks the rules or cannot be read.
type Problem struct {
	Event int    `json:"event"`
	ID    string `json:"id"`
	Type  string `json:"type"`
	What  string `json:"problem"`
}

func (p *Problem) Error() string {
	switch {
	case p.Event == 0:
		return p.What
	case p.ID == "":
		return fmt.Sprintf("event %d: %s", p.Event, p.What)
	}
	return fmt.Sprintf("event %d (%s, %s): %s", p.Event, p.Type, p.ID, p.What)
}

// Verification is what Verify found.
type Verification struct {
	Treaty    string   `json:"treaty"`
	Events    int      `json:"events"`
	Rounds    int      `json:"rounds"`
	Clauses   int      `json:"clauses"`
	Proposals int      `json:"proposals"`
	OK        bool     `json:"ok"`
	Problem   *Problem `json:"problem"`
}

// Verify replays the whole log of a negotiation from its first event, without
// checkpoints, through the domain's rules, and checks what is recorded about
// each event: revisions without gaps, metadata that decodes, the round and
// the acting party it records. It stops at the first problem and reports it
// in the Verification (not as an error); the error is for failures to read
// the store at all. progress, when not nil, is called with each event number.
func Verify(ctx context.Context, store eventstore.Store, treaty string, progress func(n int)) (Verification, error) {
	v := Verification{Treaty: treaty}
	var s domain.State
	var prev *Recorded
	fail := func(r *Recorded, format string, args ...any) (Verification, error) {
		v.Problem = &Problem{Event: r.Number, ID: r.ID.String(), Type: r.Type, What: fmt.Sprintf(format, args...)}
		return v, nil
	}
	for rec, err := range store.Read(ctx, Stream(treaty), 0) {
		if err != nil {
			switch {
			case errors.Is(err, eventstore.ErrStreamNotFound):
				return v, fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
			case errors.Is(err, eventstore.ErrCorrupt):
				// The store itself found the log broken where this
				// event should be: that is the auditor's answer.
				v.Problem = &Problem{Event: s.Events + 1, What: fmt.Sprintf("cannot be read: %v", err)}
				return v, nil
			}
			return v, err
		}
		r := &Recorded{Number: int(rec.Revision) + 1, ID: rec.ID, Type: rec.Type, Data: rec.Data, RawMeta: rec.Metadata}
		if progress != nil {
			progress(r.Number)
		}
		if want := s.Events + 1; r.Number != want {
			return fail(r, "is stored at revision %d where revision %d was next: the log has a gap", rec.Revision, want-1)
		}
		e, err := domain.Decode(rec.Type, rec.Data)
		if err != nil {
			return fail(r, "%v", err)
		}
		r.Event = e
		m, err := domain.DecodeMeta(rec.Metadata)
		if err != nil {
			return fail(r, "%v", err)
		}
		if m.Time.IsZero() {
			return fail(r, "records no time")
		}
		if o, ok := e.(domain.TreatyOpened); ok && o.Treaty != treaty {
			return fail(r, "opens negotiation %q, but it is stored as %q", o.Treaty, treaty)
		}
		if want := s.RoundOf(e); m.Round != want && s.Treaty != "" {
			return fail(r, "records round %d, but round %d was %s", m.Round, want, map[bool]string{true: "open", false: "the last"}[s.OpenRound() == want])
		}
		if want, ok := actor(e, prev); ok && m.Party != want {
			return fail(r, "records %q as the acting party, but the act is %s's", m.Party, want)
		}
		if err := s.Evolve(e); err != nil {
			return fail(r, "breaks the rules: %v", err)
		}
		if _, ok := e.(domain.TreatyOpened); ok && m.Party != "" {
			if _, known := s.Party(m.Party); !known {
				return fail(r, "was recorded as acted by %q, who is not a participant", m.Party)
			}
		}
		if _, ok := e.(domain.RoundOpened); ok || isRoundClosed(e) {
			if _, known := s.Party(m.Party); !known {
				return fail(r, "was recorded as acted by %q, who is not a participant", m.Party)
			}
		}
		prev = r
		prev.meta, prev.decoded = m, true
	}
	v.Events = s.Events
	if s.Events == 0 {
		return v, fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
	}
	if p := s.Pending(); p != "" {
		return fail(prev, "completes every party's acceptance of proposal %s, but the log ends without its adoption", domain.Short(p))
	}
	v.OK = true
	v.Rounds = len(s.Rounds)
	v.Clauses = len(s.Draft())
	for range s.AllProposals() {
		v.Proposals++
	}
	return v, nil
}

func isRoundClosed(e domain.Event) bool {
	_, ok := e.(domain.RoundClosed)
	return ok
}

// actor returns the party an event must be recorded as acted by, when the
// event says: the party taking the position or tabling, or for an adoption,
// the party whose act completed it.
func actor(e domain.Event, prev *Recorded) (string, bool) {
	switch e := e.(type) {
	case domain.ProposalTabled:
		return e.Party, true
	case domain.ProposalAccepted:
		return e.Party, true
	case domain.ProposalObjected:
		return e.Party, true
	case domain.ProposalWithdrawn:
		return e.Party, true
	case domain.ProposalAdopted:
		if prev != nil {
			return prev.meta.Party, true
		}
	}
	return "", false
}
