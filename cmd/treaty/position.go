package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
)

func (a *app) acceptCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "accept P",
		Short: "Accept a proposal",
		Long: `Record the acting party's acceptance of proposal P (its ID, or a unique prefix
of at least 4 characters). When every party has accepted, the proposal is
adopted in the same step. A stale proposal (another proposal on its clause was
adopted since it was drafted) cannot be accepted.`,
		Example:           "  treaty --as EU accept 3f2a91c0",
		Args:              exactArgs(1, "the proposal to accept (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeOpenProposals,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.position(cmd, args[0], func(party, id string) domain.Command {
				return domain.Accept{Proposal: id, Party: party}
			})
		},
	}
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
		ValidArgsFunction: a.completeOpenProposals,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.position(cmd, args[0], func(party, id string) domain.Command {
				return domain.Object{Proposal: id, Party: party, Reason: reason}
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
		ValidArgsFunction: a.completeOpenProposals,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.position(cmd, args[0], func(party, id string) domain.Command {
				return domain.Withdraw{Proposal: id, Party: party}
			})
		},
	}
}

// position runs accept, reject or withdraw on the proposal ref names.
func (a *app) position(cmd *cobra.Command, ref string, command func(party, id string) domain.Command) error {
	party, err := a.needParty()
	if err != nil {
		return err
	}
	out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
		p, err := s.FindOpenProposal(ref)
		if err != nil {
			return nil, err
		}
		return command(party, p.Proposal), nil
	})
	if err != nil {
		return err
	}
	var id, verb string
	switch e := out.Events[0].(type) {
	case domain.ProposalAccepted:
		id, verb = e.Proposal, "accepts"
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
	awaiting := []string{}
	if p.Status == domain.StatusOpen {
		awaiting = nonNil(s.Awaiting(p))
	}
	if a.format == "json" {
		return a.writeJSON(map[string]any{"proposal": id, "party": party, "type": out.Events[0].EventType(),
			"status": p.Status, "adopted": adopted, "awaiting": awaiting, "event": out.First})
	}
	fmt.Fprintf(a.stdout, "%s %s %s (%s of %s).\n", party, verb, domain.Short(id), p.Action, p.Clause)
	switch {
	case adopted:
		fmt.Fprintf(a.stdout, "Adopted: every party accepts. Clause %s is at revision %d.\n", p.Clause, s.Clauses[p.Clause].Revision)
		if n := len(s.OpenProposals(p.Clause)); n > 0 {
			fmt.Fprintf(a.stdout, "%d other proposal(s) on %s are now stale.\n", n, p.Clause)
		}
	case p.Status == domain.StatusOpen:
		fmt.Fprintf(a.stdout, "Awaiting %s.\n", strings.Join(awaiting, ", "))
	}
	return nil
}
