package projections

import (
	"fmt"
	"io"
	"strings"

	"github.com/treaty-engine/treaty/domain"
)

// mdEscaper keeps negotiated text literal in Markdown: nothing a party writes
// may turn into markup. Every character that starts inline markup anywhere
// in a line is escaped ('$' opens math on GitHub).
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `{`, `\{`, `}`, `\}`, `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, `&`, `&amp;`, `#`, `\#`, `|`, `\|`, `~`, `\~`, `!`, `\!`, `$`, `\$`,
)

// md escapes text for Markdown and keeps its line breaks as hard breaks.
// Besides the inline markup mdEscaper escapes, the start of each line is
// where Markdown decides on blocks: its indentation becomes no-break spaces
// (four spaces or a tab would open a code block), and a first character
// that could open a list or underline the line before into a heading
// ("-", "+", "=", "1." or "1)") is escaped. (Quotes, headings, fences,
// tables, thematic breaks and HTML start with characters escaped
// everywhere.)
func md(text string) string {
	lines := strings.Split(mdEscaper.Replace(text), "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		lead := l[:len(l)-len(t)]
		lead = strings.ReplaceAll(strings.ReplaceAll(lead, "\t", "    "), " ", "&nbsp;")
		switch {
		case strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") || strings.HasPrefix(t, "="):
			t = `\` + t
		case numbered(t) > 0:
			n := numbered(t)
			t = t[:n] + `\` + t[n:]
		}
		lines[i] = lead + t
	}
	return strings.Join(lines, "  \n")
}

// numbered returns the length of the digits that start s when a '.' or ')'
// follows them (a numbered list item), else 0.
func numbered(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return i
	}
	return 0
}

// WriteDraftMarkdown writes the draft as Markdown, open proposals as
// bracketed quotes.
func WriteDraftMarkdown(w io.Writer, d Draft) error {
	d = Printable(d)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", md(d.Title))
	fmt.Fprintf(&b, "*%s, as of %s*\n\n", d.Treaty, describePoint(d.AsOf))
	if ps := partyList(d.Parties, domain.RoleParty); ps != "" {
		fmt.Fprintf(&b, "**Parties:** %s  \n", md(ps))
	}
	if os := partyList(d.Parties, domain.RoleObserver); os != "" {
		fmt.Fprintf(&b, "**Observers:** %s  \n", md(os))
	}
	for _, line := range d.Standing() {
		fmt.Fprintf(&b, "\n**%s**\n", md(line))
	}
	for _, c := range d.Clauses {
		fmt.Fprintf(&b, "\n## %d. %s\n\n*%s*\n\n", c.Number, md(clauseHeading(c)), md(c.StatusLabel()))
		if c.Text != "" {
			b.WriteString(md(c.Text) + "\n\n")
		}
		for _, p := range c.OpenProposals {
			text := md(p.Text)
			if p.Action == domain.ActionDelete {
				text = "*delete this clause*"
			}
			if h, ok := proposedHeading(c, p); ok {
				text = fmt.Sprintf("*heading:* %s — %s", md(h), text)
			}
			b.WriteString(mdBracket(p, text))
		}
		for _, r := range d.ReservationsTo(c.ID) {
			fmt.Fprintf(&b, "*Reservation by %s:* %s\n\n", r.Party, md(r.Text))
		}
	}
	if len(d.Declarations) > 0 {
		b.WriteString("\n## Declarations\n\n")
		for _, r := range d.Declarations {
			fmt.Fprintf(&b, "*%s:* %s\n\n", r.Party, md(r.Text))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdBracket writes an open proposal as a bracketed quote: its label, text
// (already Markdown) and the line saying where it stands.
func mdBracket(p OpenProposal, text string) string {
	return fmt.Sprintf("> **\\[%s:** %s **\\]**  \n> *%s*\n\n", md(p.Label()), strings.ReplaceAll(text, "\n", "\n> "),
		strings.Join(proposalInfo(p, "`"+domain.Short(p.ID)+"`", md), " · "))
}
