package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) diffCommand() *cobra.Command {
	var from, to, output string
	c := &cobra.Command{
		Use:   "diff [--from REF] [--to REF] [--format text|json|html|markdown|docx] [--output F]",
		Short: "Show the word-level redline of the agreed text between two moments",
		Long: `Show how the agreed text changed between two moments: clauses added, removed,
modified (text or heading) and moved, with a word-level redline inside each
clause. By default from the end of the last closed round to now.

In text output deletions read [-like this-] and insertions {+like this+}.
--format docx writes the compare document as a Word document with tracked
changes (to --output F, or to standard output when it is not a terminal).`,
		Example: `  treaty diff
  treaty diff --from round:1 --to round:2
  treaty diff --from round:2:start --to head --format html > redline.html
  treaty diff --from round:1 --to round:2 --format docx --output compare.docx`,
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
			if err := a.checkOutput(output); err != nil {
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
			return a.emit(output, func(w io.Writer) error { return a.writeDiff(w, d) })
		},
	}
	c.Flags().StringVar(&from, "from", "", "the earlier moment (REF; default: the end of the last closed round)")
	c.Flags().StringVar(&to, "to", "head", "the later moment (REF)")
	outputFlag(c, &output)
	return withFormats(c, "text", "json", "html", "markdown", "docx")
}

func (a *app) writeDiff(w io.Writer, d projections.Diff) error {
	switch a.format {
	case "json":
		return a.writeJSONTo(w, d)
	case "markdown":
		return projections.WriteDiffMarkdown(w, d)
	case "html":
		return projections.WriteDiffHTML(w, d)
	case "docx":
		return projections.WriteDiffDocx(w, d)
	}
	return projections.WriteDiffText(w, d, a.styleFor(w))
}
