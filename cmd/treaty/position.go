package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
)

func (a *app) acceptCommand() *cobra.Command {
	var subjectTo []string
	var adRef bool
	c := &cobra.Command{
		Use:   "accept P [--subject-to Q[,R…]] [--ad-ref]",
		Short: "Accept a proposal",
		Long: `Record the acting party's acceptance of proposal P (its ID, or a unique prefix
of at least 4 characters). When every party has accepted, the proposal is
adopted in the same step. A stale proposal (another proposal on its clause was
adopted since it was drafted) cannot be accepted.

--subject-to Q accepts P only if Q is agreed too ("we accept this if that is
agreed"): the acceptance counts once every Q is adopted, and when Q's adoption
completes P's unanimity, P is adopted in the same step. Acceptances that
depend on each other form a package, adopted together or not at all. If a Q
is withdrawn or goes stale, the acceptance lapses and the party is awaited
again.

--ad-ref accepts ad referendum, subject to the party's capital: if the
proposal is adopted, its text enters the draft as agreed ad ref until the
capital confirms (treaty confirm) or declines (treaty decline) it.`,
		Example: `  treaty --as EU accept 3f2a91c0
  treaty --as UA accept 3f2a91c0 --subject-to 9b1c44d2,5e0a7731
  treaty --as UA accept 3f2a91c0 --ad-ref`,
		Args:              exactArgs(1, "the proposal to accept (its ID or a unique prefix)"),
		ValidArgsFunction: a.completePosition(domain.Accepts),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, q := range subjectTo {
				if strings.TrimSpace(q) == "" {
					return usagef("--subject-to: an empty proposal ID in %q", strings.Join(subjectTo, ","))
				}
			}
			return a.position(cmd, args[0], func(s *domain.State, party, id string) (domain.Command, error) {
				c := domain.Accept{Proposal: id, Party: party, AdReferendum: adRef}
				for _, ref := range subjectTo {
					q, err := s.FindProposal(strings.TrimSpace(ref))
					if err != nil {
						return nil, err
					}
					c.SubjectTo = append(c.SubjectTo, q.Proposal)
				}
				return c, nil
			})
		},
	}
	c.Flags().StringSliceVar(&subjectTo, "subject-to", nil, "accept only if these proposals are adopted too (IDs or unique prefixes, comma-separated)")
	c.Flags().BoolVar(&adRef, "ad-ref", false, "accept ad referendum: subject to the party's capital")
	_ = c.RegisterFlagCompletionFunc("subject-to", a.completeProposalIDs)
	return c
}

func (a *app) rejectCommand() *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "reject P [--reason T]",
		Short: "Object to a proposal",
		Long: `Record the acting party's objection to proposal P. The proposal stays open, in
brackets, until the objecting party accepts it or its proposer withdraws it.
The event recorded is ProposalObjected.`,
		Example:           `  treaty --as UA reject 3f2a91c0 --reason "the deadline is too long"`,
		Args:              exactArgs(1, "the proposal to object to (its ID or a unique prefix)"),
		ValidArgsFunction: a.completePosition(domain.Objects),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.position(cmd, args[0], func(_ *domain.State, party, id string) (domain.Command, error) {
				return domain.Object{Proposal: id, Party: party, Reason: reason}, nil
			})
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why the party objects")
	return c
}

func (a *app) withdrawCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "withdraw P",
		Short:             "Withdraw your own proposal",
		Long:              "Take proposal P off the table. Only the party that tabled it may withdraw it.",
		Example:           "  treaty --as US withdraw 3f2a91c0",
		Args:              exactArgs(1, "the proposal to withdraw (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeOwnProposals,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.position(cmd, args[0], func(_ *domain.State, party, id string) (domain.Command, error) {
				return domain.Withdraw{Proposal: id, Party: party}, nil
			})
		},
	}
}

// position runs accept, reject or withdraw on the proposal ref names.
func (a *app) position(cmd *cobra.Command, ref string, command func(s *domain.State, party, id string) (domain.Command, error)) error {
	party, err := a.needParty()
	if err != nil {
		return err
	}
	out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
		p, err := s.FindOpenProposal(ref)
		if err != nil {
			return nil, err
		}
		return command(s, party, p.Proposal)
	})
	if err != nil {
		return err
	}
	var id, verb string
	switch e := out.Events[0].(type) {
	case domain.ProposalAccepted:
		id, verb = e.Proposal, "accepts"
		if e.AdReferendum {
			verb = "accepts ad referendum"
		}
	case domain.ProposalObjected:
		id, verb = e.Proposal, "objects to"
	case domain.ProposalWithdrawn:
		id, verb = e.Proposal, "withdrew"
	}
	s := out.State
	p, _, err := s.LookupProposal(id)
	if err != nil {
		return err
	}
	adopted := p.Status == domain.StatusAdopted
	awaiting, objected, conditional := []string{}, []string{}, []domain.Condition{}
	if p.Status == domain.StatusOpen {
		objected = nonNil(s.ObjectedBy(p))
		for _, code := range s.Awaiting(p) {
			if !slices.Contains(objected, code) {
				awaiting = append(awaiting, code)
			}
		}
		if c := s.Conditional(p); c != nil {
			conditional = c
		}
	}
	if a.format == "json" {
		return a.writeJSON(map[string]any{"proposal": id, "party": party, "type": out.Events[0].EventType(),
			"status": p.Status, "adopted": adopted, "awaiting": awaiting, "objected_by": objected,
			"conditional": conditional, "adoptions": adoptionsJSON(out), "event": out.First})
	}
	line := fmt.Sprintf("%s %s %s (%s of %s)", party, verb, domain.Short(id), p.Action, p.Clause)
	if e, ok := out.Events[0].(domain.ProposalAccepted); ok && len(e.SubjectTo) > 0 {
		var on []string
		for _, q := range e.SubjectTo {
			on = append(on, describeProposal(s, q))
		}
		line += " subject to " + strings.Join(on, " and ")
	}
	fmt.Fprintln(a.stdout, line+".")
	for _, l := range adoptionLines(out) {
		fmt.Fprintln(a.stdout, l)
	}
	if p.Status == domain.StatusOpen {
		var standing []string
		if len(objected) > 0 {
			standing = append(standing, "objected to by "+strings.Join(objected, ", "))
		}
		for _, c := range conditional {
			var unmet []string
			for _, q := range c.SubjectTo {
				if qp, ok, err := s.LookupProposal(q); err != nil || !ok || qp.Status != domain.StatusAdopted {
					unmet = append(unmet, domain.Short(q))
				}
			}
			if len(unmet) > 0 {
				standing = append(standing, fmt.Sprintf("%s's acceptance awaits the adoption of %s", c.Party, strings.Join(unmet, " and ")))
			}
		}
		if len(awaiting) > 0 {
			standing = append(standing, "awaiting "+strings.Join(awaiting, ", "))
		}
		if len(standing) > 0 {
			fmt.Fprintln(a.stdout, upperFirst(strings.Join(standing, "; "))+".")
		}
	}
	return nil
}

// describeProposal names a proposal with its clause: "3f2a91c0 (security-guarantees)".
func describeProposal(s *domain.State, id string) string {
	if p, ok, err := s.LookupProposal(id); err == nil && ok {
		return fmt.Sprintf("%s (%s)", domain.Short(id), p.Clause)
	}
	return domain.Short(id)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
