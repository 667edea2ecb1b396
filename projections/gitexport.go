package projections

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
)

// WriteGitFastImport writes the history of the agreed text as a stream for
// `git fast-import`: one file per clause (CLAUSE.txt, its heading on the
// first line) and a file ORDER naming them in the order of the agreed text,
// one a line (so that `cat $(cat ORDER)` reads the text end to end); one
// commit per adoption on refs/heads/main, authored by the proposing party at
// the adoption's time, which changes the clause's file and, when the
// clause entered, left or moved, ORDER (a move alone is a commit that
// changes ORDER alone); and an annotated tag round-N at the end of each
// closed round, whose message carries the hash of the event that closed it
// (the hash parties cite; `treaty verify --head HASH@N` checks it). An open
// round is tagged where it stands now. It replays the whole log and holds
// only the agreed text, never the events.
func (r *Reader) WriteGitFastImport(ctx context.Context, w io.Writer) error {
	out := bufio.NewWriterSize(w, 1<<16)
	s := &domain.State{}
	mark := 0
	data := func(b string) {
		fmt.Fprintf(out, "data %d\n%s\n", len(b), b)
	}
	names := map[string]string{}
	order := ""
	tag := func(round int, name string, when time.Time, msg string) {
		if mark == 0 {
			return
		}
		fmt.Fprintf(out, "tag round-%d\nfrom :%d\n", round, mark)
		fmt.Fprintf(out, "tagger treaty <treaty@%s.treaty> %d +0000\n", r.treaty, when.UTC().Unix())
		title := fmt.Sprintf("Round %d", round)
		if name != "" {
			title += " (" + name + ")"
		}
		data(title + msg)
	}
	_, err := r.foldVisit(ctx, s, -1, Point{}, false, false, func(ev Folded, s *domain.State) error {
		rec, m := ev.Rec, ev.Meta
		switch e := rec.Event.(type) {
		case domain.TreatyOpened:
			for _, p := range e.Parties {
				names[p.Code] = p.Name
			}
		case domain.ProposalAdopted:
			adopted := ev.Adopted
			mark++
			when := fmt.Sprintf("%d +0000", m.Time.UTC().Unix())
			party := adopted.Party
			fmt.Fprintf(out, "commit refs/heads/main\nmark :%d\n", mark)
			fmt.Fprintf(out, "author %s <%s@%s.treaty> %s\n", gitName(cmp.Or(names[party], party)), strings.ToLower(party), r.treaty, when)
			fmt.Fprintf(out, "committer treaty <treaty@%s.treaty> %s\n", r.treaty, when)
			now := orderFile(s)
			msg := fmt.Sprintf("%s %s: %s (proposal %s, event %d)\n", party, adopted.Action, e.Clause, adopted.Proposal, rec.Number)
			if now != order && ev.Was.Agreed() && s.Clauses[e.Clause].Agreed() {
				msg += fmt.Sprintf("\nMoves %s: %s\n", e.Clause, Placement{After: adopted.After, First: adopted.First}.where())
			}
			if adopted.Note != "" {
				msg += "\n" + adopted.Note + "\n"
			}
			data(msg)
			if mark > 1 {
				fmt.Fprintf(out, "from :%d\n", mark-1)
			}
			c := s.Clauses[e.Clause]
			if c.Deleted {
				fmt.Fprintf(out, "D %s.txt\n", e.Clause)
			} else {
				fmt.Fprintf(out, "M 100644 inline %s.txt\n", e.Clause)
				data(clauseFile(c))
			}
			if now != order {
				out.WriteString("M 100644 inline ORDER\n")
				data(now)
				order = now
			}
			out.WriteString("\n")
		case domain.RoundClosed:
			name := ""
			if i := e.Round - 1; i >= 0 && i < len(s.Rounds) {
				name = s.Rounds[i].Name
			}
			tag(e.Round, name, m.Time, fmt.Sprintf(" closed at event %d.\n\nClosing hash: %s\nHead before it: %s\n\nCheck it with: treaty verify --head %s@%d\n",
				rec.Number, m.Hash, e.Head, m.Hash, rec.Number))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.Events == 0 {
		return fmt.Errorf("%w %q in this store", ErrNoTreaty, r.treaty)
	}
	// An open round is tagged where it stands now.
	if n := s.OpenRound(); n > 0 {
		rd := s.Rounds[n-1]
		at, err := r.eventTime(ctx, s.Events)
		if err != nil {
			return err
		}
		tag(n, rd.Name, at, fmt.Sprintf(" is still open: tagged as it stands at event %d.\n", s.Events))
	}
	out.WriteString("done\n")
	return out.Flush()
}

// orderFile is the file ORDER of the agreed text at s: its clauses' files in
// order, one a line.
func orderFile(s *domain.State) string {
	var b strings.Builder
	for _, c := range s.Draft() {
		if c.Agreed() {
			b.WriteString(c.ID + ".txt\n")
		}
	}
	return b.String()
}

// clauseFile is a clause as a file: its heading, a blank line, its text.
func clauseFile(c *domain.Clause) string {
	if c.Heading == "" {
		return c.Text + "\n"
	}
	return c.Heading + "\n\n" + c.Text + "\n"
}

// gitName keeps a name usable in a git ident line.
func gitName(s string) string {
	return strings.NewReplacer("<", "", ">", "", "\n", " ").Replace(s)
}
