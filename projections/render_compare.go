package projections

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// changeHeading is what a clause of the compare document is called: its
// heading at the end where it has text (the earlier one for a removed
// clause), the heading its first open proposal gives a clause with no
// agreed text (in brackets), or its ID.
func changeHeading(c ClauseChange) string {
	h := c.HeadingAfter
	if c.Change == ChangeRemoved {
		h = c.HeadingBefore
	}
	if h == "" && c.After == "" && c.Change != ChangeRemoved {
		for _, p := range c.OpenProposals {
			if p.Heading != nil && *p.Heading != "" {
				return "[" + *p.Heading + "]"
			}
		}
	}
	if h == "" {
		return c.ID
	}
	return h
}

// changeNumber is the number a clause is shown with: its number in the
// later draft, or, for a clause gone from it, its earlier number struck
// through.
func changeNumber(c ClauseChange) template.HTML {
	if c.NumberAfter > 0 {
		return template.HTML(fmt.Sprintf("%d.", c.NumberAfter))
	}
	return template.HTML(fmt.Sprintf(`<span class="num"><del>%d.</del></span>`, c.NumberBefore))
}

func changeNumberText(c ClauseChange, st Style) string {
	if c.NumberAfter > 0 {
		return fmt.Sprintf("%d.", c.NumberAfter)
	}
	return st.Red(fmt.Sprintf("[-%d.-]", c.NumberBefore))
}

// showLabel reports whether a clause's heading line says what changed: an
// unchanged clause reads as the draft does, unless it has no agreed text.
func showLabel(c ClauseChange) bool {
	return c.Change != ChangeUnchanged || c.Before == "" && c.After == "" ||
		c.NumberBefore > 0 && c.NumberAfter > 0 && c.NumberBefore != c.NumberAfter
}

// listedAdoptions is how many adoptions a clause of the compare document
// lists for people; a clause changed more often between the two moments
// says how many each party had adopted, and the last ones (as the JSON form
// does, unless asked for them all).
const listedAdoptions = domain.RecentAdoptions

// adoptionSummary splits a clause's adoptions for people: the ones to list
// (all, or the last few), and, when there are more, how many each party had
// adopted, in the order of the parties.
func adoptionSummary(c ClauseChange, parties []domain.Party) (listed []Attribution, byParty string) {
	as := c.Adopted
	if c.Adoptions.Total <= listedAdoptions {
		return as, ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(c.Adoptions.Total))
	b.WriteString(" proposals (")
	first := true
	for _, p := range parties {
		if n := c.Adoptions.ByParty[p.Code]; n > 0 {
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(p.Code)
			b.WriteByte(' ')
			b.WriteString(strconv.Itoa(n))
		}
	}
	b.WriteString("); the last ")
	b.WriteString(strconv.Itoa(listedAdoptions))
	b.WriteString(": ")
	return as[len(as)-listedAdoptions:], b.String()
}

// attributionText says who made a change: "Adopted: " and each adoption
// listed as "ID (party, place, event N)", after the counts by party when
// there are more. A compare document writes one for each of its changes.
func attributionText(c ClauseChange, parties []domain.Party) string {
	listed, byParty := adoptionSummary(c, parties)
	var b strings.Builder
	b.Grow(len("Adopted: ") + len(byParty) + 64*len(listed))
	b.WriteString("Adopted: ")
	b.WriteString(byParty)
	for i, a := range listed {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(domain.Short(a.ID))
		b.WriteString(" (")
		b.WriteString(a.Party)
		if a.Place != "" {
			b.WriteString(", ")
			b.WriteString(a.Place)
		}
		b.WriteString(", event ")
		b.WriteString(strconv.Itoa(a.Event))
		b.WriteByte(')')
	}
	return b.String()
}

// WriteDiffText writes the compare document for people.
func WriteDiffText(w io.Writer, d Diff, st Style) error {
	d = printableBut(d, func(d *Diff) *[]ClauseChange { return &d.Clauses })
	blocks := renderParts(d.Clauses, func(c ClauseChange) string {
		return visibleText(c, st, func(c ClauseChange) string { return diffClauseText(c, d.Parties, st) })
	})
	var head strings.Builder
	fmt.Fprintf(&head, "%s  (%s)\n", st.Bold("Redline of "+d.Title), d.Treaty)
	fmt.Fprintf(&head, "from %s\n  to %s\n", pointLabel(d.From), pointLabel(d.To))
	head.WriteString(st.Dim(notAgreed) + "\n")
	if len(d.Clauses) == 0 {
		head.WriteString("\nNo change to the agreed text.\n")
	}
	a := d.Proposals.Counts
	parts := append(append([]string{head.String()}, blocks...),
		fmt.Sprintf("\nProposals: %d tabled, %d adopted, %d withdrawn\n", a.Tabled, a.Adopted, a.Withdrawn))
	if joinedLen(parts) > keepDocument {
		// Not kept (see WriteCompare): written as it stands, not joined
		// into a second copy first.
		return writeJoined(w, parts)
	}
	// One string, which a compare keeps as it is.
	_, err := io.WriteString(w, joined(parts))
	return err
}

// diffClauseText renders one change of the compare document as c holds
// it: made visible, if it is to be shown to people (see visibleText).
func diffClauseText(c ClauseChange, parties []domain.Party, st Style) string {
	var b strings.Builder
	m := textMarkup(st)
	size := m.size(c.Ops) + m.size(c.HeadingOps) + 256 + len(c.Adopted)*64
	for _, p := range c.OpenProposals {
		size += m.size(p.Ops) + 192
	}
	b.Grow(size)
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s %s%s", changeNumberText(c, st), st.Bold(changeHeading(c)), st.Dim("  ["+c.ID+"]"))
	if showLabel(c) {
		b.WriteString("  " + st.Dim("("+changeLabel(c)+")"))
	}
	b.WriteString("\n")
	if len(c.HeadingOps) > 0 {
		b.WriteString(indent + "heading: " + textOps(c.HeadingOps, st) + "\n")
	}
	if len(c.Ops) > 0 {
		st.writeOpsHang(&b, indent, indent, c.Ops)
		b.WriteByte('\n')
	}
	if len(c.Adopted) > 0 {
		b.WriteString(indent + st.Dim(attributionText(c, parties)) + "\n")
	}
	for _, p := range c.OpenProposals {
		writeCompareBracket(&b, p, st)
		b.WriteString("\n")
	}
	return b.String()
}

// writeCompareBracket writes an open proposal as the compare document
// shows it: its redline against the text it was drafted against, in
// brackets, and a line saying where it stands.
func writeCompareBracket(b *strings.Builder, p OpenProposal, st Style) {
	open := "[" + p.Label() + ": "
	if p.Action == domain.ActionDelete {
		open = "[" + p.Label() + " deletes this clause: "
	}
	first, rest := bracketMargin+open, bracketMargin+strings.Repeat(" ", utf8.RuneCountInString(open))
	if st.Width > 0 {
		// The closing bracket wraps with the text's last word.
		st.writeHang(b, first, rest, textOps(p.Ops, st)+"]")
	} else {
		st.writeOpsHang(b, first, rest, p.Ops)
		b.WriteString("]")
	}
	b.WriteString("\n")
	b.WriteString(st.bracketFacts(p))
}

// opsMarkdown renders a redline with <del> and <ins>, which Markdown
// renderers pass through.
func opsMarkdown(ops []redline.Op) string { return tagged(md).render(ops) }

// WriteDiffMarkdown writes the compare document as Markdown.
func WriteDiffMarkdown(w io.Writer, d Diff) error {
	d = Printable(d)
	var b strings.Builder
	fmt.Fprintf(&b, "# Redline of %s\n\n", md(d.Title))
	fmt.Fprintf(&b, "*%s, from %s to %s*\n\n", d.Treaty, md(pointLabel(d.From)), md(pointLabel(d.To)))
	fmt.Fprintf(&b, "*%s*\n", md(notAgreed))
	if len(d.Clauses) == 0 {
		b.WriteString("\nNo change to the agreed text.\n")
	}
	for _, c := range d.Clauses {
		num := fmt.Sprintf("%d.", c.NumberAfter)
		if c.NumberAfter == 0 {
			num = fmt.Sprintf("<del>%d.</del>", c.NumberBefore)
		}
		fmt.Fprintf(&b, "\n## %s %s", num, md(changeHeading(c)))
		if showLabel(c) {
			fmt.Fprintf(&b, " *(%s)*", changeLabel(c))
		}
		b.WriteString("\n\n")
		if len(c.HeadingOps) > 0 {
			fmt.Fprintf(&b, "*Heading:* %s\n\n", opsMarkdown(c.HeadingOps))
		}
		if len(c.Ops) > 0 {
			b.WriteString(opsMarkdown(c.Ops) + "\n\n")
		}
		if len(c.Adopted) > 0 {
			fmt.Fprintf(&b, "*%s*\n\n", md(attributionText(c, d.Parties)))
		}
		for _, p := range c.OpenProposals {
			text := opsMarkdown(p.Ops)
			if p.Action == domain.ActionDelete {
				text = "*delete this clause:* " + text
			}
			b.WriteString(mdBracket(p, text))
		}
	}
	a := d.Proposals.Counts
	fmt.Fprintf(&b, "\n---\n\nProposals: %d tabled, %d adopted, %d withdrawn.\n", a.Tabled, a.Adopted, a.Withdrawn)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteDiffHTML writes the compare document as one self-contained,
// printable HTML page, in the view given (CompareInline or CompareSide).
func WriteDiffHTML(w io.Writer, d Diff, view string) error {
	return pages().ExecuteTemplate(w, "compare", CompareHTML{Diff: Printable(d), View: view})
}

// WritePositionsHTML writes the positions document as one self-contained
// page, printed in landscape.
func WritePositionsHTML(w io.Writer, p Positions) error {
	return pages().ExecuteTemplate(w, "positions", Printable(p))
}

// WritePositionsText writes the positions document for people: each clause
// with its agreed text, then each participant's proposals and positions.
func WritePositionsText(w io.Writer, p Positions, st Style) error {
	p = printableBut(p, func(p *Positions) *[]PositionsClause { return &p.Clauses })
	var b strings.Builder
	fmt.Fprintf(&b, "%s  (%s)\n", st.Bold("Positions in "+p.Title), p.Treaty)
	fmt.Fprintf(&b, "At %s\n", pointLabel(p.At))
	b.WriteString(st.Dim(notAgreed) + "\n")
	if len(p.Clauses) == 0 {
		b.WriteString("\nNo clause has an open proposal.\n")
	}
	heads := positionsHeads(p.Columns())
	blocks := renderParts(p.Clauses, func(c PositionsClause) string {
		return visibleText(c, st, func(c PositionsClause) string { return positionsClauseText(c, heads, st) })
	})
	return writeJoined(w, []string{b.String()}, blocks)
}

// positionsHead is how a column of the positions document is written: the
// margin of its first line (its party's code, padded to the widest) and of
// the others.
type positionsHead struct {
	code, first, rest string
}

func positionsHeads(cols []ColumnHead) []positionsHead {
	width := 0
	for _, h := range cols {
		width = max(width, len(h.Code))
	}
	heads := make([]positionsHead, len(cols))
	for i, h := range cols {
		label := fmt.Sprintf("%-*s  ", width, h.Code)
		heads[i] = positionsHead{code: h.Code, first: indent + label, rest: indent + strings.Repeat(" ", len(label))}
	}
	return heads
}

// positionsClauseText renders one clause of the positions document as c
// holds it: made visible, if it is to be shown to people (see
// visibleText). Its agreed text, and a column of each party's proposals
// and positions. Its lines are written into one buffer sized for them: a
// positions document runs to hundreds of kilobytes.
func positionsClauseText(c PositionsClause, heads []positionsHead, st Style) string {
	var b strings.Builder
	b.Grow(positionsClauseSize(c, heads))
	fmt.Fprintf(&b, "\n%d. %s%s\n", c.Number, st.Bold(c.Shown), st.Dim("  ["+c.ID+"]"))
	if c.Agreed != "" {
		st.writeHang(&b, indent+"Agreed: ", indent+"        ", c.Agreed)
		b.WriteByte('\n')
	} else {
		b.WriteString(indent + st.Dim("Agreed: none yet") + "\n")
	}
	for _, h := range heads {
		col := c.Columns[h.code]
		lines := 0
		first := func() string {
			lines++
			if lines == 1 {
				return h.first
			}
			return h.rest
		}
		line := func(s string) {
			st.writeHang(&b, first(), h.rest, s)
			b.WriteByte('\n')
		}
		for _, pr := range col.Proposals {
			what := "proposes"
			if pr.Stale {
				what = "proposed (stale)"
			}
			head := what + " " + domain.Short(pr.Proposal) + " (" + string(pr.Action) + "): "
			var placed string
			if m := pr.Placement.Words(); m != "" {
				placed = " — " + m
			}
			switch {
			case pr.Action == domain.ActionDelete:
				line(head + "delete this clause" + placed)
			case st.Width > 0:
				line(head + textOps(pr.Ops, st) + placed)
			default:
				// Unwrapped, the redline goes straight from its ops.
				st.writeOpsHang(&b, first()+head, h.rest, pr.Ops)
				b.WriteString(placed)
				b.WriteByte('\n')
			}
		}
		for _, pos := range col.Positions {
			s := positionWords(pos)
			if pos.Position == string(domain.Objects) {
				s = st.Red(s)
			}
			line(s)
		}
		if lines == 0 {
			line(st.Dim("-"))
		}
	}
	return b.String()
}

// positionsClauseSize is about how long positionsClauseText makes c's
// block, unstyled, so that its buffer seldom grows: the positions' reasons
// and placements are not counted.
func positionsClauseSize(c PositionsClause, heads []positionsHead) int {
	n := 64 + len(c.Shown) + len(c.ID) + len(c.Agreed) + len(c.Agreed)/8
	for _, h := range heads {
		col := c.Columns[h.code]
		n += len(h.first) + 8
		for _, pr := range col.Proposals {
			n += len(h.first) + 64
			for _, op := range pr.Ops {
				n += len(op.Text) + len(op.Text)/8 + 4
			}
		}
		n += len(col.Positions) * (len(h.first) + 64)
	}
	return n
}

// WritePositionsMarkdown writes the positions document as a Markdown table.
func WritePositionsMarkdown(w io.Writer, p Positions) error {
	p = Printable(p)
	var b strings.Builder
	fmt.Fprintf(&b, "# Positions in %s\n\n", md(p.Title))
	fmt.Fprintf(&b, "*%s, at %s*\n\n*%s*\n\n", p.Treaty, md(pointLabel(p.At)), md(notAgreed))
	if len(p.Clauses) == 0 {
		b.WriteString("No clause has an open proposal.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	cols := p.Columns()
	b.WriteString("| Clause | Agreed text |")
	for _, h := range cols {
		name := h.Code
		if h.Observer {
			name += " (mediator)"
		}
		b.WriteString(" " + name + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, c := range p.Clauses {
		agreed := "*none yet*"
		if c.Agreed != "" {
			agreed = mdCell(c.Agreed)
		}
		fmt.Fprintf(&b, "| %d. %s | %s |", c.Number, mdCell(c.Shown), agreed)
		for _, h := range cols {
			var cell []string
			col := c.Columns[h.Code]
			for _, pr := range col.Proposals {
				who := pr.Party
				if pr.Stale {
					who += ", stale"
				}
				text := tagged(mdCell).render(pr.Ops)
				if pr.Action == domain.ActionDelete {
					text = "*delete this clause*"
				}
				cell = append(cell, fmt.Sprintf("**\\[%s:** %s**\\]** `%s`", who, text, domain.Short(pr.Proposal)))
			}
			for _, pos := range col.Positions {
				cell = append(cell, mdCell(positionWords(pos)))
			}
			b.WriteString(" " + strings.Join(cell, "<br>") + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes text for a Markdown table cell: line breaks become <br>.
func mdCell(text string) string {
	return strings.ReplaceAll(mdEscaper.Replace(text), "\n", "<br>")
}
