package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) positionsCommand() *cobra.Command {
	var at, clause string
	var all bool
	c := &cobra.Command{
		Use:   "positions [--at REF] [--clause ID] [--all] [--format text|markdown|json|html]",
		Short: "Show the four-column document: agreed text, and each participant's proposals and positions",
		Long: `Show, for each clause with open proposals (every clause with --all, or the one
named by --clause), the agreed text, then one column per party holding its own
open proposals on the clause (with their redlines against the text each was
drafted against) and its positions on the others' (accepts, objects with the
reason, awaiting), and a column for a mediator's (an observer's) compromise
text where one is tabled: the four-column document of a trilogue.`,
		Example: `  treaty positions
  treaty positions --at round:2 --format html > positions.html
  treaty positions --clause reconstruction-fund --format json`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef("--at", at)
			if err != nil {
				return err
			}
			if clause != "" {
				if err := domain.CheckSlug("clause ID", clause); err != nil {
					return usagef("--clause: %v", err)
				}
			}
			if a.format != "text" {
				a.working = prepareDocument
			}
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			// The styling is the terminal's, and only the text's.
			style := a.style()
			form := a.format
			if a.format == "text" {
				form = fmt.Sprintf("%s %+v", a.format, style)
			}
			opts := projections.PositionsOptions{Clause: clause, All: all}
			return r.WritePositions(cmd.Context(), a.stdout, ref, opts, form, func(w io.Writer, p projections.Positions) error {
				switch a.format {
				case "json":
					return a.writeJSONTo(w, p)
				case "markdown":
					return projections.WritePositionsMarkdown(w, p)
				case "html":
					return projections.WritePositionsHTML(w, p)
				}
				return projections.WritePositionsText(w, p, style)
			})
		},
	}
	c.Flags().StringVar(&at, "at", "head", "the moment to show (REF)")
	c.Flags().StringVar(&clause, "clause", "", "only this clause")
	c.Flags().BoolVar(&all, "all", false, "every clause of the draft, not only those with open proposals")
	_ = c.RegisterFlagCompletionFunc("clause", a.completeClauses)
	return withFormats(c, "text", "markdown", "json", "html")
}
