package projections

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
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
	l := &Live{r: r, head: head, changed: make(chan struct{})}
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
// returns no entries and the reason when following has stopped. Only the
// events folded since Follow are kept, and only the last few thousand of
// them: a watcher that fell further behind reads the negotiation afresh.
func (l *Live) Watch(ctx context.Context, after int) ([]Entry, error) {
	for {
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
