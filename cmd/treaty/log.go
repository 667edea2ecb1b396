package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) logCommand() *cobra.Command {
	var since, until string
	c := &cobra.Command{
		Use:   "log [--since REF] [--until REF] [--format text|json]",
		Short: "List every event, oldest first",
		Long: `List the negotiation's events, oldest first: number, time, round, party,
author, type and a summary. --since REF starts after that moment, --until REF
stops at it (a --since later than --until is refused); --format json writes
one JSON object per line.`,
		Example: `  treaty log
  treaty log --since round:1 --until round:2
  treaty log --format json | jq 'select(.type == "ProposalAdopted")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := a.reader(ctx)
			if err != nil {
				return err
			}
			lo, hi := 0, -1
			if since != "" || until != "" {
				head, err := r.Head(ctx)
				if err != nil {
					return err
				}
				if since != "" {
					ref, err := parseRef("--since", since)
					if err != nil {
						return err
					}
					if lo, err = r.Resolve(ctx, ref, head.State); err != nil {
						return err
					}
				}
				if until != "" {
					ref, err := parseRef("--until", until)
					if err != nil {
						return err
					}
					if hi, err = r.Resolve(ctx, ref, head.State); err != nil {
						return err
					}
				}
				if since != "" && until != "" && lo > hi {
					// An empty listing would pass for a quiet stretch of
					// the log; diff refuses a reversed range alike.
					return usagef("--since %s (event %d) is later than --until %s (event %d); swap them: --since %s --until %s", since, lo, until, hi, until, since)
				}
			}
			w := bufio.NewWriter(a.stdout)
			defer w.Flush()
			st := a.style()
			for rec, err := range projections.Events(ctx, a.store, r.Treaty(), lo) {
				if err != nil {
					return err
				}
				if hi >= 0 && rec.Number > hi {
					break
				}
				if err := a.writeEntry(w, rec, st); err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&since, "since", "", "start after this moment (REF)")
	c.Flags().StringVar(&until, "until", "", "stop at this moment (REF)")
	_ = c.RegisterFlagCompletionFunc("since", a.completeRefs)
	_ = c.RegisterFlagCompletionFunc("until", a.completeRefs)
	return c
}

// clip shortens s to n characters for a column.
func clip(s string, n int) string {
	if s == "" {
		return "-"
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// writeEntry writes one event as a line of the log: aligned columns for
// people, or a JSON object with --format json.
func (a *app) writeEntry(w io.Writer, rec *projections.Recorded, st projections.Style) error {
	e, err := projections.EntryOf(rec)
	if err != nil {
		return err
	}
	if a.format == "json" {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = w.Write(append(line, '\n'))
		return err
	}
	// The log is read as stored, before any check: every string it shows
	// is made visible, on one line.
	e.ID, e.Type, e.Party, e.Author, e.Summary = domain.Visible(e.ID), domain.Visible(e.Type), domain.Visible(e.Party), domain.Visible(e.Author), domain.Visible(e.Summary)
	round := "-"
	if e.Round > 0 {
		round = fmt.Sprint(e.Round)
	}
	party := e.Party
	if party == "" {
		party = "-"
	}
	// Pad before colouring: escape codes have no width.
	_, err = fmt.Fprintf(w, "%6d  %s  %3s  %-4s  %-16s  %s  %s\n", e.Event, st.Dim(e.Time.UTC().Format("2006-01-02 15:04:05")),
		round, party, clip(e.Author, 16), st.Bold(fmt.Sprintf("%-17s", e.Type)), e.Summary)
	return err
}
