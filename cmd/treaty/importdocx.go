package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
	"github.com/treaty-engine/treaty/projections/wordml"
)

func (a *app) importDocxCommand() *cobra.Command {
	var table, rebase bool
	c := &cobra.Command{
		Use:   "import-docx FILE --as CODE [--table] [--rebase]",
		Short: "Read back a Word draft a delegation edited: what it proposes, as proposals",
		Long: `Read a Word document that treaty draft --format docx wrote and a delegation
edited in Word or LibreOffice, and list the proposals it makes for the acting
party (--as): an amendment for each clause whose text or heading changed (the
new whole text), an insertion for each new heading with text under it, a
deletion for each clause emptied or deleted. Tracked insertions count as made
and tracked deletions as done; changes made with tracking off are found too,
by comparing the text with the draft at the event the file names. Each
proposal's note says it came from the file.

Without --table nothing is appended: the proposals are listed, each with its
redline. --table tables them all in one append, or none. A change the party
has tabled already, still open, is not tabled again: the same file read back
twice tables nothing the second time.

FILE "-" reads the document from standard input.

Refused: a file treaty did not make, one of another negotiation, one from
another copy of the log, and one whose clauses changed in the log since its
event (the proposals would be stale; --rebase carries the file's changes onto
the current text).`,
		Example: `  treaty --as UA import-docx berlin-ua.docx
  treaty --as UA import-docx berlin-ua.docx --table
  treaty --as UA import-docx berlin-ua.docx --rebase --table
  treaty --as UA import-docx berlin-ua.docx --format json
  curl -s https://example.org/berlin-ua.docx | treaty --as UA import-docx -`,
		Args: exactArgs(1, "the Word document to read (.docx)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			party, err := a.needParty()
			if err != nil {
				return err
			}
			file, ident, name, err := a.readDocxFile(args[0])
			if err != nil {
				return err
			}
			store, err := a.openStore(ctx, false)
			if err != nil {
				return err
			}
			id := a.treaty
			if id == "" {
				if only, err := a.treatyID(ctx, store); err == nil {
					id = only
				} else {
					id = ident.Negotiation
				}
			}
			if id != ident.Negotiation {
				return fmt.Errorf("%s is a draft of negotiation %s, not of %s", name, ident.Negotiation, id)
			}
			r := a.readerOf(store, id)
			head, err := r.Head(ctx)
			if err != nil {
				return err
			}
			if _, err := head.State.Participant(party); err != nil {
				return err // the dry run too: tabling would be refused
			}
			if ident.Event > head.State.Events {
				return fmt.Errorf("%s is the draft of %s at event %d, and this log has %d events: it comes from another copy of the negotiation", name, id, ident.Event, head.State.Events)
			}
			ref, err := projections.ParseRef("@" + strconv.Itoa(ident.Event))
			if err != nil {
				return err
			}
			at, err := r.AtFrom(ctx, ref, head)
			if err != nil {
				return err
			}
			if at.Point.Hash != ident.Hash {
				return fmt.Errorf("%s names event %d with hash %s, and this log's event %d has hash %s: the file comes from another copy of the negotiation, or the log was rewritten",
					name, ident.Event, domain.ShortHash(ident.Hash), ident.Event, domain.ShortHash(at.Point.Hash))
			}
			then := projections.BuildDraft(at, projections.DraftOptions{})
			times, err := r.ProposalTimes(ctx, then, nil)
			if err != nil {
				return err
			}
			plan, err := projections.PlanDocxImport(file, then, times, head.State, party, rebase)
			var stale *projections.StaleImportError
			if errors.As(err, &stale) {
				return fmt.Errorf("%s: %w; `treaty --as %s import-docx %s --rebase` carries the file's changes onto the current text, or export the draft again", name, err, party, args[0])
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			plan.File = name
			if name != stdinName {
				plan.File = filepath.Base(name)
			}
			if table && len(plan.Proposals) > 0 {
				if err := a.tableImport(cmd, r, party, &plan); err != nil {
					return err
				}
			} else if len(plan.Proposals) > 0 {
				// The dry run decides what it lists, as tabling would,
				// so that it never lists what tabling refuses (a
				// concluded text, a text over --max-text).
				if err := write.Try(head.State, a.importCommands(party, &plan)); err != nil {
					return fmt.Errorf("%s: tabling would be refused: %w", plan.File, err)
				}
			}
			if a.format == "json" {
				return a.writeJSON(plan)
			}
			if table {
				for _, p := range plan.Proposals {
					fmt.Fprintln(a.stdout, p.Proposal)
				}
				return projections.WriteDocxImportText(a.stderr, plan, party, projections.Style{Color: a.color(a.stderr)})
			}
			return projections.WriteDocxImportText(a.stdout, plan, party, a.style())
		},
	}
	c.Flags().BoolVar(&table, "table", false, "table the proposals, all in one append (without it: a dry run)")
	c.Flags().BoolVar(&rebase, "rebase", false, "carry the file's changes of clauses changed since its event onto their current text")
	return c
}

// tableImport tables an import's proposals in one append, recording the
// IDs in plan.
func (a *app) tableImport(cmd *cobra.Command, r *projections.Reader, party string, plan *projections.DocxImport) error {
	cmds := a.importCommands(party, plan)
	for i := range plan.Proposals {
		plan.Proposals[i].Proposal = cmds[i].(domain.Table).Proposal
	}
	w, err := a.writerOf(r)
	if err != nil {
		return err
	}
	_, err = w.DoAll(cmd.Context(), write.Acts{Party: party, Author: a.author,
		Commands: func(s *domain.State, _ string) ([]domain.Command, error) { return cmds, plan.ChangedMeanwhile(s) }})
	if err != nil {
		return fmt.Errorf("%s: nothing tabled: %w", plan.File, err)
	}
	plan.Tabled = true
	return nil
}

// importCommands are the acts that table plan's proposals for party, each
// with a new ID.
func (a *app) importCommands(party string, plan *projections.DocxImport) []domain.Command {
	note := fmt.Sprintf("from %s (the draft at event %d)", plan.File, plan.Event)
	cmds := make([]domain.Command, len(plan.Proposals))
	for i, p := range plan.Proposals {
		cmds[i] = domain.Table{Proposal: uuid.NewString(), Clause: p.Clause, Party: party, Text: p.Text, Heading: p.Heading,
			Delete: p.Action == domain.ActionDelete, After: p.After, First: p.First, Note: note, MaxText: a.maxText}
	}
	return cmds
}

// stdinName is how import-docx names the document it reads from standard
// input (FILE "-").
const stdinName = "standard input"

// readDocxFile reads a Word document treaty wrote, saying what is wrong
// with one it cannot read: the file name, or "-" for standard input, read
// whole into memory within the document's size limit. It returns the name
// to give the document in messages.
func (a *app) readDocxFile(name string) (*wordml.File, projections.DocxIdent, string, error) {
	if name == "-" {
		if f, ok := stdinFile(a.stdin); ok && isTerminal(f) {
			// A document is not typed: reading would wait for nothing.
			return nil, projections.DocxIdent{}, stdinName, usagef("import-docx - reads a .docx from standard input, which is a terminal: pipe or redirect the file into it (< FILE), or name it")
		}
		limit := wordml.DefaultLimits.File
		data, err := io.ReadAll(io.LimitReader(a.stdin, limit+1))
		if err != nil {
			return nil, projections.DocxIdent{}, stdinName, fmt.Errorf("cannot read %s: %w", stdinName, err)
		}
		if int64(len(data)) > limit {
			return nil, projections.DocxIdent{}, stdinName, fmt.Errorf("%s: too large: more than the %d bytes accepted", stdinName, limit)
		}
		file, ident, err := docxOf(stdinName, bytes.NewReader(data), int64(len(data)))
		return file, ident, stdinName, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, projections.DocxIdent{}, name, fmt.Errorf("cannot read %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, projections.DocxIdent{}, name, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, projections.DocxIdent{}, name, fmt.Errorf("%s is not a regular file; give a .docx file, or - for standard input", name)
	}
	file, ident, err := docxOf(name, f, st.Size())
	return file, ident, name, err
}

// docxOf reads the document named name from r.
func docxOf(name string, r io.ReaderAt, size int64) (*wordml.File, projections.DocxIdent, error) {
	file, ident, err := projections.ReadDocx(r, size)
	switch {
	case errors.Is(err, projections.ErrNotTreatyDocx):
		return nil, ident, fmt.Errorf("%s was %w", name, err)
	case err != nil:
		return nil, ident, fmt.Errorf("%s: %w", name, err)
	}
	return file, ident, nil
}
