package main

import (
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

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
			var report projections.Audit
			if a.format == "json" || a.format == "html" {
				// The proposals stay on disk, written a row at a time: a
				// long history's do not fit in memory.
				var list *projections.ProposalList
				report, list, err = r.AuditList(cmd.Context())
				if list != nil {
					defer list.Close()
				}
				if err == nil && a.format == "json" {
					err = projections.WriteAuditJSON(a.stdout, report, list, jsonIndent)
				} else if err == nil {
					err = projections.WriteAuditListHTML(a.stdout, report, list)
				}
			} else {
				// The text counts the proposals by fate, which the state
				// the replay ends with says.
				var fates map[string]int
				report, fates, err = r.AuditFates(cmd.Context())
				if err == nil {
					err = projections.WriteAuditFatesText(a.stdout, report, fates, a.style())
				}
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
