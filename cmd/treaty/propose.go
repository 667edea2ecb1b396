package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) proposeCommand() *cobra.Command {
	var clause, text, file, heading, after, note, revise string
	var del, first bool
	c := &cobra.Command{
		Use:   "propose --clause ID (--text T | --file F | --delete | --heading H) [--heading H] [--after ID | --first] [--note T]\n  treaty propose --revise P (--text T | --file F) [--heading H] [--note T]",
		Short: "Table a proposal: a new clause, an amendment or a deletion",
		Long: `Table a proposal on a clause. A clause that has no agreed text gets new text
(an insertion); a clause with agreed text gets its whole text replaced (an
amendment); --delete proposes removing it. The proposing party counts as
accepting. Prints the proposal's ID alone on a line. --heading alone, on a
clause with agreed text, amends its heading and keeps its text.

--revise P tables a new version of your own open proposal P instead: the same
proposal, its text (and heading, and note) replaced. The other parties'
positions on it are reset: they accepted another text. show and history list
every version with its redline.

A clause not yet in the draft takes its place when tabled: after the clause
named by --after, first with --first, else at the end. On a clause already in
the draft, --after and --first move it when the proposal is adopted.

Text from --file is read as UTF-8 ("-" reads standard input); Windows line
endings become newlines. Surrounding whitespace is trimmed.`,
		Example: `  treaty --as UA propose --clause security-guarantees --heading "Security guarantees" \
    --text "The Parties shall consult within 24 hours." --after preamble
  treaty --as US propose --clause security-guarantees --file amendment.txt --note "adds a deadline"
  treaty --as EU propose --clause sanctions --delete
  treaty --as US propose --clause sanctions --heading "Restrictive measures"
  treaty --as UA propose --revise 3f2a91c0 --text "The Parties shall consult within 48 hours."`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			flags := cmd.Flags()
			given := 0
			for _, f := range []string{"text", "file", "delete"} {
				if flags.Changed(f) {
					given++
				}
			}
			if flags.Changed("revise") {
				return a.revise(cmd, party, revise, text, file, heading, note)
			}
			headingOnly := given == 0 && flags.Changed("heading")
			switch {
			case clause == "":
				return usagef("propose needs --clause ID")
			case given != 1 && !headingOnly:
				return usagef("propose needs exactly one of --text, --file or --delete (or --heading alone, to amend only the heading)")
			case after != "" && first:
				return usagef("--after and --first are alternatives; give one")
			}
			if err := domain.CheckSlug("clause ID", clause); err != nil {
				return &usageError{fmt.Errorf("--clause: %w", err)}
			}
			if after != "" {
				if err := domain.CheckSlug("clause ID", after); err != nil {
					return &usageError{fmt.Errorf("--after: %w", err)}
				}
			}
			if del && (flags.Changed("heading") || after != "" || first) {
				return fmt.Errorf("a deletion carries no heading or place; propose --delete alone")
			}
			if flags.Changed("file") {
				if text, err = a.readText(file); err != nil {
					return err
				}
			}
			cmdTable := domain.Table{Proposal: uuid.NewString(), Clause: clause, Party: party, Text: text,
				Delete: del, After: after, First: first, Note: note, MaxText: a.maxText}
			if flags.Changed("heading") {
				cmdTable.Heading = &heading
			}
			out, err := a.act(cmd.Context(), func(*domain.State, string) (domain.Command, error) { return cmdTable, nil })
			if err != nil {
				return err
			}
			tabled := out.Events[0].(domain.ProposalTabled)
			adopted := false
			for _, e := range out.Events {
				if ad, ok := e.(domain.ProposalAdopted); ok && ad.Proposal == tabled.Proposal {
					adopted = true
				}
			}
			awaiting := []string{}
			if p := out.State.Proposals[tabled.Proposal]; p != nil && p.Status == domain.StatusOpen {
				awaiting = nonNil(out.State.Awaiting(p))
			}
			if a.format == "json" {
				return a.writeJSON(map[string]any{"proposal": tabled.Proposal, "clause": tabled.Clause,
					"action": tabled.Action, "party": tabled.Party, "adopted": adopted,
					"awaiting": awaiting, "event": out.First})
			}
			fmt.Fprintln(a.stdout, tabled.Proposal)
			if adopted {
				a.info("Tabled and adopted: %s is the only party. Clause %s is at revision %d.", party, clause, out.State.Clauses[clause].Revision)
			} else {
				a.info("Tabled: %s of clause %s; awaiting %s.", tabled.Action, clause, strings.Join(awaiting, ", "))
			}
			a.betweenRounds(out.State)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&clause, "clause", "", "the clause's ID (a short slug such as security-guarantees)")
	f.StringVar(&text, "text", "", "the clause's whole proposed text")
	f.StringVar(&file, "file", "", `read the proposed text from a file ("-": standard input)`)
	f.BoolVar(&del, "delete", false, "propose deleting the clause")
	f.StringVar(&heading, "heading", "", "the clause's proposed heading")
	f.StringVar(&after, "after", "", "place the clause after this clause")
	f.BoolVar(&first, "first", false, "place the clause first")
	f.StringVar(&note, "note", "", "a note explaining the proposal")
	f.StringVar(&revise, "revise", "", "table a new version of your own open proposal P")
	_ = c.RegisterFlagCompletionFunc("revise", a.completeProposalIDs)
	_ = c.RegisterFlagCompletionFunc("clause", a.completeClauses)
	_ = c.RegisterFlagCompletionFunc("after", a.completeClauses)
	return c
}

// revise runs propose --revise.
func (a *app) revise(cmd *cobra.Command, party, ref, text, file, heading, note string) error {
	flags := cmd.Flags()
	for _, f := range []string{"clause", "delete", "after", "first"} {
		if flags.Changed(f) {
			return usagef("--revise keeps the proposal's clause and place: --%s does not go with it", f)
		}
	}
	if flags.Changed("text") && flags.Changed("file") {
		return usagef("--text and --file are alternatives; give one")
	}
	if !flags.Changed("text") && !flags.Changed("file") && !flags.Changed("heading") && !flags.Changed("note") {
		return usagef("propose --revise needs the new version: --text T or --file F (and --heading H, --note T)")
	}
	c := domain.Revise{Party: party, MaxText: a.maxText}
	if flags.Changed("file") {
		t, err := a.readText(file)
		if err != nil {
			return err
		}
		text = t
	}
	if flags.Changed("text") || flags.Changed("file") {
		c.Text = &text
	}
	if flags.Changed("heading") {
		c.Heading = &heading
	}
	if flags.Changed("note") {
		c.Note = &note
	}
	out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
		p, err := s.FindOpenProposal(ref)
		if err != nil {
			return nil, err
		}
		c.Proposal = p.Proposal
		return c, nil
	})
	if err != nil {
		return err
	}
	e := out.Events[0].(domain.ProposalRevised)
	awaiting := []string{}
	if p := out.State.Proposals[e.Proposal]; p != nil && p.Status == domain.StatusOpen {
		awaiting = nonNil(out.State.Awaiting(p))
	}
	if a.format == "json" {
		return a.writeJSON(map[string]any{"proposal": e.Proposal, "version": e.Version, "party": party,
			"awaiting": awaiting, "event": out.First})
	}
	fmt.Fprintln(a.stdout, e.Proposal)
	a.info("Revised: version %d of %s. The other parties' positions are reset; awaiting %s.", e.Version, domain.Short(e.Proposal), strings.Join(awaiting, ", "))
	a.betweenRounds(out.State)
	return nil
}

// betweenRounds tells, on stderr, that an act just recorded with no round
// open after one has closed stands between rounds, and how the next
// starts: tabling then is allowed, but easily done by mistake.
func (a *app) betweenRounds(s *domain.State) {
	place := projections.RoundPlace(s.Rounds, s.Events)
	if strings.HasPrefix(place, "between") {
		a.info("Recorded %s; `treaty round open` starts round %d.", place, len(s.Rounds)+1)
	}
}

// readText reads a proposal's text from a file or standard input, refusing
// more than --max-text bytes without reading them all.
func (a *app) readText(name string) (string, error) {
	var r io.Reader
	if name == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return "", fmt.Errorf("--file %s is a directory; give a text file", name)
		}
		r = f
	}
	// One byte past the limit tells a text at the limit from a longer one
	// (and the limit is never the largest int64, where that would wrap).
	data, err := io.ReadAll(io.LimitReader(r, min(int64(a.maxText), math.MaxInt64-1)+1))
	if err != nil {
		return "", fmt.Errorf("--file %s: %w", name, err)
	}
	if len(data) > a.maxText {
		return "", fmt.Errorf("--file %s holds more than %d bytes, the limit on a clause's text (--max-text)", name, a.maxText)
	}
	return strings.ReplaceAll(string(data), "\r\n", "\n"), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
