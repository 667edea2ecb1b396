package projections

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// TestHang checks text wrapped for a terminal: at spaces, each continuation
// after the margin of its kind, columns counted as a terminal counts them.
func TestHang(t *testing.T) {
	for _, c := range []struct {
		name        string
		first, rest string
		text        string
		width       int
		want        string
	}{
		{"no width: lines as they come", "   ", "   ", "one two three\nfour", 0,
			"   one two three\n   four"},
		{"at word boundaries, under the margin", "   ", "   ", "The Parties shall consult each other without delay.", 24,
			"   The Parties shall\n   consult each other\n   without delay."},
		{"a bracket goes on under its opening", " | [US: ", " |      ", "The Parties shall consult each other.]", 28,
			" | [US: The Parties shall\n |      consult each other.]"},
		{"a word wider than a line is cut", "   ", "   ", "Sanctions-review-and-reconstruction-fund", 24,
			"   Sanctions-review-and-\n   reconstruction-fund"},
		{"leading spaces stay", "   ", "   ", "     00000000 · amend · accepted", 24,
			"        00000000 · amend\n   · accepted"},
		{"spaces at a break go", "   ", "   ", "alpha     beta gamma delta epsilon", 24,
			"   alpha     beta gamma\n   delta epsilon"},
		{"trailing spaces past the end go", "   ", "   ", "alpha beta gamma delta      ", 26,
			"   alpha beta gamma delta "},
		{"wide characters take two columns", "   ", "   ", "双方同意 全面合作 第一条 第二条 第三条", 24,
			"   双方同意 全面合作\n   第一条 第二条 第三条"},
		{"combining marks take none", "   ", "   ", "cafe\u0301 cafe\u0301 cafe\u0301 cafe\u0301 cafe\u0301", 24,
			"   cafe\u0301 cafe\u0301 cafe\u0301 cafe\u0301\n   cafe\u0301"},
		{"colours take no column and are not cut", "   ", "   ", "The \x1b[31m[-Party-]\x1b[0m\x1b[32m{+State+}\x1b[0m shall consult", 26,
			"   The \x1b[31m[-Party-]\x1b[0m\x1b[32m{+State+}\x1b[0m\n   shall consult"},
		{"tabs to the next stop", "   ", "   ", "a\tb\tc\td\te", 24,
			"   a\tb\tc\n   d\te"},
		{"too narrow a terminal: left to itself", "   ", "   ", "one two three four five six", 22,
			"   one two three four five six"},
		{"further lines of the text after rest", " * UA: ", " *     ", "one two three four five six\nseven", 28,
			" * UA: one two three four\n *     five six\n *     seven"},
	} {
		if got := (Style{Width: c.width}).hang(c.first, c.rest, c.text); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// Wrapped, a text keeps its characters in order (only the spaces at a
// break go), every line starts with its margin and no line is wider than
// the terminal.
func TestHangProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(15))
	pieces := []string{"the", "Parties", "зобов'язуються", "双方", "cafe\u0301", "Sanctions-review-and-reconstruction-fund",
		" ", " ", "  ", "\t", ".", ",", "\x1b[31m[-", "-]\x1b[0m", "👍"}
	for k := 0; k < 5000; k++ {
		var sb strings.Builder
		for n := rng.Intn(40); n > 0; n-- {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		text := sb.String()
		cols := 28 + rng.Intn(60) // at least minWrapRoom past the margin
		first, rest := " | [US: ", " |      "
		got := (Style{Width: cols}).hang(first, rest, text)
		lines := strings.Split(got, "\n")
		for i, l := range lines {
			margin := rest
			if i == 0 {
				margin = first
			}
			if !strings.HasPrefix(l, margin) {
				t.Fatalf("hang(%q) at %d: line %d %q does not start with %q", text, cols, i, l, margin)
			}
			if w := width(l, 0); w > cols {
				t.Fatalf("hang(%q) at %d: line %d %q is %d columns wide", text, cols, i, l, w)
			}
		}
		joined := strings.TrimPrefix(strings.ReplaceAll(got, "\n"+rest, ""), first)
		if strip(joined) != strip(text) {
			t.Fatalf("hang(%q) at %d lost or moved characters: %q", text, cols, got)
		}
	}
}

// strip drops the spaces and tabs of s.
func strip(s string) string {
	return strings.NewReplacer(" ", "", "\t", "").Replace(s)
}

// TestTextOpsMarks: a redline written inline is each op's text, a deletion
// as Red("[-"+text+"-]") and an insertion as Green("{+"+text+"+}"), in
// colour or not; in Markdown each in <del> or <ins>, escaped.
func TestTextOpsMarks(t *testing.T) {
	ops := []redline.Op{{Kind: redline.Equal, Text: "The "}, {Kind: redline.Delete, Text: "Party"},
		{Kind: redline.Insert, Text: "State <b>"}, {Kind: redline.Equal, Text: " shall"}, {Kind: redline.Delete, Text: ""}}
	for st, want := range map[Style]string{
		{}:            "The [-Party-]{+State <b>+} shall[--]",
		{Color: true}: "The \x1b[31m[-Party-]\x1b[0m\x1b[32m{+State <b>+}\x1b[0m shall\x1b[31m[--]\x1b[0m",
	} {
		if got := textOps(ops, st); got != want {
			t.Errorf("colour %v: %q, want %q", st.Color, got, want)
		}
	}
	if got, want := opsMarkdown(ops), md("The ")+"<del>Party</del><ins>"+md("State <b>")+"</ins>"+md(" shall")+"<del></del>"; got != want {
		t.Errorf("Markdown: %q, want %q", got, want)
	}
}

// TestWriteOpsHang: a redline written inline straight from its ops is what
// hanging its textOps writes, coloured or not, wrapped or not, whatever
// lines its ops hold.
func TestWriteOpsHang(t *testing.T) {
	ops := []redline.Op{
		{Kind: redline.Equal, Text: "The Parties\nshall "},
		{Kind: redline.Delete, Text: "consult\n"},
		{Kind: redline.Insert, Text: "meet\n\nand decide"},
		{Kind: redline.Equal, Text: " within 24 hours.\n"},
	}
	for _, st := range []Style{{}, {Color: true}, {Width: 24}, {Color: true, Width: 24}} {
		for _, ops := range [][]redline.Op{ops, ops[1:2], nil} {
			var want, got strings.Builder
			st.writeHang(&want, " | [US: ", " |      ", textOps(ops, st))
			st.writeOpsHang(&got, " | [US: ", " |      ", ops)
			if got.String() != want.String() {
				t.Errorf("%+v, %d ops:\n%q\nwant\n%q", st, len(ops), got.String(), want.String())
			}
		}
	}
}

// writeBracket writes what the bracket built as strings wrote (kept here as
// the reference), for every kind of bracket, coloured or not, wrapped or
// not, whatever the text.
func TestWriteBracketAsBefore(t *testing.T) {
	before := func(c DraftClause, p OpenProposal, st Style) string {
		who := p.Label()
		if h, ok := proposedHeading(c, p); ok {
			who += fmt.Sprintf(", heading %q", h)
		}
		var body string
		if p.Action == domain.ActionDelete {
			body = bracketMargin + "[" + who + " deletes this clause]"
			if p.Stale && p.Option == 0 {
				body = bracketMargin + "[" + who + ", deletes this clause]"
			}
		} else {
			open := "[" + who + ": "
			body = st.hang(bracketMargin+open, bracketMargin+strings.Repeat(" ", utf8.RuneCountInString(open)), p.Text+"]")
		}
		if p.Stale {
			body = st.Dim(body)
		} else {
			body = st.Yellow(body)
		}
		return body + "\n" + st.bracketFacts(p)
	}
	heading, same := "New heading", "Agreed heading"
	n := 0
	for _, action := range []domain.Action{domain.ActionAmend, domain.ActionInsert, domain.ActionDelete} {
		for _, stale := range []bool{false, true} {
			for _, option := range []int{0, 2} {
				for _, h := range []*string{nil, &heading, &same} {
					for _, text := range []string{"", "short", "a first line\nand a second, long enough to be wrapped on a narrow terminal at the last word]", "width of a word: 文字 文字 文字 文字 文字 文字 文字 文字 文字"} {
						for _, st := range []Style{{}, {Color: true}, {Width: 40}, {Color: true, Width: 40}, {Width: 12}} {
							c := DraftClause{ID: "art-1", Heading: "Agreed heading", Text: "Agreed text."}
							p := OpenProposal{ID: "1234abcd-0000", Party: "US", Action: action, Text: text, Heading: h, Stale: stale, Option: option, AcceptedBy: []string{"UA"}, ObjectedBy: []string{"EU"}}
							var b strings.Builder
							b.WriteString("before ")
							writeBracket(&b, c, p, st)
							if got, want := b.String(), "before "+before(c, p, st); got != want {
								t.Errorf("%s, stale %v, option %d, heading %v, style %+v, text %q:\n got %q\nwant %q", action, stale, option, h != nil, st, text, got, want)
							}
							n++
						}
					}
				}
			}
		}
	}
	if n != 3*2*2*3*4*5 {
		t.Fatalf("%d cases", n)
	}
	// Texts whose last word ends at, or just before, a terminal's last
	// column: the closing bracket goes to the next line with it.
	rnd := rand.New(rand.NewSource(1))
	for width := 20; width <= 70; width++ {
		for range 20 {
			words := make([]string, 1+rnd.Intn(12))
			for i := range words {
				words[i] = strings.Repeat("w", 1+rnd.Intn(9))
			}
			c := DraftClause{ID: "art-1"}
			p := OpenProposal{ID: "1234abcd-0000", Party: "US", Action: domain.ActionAmend, Text: strings.Join(words, " ")}
			for _, st := range []Style{{Width: width}, {Color: true, Width: width}} {
				var b strings.Builder
				writeBracket(&b, c, p, st)
				if got, want := b.String(), before(c, p, st); got != want {
					t.Fatalf("width %d, text %q:\n got %q\nwant %q", width, p.Text, got, want)
				}
			}
		}
	}
}
