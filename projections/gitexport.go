package projections

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/treaty-engine/treaty/domain"
)

// WriteGitFastImport writes the history of the agreed text as a stream for
// `git fast-import`: one file per clause (CLAUSE.txt, its heading on the
// first line), one commit per adoption on refs/heads/main, authored by the
// proposing party at the adoption's time, and a tag round-N at the end of
// each closed round. It replays the whole log and holds only the agreed
// text, never the events.
func (r *Reader) WriteGitFastImport(ctx context.Context, w io.Writer) error {
	out := bufio.NewWriterSize(w, 1<<16)
	s := &domain.State{}
	mark := 0
	data := func(b string) {
		fmt.Fprintf(out, "data %d\n%s\n", len(b), b)
	}
	names := map[string]string{}
	_, err := r.foldVisit(ctx, s, -1, Point{}, false, func(ev Folded, s *domain.State) error {
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
			msg := fmt.Sprintf("%s %s: %s (proposal %s, event %d)\n", party, adopted.Action, e.Clause, adopted.Proposal, rec.Number)
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
			out.WriteString("\n")
		case domain.RoundClosed:
			if mark > 0 {
				fmt.Fprintf(out, "reset refs/tags/round-%d\nfrom :%d\n\n", e.Round, mark)
			}
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
	if n := s.OpenRound(); n > 0 && mark > 0 {
		fmt.Fprintf(out, "reset refs/tags/round-%d\nfrom :%d\n\n", n, mark)
	}
	out.WriteString("done\n")
	return out.Flush()
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
