// Package write is treaty's one write path. Every act, whether a drafter's
// command, the sample negotiation, a simulation or an import, is decided by
// the domain against the negotiation as it stands, sealed into the hash
// chain, signed with the key the domain says must sign it, and appended at
// the revision it was decided against; when another writer got there
// first, the Writer folds in their events and decides again. Nothing is
// appended for an act that is refused.
package write

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

// Keys gives the private keys that sign acts.
type Keys interface {
	// PrivateKey returns the private key with ID id of party in
	// negotiation treaty, or an error saying why this machine cannot sign
	// with it.
	PrivateKey(treaty, party, id string) (ed25519.PrivateKey, error)
}

// Writer appends acts to one negotiation. It is not safe for concurrent
// use; processes and goroutines that write at once each use their own.
type Writer struct {
	Store  eventstore.Store
	Reader *projections.Reader
	// Keys signs the acts of parties with a key; nil signs nothing, and an
	// act that must be signed is then refused.
	Keys Keys
	// Now is the writer's clock (UTC); NewID makes event IDs. Zero values
	// mean time.Now and version 7 UUIDs.
	Now   func() time.Time
	NewID func() uuid.UUID

	// keys holds the private keys already fetched from Keys, by party and
	// key ID: a batch signs thousands of acts with a handful of keys.
	keys map[[2]string]ed25519.PrivateKey
}

// privateKey fetches (once) the private key id of party.
func (w *Writer) privateKey(treaty, party, id string) (ed25519.PrivateKey, error) {
	if priv, ok := w.keys[[2]string{party, id}]; ok {
		return priv, nil
	}
	if w.Keys == nil {
		return nil, fmt.Errorf("%s's acts must be signed with key %s, and no keys are at hand", party, id)
	}
	priv, err := w.Keys.PrivateKey(treaty, party, id)
	if err != nil {
		return nil, err
	}
	if w.keys == nil {
		w.keys = map[[2]string]ed25519.PrivateKey{}
	}
	w.keys[[2]string{party, id}] = priv
	return priv, nil
}

// Act is one act of a participant.
type Act struct {
	// Party acts (empty only for an anonymous opening); Author is the
	// person, as given (one line, see domain.CheckAuthor).
	Party, Author string
	// Command is what the party asks for, given the negotiation now and
	// the hash of its last event.
	Command func(s *domain.State, head string) (domain.Command, error)
}

// Outcome is what an act appended.
type Outcome struct {
	Events []domain.Event
	// First is the number of the first event appended; Head the hash of
	// the last, the log's new head.
	First int
	Head  string
	// Time is the time recorded with the act.
	Time time.Time
	// State is the negotiation just after the act.
	State *domain.State
}

// maxAttempts bounds the retries of an act that keeps losing the race to
// other writers; each attempt decides again against their events.
const maxAttempts = 50

func (w *Writer) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

// newEventID returns an ID for a new event: a version 7 UUID, ordered by
// time, so that a store's index of IDs grows at its end instead of being
// rewritten at random places. (Proposal IDs stay random, version 4: people
// quote their first characters.)
func (w *Writer) newID() uuid.UUID {
	if w.NewID != nil {
		return w.NewID()
	}
	if id, err := uuid.NewV7(); err == nil {
		return id
	}
	return uuid.New()
}

// Do carries out one act: read the negotiation now, decide, seal and sign,
// append at the revision decided against, and on a conflict fold in the
// other writers' events and decide again. A writer that closed a round
// leaves the round's checkpoint.
func (w *Writer) Do(ctx context.Context, a Act) (Outcome, error) {
	return w.DoAll(ctx, Acts{Party: a.Party, Author: a.Author, Commands: func(s *domain.State, head string) ([]domain.Command, error) {
		cmd, err := a.Command(s, head)
		return []domain.Command{cmd}, err
	}})
}

// Acts are several acts of one participant that stand or fall together:
// an imported document's proposals.
type Acts struct {
	Party, Author string
	// Commands are what the party asks for, given the negotiation now and
	// the hash of its last event; each is decided against the state the
	// ones before it leave.
	Commands func(s *domain.State, head string) ([]domain.Command, error)
}

// DoAll carries out acts as Do carries out one: every command decided in
// turn, all their events sealed into one chain and appended in one atomic
// append at the revision decided against, so that all of them are
// appended or none is. A refused command refuses them all.
func (w *Writer) DoAll(ctx context.Context, a Acts) (Outcome, error) {
	if err := domain.CheckAuthor(a.Author); err != nil {
		return Outcome{}, err
	}
	r := w.Reader
	// A head checkpoint due is worked out while the append waits for the
	// disk, and saved before the state changes.
	m, pending, err := r.HeadBeside(ctx)
	if err != nil {
		return Outcome{}, err
	}
	defer pending.Finish(ctx)
	for range maxAttempts {
		s, head := m.State, m.Point.Hash
		cmds, err := a.Commands(s, head)
		if err != nil {
			return Outcome{}, err
		}
		if len(cmds) > 1 {
			pending.Finish(ctx) // all but the last are folded in below
		}
		// Each command but the last is folded in once decided, so that
		// the next is decided after it; the last, once appended. A
		// conflict catches the state up with the other writers' events
		// when nothing of ours was folded in (one act: the fast retry of
		// a busy negotiation), else reads the negotiation afresh.
		base := s.Events
		meta := domain.Meta{Party: a.Party, Author: a.Author, Time: notBefore(w.now(), m.Point.Time)}
		var evs, last []domain.Event
		var batch []eventstore.EventData
		for i, cmd := range cmds {
			decided, err := domain.Decide(s, cmd)
			if err != nil {
				return Outcome{}, err
			}
			sealed, h, err := w.Seal(r.Treaty(), s, decided, meta, head, w.newID)
			if err != nil {
				return Outcome{}, err
			}
			if i < len(cmds)-1 {
				if err := evolve(s, decided); err != nil {
					return Outcome{}, fmt.Errorf("decided, but the events do not fold: %w", err)
				}
			}
			evs, batch, head, last = append(evs, decided...), append(batch, sealed...), h, decided
		}
		if len(batch) == 0 {
			return Outcome{State: s, Head: head, First: base + 1, Time: m.Point.Time}, nil
		}
		pending.Begin()
		_, err = w.Store.Append(ctx, projections.Stream(r.Treaty()), eventstore.Exact(uint64(base-1)), batch...)
		pending.Finish(ctx)
		if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
			if s.Events == base {
				err = r.CatchUp(ctx, &m)
			} else {
				m, err = r.Head(ctx)
			}
			if err != nil {
				return Outcome{}, err
			}
			continue
		}
		if err != nil {
			return Outcome{}, err
		}
		if err := evolve(s, last); err != nil {
			return Outcome{}, fmt.Errorf("appended, but the events do not fold: %w", err)
		}
		m.Point = projections.Point{Ref: "head", Event: s.Events, Round: len(s.Rounds), Time: batchTime(batch), Hash: head}
		r.CheckpointRound(ctx, m)
		return Outcome{Events: evs, First: base + 1, Head: head, State: s, Time: m.Point.Time}, nil
	}
	return Outcome{}, fmt.Errorf("gave up after %d attempts: other writers kept appending to %s first; try again", maxAttempts, r.Treaty())
}

// Try decides cmds in turn on s as DoAll would, each after the events of
// the ones before it, and appends nothing: a dry run. It changes s.
func Try(s *domain.State, cmds []domain.Command) error {
	for _, cmd := range cmds {
		decided, err := domain.Decide(s, cmd)
		if err != nil {
			return err
		}
		if err := evolve(s, decided); err != nil {
			return err
		}
	}
	return nil
}

// evolve folds events into s.
func evolve(s *domain.State, events []domain.Event) error {
	for _, e := range events {
		if err := s.Evolve(e); err != nil {
			return err
		}
	}
	return nil
}

// notBefore is the time to record for an act decided at now (a writer's
// clock) after an event recorded at last: the later of the two. Writers'
// clocks disagree; a log whose times never go back lets a time name a
// moment (a REF) without surprises.
func notBefore(now, last time.Time) time.Time {
	if now.Before(last) {
		return last.UTC()
	}
	return now
}

func batchTime(batch []eventstore.EventData) time.Time {
	if len(batch) == 0 {
		return time.Time{}
	}
	m, _ := domain.DecodeMeta(batch[len(batch)-1].Metadata)
	return m.Time
}

// Seal turns events decided in state s into their stored form: each with
// meta (its round filled in from s), an ID from newID, chained after prev
// (the hash of the log's last event) and signed with the key the domain
// says must sign it. It returns the batch and the hash of its last event.
func (w *Writer) Seal(treaty string, s *domain.State, evs []domain.Event, meta domain.Meta, prev string, newID func() uuid.UUID) ([]eventstore.EventData, string, error) {
	batch := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		meta.Round = s.RoundOf(e)
		var priv ed25519.PrivateKey
		switch _, id, rule := s.SigningKey(e, meta.Party); rule {
		case domain.MustSign:
			var err error
			if priv, err = w.privateKey(treaty, meta.Party, id); err != nil {
				return nil, "", err
			}
		case domain.MaySign:
			// A pending key signs when this machine holds it: once the
			// others vouch for it, its signatures say who acted.
			priv, _ = w.privateKey(treaty, meta.Party, id)
		}
		id := newID()
		meta.ID = id.String() // under the hash: a changed ID is noticed
		sealed, err := domain.SealEvent(e, meta, prev, priv)
		if err != nil {
			return nil, "", err
		}
		batch[i] = eventstore.EventData{ID: id, Type: sealed.Type, Data: sealed.Data, Metadata: sealed.Metadata}
		prev = sealed.Hash
	}
	return batch, prev, nil
}
