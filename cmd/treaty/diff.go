package main

import (
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) diffCommand() *cobra.Command {
	var from, to string
	c := &cobra.Command{
		Use:   "diff [--from REF] [--to REF] [--format text|json|html|markdown]",
		Short: "Show the word-level redline of the agreed text between two moments",
		Long: `Show how the agreed text changed between two moments: clauses added, removed,
modified (text or heading) and moved, with a word-level redline inside each
clause. By default from the end of the last closed round to now.

In text output deletions read [-like this-] and insertions {+like this+}.`,
		Example: `  treaty diff
  treaty diff --from round:1 --to round:2
  treaty diff --from round:2:start --to head --format html > redline.html`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fromRef := projections.LastClosedRound
			if cmd.Flags().Changed("from") {
				var err error
				if fromRef, err = parseRef("--from", from); err != nil {
					return err
				}
			}
			toRef, err := parseRef("--to", to)
			if err != nil {
				return err
			}
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			d, err := r.Redlines(cmd.Context(), fromRef, toRef, a.format == "json")
			if err != nil {
				return err
			}
			return a.writeDiff(d)
		},
	}
	c.Flags().StringVar(&from, "from", "", "the earlier moment (REF; default: the end of the last closed round)")
	c.Flags().StringVar(&to, "to", "head", "the later moment (REF)")
	_ = c.RegisterFlagCompletionFunc("from", a.completeRefs)
	_ = c.RegisterFlagCompletionFunc("to", a.completeRefs)
	return withFormats(c, "text", "json", "html", "markdown")
}

func (a *app) writeDiff(d projections.Diff) error {
	switch a.format {
	case "json":
		return a.writeJSON(d)
	case "markdown":
		return projections.WriteDiffMarkdown(a.stdout, d)
	case "html":
		return projections.WriteDiffHTML(a.stdout, d)
	}
	return projections.WriteDiffText(a.stdout, d, a.style())
}
