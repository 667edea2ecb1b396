package projections

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// Problem is the first event of a log that breaks the rules, the hash chain
// or a signature, or cannot be read.
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
	var s domain.State
	var prev *Recorded
	prevHash, headFound := "", opts.Head == ""
	if opts.Head != "" && (len(opts.Head) < 8 || strings.Trim(strings.ToLower(opts.Head), "0123456789abcdef") != "") {
		return v, fmt.Errorf("--head %q is not a hash: give at least 8 hex digits of one", opts.Head)
	}
	wantHead := strings.ToLower(opts.Head)

	// Signatures are checked on other cores: ed25519 verification costs far
	// more than the rest of the replay.
	sigs := newSignatureChecks()
	defer sigs.stop()
	fail := func(r *Recorded, format string, args ...any) (Verification, error) {
		p := &Problem{Event: r.Number, ID: r.ID.String(), Type: r.Type, What: fmt.Sprintf(format, args...)}
		if bad := sigs.wait(); bad != nil && bad.Event < p.Event {
			p = bad
		}
		v.Problem = p
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
				return fail(&Recorded{Number: s.Events + 1}, "cannot be read: %v", err)
			}
			return v, err
		}
		r := &Recorded{Number: int(rec.Revision) + 1, ID: rec.ID, Type: rec.Type, Data: rec.Data, RawMeta: rec.Metadata}
		if opts.Progress != nil {
			opts.Progress(r.Number)
		}
		if want := s.Events + 1; r.Number != want {
			return fail(r, "is stored at revision %d where revision %d was next: the log has a gap", rec.Revision, want-1)
		}
		m, err := domain.DecodeMeta(rec.Metadata)
		if err != nil {
			return fail(r, "%v", err)
		}
		// The chain first: it says what was done to the log, which
		// matters more than what the changed event now says.
		if m.Hash == "" {
			return fail(r, "carries no hash: it was written outside treaty, or its hash was removed")
		}
		hash, err := domain.Seal(rec.Type, rec.Data, rec.Metadata)
		if err != nil {
			return fail(r, "cannot be hashed: %v", err)
		}
		switch {
		case hash != m.Hash:
			return fail(r, "does not match its hash: its type, data or metadata was changed after it was written")
		case m.Prev != prevHash && prevHash == "":
			return fail(r, "is the first event, but is chained to an event before it (%s): the events before it were deleted", short12(m.Prev))
		case m.Prev != prevHash:
			return fail(r, "is chained to the event with hash %s, but follows %s (event %d): an event before it was deleted, inserted or moved", short12(m.Prev), short12(prevHash), r.Number-1)
		}
		if strings.HasPrefix(hash, wantHead) {
			headFound = true
		}
		e, err := domain.Decode(rec.Type, rec.Data)
		if err != nil {
			return fail(r, "%v", err)
		}
		r.Event = e
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
		if c, ok := e.(domain.RoundClosed); ok && c.Head != prevHash {
			return fail(r, "records the round's head as %s, but the event before it has hash %s", short12(c.Head), short12(prevHash))
		}
		if problem := checkSigner(&s, e, m, opts.RequireSignatures); problem != "" {
			return fail(r, "%s", problem)
		}
		if m.Signature != "" {
			pub, _, _ := signerKey(&s, e, m.Party)
			sigs.check(r, pub, hash, m.Signature, m.Party)
		}
		if err := s.Evolve(e); err != nil {
			return fail(r, "breaks the rules: %v", err)
		}
		if m.Party != "" {
			if _, known := s.Party(m.Party); !known {
				return fail(r, "was recorded as acted by %q, who is not a participant", m.Party)
			}
		} else if isRoundEvent(e) {
			return fail(r, "records no acting party")
		}
		prev, prevHash = r, hash
		prev.meta, prev.decoded = m, true
	}
	v.Events = s.Events
	if s.Events == 0 {
		return v, fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
	}
	if p := s.Pending(); p != "" {
		return fail(prev, "completes every party's acceptance of proposal %s, but the log ends without its adoption", domain.Short(p))
	}
	if bad := sigs.wait(); bad != nil {
		v.Problem = bad
		return v, nil
	}
	v.Head = prevHash
	if !headFound {
		v.Problem = &Problem{What: fmt.Sprintf("the log does not contain head %s: it was truncated or rewritten after that head was cited (its head now is %s, event %d)", opts.Head, short12(prevHash), s.Events)}
		return v, nil
	}
	v.OK = true
	v.Signed = sigs.good
	v.Rounds = len(s.Rounds)
	v.Clauses = len(s.Draft())
	for range s.AllProposals() {
		v.Proposals++
	}
	return v, nil
}

func short12(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func isRoundEvent(e domain.Event) bool {
	switch e.(type) {
	case domain.RoundOpened, domain.RoundClosed:
		return true
	}
	return false
}

// signerKey returns the key that must sign an act of party in state s: the
// party's current key, or for its first key's registration the key being
// registered (which proves the registering machine holds it).
func signerKey(s *domain.State, e domain.Event, party string) (ed25519.PublicKey, string, bool) {
	if pub, id, ok := s.KeyOf(party); ok {
		return pub, id, true
	}
	if k, ok := e.(domain.PartyKeyRegistered); ok && k.Party == party {
		if pub, err := domain.ParseKey(k.Key); err == nil {
			return pub, domain.KeyID(pub), true
		}
	}
	return nil, "", false
}

// checkSigner checks, before the signature itself, that an event is signed
// when it must be and names the key it must be signed with.
func checkSigner(s *domain.State, e domain.Event, m domain.Meta, require bool) string {
	if m.Party == "" {
		if m.Signature != "" {
			return "is signed but records no acting party"
		}
		return ""
	}
	_, id, keyed := signerKey(s, e, m.Party)
	switch {
	case keyed && m.Signature == "":
		return fmt.Sprintf("is an unsigned act of %s, who registered key %s", m.Party, id)
	case keyed && m.Key != id:
		return fmt.Sprintf("is signed with key %q, but %s's key is %s", m.Key, m.Party, id)
	case !keyed && m.Signature != "":
		return fmt.Sprintf("is signed with key %q, which %s never registered", m.Key, m.Party)
	case !keyed && require:
		return fmt.Sprintf("is an unsigned act of %s (signatures are required)", m.Party)
	}
	return ""
}

// signatureChecks verifies signatures on worker goroutines and remembers
// the earliest bad one.
type signatureChecks struct {
	jobs chan sigJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	bad  *Problem
	good int
	done bool
}

type sigJob struct {
	r         *Recorded
	pub       ed25519.PublicKey
	hash, sig string
	party     string
}

func newSignatureChecks() *signatureChecks {
	c := &signatureChecks{jobs: make(chan sigJob, 256)}
	for range max(runtime.GOMAXPROCS(0), 1) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for j := range c.jobs {
				ok := domain.CheckSignature(j.pub, j.hash, j.sig)
				c.mu.Lock()
				if ok {
					c.good++
				} else if c.bad == nil || j.r.Number < c.bad.Event {
					c.bad = &Problem{Event: j.r.Number, ID: j.r.ID.String(), Type: j.r.Type,
						What: fmt.Sprintf("is not signed by %s: its signature does not match %s's key", j.party, j.party)}
				}
				c.mu.Unlock()
			}
		}()
	}
	return c
}

func (c *signatureChecks) check(r *Recorded, pub ed25519.PublicKey, hash, sig, party string) {
	c.jobs <- sigJob{r: r, pub: pub, hash: hash, sig: sig, party: party}
}

// wait finishes every check and returns the earliest bad signature.
func (c *signatureChecks) wait() *Problem {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bad
}

func (c *signatureChecks) stop() {
	if !c.done {
		c.done = true
		close(c.jobs)
		c.wg.Wait()
	}
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
	case domain.PartyKeyRegistered:
		return e.Party, true
	case domain.ProposalAdopted:
		if prev != nil {
			return prev.meta.Party, true
		}
	}
	return "", false
}
