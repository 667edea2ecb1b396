package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) simulateCommand() *cobra.Command {
	var o simOptions
	c := &cobra.Command{
		Use:   "simulate --clauses N --rounds R --events E [--seed S] [--edit words|rewrite] [--resume]",
		Short: "Write a large synthetic negotiation, to size a store or measure speed",
		Long: `Generate a negotiation of exactly E events over R rounds on N clauses, through
the real rules and the real store (appended in batches), the same for the same
seed. Parties table insertions, amendments and the odd deletion; they
accept, object and withdraw; stale proposals get withdrawn. The
negotiation's ID is --treaty, "simulation" by default.

--edit is how an amendment changes a clause's agreed text: words (the
default) replaces, inserts or deletes one to four of its words; rewrite
replaces the whole text with a new one, for the heaviest redlines.

Interrupted (Ctrl-C), it keeps the batches appended so far, says how many
events that is, and exits with status 130. The same command run again
carries on to the requested size: it decides the simulation afresh, checks
that the events in the store are its beginning, byte for byte, and appends
the rest. --resume says that this is what is wanted: it is refused when the
store holds no beginning of the simulation to carry on. A negotiation of that
ID that is not this simulation (another seed, other sizes, another --edit,
other acts) is refused.`,
		Example: `  treaty --store /tmp/big.db simulate --clauses 200 --rounds 20 --events 100000
  treaty --store /tmp/big.db simulate --clauses 200 --rounds 20 --events 100000 --resume
  treaty --store /tmp/heavy.db simulate --clauses 200 --rounds 20 --events 100000 --edit rewrite
  treaty --store /tmp/big.db draft --agreed-only | head`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.listen()
			switch {
			case o.clauses < 1:
				return usagef("--clauses must be at least 1")
			case o.rounds < 1:
				return usagef("--rounds must be at least 1")
			case !slices.Contains(simEdits, o.edit):
				return usagef("--edit is %s, not %q", strings.Join(simEdits, " or "), o.edit)
			case o.events < o.minEvents():
				return usagef("--events must be at least %d for %d rounds (an opening, %seach round opened, used and closed)",
					o.minEvents(), o.rounds, map[bool]string{true: "each participant's key and its endorsements, ", false: ""}[o.signed])
			}
			o.treaty = a.treaty
			if o.signed {
				kr, err := a.keyring()
				if err != nil {
					return err
				}
				o.keys = kr
			}
			if o.treaty == "" {
				o.treaty = "simulation"
			}
			// Resuming needs a store to resume in.
			store, err := a.openStore(cmd.Context(), !o.resume)
			if err != nil {
				return err
			}
			w, err := a.writerOf(a.readerOf(store, o.treaty))
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			stored, err := storedEvents(ctx, store, o.treaty)
			switch {
			case err != nil:
				return err
			case stored == 0 && o.resume:
				return fmt.Errorf("the store %s holds no negotiation %s to resume; simulate without --resume starts one", a.storeName(), o.treaty)
			case stored > 0 && stored <= o.events:
				a.info("The store %s holds %d events of %s: checking that they begin this simulation of %d, to carry on from there.", a.storeName(), stored, o.treaty, o.events)
			}
			update, done := a.progress(o.events, "simulating")
			started := time.Now()
			res, err := simulate(ctx, w, o, stored, update)
			done()
			var race *simRace
			var notThis *simNotThis
			switch {
			case errors.Is(err, context.Canceled):
				// Interrupted: what is in the store is a beginning of the
				// simulation, which a run of the same command carries on.
				kept, serr := storedEvents(context.WithoutCancel(ctx), store, o.treaty)
				if serr != nil {
					return &interrupted{fmt.Sprintf("interrupted, and the store %s cannot say how many events of %s it holds: %v", a.storeName(), o.treaty, serr)}
				}
				return &interrupted{fmt.Sprintf("interrupted: %d of the %d events of %s are in the store %s; run the same command again (or with --resume) to carry on", kept, o.events, o.treaty, a.storeName())}
			case errors.As(err, &notThis):
				return fmt.Errorf("the store %s already holds a negotiation %s that is not this simulation (another seed, other sizes, another --edit or other acts): %v; choose another --treaty or store", a.storeName(), o.treaty, notThis)
			case errors.As(err, &race) && race.appended == 0:
				return fmt.Errorf("another writer opened a negotiation %s in %s while this one was being simulated; nothing was appended: choose another --treaty or store", o.treaty, a.storeName())
			case errors.As(err, &race):
				return fmt.Errorf("another writer appended to negotiation %s in %s while it was being simulated: its first %d events are in the store and the rest was not appended; simulate into another --treaty or store, where nobody else writes", o.treaty, a.storeName(), race.appended)
			case err != nil:
				return err
			}
			elapsed := time.Since(started)
			rate := float64(res.events) / elapsed.Seconds()
			if a.format == "json" {
				return a.writeJSON(map[string]any{"treaty": o.treaty, "events": res.events, "clauses": o.clauses,
					"rounds": o.rounds, "edit": o.edit, "proposals": res.proposals, "adopted": res.adopted, "withdrawn": res.withdrawn,
					"seconds": elapsed.Seconds(), "events_per_second": rate, "resumed": stored})
			}
			fmt.Fprintf(a.stdout, "Simulated %s: %d events in %.2f s (%.0f events/s); %d clauses, %d rounds, %d proposals (%d adopted, %d withdrawn).\n",
				o.treaty, res.events, elapsed.Seconds(), rate, o.clauses, o.rounds, res.proposals, res.adopted, res.withdrawn)
			if stored > 0 {
				fmt.Fprintf(a.stdout, "Resumed: %d events were in the store already; %d appended.\n", stored, res.events-stored)
			}
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&o.clauses, "clauses", 50, "number of clauses")
	f.IntVar(&o.rounds, "rounds", 5, "number of rounds")
	f.IntVar(&o.events, "events", 10000, "number of events")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the generator: the same seed gives the same negotiation")
	f.StringVar(&o.edit, "edit", simEditWords, "how an amendment changes agreed text: words (one to four of them) or rewrite (the whole text)")
	f.BoolVar(&o.signed, "signed", false, "give every participant a key (kept in --keys DIR) and sign every act")
	f.BoolVar(&o.resume, "resume", false, "carry on an interrupted simulation in this store (refused if there is none)")
	return c
}

// storedEvents counts the events the store holds of negotiation treaty.
func storedEvents(ctx context.Context, store eventstore.Store, treaty string) (int, error) {
	stream := projections.Stream(treaty)
	streams, err := store.Streams(ctx, stream)
	if err != nil {
		return 0, err
	}
	for _, s := range streams {
		if s.Name == stream {
			return int(s.Events), nil
		}
	}
	return 0, nil
}

// interrupted is a command stopped by an interrupt (Ctrl-C), with what it
// leaves behind: exit status 130.
type interrupted struct{ msg string }

func (e *interrupted) Error() string { return e.msg }
func (e *interrupted) Unwrap() error { return context.Canceled }

type simOptions struct {
	treaty                  string
	clauses, rounds, events int
	seed                    uint64
	edit                    string // simEditWords or simEditRewrite; empty is simEditWords
	signed, resume          bool
	keys                    keyring
}

// simEndorsements is how many endorsements make every simulated
// participant's key effective: each party vouches for every other
// participant.
func simEndorsements() int {
	parties := 0
	for _, p := range simParties {
		if p.Role == domain.RoleParty {
			parties++
		}
	}
	return parties * (len(simParties) - 1)
}

// minEvents is the fewest events a simulation can have.
func (o simOptions) minEvents() int {
	n := 1 + 3*o.rounds
	if o.signed {
		n += len(simParties) + simEndorsements()
	}
	return n
}

type simResult struct {
	events, proposals, adopted, withdrawn int
}

// simNotThis is a negotiation of the simulation's ID in the store that is
// not a beginning of it; detail says how it differs.
type simNotThis struct{ detail string }

func (e *simNotThis) Error() string { return e.detail }

// simRace is another writer appending to the negotiation while it was
// being simulated: a simulation expects to be the only writer, and its next
// append fails. appended counts the simulation's events appended before.
type simRace struct{ appended int }

func (e *simRace) Error() string {
	return fmt.Sprintf("another writer appended to the negotiation after the simulation's first %d events", e.appended)
}

// simBatch is how many events simulate appends at once; commands are never
// split across batches.
const simBatch = 2000

var simParties = []domain.Party{
	{Code: "UA", Name: "Ukraine", Role: domain.RoleParty},
	{Code: "US", Name: "United States", Role: domain.RoleParty},
	{Code: "EU", Name: "European Union", Role: domain.RoleParty},
	{Code: "UK", Name: "United Kingdom", Role: domain.RoleParty},
	{Code: "DE", Name: "Germany", Role: domain.RoleObserver},
}

// The edit styles of simulate --edit.
const (
	// simEditWords amends a few words of a clause, as drafters do: the
	// default, and the only style before --edit, so its negotiations are
	// the same as they were.
	simEditWords = "words"
	// simEditRewrite replaces a clause's whole text at each amendment: every
	// redline strikes and inserts nearly everything.
	simEditRewrite = "rewrite"
)

var simEdits = []string{simEditWords, simEditRewrite}

var simWords = strings.Fields(`the parties shall may consult within hours days assistance measures fund
reconstruction security guarantee commission report monitor review sanctions territory sovereignty
integrity charter united nations framework agreement article paragraph provision implementation
obligation right party state ukraine european union states kingdom in of and or to for with by on
under without prejudice notwithstanding accordance subject consent unanimous annual quarterly joint
сторони зобов'язуються гарантії безпеки відбудова угода україна`)

// simulator chooses acts the way a busy negotiation might, and lets the
// domain decide them through the write path.
type simulator struct {
	rng     *rand.Rand
	b       *write.Batch
	s       *domain.State // the batch's
	opts    simOptions
	open    idSet // open proposals that can still be accepted
	stale   idSet // open but stale: their proposers withdraw them
	clauses []string
	at      time.Time
	res     simResult
	ids     *rand.ChaCha8
}

// simulate writes the negotiation o describes through w, whose reader
// leaves the checkpoints: one at each round's end, for diffs between
// rounds, and one of the head at the end, for every other command. The
// store holds the first stored events of it already, from a run
// interrupted: they are decided again, checked against the store and not
// appended.
func simulate(ctx context.Context, w *write.Writer, o simOptions, stored int, progress func(int)) (simResult, error) {
	// Event and proposal IDs follow from the seed and the treaty ID, so two
	// simulations with one seed can share a store.
	seed := sha256.Sum256(fmt.Appendf(nil, "%d/%s", o.seed, o.treaty))
	if stored > o.events {
		return simResult{}, &simNotThis{fmt.Sprintf("it has %d events, more than %d", stored, o.events)}
	}
	b := w.NewBatch(o.treaty)
	sim := &simulator{rng: rand.New(rand.NewPCG(o.seed, 0x7472656174790a)), b: b, s: b.State(), opts: o, ids: rand.NewChaCha8(seed),
		at: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	for i := range o.clauses {
		sim.clauses = append(sim.clauses, fmt.Sprintf("clause-%03d", i+1))
	}
	flush := func() error {
		// Those of the buffered events that the store holds already,
		// from the run interrupted, are checked and not appended again.
		if skip := stored - (b.Events() - b.Buffered()); skip > 0 {
			var differs *write.NotSameError
			if err := b.Skip(ctx, skip); errors.As(err, &differs) {
				return &simNotThis{differs.Error()}
			} else if err != nil {
				return err
			}
		}
		if err := b.Flush(ctx); errors.Is(err, eventstore.ErrWrongExpectedRevision) {
			return &simRace{appended: b.Events() - b.Buffered()}
		} else if err != nil {
			return err
		}
		progress(sim.s.Events)
		return nil
	}
	do := func(c domain.Command, party string) error {
		sim.at = sim.at.Add(time.Duration(5+sim.rng.IntN(120)) * time.Second)
		act := write.Act{Party: party, Author: "sim-" + strings.ToLower(cmp.Or(party, "secretariat")),
			Command: func(_ *domain.State, head string) (domain.Command, error) {
				if cl, ok := c.(domain.CloseRound); ok {
					cl.Head = head
					return cl, nil
				}
				return c, nil
			}}
		evs, err := b.Do(act, sim.at, sim.eventID)
		if err != nil {
			return fmt.Errorf("simulated %T by %s refused: %w", c, party, err)
		}
		for _, e := range evs {
			sim.observe(e)
		}
		if b.Buffered() >= simBatch {
			return flush()
		}
		return ctx.Err()
	}
	// Opened by nobody in particular, as `treaty init` without --as: no
	// participant has a key yet to sign it with.
	// The title names a style other than the default, so that a resumed
	// run of another style differs from the first event on; the default's
	// is the title it always had.
	title := fmt.Sprintf("Simulated negotiation (seed %d)", o.seed)
	if o.edit == simEditRewrite {
		title = fmt.Sprintf("Simulated negotiation (seed %d, amendments rewriting whole texts)", o.seed)
	}
	if err := do(domain.OpenTreaty{Treaty: o.treaty, Title: title, Parties: simParties}, ""); err != nil {
		return sim.res, err
	}
	for _, p := range simParties {
		if !o.signed {
			break
		}
		// With --signed every participant gets a key that follows from
		// the seed, kept in the key directory so that later commands can
		// act; a first key signs its own registration.
		keySeed := sha256.Sum256(fmt.Appendf(nil, "key/%s/%x", p.Code, seed))
		priv := ed25519.NewKeyFromSeed(keySeed[:])
		if _, err := o.keys.save(o.treaty, p.Code, priv); err != nil {
			return sim.res, err
		}
		if err := do(domain.RegisterKey{Party: p.Code, Key: priv.Public().(ed25519.PublicKey)}, p.Code); err != nil {
			return sim.res, err
		}
	}
	// Then every party vouches for every other participant's key: the
	// keys take effect together when the last endorsement lands.
	for _, by := range simParties {
		for _, subject := range simParties {
			if !o.signed || by.Role != domain.RoleParty || by.Code == subject.Code {
				continue
			}
			if err := do(domain.EndorseKey{Party: by.Code, Subject: subject.Code}, by.Code); err != nil {
				return sim.res, err
			}
		}
	}
	for round := 1; round <= o.rounds; round++ {
		// Spread what is left evenly over the rounds left.
		end := 1 + (o.events-1)*round/o.rounds
		sim.at = sim.at.Add(6 * 24 * time.Hour)
		if err := do(domain.OpenRound{Party: "DE", Name: fmt.Sprintf("Round %d", round)}, "DE"); err != nil {
			return sim.res, err
		}
		for sim.s.Events < end-1 {
			c, party := sim.next(end - 1 - sim.s.Events)
			if err := do(c, party); err != nil {
				return sim.res, err
			}
		}
		if err := do(domain.CloseRound{Party: "DE"}, "DE"); err != nil {
			return sim.res, err
		}
		if err := flush(); err != nil {
			return sim.res, err
		}
		w.Reader.CheckpointRound(ctx, b.Moment())
	}
	sim.res.events = sim.s.Events
	if err := flush(); err != nil {
		return sim.res, err
	}
	w.Reader.Checkpoint(ctx, b.Moment())
	return sim.res, nil
}

// observe keeps the simulator's sets of open and stale proposals.
func (sim *simulator) observe(e domain.Event) {
	switch e := e.(type) {
	case domain.ProposalTabled:
		sim.res.proposals++
		sim.open.add(e.Proposal)
	case domain.ProposalWithdrawn:
		sim.res.withdrawn++
		sim.open.remove(e.Proposal)
		sim.stale.remove(e.Proposal)
	case domain.ProposalAdopted:
		sim.res.adopted++
		sim.open.remove(e.Proposal)
		for _, p := range sim.s.OpenProposals(e.Clause) {
			sim.open.remove(p.Proposal)
			sim.stale.add(p.Proposal)
		}
	}
}

// idSet is a set of IDs with constant-time random choice and removal.
type idSet struct {
	ids []string
	at  map[string]int
}

func (s *idSet) add(id string) {
	if s.at == nil {
		s.at = map[string]int{}
	}
	if _, ok := s.at[id]; !ok {
		s.at[id] = len(s.ids)
		s.ids = append(s.ids, id)
	}
}

func (s *idSet) remove(id string) {
	i, ok := s.at[id]
	if !ok {
		return
	}
	last := s.ids[len(s.ids)-1]
	s.ids[i], s.at[last] = last, i
	s.ids = s.ids[:len(s.ids)-1]
	delete(s.at, id)
}

func (s *idSet) len() int { return len(s.ids) }

func (s *idSet) pick(rng *rand.Rand) string { return s.ids[rng.IntN(len(s.ids))] }

// next picks an act that fits in room events. Stale proposals are soon
// withdrawn and new ones tabled only while few are open, so the draft keeps
// the shape of a real one: mostly agreed text, some brackets.
func (sim *simulator) next(room int) (domain.Command, string) {
	for {
		x := sim.rng.IntN(100)
		switch {
		case x < 30 && sim.stale.len() > 0:
			p := sim.s.Proposals[sim.stale.pick(sim.rng)]
			return domain.Withdraw{Proposal: p.Proposal, Party: p.Party}, p.Party
		case x < 75 && sim.open.len() > 0, sim.open.len() > len(sim.clauses):
			p := sim.s.Proposals[sim.open.pick(sim.rng)]
			if x == 30 {
				return domain.Withdraw{Proposal: p.Proposal, Party: p.Party}, p.Party
			}
			awaiting := sim.s.Awaiting(p)
			party := awaiting[sim.rng.IntN(len(awaiting))]
			if x < 38 && p.Positions.Of(party).Stance != domain.Objects {
				return domain.Object{Proposal: p.Proposal, Party: party, Reason: "not acceptable as drafted"}, party
			}
			if room < 2 && len(awaiting) == 1 {
				continue // its adoption would not fit
			}
			return domain.Accept{Proposal: p.Proposal, Party: party}, party
		default:
			return sim.table()
		}
	}
}

// table drafts a proposal on a random clause: its first text, an amendment
// in the style of --edit, or now and then its deletion.
func (sim *simulator) table() (domain.Command, string) {
	party := simParties[sim.rng.IntN(len(simParties))].Code
	id := uuid.Must(uuid.NewRandomFromReader(sim.ids)).String()
	// Mostly a clause nobody has a proposal on yet.
	clause := sim.clauses[sim.rng.IntN(len(sim.clauses))]
	for try := 0; try < 3 && len(sim.s.OpenProposals(clause)) > 0; try++ {
		clause = sim.clauses[sim.rng.IntN(len(sim.clauses))]
	}
	t := domain.Table{Proposal: id, Clause: clause, Party: party}
	c := sim.s.Clauses[clause]
	switch {
	case c == nil || !c.Agreed():
		t.Text = sim.words(30 + sim.rng.IntN(50))
		if c == nil || !sim.s.InDraft(clause) {
			h := "Article on " + sim.words(2)
			t.Heading = &h
			if draft := sim.s.Draft(); len(draft) > 0 && sim.rng.IntN(3) == 0 {
				t.After = draft[sim.rng.IntN(len(draft))].ID
			}
		}
	case sim.rng.IntN(100) == 0:
		t.Delete = true
	case sim.opts.edit == simEditRewrite:
		t.Text = sim.words(30 + sim.rng.IntN(50))
	default:
		words := strings.Fields(c.Text)
		for range 1 + sim.rng.IntN(4) {
			i := sim.rng.IntN(len(words))
			switch sim.rng.IntN(3) {
			case 0:
				words[i] = simWords[sim.rng.IntN(len(simWords))]
			case 1:
				words = slices.Insert(words, i, simWords[sim.rng.IntN(len(simWords))])
			default:
				if len(words) > 5 {
					words = slices.Delete(words, i, i+1)
				}
			}
		}
		t.Text = strings.Join(words, " ")
	}
	// An amendment must change the text.
	if c != nil && !t.Delete && t.Text == c.Text {
		t.Text += " " + simWords[sim.rng.IntN(len(simWords))]
	}
	return t, party
}

func (sim *simulator) words(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = simWords[sim.rng.IntN(len(simWords))]
	}
	r := []rune(strings.Join(w, " "))
	r[0] = unicode.ToUpper(r[0])
	return string(r) + "."
}

// eventID returns a version 7 UUID for the simulated clock: ordered by time
// like the IDs of real events, and the same for the same seed.
func (sim *simulator) eventID() uuid.UUID {
	var id uuid.UUID
	_, _ = sim.ids.Read(id[:]) // ChaCha8 never fails
	ms := uint64(sim.at.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6] = 0x70 | id[6]&0x0f // version 7
	id[8] = 0x80 | id[8]&0x3f // RFC 4122 variant
	return id
}
