package main

import (
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) blameCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "blame [CLAUSE] [--format text|json|html]",
		Short: "Show who brought in each run of words of the agreed text",
		Long: `For every clause with agreed text (or the one named), show each run of words
with the adopted proposal, party and round that brought it in: the provenance
table negotiation secretariats compile by hand, like git blame at word level.
It replays the whole log.`,
		Example: `  treaty blame
  treaty blame security-assurances --format json
  treaty blame --format html > provenance.html`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one clause ID, got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		ValidArgsFunction: a.completeClauses,
		RunE: func(cmd *cobra.Command, args []string) error {
			clause := ""
			if len(args) == 1 {
				clause = args[0]
				if err := domain.CheckSlug("clause ID", clause); err != nil {
					return &usageError{err}
				}
			}
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			b, err := r.Blame(cmd.Context(), clause)
			if err != nil {
				return err
			}
			switch a.format {
			case "json":
				return a.writeJSON(b)
			case "html":
				return projections.WriteBlameHTML(a.stdout, b)
			}
			return projections.WriteBlameText(a.stdout, b, a.style())
		},
	}
	return withFormats(c, "text", "json", "html")
}

func (a *app) historyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "history CLAUSE",
		Short: "Show every revision of a clause and every proposal made on it",
		Long: `Show the story of one clause: each adopted revision with its redline from the
one before and who proposed it; then every proposal made on the clause, who
accepted and objected when, and its fate (adopted, withdrawn, stale or open).`,
		Example:           "  treaty history security-assurances\n  treaty history reconstruction-fund --format json",
		Args:              exactArgs(1, "the clause whose history to show"),
		ValidArgsFunction: a.completeClauses,
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

func (a *app) auditCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit [--format text|json|html]",
		Short: "Report on the whole negotiation: keys, rounds and hashes, proposals, verification",
		Long: `Write one report of everything an auditor needs: the parties and the keys they
registered, the rounds with their closing hashes, every proposal and its
fate, and the result of verifying the whole log (see verify). --format html
writes one self-contained, printable page. Exits 3 when verification finds a
problem, after writing the report.`,
		Example: "  treaty audit --format html > audit.html\n  treaty audit --format json | jq .verification",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			report, err := r.Audit(cmd.Context())
			if err != nil {
				return err
			}
			switch a.format {
			case "json":
				err = a.writeJSON(report)
			case "html":
				err = projections.WriteAuditHTML(a.stdout, report)
			default:
				err = projections.WriteAuditText(a.stdout, report, a.style())
			}
			if err != nil {
				return err
			}
			if !report.Verification.OK {
				return &verifyProblem{report.Verification.Problem}
			}
			return nil
		},
	}
	return withFormats(c, "text", "json", "html")
}
