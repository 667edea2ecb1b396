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
