package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) draftCommand() *cobra.Command {
	var at, output string
	var agreedOnly bool
	c := &cobra.Command{
		Use:   "draft [--at REF] [--agreed-only] [--format text|markdown|json|html|docx] [--output F]",
		Short: "Show the draft: agreed text, open proposals in square brackets",
		Long: `Show the draft as of REF (now by default): the agreed text of every clause in
order, and each open proposal in square brackets attributed to its party,
stale ones marked. --agreed-only gives the clean agreed text.

--format docx writes a Word document (to --output F, or to standard output
when it is not a terminal): each open proposal a tracked change attributed to
its party, each clause's ID in a hidden bookmark, so that a delegation can
edit it in Word or LibreOffice and treaty import-docx can read it back.

REF is round:N (the end of round N, or now while it is open), round:N:start,
@N (just after the N-th event), an RFC 3339 time, or head.`,
		Example: `  treaty draft
  treaty draft --at round:1 --agreed-only
  treaty draft --format html > draft.html
  treaty draft --format docx --output berlin.docx
  treaty draft --at 2026-11-20T18:00:00Z --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef("--at", at)
			if err != nil {
				return err
			}
			if err := a.checkOutput(output); err != nil {
				return err
			}
			r, err := a.documentReader(cmd.Context())
			if err != nil {
				return err
			}
			m, err := r.At(cmd.Context(), ref)
			if err != nil {
				return err
			}
			// The redline of each bracket is shown by the formats for
			// browsers and programs; text and Markdown give the whole
			// proposed text, as a bracket does on paper.
			redlines := a.format == "json" || a.format == "html"
			d, err := r.Draft(cmd.Context(), m, projections.DraftOptions{AgreedOnly: agreedOnly, Redlines: redlines})
			if err != nil {
				return err
			}
			if a.format == "docx" {
				times, err := r.ProposalTimes(cmd.Context(), d, m.State)
				if err != nil {
					return err
				}
				return a.emit(output, func(w io.Writer) error { return projections.WriteDraftDocx(w, d, m.State, times) })
			}
			return a.emit(output, func(w io.Writer) error { return a.writeDraft(w, d) })
		},
	}
	c.Flags().StringVar(&at, "at", "head", "the moment to show (REF)")
	_ = c.RegisterFlagCompletionFunc("at", a.completeRefs)
	c.Flags().BoolVar(&agreedOnly, "agreed-only", false, "only the agreed text, without proposals")
	outputFlag(c, &output)
	return withFormats(c, "text", "markdown", "json", "html", "docx")
}

func (a *app) writeDraft(w io.Writer, d projections.Draft) error {
	switch a.format {
	case "json":
		return a.writeJSONTo(w, d)
	case "markdown":
		return projections.WriteDraftMarkdown(w, d)
	case "html":
		return projections.WriteDraftHTML(w, d)
	}
	return projections.WriteDraftText(w, d, a.styleFor(w))
}

// parseRef parses a REF flag; a malformed one is a usage error.
func parseRef(flag, s string) (projections.Ref, error) {
	ref, err := projections.ParseRef(s)
	if err != nil {
		return ref, usagef("%s: %v", flag, err)
	}
	return ref, nil
}
