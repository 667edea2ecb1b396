package projections

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/treaty-engine/treaty/domain"
)

// Problem is the first event of a log that breaks the hash chain, a
// signature or the rules, or cannot be read. Reads and verify report it; the
// command line gives it exit status 3.
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

func problemAt(r *Recorded, format string, args ...any) *Problem {
	return &Problem{Event: r.Number, ID: r.ID.String(), Type: r.Type, What: fmt.Sprintf(format, args...)}
}

// checkedFold folds recorded events into a state and checks each as it
// goes, exactly as verify does: its place in the hash chain after the event
// before it, what is recorded about it (domain.State.CheckMeta), its
// signature, and the rules (Evolve). Signatures are checked on other cores;
// finish waits for them. Every read folds through one, so that no command
// answers from a log that does not hold together.
type checkedFold struct {
	s *domain.State
	// prev is what is recorded about the last event folded: its hash
	// chains the next, its party acted an adoption that follows.
	prev          domain.Meta
	requireSigned bool
	sigs          *signatureChecks
	last          *Recorded
	// auth counts the acts folded by what their signatures prove.
	auth Authentication
	// provisional lists, with requireSigned, the acts signed with a key
	// not yet in effect (a key ceremony's registrations and
	// endorsements): they pass if the key took effect by the end.
	provisional []provisional
}

// Authentication counts acts by what their signatures prove.
type Authentication struct {
	// Authenticated: signed with the actor's effective key.
	Authenticated int `json:"authenticated"`
	// SignedPending: signed with a key no other party had vouched for (yet).
	SignedPending int `json:"signed_pending"`
	// Unsigned: no signature (an anonymous opening, or a participant
	// without a key).
	Unsigned int `json:"unsigned"`
}

type provisional struct {
	r   *Recorded
	key string
}

// newCheckedFold folds into s, whose last event (if any) has hash prevHash.
func newCheckedFold(s *domain.State, prevHash string) *checkedFold {
	return &checkedFold{s: s, prev: domain.Meta{Hash: prevHash}}
}

// step checks and folds one event. A break is a *Problem naming it; the
// state is then as it was before the event.
func (f *checkedFold) step(r *Recorded) error {
	hash, err := f.link(r)
	if err != nil {
		return err
	}
	m, _ := r.Meta()
	pub, auth, err := f.s.CheckMeta(r.Event, m, f.prev, f.requireSigned)
	if err != nil {
		return problemAt(r, "%v", err)
	}
	switch auth {
	case domain.Authenticated:
		f.auth.Authenticated++
	case domain.SignedPending:
		f.auth.SignedPending++
		if f.requireSigned {
			f.provisional = append(f.provisional, provisional{r, m.Key})
		}
	default:
		f.auth.Unsigned++
	}
	if pub != nil {
		if f.sigs == nil {
			f.sigs = newSignatureChecks()
		}
		f.sigs.check(r, pub, hash, m.Signature, m.Party)
	}
	if err := f.s.Evolve(r.Event); err != nil {
		if domain.ErrorCode(err) == "" {
			return err // the closed proposals could not be read: no verdict on the log
		}
		return problemAt(r, "breaks the rules: %v", err)
	}
	f.prev, f.last = m, r
	return nil
}

// link checks r's place in the chain after the last event folded, once, and
// returns its hash.
func (f *checkedFold) link(r *Recorded) (string, error) {
	if r.linkedTo == f.prev.Hash && r.hash != "" {
		return r.hash, nil
	}
	m, err := r.Meta()
	if err != nil {
		return "", problemAt(r, "%v", unwrapEvent(err))
	}
	hash, err := domain.CheckLink(f.prev.Hash, r.ID.String(), r.Type, r.Data, r.RawMeta, m)
	if err != nil {
		var mis *domain.MisplacedError
		if errors.As(err, &mis) {
			mis.FollowsEvent = r.Number - 1
		}
		return "", problemAt(r, "%v", err)
	}
	r.hash, r.linkedTo = hash, f.prev.Hash
	return hash, nil
}

// finish waits for the signature checks and returns the earliest bad one.
func (f *checkedFold) finish() error {
	if f.sigs == nil {
		return nil
	}
	if bad := f.sigs.wait(); bad != nil {
		return bad
	}
	return nil
}

// settle, at the end of a log read with requireSigned, fails the first act
// signed with a key that never took effect.
func (f *checkedFold) settle() error {
	for _, p := range f.provisional {
		if k := f.s.Keys[p.key]; k == nil || k.Effective == 0 {
			return problemAt(p.r, "is signed with key %s, which never took effect: it authenticates nothing (signatures are required)", p.key)
		}
	}
	return nil
}

// signed counts the good signatures checked so far (after finish).
func (f *checkedFold) signed() int {
	if f.sigs == nil {
		return 0
	}
	return f.sigs.good
}

func unwrapEvent(err error) error {
	if e, ok := err.(*EventError); ok {
		return e.Err
	}
	return err
}

// signatureChecks verifies signatures on worker goroutines, many at once
// (signatureBatch), and remembers the earliest bad one: a signature
// costs far more than the rest of a fold.
type signatureChecks struct {
	batches chan []sigJob
	pending []sigJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	bad     *Problem
	good    int
	done    bool
}

type sigJob struct {
	r         *Recorded
	pub       ed25519.PublicKey
	hash, sig string
	party     string
}

// sigBatch is how many signatures a worker checks at once: the batch's
// shared work is then small beside each signature's. Fewer are checked as a
// batch too: two already cost less together than each alone, and checking
// one alone first builds a table of the base point, which a command that
// checks the few acts past its checkpoint would build for them alone.
const sigBatch = 256

// sigAlone is the most signatures a fold checks on its own goroutine, as
// one batch, when it has not needed the workers: the few acts a command
// folds past its checkpoint cost less checked there than the workers' start
// (goroutines that a fresh process gives threads of their own) and the
// handing over.
const sigAlone = 32

func newSignatureChecks() *signatureChecks { return &signatureChecks{} }

// start starts the workers.
func (c *signatureChecks) start() {
	workers := max(runtime.GOMAXPROCS(0), 1)
	c.batches = make(chan []sigJob, workers)
	for range workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			var b signatureBatch
			for jobs := range c.batches {
				c.checkAll(&b, jobs)
			}
		}()
	}
}

// checkAll checks jobs together and, if they fail together, each alone, to
// name the earliest bad one.
func (c *signatureChecks) checkAll(b *signatureBatch, jobs []sigJob) {
	good := 0
	var bad *Problem
	b.reset()
	for _, j := range jobs {
		b.add(j.pub, j.hash, j.sig)
	}
	if b.verify() {
		good = len(jobs)
	} else {
		for _, j := range jobs {
			if domain.CheckSignature(j.pub, j.hash, j.sig) {
				good++
			} else if bad == nil {
				bad = problemAt(j.r, "is not signed by %s: its signature does not match %s's key", j.party, j.party)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.good += good
	if bad != nil && (c.bad == nil || bad.Event < c.bad.Event) {
		c.bad = bad
	}
}

func (c *signatureChecks) check(r *Recorded, pub ed25519.PublicKey, hash, sig, party string) {
	c.pending = append(c.pending, sigJob{r: r, pub: pub, hash: hash, sig: sig, party: party})
	if len(c.pending) == sigBatch {
		if c.batches == nil {
			c.start()
		}
		c.batches <- c.pending
		c.pending = make([]sigJob, 0, sigBatch)
	}
}

// wait finishes every check and returns the earliest bad signature.
func (c *signatureChecks) wait() *Problem {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bad
}

func (c *signatureChecks) stop() {
	if c.done {
		return
	}
	c.done = true
	if c.batches == nil && len(c.pending) <= sigAlone {
		if len(c.pending) > 0 {
			var b signatureBatch
			c.checkAll(&b, c.pending)
		}
		c.pending = nil
		return
	}
	if c.batches == nil {
		c.start()
	}
	// The last few are shared among the workers rather than left to one.
	rest := c.pending
	share := (len(rest) + cap(c.batches) - 1) / cap(c.batches)
	for len(rest) > 0 {
		n := min(share, len(rest))
		c.batches <- rest[:n]
		rest = rest[n:]
	}
	c.pending = nil
	close(c.batches)
	c.wg.Wait()
}

// earliest waits for the signature checks and returns err, or the bad
// signature of an earlier event if there is one: the first problem of the
// log is the one to report.
func (f *checkedFold) earliest(err error) error {
	bad := f.finish()
	p, isProblem := err.(*Problem)
	if b, ok := bad.(*Problem); ok && (err == nil || isProblem && b.Event < p.Event) {
		return b
	}
	return err
}
