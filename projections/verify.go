package projections

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections/internal/checkpoint"
)

// Verification is what Verify found.
type Verification struct {
	Treaty    string `json:"treaty"`
	Events    int    `json:"events"`
	Rounds    int    `json:"rounds"`
	Clauses   int    `json:"clauses"`
	Proposals int    `json:"proposals"`
	// Signed counts the events that carry a valid signature, whatever its
	// key; Authentication says what the signatures prove.
	Signed         int            `json:"signed"`
	Authentication Authentication `json:"authentication"`
	// Keys is every participant's keys at the head.
	Keys []PartyKeys `json:"keys"`
	// Head is the hash of the last event: cite it (or keep a receipt),
	// and a later verify proves the log still holds it.
	Head string `json:"head"`
	// Cited says where each cited hash stands in the log.
	Cited []CitedVerdict `json:"cited,omitempty"`
	// Checkpoints counts the checkpoints compared with the replay.
	Checkpoints int `json:"checkpoints"`
	// Warnings are what an auditor should know of a log that holds
	// together: events recorded at an earlier time than the event before
	// them (a writer's clock was behind). At most maxWarnings are listed;
	// WarningsOmitted counts the rest.
	Warnings        []Warning `json:"warnings"`
	WarningsOmitted int       `json:"warnings_omitted,omitempty"`
	OK              bool      `json:"ok"`
	Problem         *Problem  `json:"problem"`
}

// Warning is an event that follows the rules but is worth an auditor's
// attention.
type Warning struct {
	Event int    `json:"event"`
	ID    string `json:"id"`
	Type  string `json:"type"`
	What  string `json:"warning"`
}

// maxWarnings bounds the warnings a verification lists: a writer whose
// clock was behind for a day may have written thousands of events.
const maxWarnings = 100

func (v *Verification) warn(r *Recorded, format string, args ...any) {
	if len(v.Warnings) == maxWarnings {
		v.WarningsOmitted++
		return
	}
	v.Warnings = append(v.Warnings, Warning{Event: r.Number, ID: r.ID.String(), Type: r.Type, What: fmt.Sprintf(format, args...)})
}

// warnOfTime warns of an event recorded at an earlier time than the event
// before it. The write path never records one (it records the later of its
// clock and the last event's time), but older versions and other writers
// did. Nothing depends on it but time REFs, which read the log in its
// order (see Reader.Resolve): such an event counts as recorded at the
// latest time before it.
func (v *Verification) warnOfTime(r *Recorded, at, before time.Time) {
	if before.IsZero() || !at.Before(before) {
		return
	}
	v.warn(r, "is recorded at %s, %s earlier than the event before it (%s): its writer's clock was behind",
		at.UTC().Format(time.RFC3339), before.Sub(at), before.UTC().Format(time.RFC3339))
}

// Cited is a hash an auditor holds from earlier: a head printed by round
// close or verify, or a receipt's.
type Cited struct {
	// Hash is the event's hash: the full 64 hex digits, or at least 32 of
	// them.
	Hash string
	// Event, when known (a receipt names it), is the event it was cited
	// as: then a log that lost or changed that event is proven to have.
	Event int
	// From says where the citation came from, for messages.
	From string
	// Party and Key, for a signed receipt: who signed it, with which key.
	Party, Key string
}

// CitedVerdict is where a cited hash stands.
type CitedVerdict struct {
	Hash  string `json:"hash"`
	From  string `json:"from"`
	Event int    `json:"event"`
	// What the event is, for people ("the close of round 2").
	What string `json:"what"`
}

// VerifyOptions adjusts what Verify demands.
type VerifyOptions struct {
	// Cited are hashes the log must hold.
	Cited []Cited
	// RequireSignatures fails on any act not authenticated: every act of
	// a participant must be signed with a key in effect (or, for the acts
	// of a key ceremony, one that took effect by the end), and the
	// opening must be signed with a pinned key.
	RequireSignatures bool
	// Progress, when not nil, is called with each event number.
	Progress func(n int)
	// Checkpoints, when not nil, is a reader whose checkpoints are
	// compared with the replay at their points: one that authenticates
	// but disagrees with the log is deleted and reported.
	Checkpoints *Reader
	// Upto, when above 0, stops after the log's first Upto events, as if
	// the log ended there (it must not fall inside an append): the end of
	// a report that the verification goes with, the log having grown since.
	Upto int
}

// minCitedDigits is the shortest prefix of a hash verify accepts: 128 bits,
// too many to grind a rewritten log into.
const minCitedDigits = 32

// CheckCited checks the form of a cited hash.
func CheckCited(c Cited) error {
	h := strings.ToLower(c.Hash)
	if len(h) < minCitedDigits || len(h) > 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("%s %q is not a hash: give the full hash (64 hex digits) as round close or verify printed it", c.From, c.Hash)
	}
	return nil
}

// ErrNotCited is a cited hash that no event of the log has, where nothing
// proves the log lost it: a mistyped hash, or one of another negotiation,
// reads the same. (A receipt names its event, and then a loss is proven.)
var ErrNotCited = errors.New("no event has the cited hash")

// Verify replays the whole log of a negotiation from its first event, without
// checkpoints, and checks everything an auditor relies on: the hash chain
// (each event's hash matches its content and follows the hash of the event
// before it, so an edited, inserted, deleted or reordered event is found),
// the signatures of every party that registered a key (by ZIP-215's rules,
// in batches on every core: see the package doc), the domain's rules
// for every event, and what is recorded about each (revisions without gaps,
// metadata that decodes, its round and acting party). It reports the first
// problem in the Verification, not as an error; the error is for failures
// to read the store at all.
func Verify(ctx context.Context, store eventstore.Store, treaty string, opts VerifyOptions) (Verification, error) {
	v, err := VerifyEvents(ctx, store.Read(ctx, Stream(treaty), 0), treaty, opts)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		err = fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
	}
	return v, err
}

// VerifyEvents checks events, as a store would yield them for the
// negotiation treaty, as Verify checks a store's log: what import checks a
// file's events with before it appends any.
func VerifyEvents(ctx context.Context, events iter.Seq2[eventstore.RecordedEvent, error], treaty string, opts VerifyOptions) (Verification, error) {
	v := Verification{Treaty: treaty, Warnings: []Warning{}}
	cites := make([]citeState, len(opts.Cited))
	for i, c := range opts.Cited {
		if err := CheckCited(c); err != nil {
			return v, err
		}
		c.Hash = strings.ToLower(c.Hash)
		cites[i] = citeState{Cited: c}
	}
	var s domain.State
	f := newCheckedFold(&s, "")
	f.requireSigned = opts.RequireSignatures
	checkpointsAt := map[int][]string{}
	var agree *checkpoint.Verifier
	if r := opts.Checkpoints; r != nil && r.cps != nil {
		agree = r.cps.Verifier()
		points, err := r.cps.Points(ctx)
		if err != nil {
			return v, err
		}
		for name, n := range points {
			checkpointsAt[n] = append(checkpointsAt[n], name)
		}
	}
	fail := func(err error) (Verification, error) {
		err = f.earliest(err)
		var p *Problem
		if !errors.As(err, &p) {
			return v, err
		}
		v.Problem = p
		return v, nil
	}
	for rec, err := range events {
		if err != nil {
			switch {
			case errors.Is(err, eventstore.ErrStreamNotFound):
				f.finish()
				return v, err
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
		hash, err := f.link(r)
		if err != nil {
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
		if len(cites) > 0 {
			what := describeEvent(&s, e) // before e is folded
			for i := range cites {
				cites[i].see(r.Number, hash, what)
			}
		}
		before := f.prev.Time
		if err := f.step(r); err != nil {
			return fail(err)
		}
		m, _ := r.Meta() // step decoded it
		v.warnOfTime(r, m.Time, before)
		for _, name := range checkpointsAt[s.Events] {
			if wrong, err := agree.Agrees(ctx, name, &s); err != nil {
				opts.Checkpoints.cps.Drop(ctx, wrong)
				what := fmt.Sprintf("checkpoint %q", wrong)
				if wrong != name {
					what += fmt.Sprintf(" (the closed proposals of checkpoint %q are cut from it)", name)
				}
				return fail(problemAt(r, "is where this machine's checkpoint %q stands, and the %s disagrees with the log: %v. It was written by a faulty build, or by someone holding this machine's checkpoint secret; it is deleted", name, what, err))
			}
			v.Checkpoints++
		}
		if opts.Upto > 0 && s.Events >= opts.Upto {
			break
		}
	}
	v.Events = s.Events
	if s.Events == 0 {
		f.finish()
		return v, fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, Stream(treaty))
	}
	if p := s.Due(); p != "" {
		return fail(problemAt(f.last, "completes every party's acceptance of proposal %s, but the log ends without its adoption", domain.Short(p)))
	}
	if bad := f.finish(); bad != nil {
		return fail(bad)
	}
	if err := f.settle(); err != nil {
		return fail(err)
	}
	v.Head = f.prev.Hash
	for _, c := range cites {
		verdict, err := c.verdict(&s, v.Head)
		if err != nil {
			var p *Problem
			if errors.As(err, &p) {
				v.Problem = p
				return v, nil
			}
			return v, err
		}
		v.Cited = append(v.Cited, verdict)
	}
	v.OK = true
	v.Signed = f.signed()
	v.Authentication = f.auth
	v.Keys = KeysOf(&s)
	v.Rounds = len(s.Rounds)
	v.Clauses = len(s.Draft())
	v.Proposals = s.Tabled
	return v, nil
}

// citeState follows one cited hash through a replay.
type citeState struct {
	Cited
	found     int    // the event with the hash (0: none)
	foundWhat string // what that event is
	atEvent   string // the hash of event Cited.Event, when the log has it
	near      int    // an event whose hash differs from the cited one in a digit or two
	nearHash  string
	nearWhat  string
	lastEvent int
	lastHash  string
}

func (c *citeState) see(n int, hash, what string) {
	c.lastEvent, c.lastHash = n, hash
	if n == c.Event {
		c.atEvent = hash
	}
	if strings.HasPrefix(hash, c.Hash) && c.found == 0 {
		c.found, c.foundWhat = n, what
	} else if c.near == 0 && differsInFew(hash[:len(c.Hash)], c.Hash) {
		c.near, c.nearHash, c.nearWhat = n, hash, what
	}
}

// differsInFew reports whether two equally long hex strings differ in one
// or two digits, as a hash copied by hand with a typo does.
func differsInFew(a, b string) bool {
	d := 0
	for i := range len(a) {
		if a[i] != b[i] {
			if d++; d > 2 {
				return false
			}
		}
	}
	return d > 0
}

func (c citeState) verdict(s *domain.State, head string) (CitedVerdict, error) {
	short := domain.ShortHash(c.Hash)
	if c.Key != "" {
		if k := s.Keys[c.Key]; k == nil || k.Party != c.Party {
			return CitedVerdict{}, fmt.Errorf("%s is signed with key %s, which the log does not know as %s's: it was not issued in this negotiation by %s", c.From, c.Key, c.Party, c.Party)
		}
	}
	switch {
	case c.Event > 0 && c.found == c.Event:
	case c.Event > c.lastEvent:
		return CitedVerdict{}, &Problem{What: fmt.Sprintf("%s cites event %d with hash %s, but the log has only %d events: it was truncated after that was cited", c.From, c.Event, short, c.lastEvent)}
	case c.Event > 0:
		return CitedVerdict{}, &Problem{Event: c.Event, What: fmt.Sprintf("has hash %s, but %s cites it with hash %s: the log was rewritten at or before event %d after that was cited", domain.ShortHash(c.atEvent), c.From, short, c.Event)}
	case c.found == 0 && c.near > 0:
		return CitedVerdict{}, fmt.Errorf("%w: no event of %s has hash %s (%s); did you mean %s (event %d, %s)?", ErrNotCited, s.Treaty, c.Hash, c.From, c.nearHash, c.near, c.nearWhat)
	case c.found == 0:
		return CitedVerdict{}, fmt.Errorf("%w: no event of %s has hash %s (%s): check it was cited from this negotiation; if it was, the log was truncated or rewritten after (a receipt, which names the event, proves which)", ErrNotCited, s.Treaty, c.Hash, c.From)
	}
	return CitedVerdict{Hash: c.Hash, From: c.From, Event: c.found, What: c.foundWhat}, nil
}

// describeEvent says what event e, about to be folded into s, is, in the
// words a citation wants.
func describeEvent(s *domain.State, e domain.Event) string {
	switch e := e.(type) {
	case domain.TreatyOpened:
		return "the opening of the negotiation"
	case domain.RoundOpened:
		return fmt.Sprintf("the opening of round %d", e.Round)
	case domain.RoundClosed:
		return fmt.Sprintf("the close of round %d", e.Round)
	}
	if place := placePhrase(RoundPlace(s.Rounds, s.Events+1)); place != "" {
		return e.EventType() + ", " + place
	}
	return e.EventType()
}
