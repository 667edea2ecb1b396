package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

// demoTreaty is the ID the sample negotiation gets unless --treaty says
// otherwise.
const demoTreaty = "berlin-framework"

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Write a sample negotiation into the store and show its draft and redline",
		Long: `Write a sample negotiation (Ukraine, the United States and the European Union,
with Germany mediating, over two rounds in Berlin) into the store, then show
its draft and the redline between the two rounds. It shows the practice too:
an acceptance subject to another proposal, a package adopted in one append,
an adoption ad referendum awaiting Washington, a mediator's comment.

The sample is the same every time: running demo again in the same place
appends nothing and shows it again, with whatever you have added since.`,
		Example: "  treaty demo\n  treaty --store /tmp/demo.db demo && treaty --store /tmp/demo.db log",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id := a.treaty
			if id == "" {
				id = demoTreaty
			}
			store, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			w, err := a.writerOf(a.readerOf(store, id))
			if err != nil {
				return err
			}
			b, err := demoBatch(w, id)
			if err != nil {
				return err
			}
			n := b.Buffered()
			update, done := a.progress(n, "writing the sample")
			err = b.Flush(ctx)
			update(n)
			done()
			switch {
			case errors.Is(err, eventstore.ErrWrongExpectedRevision), errors.Is(err, eventstore.ErrDuplicateEvent):
				return fmt.Errorf("the store %s already holds a negotiation %s that is not the sample; give the sample another ID with --treaty", a.storeName(), id)
			case err != nil:
				return err
			}
			a.info("The sample negotiation %s (%d events) is in %s.\n", id, n, a.storeName())
			a.treaty = id
			return a.showDemo(ctx)
		},
	}
}

func (a *app) showDemo(ctx context.Context) error {
	r, head, err := a.head(ctx)
	if err != nil {
		return err
	}
	if err := projections.WriteDraftText(a.stdout, projections.BuildDraft(head, projections.DraftOptions{}), a.style()); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	d, err := r.Redlines(ctx, mustRef("round:1"), mustRef("round:2"), projections.CompareOptions{})
	if err != nil {
		return err
	}
	if err := projections.WriteDiffText(a.stdout, d, a.style()); err != nil {
		return err
	}
	// Beside another negotiation every command needs --treaty: the hints
	// say it, or they would all be refused.
	streams, err := r.Store().Streams(ctx, projections.StreamPrefix)
	if err != nil {
		return err
	}
	treaty := ""
	if len(streams) > 1 {
		var ids []string
		for _, s := range streams {
			ids = append(ids, strings.TrimPrefix(s.Name, projections.StreamPrefix))
		}
		treaty = "--treaty " + r.Treaty() + " "
		a.info("\nThe store %s holds %d negotiations (%s): every command needs --treaty %s (or TREATY=%s) to act on the sample, as below.",
			a.storeName(), len(ids), strings.Join(ids, ", "), r.Treaty(), r.Treaty())
	}
	next := func(cmds ...string) string {
		for i, c := range cmds {
			cmds[i] = "treaty " + treaty + c
		}
		return strings.Join(cmds, " · ")
	}
	a.info("\nNext: %s\n      %s   (--store %s)",
		next("log", "proposals", "show PROPOSAL", "draft --format html > draft.html"),
		next("--as EU accept PROPOSAL", "--as US confirm PROPOSAL", "verify"), a.storeName())
	return nil
}

func mustRef(s string) projections.Ref {
	r, err := projections.ParseRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

// demoStep is one act of the sample negotiation.
type demoStep struct {
	after  time.Duration // since the previous step
	party  string
	author string
	act    func(p func(key string) string) domain.Command
}

// demoBatch decides the sample negotiation through the write path, in a
// batch to be appended at once. Times and IDs are fixed, derived from the
// treaty ID, so that writing it twice appends nothing the second time.
func demoBatch(w *write.Writer, treaty string) (*write.Batch, error) {
	ns := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://treaty.example/demo/"+treaty))
	pid := func(key string) string { return uuid.NewSHA1(ns, []byte("proposal/"+key)).String() }
	h := func(s string) *string { return &s }
	table := func(key, clause, party, text string, opts ...func(*domain.Table)) func(func(string) string) domain.Command {
		return func(p func(string) string) domain.Command {
			t := domain.Table{Proposal: p(key), Clause: clause, Party: party, Text: text}
			for _, o := range opts {
				o(&t)
			}
			return t
		}
	}
	heading := func(s string) func(*domain.Table) { return func(t *domain.Table) { t.Heading = h(s) } }
	after := func(c string) func(*domain.Table) { return func(t *domain.Table) { t.After = c } }
	note := func(n string) func(*domain.Table) { return func(t *domain.Table) { t.Note = n } }
	accept := func(key, party string) func(func(string) string) domain.Command {
		return func(p func(string) string) domain.Command { return domain.Accept{Proposal: p(key), Party: party} }
	}
	object := func(key, party, reason string) func(func(string) string) domain.Command {
		return func(p func(string) string) domain.Command {
			return domain.Object{Proposal: p(key), Party: party, Reason: reason}
		}
	}
	const (
		ua, us, eu, de     = "UA", "US", "EU", "DE"
		olena, james, marc = "Olena Kovalenko", "James Whitfield", "Marie Laurent"
		katrin             = "Katrin Brandt"
	)
	authors := map[string]string{ua: olena, us: james, eu: marc, de: katrin}
	step := func(after time.Duration, party string, act func(func(string) string) domain.Command) demoStep {
		return demoStep{after: after, party: party, author: authors[party], act: act}
	}
	const minute, hour, day = time.Minute, time.Hour, 24 * time.Hour
	steps := []demoStep{
		step(0, de, func(func(string) string) domain.Command {
			return domain.OpenTreaty{Treaty: treaty, Title: "Berlin Framework on Security Assurances and Reconstruction", Parties: []domain.Party{
				{Code: ua, Name: "Ukraine", Role: domain.RoleParty},
				{Code: us, Name: "United States", Role: domain.RoleParty},
				{Code: eu, Name: "European Union", Role: domain.RoleParty},
				{Code: de, Name: "Germany (mediator)", Role: domain.RoleObserver},
			}}
		}),
		// Round 1: the first reading.
		step(30*minute, de, func(func(string) string) domain.Command { return domain.OpenRound{Party: de, Name: "Berlin I"} }),
		step(20*minute, de, table("preamble", "preamble", de,
			"The Parties, meeting in Berlin at the invitation of the Federal Republic of Germany, recalling the Charter of the United Nations and the principles of sovereignty and territorial integrity, have agreed as follows:",
			heading("Preamble"))),
		step(40*minute, ua, table("assurances-ua", "security-assurances", ua,
			"In the event of an armed attack against Ukraine, the Parties shall consult immediately and shall provide Ukraine with all necessary assistance, including military assistance.",
			heading("Security assurances"), note("Kyiv's opening text"))),
		step(15*minute, us, object("assurances-ua", us, "\"all necessary assistance\" goes beyond what the US delegation can accept")),
		step(25*minute, us, table("assurances-us", "security-assurances", us,
			"In the event of an armed attack against Ukraine, the Parties shall consult within 24 hours on appropriate measures.",
			heading("Security assurances"))),
		step(10*minute, eu, accept("preamble", eu)),
		step(5*minute, ua, accept("preamble", ua)),
		step(5*minute, us, accept("preamble", us)),
		step(20*minute, ua, object("assurances-us", ua, "consultation alone is not an assurance")),
		step(30*minute, eu, table("fund", "reconstruction-fund", eu,
			"The Parties shall establish a Reconstruction Fund for Ukraine, administered by the European Investment Bank.",
			heading("Reconstruction fund"))),
		step(15*minute, us, accept("fund", us)),
		step(10*minute, ua, accept("fund", ua)),
		step(20*minute, us, table("sanctions", "sanctions-review", us,
			"The Parties shall review the sanctions regime every six months.", heading("Review of sanctions"))),
		step(10*minute, ua, accept("sanctions", ua)),
		step(10*minute, eu, accept("sanctions", eu)),
		step(30*minute, eu, table("final", "final-provisions", eu,
			"This Framework enters into force on signature. Done at Berlin in the English and Ukrainian languages, both texts being equally authentic.",
			heading("Final provisions"))),
		step(10*minute, ua, accept("final", ua)),
		step(10*minute, us, accept("final", us)),
		step(30*minute, de, func(func(string) string) domain.Command { return domain.CloseRound{Party: de} }),
		// Round 2, a week later: the mediator's compromise.
		step(7*day-5*hour, de, func(func(string) string) domain.Command { return domain.OpenRound{Party: de, Name: "Berlin II"} }),
		step(30*minute, de, table("assurances-de", "security-assurances", de,
			"In the event of an armed attack against Ukraine, the Parties shall consult within 24 hours and shall decide on assistance to Ukraine, including military assistance.",
			heading("Security assurances"), note("mediator's compromise between the Ukrainian and US texts"))),
		step(45*minute, us, func(p func(string) string) domain.Command {
			return domain.Withdraw{Proposal: p("assurances-us"), Party: us}
		}),
		step(10*minute, ua, accept("assurances-de", ua)),
		step(20*minute, eu, accept("assurances-de", eu)),
		step(25*minute, us, accept("assurances-de", us)),
		step(30*minute, ua, table("fund-ua", "reconstruction-fund", ua,
			"The Parties shall establish a Reconstruction Fund for Ukraine, administered by the European Investment Bank under a supervisory board chaired by Ukraine.")),
		step(15*minute, us, table("fund-us", "reconstruction-fund", us,
			"The Parties shall establish a Reconstruction Fund for Ukraine, administered jointly by the European Investment Bank and the World Bank.")),
		step(10*minute, eu, object("fund-us", eu, "the Fund needs one administrator")),
		step(20*minute, eu, accept("fund-ua", eu)),
		step(15*minute, us, accept("fund-ua", us)),
		step(30*minute, ua, table("final-ua", "final-provisions", ua,
			"This Framework enters into force on signature. Done at Berlin in the English and Ukrainian languages, both texts being equally authentic. In Ukrainian the Framework is entitled «Берлінська рамкова угода про гарантії безпеки та відбудову».",
			note("adds the authentic Ukrainian title"))),
		step(10*minute, eu, accept("final-ua", eu)),
		step(10*minute, us, accept("final-ua", us)),
		step(20*minute, eu, table("sanctions-del", "sanctions-review", eu, "", func(t *domain.Table) { t.Delete = true },
			note("sanctions belong in a separate instrument"))),
		step(15*minute, ua, object("sanctions-del", ua, "the review clause must stay in the Framework")),
		step(20*minute, ua, table("monitoring", "monitoring", ua,
			"A Joint Monitoring Commission shall report to the Parties every three months.",
			heading("Monitoring"), after("security-assurances"))),
		step(10*minute, us, accept("monitoring", us)),
		// Linked positions: Ukraine forgoes the alliance only if the
		// assurances are binding; Washington agrees ad referendum.
		step(20*minute, ua, table("binding", "binding-force", ua,
			"The assurances in this Framework are legally binding on the Parties. The United States shall submit them to the Congress of the United States for approval within 90 days.",
			heading("Binding force"), after("security-assurances"), note("Kyiv's condition for the alliance clause"))),
		step(15*minute, us, table("alliance", "alliance-membership", us,
			"Ukraine shall not pursue membership of the North Atlantic Treaty Organization while the assurances in this Framework remain in force.",
			heading("Alliance membership"), after("binding-force"))),
		step(10*minute, eu, accept("alliance", eu)),
		step(15*minute, ua, func(p func(string) string) domain.Command {
			return domain.Accept{Proposal: p("alliance"), Party: ua, SubjectTo: []string{p("binding")}}
		}),
		step(10*minute, eu, accept("binding", eu)),
		step(10*minute, de, func(p func(string) string) domain.Command {
			return domain.CommentOn{Proposal: p("binding"), Party: de, Text: "Ninety days matches the time the Congress takes to review an executive agreement."}
		}),
		step(20*minute, us, func(p func(string) string) domain.Command {
			return domain.Accept{Proposal: p("binding"), Party: us, AdReferendum: true}
		}),
		step(15*minute, eu, func(p func(string) string) domain.Command {
			return domain.Accept{Proposal: p("monitoring"), Party: eu, SubjectTo: []string{p("sanctions-del")}}
		}),
		step(30*minute, de, func(func(string) string) domain.Command { return domain.CloseRound{Party: de} }),
	}
	b := w.NewBatch(treaty)
	events := 0
	nextID := func() uuid.UUID {
		events++
		return uuid.NewSHA1(ns, fmt.Appendf(nil, "event/%d", events))
	}
	at := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	for i, st := range steps {
		at = at.Add(st.after)
		act := write.Act{Party: st.party, Author: st.author, Command: func(_ *domain.State, head string) (domain.Command, error) {
			c := st.act(pid)
			if cl, ok := c.(domain.CloseRound); ok {
				cl.Head = head
				c = cl
			}
			return c, nil
		}}
		if _, err := b.Do(act, at, nextID); err != nil {
			return nil, fmt.Errorf("demo step %d: %w", i+1, err)
		}
	}
	return b, nil
}
