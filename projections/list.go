package projections

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/jsonindent"
)

// ProposalList is every proposal of a negotiation, summarized as Proposals
// summarizes them from a state that keeps closed proposals whole (see
// Reader.Complete), in the same order, but held in a temporary file: in
// memory it keeps a few dozen bytes a proposal, so that listing a long
// history costs no more memory than its state. Each closed proposal is
// summarized as it closes (domain.State.OnClose): nothing a summary of a
// closed proposal shows changes after that but its place among the rounds
// (a round opened later makes a proposal "before round 1"), which is
// worked out from the rounds at the end. Close removes the file.
type ProposalList struct {
	f     *os.File
	w     *bufio.Writer
	end   int64
	index []listed
	// widths are the widths of the text table's columns but the last, the
	// header's included, as tabwriter would measure them.
	widths [len(proposalHeader) - 1]int
	rounds []domain.Round
	// fates counts the summaries by status.
	fates map[string]int
	enc   *json.Encoder
	doc   bytes.Buffer
	err   error
	// removed says the file's name is gone already.
	removed bool
	cleanup runtime.Cleanup
}

// listed is where one summary is in the file: its table row (its place
// among the rounds left empty) and its compact JSON, one after the other.
type listed struct {
	tabled   int
	off      int64
	row, doc int32
}

// placeCell is the column of the table that says where among the rounds a
// proposal was tabled.
const placeCell = 8

var proposalHeader = [...]string{"PROPOSAL", "CLAUSE", "ACTION", "PARTY", "STATUS", "ACCEPTED", "OBJECTED", "AWAITING", "ROUND", "MOVES"}

// newProposalList starts an empty list in a new temporary file.
func newProposalList() (*ProposalList, error) {
	f, err := os.CreateTemp("", "treaty-proposals-*")
	if err != nil {
		return nil, err
	}
	l := &ProposalList{f: f, w: bufio.NewWriterSize(f, 64<<10), fates: map[string]int{}}
	// Where a file open can be removed (not on Windows), it goes at once:
	// a process killed before Close leaves nothing behind.
	l.removed = os.Remove(f.Name()) == nil
	// A list no one closes (one a server keeps while readers page through
	// it, then drops) is closed when it is collected, and its file removed
	// where it could not be at once.
	l.cleanup = runtime.AddCleanup(l, func(f listFile) { f.close() }, listFile{f, l.removed})
	l.enc = json.NewEncoder(&l.doc)
	l.enc.SetEscapeHTML(false)
	l.measure(proposalHeader[:])
	return l, nil
}

// AllProposals replays the whole log, from the first event, and returns
// the negotiation now with every proposal it ever had in a ProposalList:
// what Proposals(Complete().State) lists, in memory bounded by the state.
// The caller must Close the list.
func (r *Reader) AllProposals(ctx context.Context) (Moment, *ProposalList, error) {
	l, err := newProposalList()
	if err != nil {
		return Moment{}, nil, err
	}
	s := &domain.State{}
	l.follow(s)
	last, err := r.fold(ctx, s, -1, Point{}, false)
	if err == nil && s.Events == 0 {
		err = r.noTreaty()
	}
	if err == nil {
		err = l.finish(s)
	}
	if err != nil {
		l.Close()
		return Moment{}, nil, err
	}
	return Moment{Point: pointOf(Head, s, last), State: s}, l, nil
}

// follow has l summarize every proposal that closes in s as it closes.
func (l *ProposalList) follow(s *domain.State) {
	s.OnClose = func(p *domain.Proposal) { l.add(Summarize(s, p)) }
}

// finish adds the proposals still open in s, the state at the end, and
// puts the list in the order they were tabled.
func (l *ProposalList) finish(s *domain.State) error {
	s.OnClose = nil
	for _, p := range s.Proposals {
		if p.Status == domain.StatusOpen {
			l.add(Summarize(s, p))
		}
	}
	if l.err == nil {
		l.err = l.w.Flush()
	}
	slices.SortFunc(l.index, func(a, b listed) int { return a.tabled - b.tabled })
	l.rounds = slices.Clone(s.Rounds)
	for _, e := range l.index {
		l.widths[placeCell] = max(l.widths[placeCell], utf8.RuneCountInString(placeColumn(l.place(e))))
	}
	return l.err
}

func (l *ProposalList) add(sum ProposalSummary) {
	if l.err != nil {
		return
	}
	cells := proposalCells(Printable(sum))
	cells[placeCell] = ""
	l.measure(cells)
	row := strings.Join(cells, "\t")
	l.doc.Reset()
	if l.err = l.enc.Encode(sum); l.err != nil {
		return
	}
	doc := bytes.TrimSuffix(l.doc.Bytes(), []byte("\n"))
	l.fates[sum.Status]++
	l.index = append(l.index, listed{tabled: sum.Tabled, off: l.end, row: int32(len(row)), doc: int32(len(doc))})
	l.w.WriteString(row)
	_, l.err = l.w.Write(doc)
	l.end += int64(len(row) + len(doc))
}

// place is where among the rounds the proposal was tabled (see
// RoundPlace).
func (l *ProposalList) place(e listed) string { return RoundPlace(l.rounds, e.tabled) }

// measure widens the columns to the cells of one row.
func (l *ProposalList) measure(cells []string) {
	for i := range l.widths {
		l.widths[i] = max(l.widths[i], utf8.RuneCountInString(cells[i]))
	}
}

// Len is how many proposals the list holds.
func (l *ProposalList) Len() int { return len(l.index) }

// Fates counts the proposals of the list by the status they are listed
// with (adopted, withdrawn, open, stale).
func (l *ProposalList) Fates() map[string]int { return maps.Clone(l.fates) }

// Close removes the list's file; the list is empty after it.
func (l *ProposalList) Close() error {
	if l.f == nil {
		return nil
	}
	l.cleanup.Stop()
	err := listFile{l.f, l.removed}.close()
	l.f, l.index = nil, nil
	return err
}

// listFile is a list's file, and whether its name is gone already.
type listFile struct {
	f       *os.File
	removed bool
}

func (f listFile) close() error {
	err := f.f.Close()
	if !f.removed {
		if rerr := os.Remove(f.f.Name()); err == nil {
			err = rerr
		}
	}
	return err
}

// each calls fn with every summary, in order: where it is, its table row
// and its compact JSON (valid until the next call).
func (l *ProposalList) each(fn func(e listed, row, doc []byte) error) error {
	return l.eachOf(0, l.Len(), fn)
}

// eachOf is each for the summaries from the from-th (counting from 0) up
// to the to-th: only those are read, wherever they are in the file.
func (l *ProposalList) eachOf(from, to int, fn func(e listed, row, doc []byte) error) error {
	if l.f == nil {
		return errors.New("the proposal list is closed")
	}
	var buf []byte
	for _, e := range l.index[from:to] {
		n := int(e.row + e.doc)
		buf = slices.Grow(buf[:0], n)[:n]
		if _, err := l.f.ReadAt(buf, e.off); err != nil {
			return fmt.Errorf("reading back the proposal list: %w", err)
		}
		if err := fn(e, buf[:e.row], buf[e.row:]); err != nil {
			return err
		}
	}
	return nil
}

// span says whether the list (nil: none) holds the summaries from the
// from-th up to the to-th.
func (l *ProposalList) span(from, to int) error {
	n := 0
	if l != nil {
		n = l.Len()
	}
	if from < 0 || to > n || from > to {
		return fmt.Errorf("rows %d to %d of a list of %d proposals", from, to, n)
	}
	return nil
}

// Rows yields the summaries from the from-th (counting from 0) up to the
// to-th, as Proposals would have listed them, one at a time: reading row K
// costs no more than reading row 0. A range outside the list yields an
// error.
func (l *ProposalList) Rows(from, to int) iter.Seq2[ProposalSummary, error] {
	return func(yield func(ProposalSummary, error) bool) {
		if err := l.span(from, to); err != nil {
			yield(ProposalSummary{}, err)
			return
		}
		if from == to { // nothing to read, of a list that may be nil
			return
		}
		stop := errors.New("stop")
		err := l.eachOf(from, to, func(e listed, _, doc []byte) error {
			var sum ProposalSummary
			if err := json.Unmarshal(doc, &sum); err != nil {
				return err
			}
			sum.place = l.place(e)
			if !yield(sum, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(ProposalSummary{}, err)
		}
	}
}

// Summaries reads the whole list back into memory, as Proposals would
// have returned it.
func (l *ProposalList) Summaries() ([]ProposalSummary, error) {
	out := make([]ProposalSummary, 0, l.Len())
	for sum, err := range l.Rows(0, l.Len()) {
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// WriteText writes the list as WriteProposalsText writes the same
// summaries, byte for byte: its columns are as wide as tabwriter makes
// them, measured as the summaries were added.
func (l *ProposalList) WriteText(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := func(cells []string) {
		for i, c := range cells[:len(cells)-1] {
			bw.WriteString(c)
			// tabwriter's padding: two spaces past the widest cell.
			bw.WriteString(strings.Repeat(" ", l.widths[i]+2-utf8.RuneCountInString(c)))
		}
		bw.WriteString(cells[len(cells)-1])
		bw.WriteByte('\n')
	}
	line(proposalHeader[:])
	err := l.each(func(e listed, row, _ []byte) error {
		cells := strings.Split(string(row), "\t")
		cells[placeCell] = placeColumn(l.place(e))
		line(cells)
		return nil
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteJSON writes the list as a JSON array indented by indent, as
// jsonindent.Encode(w, summaries, indent) writes it, byte for byte, but
// for the newline after it: depth says how deep the array stands in the
// document being written, so that it can be one value of a larger one.
func (l *ProposalList) WriteJSON(w io.Writer, indent string, depth int) error {
	return l.writeJSON(w, indent, depth, 0, l.Len())
}

// WriteJSONRows writes the summaries from the from-th (counting from 0) up
// to the to-th as WriteJSON writes the whole list, a document of its own.
func (l *ProposalList) WriteJSONRows(w io.Writer, indent string, from, to int) error {
	if err := l.span(from, to); err != nil {
		return err
	}
	return l.writeJSON(w, indent, 0, from, to)
}

func (l *ProposalList) writeJSON(w io.Writer, indent string, depth, from, to int) error {
	if from == to {
		_, err := io.WriteString(w, "[]")
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	outer := "\n" + strings.Repeat(indent, depth)
	inner := []byte(outer + indent)
	bw.WriteByte('[')
	var buf []byte
	sep := []byte{}
	err := l.eachOf(from, to, func(_ listed, _, doc []byte) error {
		bw.Write(sep)
		bw.Write(inner)
		buf = jsonindent.Append(buf[:0], doc, indent)
		bw.Write(bytes.ReplaceAll(buf, []byte("\n"), inner))
		sep = []byte(",")
		return nil
	})
	if err != nil {
		return err
	}
	bw.WriteString(outer + "]")
	return bw.Flush()
}
