package main

import (
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) historyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "history CLAUSE",
		Short: "Show every revision of a clause and every proposal made on it",
		Long: `Show the story of one clause: each adopted revision with its redline from the
one before and who proposed it; then every proposal made on the clause, who
accepted and objected when, and its fate (adopted, withdrawn, stale or open).`,
		Example:           "  treaty history security-assurances\n  treaty history reconstruction-fund --format json",
		Args:              exactArgs(1, "the clause whose history to show"),
		ValidArgsFunction: a.completeEveryClause,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := domain.CheckSlug("clause ID", args[0]); err != nil {
				return &usageError{err}
			}
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			h, err := r.ClauseHistory(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(h)
			}
			return projections.WriteHistoryText(a.stdout, h, a.style())
		},
	}
}
