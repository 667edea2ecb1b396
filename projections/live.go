package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/internal/flight"
)

// Live keeps one negotiation's head in memory and current, for a process
// that answers many questions about it (a web workspace): it reads the head
// once, from a checkpoint where there is one, and then folds every event as
// the store's subscription delivers it, checking each as every read does.
// Questions about the head then cost no store access at all; questions about
// the past start from the head's rounds as a Reader's do.
//
// It is safe for concurrent use: one goroutine folds, any number read.
type Live struct {
	r *Reader

	mu   sync.RWMutex
	head Moment
	err  error // why following stopped; nil while it goes on
	// changed is closed and replaced after every event folded.
	changed chan struct{}
	// recent holds the entries of the events folded since Follow, for
	// those who watch them (see Watch); it keeps the last maxRecent.
	recent []Entry

	// past keeps the states of past moments that Read has read, by the
	// number of events they cover, shared read-only by every reader.
	past *flight.Cache[int, cachedMoment]
	// times keeps the event counts of time REFs that no later event can
	// change (see resolveTime).
	timesMu sync.Mutex
	times   map[string]int
}

// maxRecent bounds the entries a Live keeps for watchers that fall behind.
const maxRecent = 4096

// Follow reads the negotiation now and keeps following it until ctx ends or
// the log breaks (see Err). The store must be an eventstore.Subscriber.
func Follow(ctx context.Context, r *Reader) (*Live, error) {
	sub, ok := r.store.(eventstore.Subscriber)
	if !ok {
		return nil, fmt.Errorf("this store cannot be followed live")
	}
	head, err := r.Head(ctx)
	if err != nil {
		return nil, err
	}
	if err := readyToShare(head.State, true); err != nil {
		return nil, err
	}
	l := &Live{r: r, head: head, changed: make(chan struct{}), past: flight.New[int, cachedMoment](maxPast, nil), times: map[string]int{}}
	go l.follow(ctx, sub)
	return l, nil
}

func (l *Live) follow(ctx context.Context, sub eventstore.Subscriber) {
	l.mu.RLock()
	s, last := l.head.State, l.head.Point
	l.mu.RUnlock()
	f := newCheckedFold(s, last.Hash)
	stop := func(err error) {
		l.mu.Lock()
		l.err = err
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
	for ev, err := range sub.Subscribe(ctx, Stream(l.r.treaty), uint64(s.Events)) {
		if err != nil {
			stop(asProblem(err, s.Events+1))
			return
		}
		rec, err := DecodeEvent(ev)
		if err == nil {
			var entry Entry
			l.mu.Lock()
			if err = f.step(rec); err == nil {
				err = f.finish() // a bad signature stops the fold before it is shown
				f.sigs = nil
			}
			if err == nil {
				l.head = Moment{Point: pointAt("head", s, f.prev.Time, f.prev.Hash), State: s}
				if entry, err = EntryOf(rec); err == nil {
					l.recent = append(l.recent, entry)
					if len(l.recent) > maxRecent {
						l.recent = l.recent[len(l.recent)-maxRecent:]
					}
				}
				close(l.changed)
				l.changed = make(chan struct{})
			}
			l.mu.Unlock()
		}
		if err != nil {
			stop(asProblem(err, s.Events+1))
			return
		}
	}
	stop(ctx.Err())
}

// Err reports why the Live stopped following: the end of its context, a
// failure of the store, or a *Problem with the log. It is nil while it
// follows.
func (l *Live) Err() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.err
}

// View calls f with the negotiation now, holding it still while f runs; the
// moment and its state must not be kept after f returns.
func (l *Live) View(f func(Moment) error) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return f(l.head)
}

// Events is the number of events folded so far.
func (l *Live) Events() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.head.State.Events
}

// At returns the negotiation as it stood at ref, a state of the caller's
// own. For now, that is a Reader's fold from the round checkpoint before
// ref, with the head held still while ref is resolved.
func (l *Live) At(ctx context.Context, ref Ref) (Moment, error) {
	l.mu.RLock()
	head := l.head
	n, err := l.r.Resolve(ctx, ref, head.State)
	rounds := slices.Clone(head.State.Rounds)
	l.mu.RUnlock()
	if err != nil {
		return Moment{}, err
	}
	return l.r.StateAt(ctx, ref, n, &domain.State{Rounds: rounds})
}

// Watch returns the entries of the events folded after the first after
// (an event number), waiting until there is at least one or ctx ends. It
// returns no entries and the reason when following has stopped. The
// entries of the last few thousand events folded are kept in memory; a
// watcher further behind gets the next ones read from the store, so that
// no watcher misses an event.
func (l *Live) Watch(ctx context.Context, after int) ([]Entry, error) {
	for {
		l.mu.RLock()
		gap := after < l.head.State.Events && (len(l.recent) == 0 || l.recent[0].Event > after+1)
		l.mu.RUnlock()
		if gap {
			// Events folded before Follow, or fallen out of recent: the
			// store has them.
			return l.Entries(ctx, after, maxRecent)
		}
		l.mu.RLock()
		var out []Entry
		for _, e := range l.recent {
			if e.Event > after {
				out = append(out, e)
			}
		}
		err, changed := l.err, l.changed
		l.mu.RUnlock()
		switch {
		case len(out) > 0:
			return out, nil
		case err != nil:
			return nil, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// readyToShare builds what a state builds on first use, so that many
// readers may read it at once: the index of open proposals by clause, and
// with closed a checkpoint's closed proposals. (The views of past moments
// never read closed proposals; a past state read from a round's checkpoint
// would read megabytes to build them.)
func readyToShare(s *domain.State, closed bool) error {
	s.Draft()
	if closed {
		for _, err := range s.ClosedProposals() {
			return err
		}
	}
	return nil
}

// Reader is the Reader the Live follows with: for views that replay the
// history (blame, history, audit).
func (l *Live) Reader() *Reader { return l.r }

// Head is the point the Live has folded up to.
func (l *Live) Head() Point {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.head.Point
}

// maxPast bounds the past moments a Live keeps: a round's end of a long
// negotiation holds a megabyte or two.
const maxPast = 32

// Read resolves refs against the negotiation now and calls f with the head
// and the moments refs name (in order), holding the head still while f
// runs. Moments before the head come from a cache of the past states this
// Live has read, shared by every reader: f must not change any state it is
// given, nor keep one after it returns. A ref whose moment the log does not
// hold is a *RefError, as from a Reader.
func (l *Live) Read(ctx context.Context, refs []Ref, f func(head Moment, at []Moment) error) error {
	for {
		l.mu.RLock()
		head, stopped := l.head, l.err
		ns := make([]int, len(refs))
		var err error
		for i, ref := range refs {
			var ok bool
			if ns[i], ok, err = Resolve(ref, head.State); err != nil {
				break
			} else if !ok {
				ns[i] = -1 // a time: resolved below, without holding the head
			}
		}
		rounds := slices.Clone(head.State.Rounds)
		l.mu.RUnlock()
		if stopped != nil && !errors.Is(stopped, context.Canceled) {
			return stopped
		}
		if err != nil {
			return err
		}
		for i, ref := range refs {
			if ns[i] < 0 {
				if ns[i], err = l.resolveTime(ctx, ref, head.State.Events, rounds); err != nil {
					return err
				}
			}
		}
		past := make([]cachedMoment, len(refs))
		for i, n := range ns {
			if n < head.State.Events {
				if past[i], err = l.past.Get(ctx, n, 0, func() (cachedMoment, error) {
					// Read for whoever waits for it, not only for ctx's
					// reader, who may leave first.
					rctx := context.WithoutCancel(ctx)
					m, err := l.r.StateAt(rctx, eventRef(n), n, &domain.State{Rounds: rounds})
					if err == nil {
						err = readyToShare(m.State, false)
					}
					return cachedMoment{state: m.State, point: m.Point}, err
				}); err != nil {
					return err
				}
			}
		}
		l.mu.RLock()
		if l.head.State.Events != head.State.Events {
			// The head moved on: what was now is past. Resolve again.
			l.mu.RUnlock()
			continue
		}
		at := make([]Moment, len(refs))
		for i, n := range ns {
			if n == head.State.Events {
				at[i] = head
			} else {
				at[i] = Moment{Point: past[i].point, State: past[i].state}
			}
			at[i].Point.Ref = refs[i].text
		}
		err = f(head, at)
		l.mu.RUnlock()
		return err
	}
}

// resolveTime resolves a time REF as a Reader does, scanning the log, and
// remembers the answer once a later event shows it final.
func (l *Live) resolveTime(ctx context.Context, ref Ref, events int, rounds []domain.Round) (int, error) {
	l.timesMu.Lock()
	n, ok := l.times[ref.text]
	l.timesMu.Unlock()
	if ok {
		return n, nil
	}
	n, err := l.r.Resolve(ctx, ref, &domain.State{Events: events, Rounds: rounds})
	if err == nil && n < events {
		l.timesMu.Lock()
		if len(l.times) >= maxTimes {
			clear(l.times)
		}
		l.times[ref.text] = n
		l.timesMu.Unlock()
	}
	return n, err
}

// maxTimes bounds the time REFs a Live remembers.
const maxTimes = 1024

// Proposal finds the proposal ref names (an ID or a unique prefix) and
// returns it with its redline, as Reader.Proposal does.
func (l *Live) Proposal(ctx context.Context, ref string) (ProposalDetail, error) {
	var d ProposalDetail
	var closed *domain.Proposal
	err := l.Read(ctx, nil, func(head Moment, _ []Moment) error {
		var err error
		d, closed, err = proposalNow(head.State, ref)
		return err
	})
	if err != nil || closed == nil {
		return d, err
	}
	var out ProposalDetail
	err = l.Read(ctx, []Ref{eventRef(closed.Closed - 1)}, func(_ Moment, at []Moment) error {
		out, err = closedProposal(d, at[0].State, closed)
		return err
	})
	return out, err
}

// Rounds returns the round index, as Reader.Rounds does.
func (l *Live) Rounds(ctx context.Context) ([]RoundView, error) {
	var views []RoundView
	err := l.Read(ctx, nil, func(head Moment, _ []Moment) error {
		var err error
		views, err = roundViews(head.State)
		return err
	})
	if err != nil {
		return nil, err
	}
	return views, l.r.roundTimes(ctx, views)
}

// Entries returns the log's entries of the events after the first after,
// up to the head, at most limit of them (limit ≤ 0: all), read from the
// store.
func (l *Live) Entries(ctx context.Context, after, limit int) ([]Entry, error) {
	upto := l.Events()
	var out []Entry
	for rec, err := range Events(ctx, l.r.store, l.r.treaty, after) {
		if err != nil {
			return nil, err
		}
		if rec.Number > upto || limit > 0 && len(out) >= limit {
			break
		}
		e, err := EntryOf(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// cachedMoment is a past state a Live keeps, with its point.
type cachedMoment struct {
	state *domain.State
	point Point
}

// Resolve returns how many events ref covers now.
func (l *Live) Resolve(ctx context.Context, ref Ref) (int, error) {
	l.mu.RLock()
	n, ok, err := Resolve(ref, l.head.State)
	events, rounds := l.head.State.Events, slices.Clone(l.head.State.Rounds)
	l.mu.RUnlock()
	if err != nil || ok {
		return n, err
	}
	return l.resolveTime(ctx, ref, events, rounds)
}
