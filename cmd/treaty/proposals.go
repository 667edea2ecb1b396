package main

import (
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) proposalsCommand() *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "proposals [--all]",
		Short: "List the open proposals (all with --all)",
		Long: `List the open proposals, oldest first, with who accepts, who objects and whose
acceptance each still awaits. Stale proposals are open but can no longer be
accepted. --all adds the adopted and withdrawn ones.`,
		Example: "  treaty proposals\n  treaty proposals --all --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			if all {
				return a.writeAllProposals(cmd, r)
			}
			m, err := r.Head(cmd.Context())
			if err != nil {
				return err
			}
			ps := projections.Proposals(m.State)
			if a.format == "json" {
				if ps == nil {
					ps = []projections.ProposalSummary{}
				}
				return a.writeJSON(ps)
			}
			if len(ps) == 0 {
				a.info("No open proposals in %s.", r.Treaty())
				return nil
			}
			return projections.WriteProposalsText(a.stdout, ps, a.style())
		},
	}
	c.Flags().BoolVar(&all, "all", false, "include adopted and withdrawn proposals")
	return c
}

// writeAllProposals lists every proposal ever tabled as the list of the
// open ones is written, from a list on disk: the closed proposals of a long
// history do not fit in memory whole.
func (a *app) writeAllProposals(cmd *cobra.Command, r *projections.Reader) error {
	_, list, err := r.AllProposals(cmd.Context())
	if err != nil {
		return err
	}
	defer list.Close()
	if a.format == "json" {
		return a.writeJSONList(list)
	}
	if list.Len() == 0 {
		a.info("No open proposals in %s.", r.Treaty())
		return nil
	}
	return list.WriteText(a.stdout)
}

func (a *app) showCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "show P",
		Short: "Show one proposal with its redline against the text it amends",
		Long: `Show proposal P (its ID or a unique prefix of at least 4 characters): where it
stands, every party's position, and its word-level redline against the text of
the clause it was drafted against. --format akn writes it as an Akoma Ntoso
3.0 amendment document.`,
		Example:           "  treaty show 3f2a91c0\n  treaty show 3f2a --format json\n  treaty show 3f2a --format akn > 3f2a.akn.xml",
		Args:              exactArgs(1, "the proposal to show (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeOpenProposals,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			d, err := r.Proposal(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch a.format {
			case "json":
				return a.writeJSON(d)
			case "akn":
				head, err := r.Head(cmd.Context())
				if err != nil {
					return err
				}
				tabled, err := r.EventTime(cmd.Context(), d.Tabled)
				if err != nil {
					return err
				}
				return projections.ProposalAKN(a.stdout, d, head.State, head.Point, tabled)
			}
			return projections.WriteProposalText(a.stdout, d, a.style())
		},
	}
	return withFormats(c, "text", "json", "akn")
}
