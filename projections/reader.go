package projections

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections/internal/checkpoint"
)

// Reader folds one negotiation's events into moments: the negotiation as it
// stood at a point. It starts from checkpoints where it has them, so that a
// command does not pay for the whole history, and checks every event it
// folds as verify does (see checkedFold): a log that does not hold together
// is reported as a *Problem, never read past.
//
// A checkpoint is a cache: a Reader without one gives the same answers,
// only slower. It is trusted only if it is authentic (see Options.Secret)
// and the log still holds the event it ends at, with the hash it recorded.
type Reader struct {
	store  eventstore.Store
	treaty string
	cps    *checkpoint.Store
	save   bool
	// every is how many events a fold may read beyond its starting
	// checkpoint before a new one is worth leaving at its end.
	every int
	// working is Options.Working.
	working func()
}

// Options adjust how a Reader uses checkpoints.
type Options struct {
	// Secret authenticates the checkpoints kept in the store's cache (see
	// eventstore.Cache): a key of this machine that an editor of the store
	// does not hold. Without one, or on a store without a cache, every fold
	// starts from the first event.
	Secret []byte
	// Save lets this Reader's folds leave checkpoints: a head checkpoint
	// when a fold read more than saveEvery (8) events past its own, and one at
	// each round's end it passes that has none. Writers leave a round's
	// when their append closes it (see CheckpointRound), and writers that
	// append many events at once a head checkpoint at their end (see
	// Checkpoint), whatever this says.
	Save bool
	// Memos, when not nil, keeps what a Reader works out and keeps to be
	// read again (the compare and positions documents, the redlines),
	// authenticated as the checkpoints are: a cache of this machine's
	// outside the store, so that keeping them writes nothing to the store.
	// Nil keeps them in the store's cache, beside the checkpoints.
	Memos eventstore.Cache
	// Working, when not nil, is called by WriteCompare and WritePositions
	// when they find no document kept and are about to work one out, before
	// they read the moments it shows: where a caller readies itself for the
	// megabytes that takes, which a kept document does not.
	Working func()
}

// Moment is a negotiation as it stood at a point.
type Moment struct {
	Point Point
	// State is the fold of the events up to the point. It belongs to the
	// caller.
	State *domain.State
}

// saveEvery is how many events past its checkpoint a fold reads before a
// new checkpoint is worth its write: no command folds many more.
const saveEvery = 8

// NewReader returns a Reader of the negotiation treaty.
func NewReader(store eventstore.Store, treaty string, opts Options) *Reader {
	r := &Reader{store: store, treaty: treaty, save: opts.Save, every: saveEvery, working: opts.Working}
	if c, ok := store.(eventstore.Cache); ok && len(opts.Secret) > 0 {
		r.cps = checkpoint.New(checkpoint.Config{Cache: c, Memos: opts.Memos, Name: Stream(treaty), Treaty: treaty,
			Secret: opts.Secret, Refold: r.refold})
	}
	return r
}

// Treaty is the negotiation the Reader reads.
func (r *Reader) Treaty() string { return r.treaty }

// Store is the store the Reader reads.
func (r *Reader) Store() eventstore.Store { return r.store }

// refold folds the first n events from the first event, without
// checkpoints: what a checkpoint's closed proposals are rebuilt from.
func (r *Reader) refold(ctx context.Context, n int) (*domain.State, error) {
	s := &domain.State{}
	if _, err := r.fold(ctx, s, n, Point{}, false); err != nil {
		return nil, err
	}
	if s.Events != n {
		return nil, fmt.Errorf("the log has %d events, not the %d a checkpoint covers", s.Events, n)
	}
	return s, nil
}

// hashOf returns the hash of event n as the log holds it, if the event is
// there and its hash matches it.
func (r *Reader) hashOf(ctx context.Context, n int) (string, bool) {
	for rec, err := range Events(ctx, r.store, r.treaty, n-1) {
		if err != nil || rec.Number != n {
			return "", false
		}
		return sealedHash(rec)
	}
	return "", false
}

// sealedHash returns rec's hash, if it matches the event.
func sealedHash(rec *Recorded) (string, bool) {
	m, err := rec.Meta()
	if err != nil {
		return "", false
	}
	h, err := domain.Seal(rec.Type, rec.Data, rec.RawMeta)
	return h, err == nil && h == m.Hash
}

// isEvent reports whether rec is event n and has hash h, a hash that
// matches the event.
func isEvent(rec *Recorded, n int, h string) bool {
	if rec.Number != n {
		return false
	}
	sealed, ok := sealedHash(rec)
	return ok && sealed == h
}

// errUnbound is foldAnchored's answer when the log no longer holds the
// event a checkpoint ended at.
var errUnbound = errors.New("the log no longer holds the event the checkpoint ended at")

// eventsPast yields the events after event n, which a checkpoint ended at
// with hash h, reading n first in the same read: when the log does not hold
// n with that hash (a hash that matches the event), it yields errUnbound and
// nothing else.
func (r *Reader) eventsPast(ctx context.Context, n int, h string) iter.Seq2[*Recorded, error] {
	return func(yield func(*Recorded, error) bool) {
		if n < 1 {
			yield(nil, errUnbound)
			return
		}
		bound := false
		for rec, err := range Events(ctx, r.store, r.treaty, n-1) {
			if !bound {
				if err != nil || !isEvent(rec, n, h) {
					yield(nil, errUnbound)
					return
				}
				bound = true
				continue
			}
			if !yield(rec, err) {
				return
			}
		}
		if !bound {
			yield(nil, errUnbound) // the log ends before n
		}
	}
}

func pointFrom(p checkpoint.Point) Point { return Point{Event: p.Events, Time: p.Time, Hash: p.Hash} }

// Head returns the negotiation now.
func (r *Reader) Head(ctx context.Context) (Moment, error) {
	m, due, err := r.head(ctx)
	if due {
		r.saveHead(ctx, m)
	}
	return m, err
}

// HeadBeside is Head for a writer about to act on the negotiation now: a
// head checkpoint that Head would save is returned unsaved, to be worked
// out beside the writer's append (see Pending). The Pending is nil when
// there is none, or when saving it changes the state (it is saved then).
func (r *Reader) HeadBeside(ctx context.Context) (Moment, *Pending, error) {
	m, due, err := r.head(ctx)
	if !due {
		return m, nil, err
	}
	h := r.cps.PrepareHead(ctx, m.State, checkpointAt(m))
	if h == nil {
		r.saveHead(ctx, m)
		return m, nil, nil
	}
	return m, &Pending{head: h}, nil
}

// A Pending is a head checkpoint of a moment's state, worked out on
// another goroutine from Begin on, and saved by Finish. From Begin until
// Finish returns, nothing may change that state. The methods of a nil
// Pending do nothing.
type Pending struct {
	head     *checkpoint.PendingHead
	encoded  chan struct{}
	finished bool
}

// Begin starts working the checkpoint out on another goroutine, once.
func (p *Pending) Begin() {
	if p == nil || p.encoded != nil || p.finished {
		return
	}
	p.encoded = make(chan struct{})
	go func() {
		defer close(p.encoded)
		p.head.Encode()
	}()
}

// Finish works the checkpoint out (or waits for Begin's goroutine to),
// and saves it, once: the state may change after it returns. Failing to
// save is not an error a writer must see.
func (p *Pending) Finish(ctx context.Context) {
	if p == nil || p.finished {
		return
	}
	p.finished = true
	if p.encoded == nil {
		p.head.Encode()
	} else {
		<-p.encoded
	}
	_ = p.head.Write(ctx)
}

// head returns the negotiation now, and whether a head checkpoint of it is
// due.
func (r *Reader) head(ctx context.Context) (Moment, bool, error) {
	s, last := &domain.State{}, Point{}
	if cs, p, ok := r.cps.Head(ctx); ok {
		s, last = cs, pointFrom(p)
	}
	s, last, start, err := r.foldFrom(ctx, s, -1, last)
	if err != nil {
		return Moment{}, false, err
	}
	if s.Events == 0 {
		return Moment{}, false, r.noTreaty()
	}
	return Moment{Point: pointOf(Head, s, last), State: s}, r.save && s.Events-start > r.every, nil
}

// Complete returns the negotiation now with every proposal whole, closed ones
// included (domain.State.KeepClosed). It folds the whole log, from the first
// event: checkpoints keep only the present. Every closed proposal is kept
// whole in memory: AllProposals lists them all in memory bounded by the
// state.
func (r *Reader) Complete(ctx context.Context) (Moment, error) {
	s := &domain.State{KeepClosed: true}
	last, err := r.fold(ctx, s, -1, Point{}, false)
	if err != nil {
		return Moment{}, err
	}
	if s.Events == 0 {
		return Moment{}, r.noTreaty()
	}
	return Moment{Point: pointOf(Head, s, last), State: s}, nil
}

// noTreaty is the error of a read that found no event of the negotiation.
func (r *Reader) noTreaty() error {
	return fmt.Errorf("%w %q in this store; `treaty list` shows the negotiations it holds", ErrNoTreaty, r.treaty)
}

// CatchUp folds into m (a moment of this negotiation, e.g. from Head) the
// events appended since it was read, and moves its point to the new head.
func (r *Reader) CatchUp(ctx context.Context, m *Moment) error {
	last, err := r.fold(ctx, m.State, -1, m.Point, false)
	if err != nil {
		return err
	}
	m.Point = pointOf(Head, m.State, last)
	return nil
}

// At returns the negotiation as it stood at ref.
func (r *Reader) At(ctx context.Context, ref Ref) (Moment, error) {
	head, err := r.Head(ctx)
	if err != nil || ref.kind == refHead {
		return head, err
	}
	return r.AtFrom(ctx, ref, head)
}

// AtFrom returns the negotiation as it stood at ref, given head, the
// negotiation now (which it returns, relabelled, when ref is now).
func (r *Reader) AtFrom(ctx context.Context, ref Ref, head Moment) (Moment, error) {
	n, err := r.Resolve(ctx, ref, head.State)
	if err != nil {
		return Moment{}, err
	}
	if n == head.State.Events {
		head.Point.Ref = ref.text
		return head, nil
	}
	return r.StateAt(ctx, ref, n, head.State)
}

// Resolve returns how many events ref covers, given the state now.
func (r *Reader) Resolve(ctx context.Context, ref Ref, head *domain.State) (int, error) {
	n, ok, err := Resolve(ref, head)
	if err != nil || ok {
		return n, err
	}
	// A time: every event recorded at or before it, up to the first one
	// recorded after it. A moment is a beginning of the log, so in a log
	// whose times go back somewhere (a writer's clock was behind; verify
	// warns of it) an event counts as recorded at the latest time before
	// it: it belongs to no moment that leaves out an event before it.
	n = 0
	var first time.Time
	for rec, err := range Events(ctx, r.store, r.treaty, 0) {
		if err != nil {
			return 0, err
		}
		m, err := rec.Meta()
		if err != nil {
			return 0, err
		}
		if rec.Number == 1 {
			first = m.Time
		}
		if m.Time.After(ref.t) {
			break
		}
		n = rec.Number
	}
	if n == 0 {
		return 0, &RefError{Ref: ref.text, Why: fmt.Sprintf("the negotiation had not begun: it opened at %s", first.Format(time.RFC3339))}
	}
	return n, nil
}

// StateAt returns the negotiation after its first n events, labelled with
// ref. head, the state now, tells which checkpoints may help.
func (r *Reader) StateAt(ctx context.Context, ref Ref, n int, head *domain.State) (Moment, error) {
	return r.stateAt(ctx, ref, n, head, "")
}

// stateAt is StateAt, given checked, the hash of event n as this command
// read it from the log and checked it against the event (documentName's
// for a moment before the head it named the document by), or "". A round's
// checkpoint that ends at event n with that hash is bound to the log by
// it: the event is not read again to anchor it.
func (r *Reader) stateAt(ctx context.Context, ref Ref, n int, head *domain.State, checked string) (Moment, error) {
	s, last := &domain.State{}, Point{}
	// Start from the latest round checkpoint at or before n.
	for i := len(head.Rounds) - 1; i >= 0 && r.cps != nil; i-- {
		if c := head.Rounds[i].Closed; c != 0 && c <= n {
			if cs, p, ok := r.cps.Round(ctx, head.Rounds[i].Number, n); ok {
				s, last = cs, pointFrom(p)
				break
			}
		}
	}
	if checked == "" || s.Events != n || last.Event != n || last.Hash != checked {
		var err error
		if s, last, _, err = r.foldFrom(ctx, s, n, last); err != nil {
			return Moment{}, err
		}
	}
	if s.Events != n {
		return Moment{}, &RefError{Ref: ref.text, Why: fmt.Sprintf("the negotiation has %d events", s.Events)}
	}
	return Moment{Point: pointOf(ref, s, last), State: s}, nil
}

func pointOf(ref Ref, s *domain.State, last Point) Point {
	return pointAt(ref.text, s, last.Time, last.Hash)
}

// fold folds events into s until it holds n events (n < 0: all of them),
// checking each (see checkedFold), and returns the point of the last event
// folded (last, when none was). With save, it leaves a checkpoint at each
// round's end it passes that has none.
func (r *Reader) fold(ctx context.Context, s *domain.State, n int, last Point, save bool) (Point, error) {
	return r.foldVisit(ctx, s, n, last, save, false, nil)
}

// foldAnchored is fold from a checkpoint's state s, which ended at last: in
// the same read as the events after it, it first checks that the log still
// holds that event, with the same hash, a hash that matches the event. With
// the chain checked past it by the fold, that binds the checkpoint to the
// whole log before it. When the log does not hold it, it folds nothing and
// returns errUnbound.
func (r *Reader) foldAnchored(ctx context.Context, s *domain.State, n int, last Point, save bool) (Point, error) {
	return r.foldVisit(ctx, s, n, last, save, true, nil)
}

// foldFrom is foldAnchored from s, a checkpoint's state that ended at last
// (or an empty state), falling back to a fold of a new state from the first
// event when the log no longer holds the event the checkpoint ended at. It
// returns the state folded and the number of events it was folded from.
func (r *Reader) foldFrom(ctx context.Context, s *domain.State, n int, last Point) (*domain.State, Point, int, error) {
	start := s.Events
	last, err := r.foldAnchored(ctx, s, n, last, r.save)
	if errors.Is(err, errUnbound) {
		s, start = &domain.State{}, 0
		last, err = r.fold(ctx, s, n, Point{}, r.save)
	}
	return s, last, start, err
}

// Folded is one event as a replay of the history sees it, just after it
// was folded.
type Folded struct {
	Rec  *Recorded
	Meta domain.Meta
	// For an adoption: the proposal adopted, whole, and its clause as it
	// stood before (the state after holds it as it stands now); for a
	// declined adoption ad referendum, the clause as it stood before.
	Adopted *domain.Proposal
	Was     domain.Clause
}

// foldVisit is fold, calling visit (when not nil) after each event with the
// state just after it.
// With anchored, the first event read is the one s ended at (last), checked
// as foldAnchored says.
func (r *Reader) foldVisit(ctx context.Context, s *domain.State, n int, last Point, save, anchored bool, visit func(Folded, *domain.State) error) (Point, error) {
	anchored = anchored && s.Events > 0
	if n >= 0 && s.Events >= n && !anchored {
		return last, nil
	}
	events := Events(ctx, r.store, r.treaty, s.Events)
	if anchored {
		events = r.eventsPast(ctx, s.Events, last.Hash)
	}
	f := newCheckedFold(s, last.Hash)
	for rec, err := range events {
		if errors.Is(err, errUnbound) {
			return last, err
		}
		if n >= 0 && s.Events >= n {
			break // anchored where it was to end: the anchor is checked
		}
		if err != nil {
			return last, f.earliest(asProblem(err, s.Events+1))
		}
		var ev Folded
		if visit != nil {
			switch e := rec.Event.(type) {
			case domain.ProposalAdopted:
				ev.Adopted = s.Proposals[e.Proposal]
				if c := s.Clauses[e.Clause]; c != nil {
					ev.Was = *c
				}
			case domain.AdoptionDeclined:
				if c := s.Clauses[e.Clause]; c != nil {
					ev.Was = *c
				}
			}
		}
		if err := f.step(rec); err != nil {
			return last, f.earliest(err)
		}
		if visit != nil {
			ev.Rec, ev.Meta = rec, f.prev
			if err := visit(ev, s); err != nil {
				f.finish()
				return last, err
			}
		}
		if c, ok := rec.Event.(domain.RoundClosed); ok && save && r.cps != nil && !r.cps.HasRound(ctx, c.Round) {
			_ = r.cps.SaveRound(ctx, c.Round, s, checkpoint.Point{Events: s.Events, Hash: f.prev.Hash, Time: f.prev.Time})
		}
		if n >= 0 && s.Events >= n {
			break
		}
	}
	if err := f.finish(); err != nil {
		return last, err
	}
	if f.last != nil {
		last = Point{Event: s.Events, Time: f.prev.Time, Hash: f.prev.Hash}
	}
	// A log may be read up to a point inside one append, but it may not end
	// inside one.
	if p := s.Due(); p != "" && n < 0 {
		return last, problemAt(f.last, "completes every party's acceptance of proposal %s, but the log ends without its adoption", domain.Short(p))
	}
	return last, nil
}

// asProblem turns a failure to read the event numbered next into the
// Problem it is when the log itself is at fault: an event that does not
// decode, or a store whose own bookkeeping shows it was edited.
func asProblem(err error, next int) error {
	var ee *EventError
	switch {
	case errors.As(err, &ee):
		return &Problem{Event: ee.Number, ID: ee.ID.String(), Type: ee.Type, What: ee.Err.Error()}
	case errors.Is(err, eventstore.ErrCorrupt):
		return &Problem{Event: next, What: fmt.Sprintf("cannot be read: %v", err)}
	}
	return err
}

func (r *Reader) saveHead(ctx context.Context, m Moment) {
	_ = r.cps.SaveHead(ctx, m.State, checkpointAt(m))
}

// checkpointAt is the point a checkpoint of m records.
func checkpointAt(m Moment) checkpoint.Point {
	return checkpoint.Point{Events: m.Point.Event, Hash: m.Point.Hash, Time: m.Point.Time}
}

// Checkpoint leaves a checkpoint of m, the negotiation now, for the next
// reader; writers call it after appending. When m's last event closed a
// round, it is that round's checkpoint too (see CheckpointRound).
func (r *Reader) Checkpoint(ctx context.Context, m Moment) {
	if r.cps == nil {
		return
	}
	r.CheckpointRound(ctx, m)
	r.saveHead(ctx, m)
}

// CheckpointRound leaves a checkpoint of m as the end of the round its last
// event closed, if it closed one and the round has none: diffs between
// rounds start there. Writers that append many rounds without folding them
// (simulate, import) call it at each round's end, and Checkpoint once at
// their end.
func (r *Reader) CheckpointRound(ctx context.Context, m Moment) {
	s := m.State
	if r.cps == nil || len(s.Rounds) == 0 {
		return
	}
	last := s.Rounds[len(s.Rounds)-1]
	if last.Closed != s.Events || r.cps.HasRound(ctx, last.Number) {
		return
	}
	_ = r.cps.SaveRound(ctx, last.Number, s, checkpointAt(m))
}
