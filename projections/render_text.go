package projections

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// Style colours and wraps text output. The zero Style writes plain text
// with lines as long as they come; the command line turns colour on only
// for a terminal, and never under NO_COLOR, and wraps only for a terminal.
type Style struct {
	Color bool
	// Width is the terminal's width in columns: text longer than a line is
	// wrapped at word boundaries, keeping the layout's margins (see hang).
	// 0: no wrapping.
	Width int
}

func (st Style) wrap(code, s string) string {
	if !st.Color || s == "" {
		return s
	}
	open, end := st.around(code)
	return open + s + end
}

// around returns what the style writes before and after text it colours
// with the SGR code: nothing without colour.
func (st Style) around(code string) (open, end string) {
	if !st.Color {
		return "", ""
	}
	return "\x1b[" + code + "m", "\x1b[0m"
}

// Bold, Dim, Red, Green and Yellow colour s when the style has colour.
func (st Style) Bold(s string) string   { return st.wrap("1", s) }
func (st Style) Dim(s string) string    { return st.wrap("2", s) }
func (st Style) Red(s string) string    { return st.wrap("31", s) }
func (st Style) Green(s string) string  { return st.wrap("32", s) }
func (st Style) Yellow(s string) string { return st.wrap("33", s) }

// indent is the margin of clause text under its heading.
const indent = "   "

// The text draft's layout cannot be forged by the text it shows, agreed or
// proposed. Clause headings alone start at the first column. Agreed text is
// indented by three spaces. Every line of a bracket starts with
// bracketMargin, which no line of agreed text can (its first three columns
// are blank); within a bracket the opening "[US: " stands at the fourth
// column, the line saying where the proposal stands at the sixth, and the
// proposal's further lines are indented past both, under its first: no line
// of a proposal's text can pass for a heading, agreed text, the opening or
// end of another bracket, or the line of who accepts it.
const bracketMargin = " | "

// additionMargin starts the lines of a party's reservation or declaration,
// which no agreed or proposed text can start.
const additionMargin = " * "

// addition renders a reservation or declaration: its label and text, the
// text's further lines indented under its first.
func (st Style) addition(label, text string) string {
	return st.hang(additionMargin+label, additionMargin+strings.Repeat(" ", utf8.RuneCountInString(label)), text)
}

// FormatTime renders a writer's time for people: UTC, to the minute.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func describePoint(p Point) string {
	s := fmt.Sprintf("event %d", p.Event)
	if place := p.Place(); place != "" {
		s += ", " + place
	}
	if !p.Time.IsZero() {
		s += ", " + FormatTime(p.Time)
	}
	return s
}

func partyList(parties []domain.Party, role domain.Role) string {
	var ps []string
	for _, p := range parties {
		if p.Role == role {
			if p.Name != "" && p.Name != p.Code {
				ps = append(ps, p.Code+" "+p.Name)
			} else {
				ps = append(ps, p.Code)
			}
		}
	}
	return strings.Join(ps, " · ")
}

// WriteDraftText writes the draft for people: agreed text, and each open
// proposal in square brackets attributed to its party, stale ones marked.
func WriteDraftText(w io.Writer, d Draft, st Style) error {
	d = printableBut(d, func(d *Draft) *[]DraftClause { return &d.Clauses })
	blocks := renderParts(d.Clauses, func(c DraftClause) string {
		return visibleText(c, st, func(c DraftClause) string { return draftClauseText(d, c, st) })
	})
	var b strings.Builder
	// The lines above the clauses go on, wrapped, two columns in: not at
	// the first, where headings stand, nor at the third, agreed text's. A
	// clause's heading stays one line, whatever its length: only headings
	// start at the first column.
	b.WriteString(st.hang("", "  ", st.Bold(d.Title)+"  ("+d.Treaty+")") + "\n")
	fmt.Fprintf(&b, "As of %s\n", describePoint(d.AsOf))
	if ps := partyList(d.Parties, domain.RoleParty); ps != "" {
		b.WriteString(st.hang("Parties: ", "  ", ps) + "\n")
	}
	if os := partyList(d.Parties, domain.RoleObserver); os != "" {
		b.WriteString(st.hang("Observers: ", "  ", os) + "\n")
	}
	for _, line := range d.Standing() {
		b.WriteString(st.Bold(st.hang("", "  ", line)) + "\n")
	}
	if len(d.Clauses) == 0 {
		b.WriteString("\nThe draft is empty: no clause has been tabled yet.\n")
	}
	var tail strings.Builder
	if len(d.Declarations) > 0 {
		tail.WriteString("\nDeclarations:\n")
		for _, r := range d.Declarations {
			tail.WriteString(st.addition("Declaration by "+r.Party+": ", r.Text) + "\n")
		}
	}
	return writeJoined(w, []string{b.String()}, blocks, []string{tail.String()})
}

// draftClauseText renders one clause of the draft d as c holds it: made
// visible, if it is to be shown to people (see visibleText). Its text, its
// open proposals in brackets, the reservations to it.
func draftClauseText(d Draft, c DraftClause, st Style) string {
	var b strings.Builder
	b.Grow(128 + len(c.Text) + len(c.Text)/16)
	b.WriteString("\n")
	fmt.Fprintf(&b, "%d. %s%s  %s\n", c.Number, st.Bold(clauseHeading(c)), st.Dim("  ["+c.ID+"]"), statusColor(c, st))
	if c.Text != "" {
		st.writeHang(&b, indent, indent, c.Text)
		b.WriteByte('\n')
	}
	for _, p := range c.OpenProposals {
		writeBracket(&b, c, p, st)
		b.WriteByte('\n')
	}
	for _, r := range d.ReservationsTo(c.ID) {
		b.WriteString(st.addition("Reservation by "+r.Party+": ", r.Text) + "\n")
	}
	return b.String()
}

// clauseHeading is what a clause is called in a rendering: its agreed
// heading; for a clause with no agreed text, the heading its first proposal
// gives it, in brackets; else its ID.
func clauseHeading(c DraftClause) string {
	switch {
	case c.Heading != "":
		return c.Heading
	case c.Revision == 0 && len(c.OpenProposals) > 0 && c.OpenProposals[0].Heading != nil && *c.OpenProposals[0].Heading != "":
		return "[" + *c.OpenProposals[0].Heading + "]"
	}
	return c.ID
}

// proposedHeading reports the heading p proposes, made visible, when it
// differs from the one the clause is shown with. It compares and returns
// them made visible whether or not c was (see visibleText): the heading is
// printed quoted, and quoting would hide from the block read back what
// there is to make visible.
func proposedHeading(c DraftClause, p OpenProposal) (string, bool) {
	if p.Heading == nil {
		return "", false
	}
	h := domain.VisibleLines(*p.Heading)
	if h == domain.VisibleLines(c.Heading) || "["+h+"]" == domain.VisibleLines(clauseHeading(c)) {
		return "", false
	}
	return h, true
}

// statusColor is a clause's status, coloured: green when agreed, yellow
// when agreed ad referendum, plain when open.
func statusColor(c DraftClause, st Style) string {
	switch c.Status {
	case StatusAgreed:
		return st.Green(c.StatusLabel())
	case StatusAgreedAdRef:
		return st.Yellow(c.StatusLabel())
	}
	return c.StatusLabel()
}

// writeBracket writes an open proposal as unagreed text: "[US: …]", among
// options "[Option 2 (UA): …]", and a line saying where it stands. What the
// proposal is besides its text (stale, a new heading, a deletion) is said
// in the opening, before the text starts, where no text can say it.
func writeBracket(b *strings.Builder, c DraftClause, p OpenProposal, st Style) {
	who := p.Label()
	if h, ok := proposedHeading(c, p); ok {
		who += fmt.Sprintf(", heading %q", h)
	}
	colour := "33" // yellow; dim when stale
	if p.Stale {
		colour = "2"
	}
	open, end := st.around(colour)
	b.WriteString(open)
	switch {
	case p.Action == domain.ActionDelete && p.Stale && p.Option == 0:
		b.WriteString(bracketMargin + "[" + who + ", deletes this clause]")
	case p.Action == domain.ActionDelete:
		b.WriteString(bracketMargin + "[" + who + " deletes this clause]")
	default:
		st.writeBracketText(b, "["+who+": ", p.Text)
	}
	b.WriteString(end)
	b.WriteByte('\n')
	b.WriteString(st.bracketFacts(p))
}

// writeBracketText writes a bracket's opening, its text and its closing
// bracket, the text's further lines (and on a terminal the continuations of
// a wrapped one) indented under its first. The text is copied once, into b,
// unless the style has a terminal's width to wrap it to, where the closing
// bracket is wrapped with the last word.
func (st Style) writeBracketText(b *strings.Builder, open, text string) {
	first, rest := bracketMargin+open, bracketMargin+strings.Repeat(" ", utf8.RuneCountInString(open))
	if st.Width > 0 {
		st.writeHang(b, first, rest, text+"]")
		return
	}
	st.writeHang(b, first, rest, text)
	b.WriteByte(']')
}

// bracketFacts renders the line of who accepts a proposal; wrapped, it goes
// on at its own column, where no text stands.
func (st Style) bracketFacts(p OpenProposal) string {
	margin := bracketMargin + "  "
	return margin + st.Dim(strings.TrimPrefix(st.block(margin, strings.Join(p.Facts(), " · ")), margin))
}

// markup is how one output format writes a redline: how it escapes text and
// what it writes around what is deleted and inserted.
type markup struct {
	escape                               func(string) string
	delOpen, delClose, insOpen, insClose string
}

// around returns what m writes before and after an op of kind k, and
// whether k is a kind it writes at all.
func (m markup) around(k redline.Kind) (open, end string, ok bool) {
	switch k {
	case redline.Equal:
		return "", "", true
	case redline.Delete:
		return m.delOpen, m.delClose, true
	case redline.Insert:
		return m.insOpen, m.insClose, true
	}
	return "", "", false
}

// size is the length of render(ops) when nothing is escaped.
func (m markup) size(ops []redline.Op) int {
	n := 0
	for _, op := range ops {
		open, end, _ := m.around(op.Kind)
		n += len(open) + len(op.Text) + len(end)
	}
	return n
}

// render writes ops in the markup, into one allocation when nothing is
// escaped (a compare document renders thousands of redlines).
func (m markup) render(ops []redline.Op) string {
	var b strings.Builder
	b.Grow(m.size(ops))
	for _, op := range ops {
		open, end, ok := m.around(op.Kind)
		if !ok {
			continue
		}
		t := op.Text
		if m.escape != nil {
			t = m.escape(t)
		}
		b.WriteString(open)
		b.WriteString(t)
		b.WriteString(end)
	}
	return b.String()
}

// tagged marks changes with <del> and <ins>, for HTML and Markdown.
func tagged(escape func(string) string) markup {
	return markup{escape: escape, delOpen: "<del>", delClose: "</del>", insOpen: "<ins>", insClose: "</ins>"}
}

// textMarkup writes a redline inline, git-style: [-deleted-]{+inserted+},
// coloured as st.Red and st.Green colour.
func textMarkup(st Style) markup {
	red, redEnd := st.around("31")
	green, greenEnd := st.around("32")
	return markup{delOpen: red + "[-", delClose: "-]" + redEnd, insOpen: green + "{+", insClose: "+}" + greenEnd}
}

// textOps writes a redline inline, as textMarkup says.
func textOps(ops []redline.Op, st Style) string { return textMarkup(st).render(ops) }

func pointLabel(p Point) string {
	return fmt.Sprintf("%s (%s)", p.Ref, describePoint(p))
}
