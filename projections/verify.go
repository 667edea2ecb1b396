package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// Verification is what Verify found.
type Verification struct {
	Treaty    string `json:"treaty"`
	Events    int    `json:"events"`
	Rounds    int    `json:"rounds"`
	Clauses   int    `json:"clauses"`
	Proposals int    `json:"proposals"`
	// Signed counts the events that carry a valid signature.
	Signed int `json:"signed"`
	// Head is the hash of the last event: cite it, and a later verify
	// --head proves the log still holds it.
	Head    string   `json:"head"`
	OK      bool     `json:"ok"`
	Problem *Problem `json:"problem"`
}

// VerifyOptions adjusts what Verify demands.
type VerifyOptions struct {
	// Head, when set, is a hash (or a prefix of one, at least 8 hex
	// digits) the log must contain: a head cited earlier, from round close
	// or an earlier verify. A log truncated or rewritten since fails.
	Head string
	// RequireSignatures fails on any act of a party that is not signed,
	// even before the party registered a key.
	RequireSignatures bool
	// Progress, when not nil, is called with each event number.
	Progress func(n int)
}

// Verify replays the whole log of a negotiation from its first event, without
// checkpoints, and checks everything an auditor relies on: the hash chain
// (each event's hash matches its content and follows the hash of the event
// before it, so an edited, inserted, deleted or reordered event is found),
// the signatures of every party that registered a key, the domain's rules
// for every event, and what is recorded about each (revisions without gaps,
// metadata that decodes, its round and acting party). It reports the first
// problem in the Verification, not as an error; the error is for failures
// to read the store at all.
func Verify(ctx context.Context, store eventstore.Store, treaty string, opts VerifyOptions) (Verification, error) {
	v := Verification{Treaty: treaty}
	if opts.Head != "" && (len(opts.Head) < 8 || strings.Trim(strings.ToLower(opts.Head), "0123456789abcdef") != "") {
		return v, fmt.Errorf("--head %q is not a hash: give at least 8 hex digits of one", opts.Head)
	}
	wantHead := strings.ToLower(opts.Head)
	headFound := opts.Head == ""
	var s domain.State
	f := newCheckedFold(&s, "")
	f.requireSigned = opts.RequireSignatures
	fail := func(err error) (Verification, error) {
		err = f.earliest(err)
		var p *Problem
		if !errors.As(err, &p) {
			return v, err
		}
		v.Problem = p
		return v, nil
	}
	for rec, err := range store.Read(ctx, Stream(treaty), 0) {
		if err != nil {
			switch {
			case errors.Is(err, eventstore.ErrStreamNotFound):
				f.finish()
				return v, fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
			case errors.Is(err, eventstore.ErrCorrupt):
				// The store itself found the log broken where this
				// event should be: that is the auditor's answer.
				return fail(&Problem{Event: s.Events + 1, What: fmt.Sprintf("cannot be read: %v", err)})
			}
			f.finish()
			return v, err
		}
		r := &Recorded{Number: int(rec.Revision) + 1, ID: rec.ID, Type: rec.Type, Data: rec.Data, RawMeta: rec.Metadata}
		if opts.Progress != nil {
			opts.Progress(r.Number)
		}
		if want := s.Events + 1; r.Number != want {
			return fail(problemAt(r, "is stored at revision %d where revision %d was next: the log has a gap", rec.Revision, want-1))
		}
		// The chain first: it says what was done to the log, which
		// matters more than what the changed event now says.
		if _, err := f.link(r); err != nil {
			return fail(err)
		}
		e, err := domain.Decode(rec.Type, rec.Data)
		if err != nil {
			return fail(problemAt(r, "%v", err))
		}
		r.Event = e
		if o, ok := e.(domain.TreatyOpened); ok && o.Treaty != treaty {
			return fail(problemAt(r, "opens negotiation %q, but it is stored as %q", o.Treaty, treaty))
		}
		if err := f.step(r); err != nil {
			return fail(err)
		}
		if wantHead != "" && strings.HasPrefix(f.prev.Hash, wantHead) {
			headFound = true
		}
	}
	v.Events = s.Events
	if s.Events == 0 {
		f.finish()
		return v, fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
	}
	if p := s.Pending(); p != "" {
		return fail(problemAt(f.last, "completes every party's acceptance of proposal %s, but the log ends without its adoption", domain.Short(p)))
	}
	if bad := f.finish(); bad != nil {
		return fail(bad)
	}
	v.Head = f.prev.Hash
	if !headFound {
		v.Problem = &Problem{What: fmt.Sprintf("the log does not contain head %s: it was truncated or rewritten after that head was cited (its head now is %s, event %d)", opts.Head, domain.ShortHash(v.Head), s.Events)}
		return v, nil
	}
	v.OK = true
	v.Signed = f.signed()
	v.Rounds = len(s.Rounds)
	v.Clauses = len(s.Draft())
	v.Proposals = s.Tabled
	return v, nil
}
