package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) diffCommand() *cobra.Command {
	var from, to, view, output string
	var whole, every bool
	c := &cobra.Command{
		Use:   "diff [--from REF] [--to REF] [--whole] [--every-adoption] [--format text|json|html|markdown|docx] [--view inline|side] [--output F]",
		Short: "Show the compare document of the agreed text between two moments",
		Long: `Show how the agreed text changed between two moments, as a compare document:
the clauses in the order of the later draft, each removed clause where it
stood, numbered as draft numbers them at each end; a word-level redline inside
each clause; the adopted proposals that made each change (party, round,
event); clauses moved, with their numbers before and after; and the proposals
still open on each changed clause at the later moment, redlined against the
text each was drafted against. --whole lists every clause, unchanged ones
included, so that the document reads end to end.

A clause says how many adopted proposals of each party changed it and lists
the last 5; with --format json, --every-adoption lists every one of them,
which over a long history makes a document many times larger.

By default from the end of the last closed round to now. --from must not be
later than --to. In text output deletions read [-like this-] and insertions
{+like this+}. --format html writes a printable page (a running header with
the moments, page numbers, a legend), inline or, with --view side, side by
side. --format docx writes it as a Word document whose redline is tracked
changes, each attributed to the party whose adopted proposal made it, the
comments of the proposals as Word comments (to --output F, or to standard
output when it is not a terminal).`,
		Example: `  treaty diff
  treaty diff --from round:1 --to round:2
  treaty diff --from round:1 --to round:2 --whole --format html --view side > compare.html
  treaty diff --from round:2:start --to head --format json
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
			switch {
			case view != projections.CompareInline && view != projections.CompareSide:
				return usagef("--view is inline or side, not %q", view)
			case view == projections.CompareSide && a.format != "html":
				return usagef("--view side is a layout of --format html")
			case every && a.format != "json":
				return usagef("--every-adoption goes with --format json: the other formats count each clause's adoptions by party and list the last few")
			}
			if err := a.checkOutput(output); err != nil {
				return err
			}
			a.readers = 2 // the two moments
			a.working = prepareDocument
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			// The Word document attributes each change to every party
			// whose adopted proposal made it, with the comments on them;
			// the others list the last few, which needs no closed
			// proposal, unless asked for every one.
			opts := projections.CompareOptions{Whole: whole, EveryAdoption: every || a.format == "docx"}
			if a.format == "docx" {
				prepareDocument() // never kept
				d, err := r.Redlines(cmd.Context(), fromRef, toRef, opts)
				if err != nil {
					return compareError(err)
				}
				extra, err := r.CompareExtras(cmd.Context(), d)
				if err != nil {
					return err
				}
				return a.emit(output, func(w io.Writer) error { return projections.WriteDiffDocx(w, d, extra) })
			}
			return compareError(a.emit(output, func(w io.Writer) error {
				// The styling is the terminal's, if w is one: the document
				// is rendered into memory first, to be kept.
				style := a.styleFor(w)
				form := fmt.Sprintf("%s %s %+v", a.format, view, style)
				return r.WriteCompare(cmd.Context(), w, fromRef, toRef, opts, form, func(w io.Writer, d projections.Diff) error {
					return a.writeDiff(w, d, view, style)
				})
			}))
		},
	}
	c.Flags().StringVar(&from, "from", "", "the earlier moment (REF; default: the end of the last closed round)")
	c.Flags().StringVar(&to, "to", "head", "the later moment (REF)")
	c.Flags().BoolVar(&whole, "whole", false, "list every clause, unchanged ones included")
	c.Flags().BoolVar(&every, "every-adoption", false, "JSON: list on each clause every adopted proposal that changed it, not the last 5")
	c.Flags().StringVar(&view, "view", projections.CompareInline, "HTML layout: inline, or side by side")
	outputFlag(c, &output)
	_ = c.RegisterFlagCompletionFunc("from", a.completeRefs)
	_ = c.RegisterFlagCompletionFunc("to", a.completeRefs)
	return withFormats(c, "text", "json", "html", "markdown", "docx")
}

// compareError is err, a usage error when the moments were given the wrong
// way round.
func compareError(err error) error {
	if rev := (*projections.ReversedError)(nil); errors.As(err, &rev) {
		return &usageError{err}
	}
	return err
}

func (a *app) writeDiff(w io.Writer, d projections.Diff, view string, style projections.Style) error {
	switch a.format {
	case "json":
		return a.writeJSONTo(w, d)
	case "markdown":
		return projections.WriteDiffMarkdown(w, d)
	case "html":
		return projections.WriteDiffHTML(w, d, view)
	}
	return projections.WriteDiffText(w, d, style)
}
