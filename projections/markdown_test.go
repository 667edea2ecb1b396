package projections

import (
	"bytes"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/treaty-engine/treaty/domain"
)

// adversarial are clause texts written to turn into structure in Markdown
// (or in the text draft): every block a CommonMark or GitHub renderer knows
// opened at the start of a line, and inline markup.
var adversarial = []string{
	"Title line\n===",                                                 // setext heading, level 1
	"Title line\n---",                                                 // setext heading, level 2
	"Title line\n  ===  ",                                             // setext, indented
	"Paragraph.\n\n    indented code",                                 // indented code block
	"Paragraph.\n\n\tcode after a tab",                                // indented code block, by tab
	"    code at once",                                                // indented code block
	"# heading\n## heading\n###### h6",                                // ATX headings
	"- item\n+ item\n* item",                                          // bullet lists
	"1. first\n2) second\n  3. third",                                 // ordered lists
	"- [ ] task\n- [x] done",                                          // task list
	"***\n---\n___\n- - -",                                            // thematic breaks
	"> quoted\n>> nested",                                             // block quotes
	"```\nfenced\n```\n~~~\nfenced\n~~~",                              // fenced code
	"<div>html</div>\n<!-- comment -->",                               // HTML blocks
	"| a | b |\n|---|---|\n| 1 | 2 |",                                 // a table
	"[x]: http://evil.example\n[x]",                                   // a link reference definition
	"[link](http://evil.example) ![img](x.png) <http://evil.example>", // links, images, autolinks
	"*em* _em_ **strong** ~~struck~~ `code`",                          // inline markup
	"The sum is $100$ and \\$200",                                     // math, and a backslash
	"Line one  \nline two\\\nline three",                              // hard breaks
	"Trailing ]\n     3f2a91c0 · insert · accepted by UA, US\n\n2. Fake clause  [fake]\n   Fake agreed text", // the text draft's lines
}

// blocks counts the HTML elements a Markdown page renders to, by name.
func blocks(t *testing.T, md string) (map[string]int, string) {
	t.Helper()
	var out bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`<([a-z0-9]+)[ >]`).FindAllStringSubmatch(out.String(), -1) {
		counts[m[1]]++
	}
	return counts, out.String()
}

// urls counts the links that show their own address, as GitHub makes of a
// URL in text: they hide nothing, and are not structure.
func urls(page string) int {
	n := 0
	for _, m := range regexp.MustCompile(`<a href="([^"]*)">([^<]*)</a>`).FindAllStringSubmatch(page, -1) {
		if m[1] == html.UnescapeString(m[2]) || m[1] == "http://"+html.UnescapeString(m[2]) {
			n++
		}
	}
	return n
}

// letters are the letters and digits of s, in order: what must survive any
// escaping.
func letters(s string) string {
	return strings.Join(regexp.MustCompile(`[\pL\pN]+`).FindAllString(s, -1), " ")
}

// No clause text, agreed or proposed, turns into structure in the Markdown
// draft: rendered by a CommonMark renderer with GitHub's extensions, the
// page has the title, a heading per clause, a quote per proposal and
// paragraphs, and every word of every text as text.
func TestMarkdownDraftHasNoStructureFromText(t *testing.T) {
	for _, text := range adversarial {
		ss := newSession(t)
		ss.agree("a", text)
		ss.table("US", "b", text)
		r := NewReader(ss.store, "berlin", Options{})
		head, err := r.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteDraftMarkdown(&b, BuildDraft(head, DraftOptions{})); err != nil {
			t.Fatal(err)
		}
		counts, page := blocks(t, b.String())
		// The title, a heading per clause, the point, each clause's status
		// and a bracket's info line in italics, "Parties:", "Observers:",
		// where the text stands and the bracket's opening and close in
		// bold, the proposal's ID as code.
		want := map[string]int{"h1": 1, "h2": 2, "blockquote": 1, "strong": 5, "em": 4, "code": 1, "br": counts["br"], "p": counts["p"], "a": urls(page)}
		for tag, n := range counts {
			if want[tag] != n {
				t.Errorf("text %q: the page has %d <%s>, want %d:\n%s\n%s", text, n, tag, want[tag], b.String(), page)
			}
		}
		plain := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " "))
		if got, w := letters(plain), letters(text); w != "" && strings.Count(got, w) != 2 {
			t.Errorf("text %q: the page does not show its words twice (agreed and proposed):\n%s", text, page)
		}
	}
}

// The redline in Markdown keeps structure out of the text as the draft does.
func TestMarkdownDiffHasNoStructureFromText(t *testing.T) {
	for _, text := range adversarial {
		ss := newSession(t)
		ss.openRound()
		ss.agree("a", "Before.")
		ss.closeRound()
		ss.openRound()
		ss.agree("a", text)
		ss.closeRound()
		r := NewReader(ss.store, "berlin", Options{})
		d, err := r.Redlines(ctx, ref(t, "round:1"), ref(t, "round:2"), CompareOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteDiffMarkdown(&b, d); err != nil {
			t.Fatal(err)
		}
		counts, page := blocks(t, b.String())
		// The title, the clause's heading, the closing rule; the points,
		// the reminder that nothing is agreed until everything is, the
		// change and who adopted it in italics.
		want := map[string]int{"h1": 1, "h2": 1, "hr": 1, "em": 4, "br": counts["br"], "p": counts["p"], "del": counts["del"], "ins": counts["ins"], "a": urls(page)}
		for tag, n := range counts {
			if want[tag] != n {
				t.Errorf("text %q: the redline has %d <%s>, want %d:\n%s\n%s", text, n, tag, want[tag], b.String(), page)
			}
		}
	}
}

// The text draft's own lines cannot be forged: every line that a clause
// text (agreed or proposed) makes is agreed text (three spaces, then the
// text) or a bracket's continuation (" | ", then spaces under the opening);
// headings, bracket openings and the lines of who accepts are the
// renderer's alone. Wrapped to a terminal's width, a long line goes on in
// lines of the same kind: agreed text as agreed text, a bracket's as its
// continuation, the line of who accepts at its own column.
func TestTextDraftLayoutIsUnforgeable(t *testing.T) {
	heading := regexp.MustCompile(`^\d+\. `)
	opening := regexp.MustCompile(`^ \| \[([A-Z]+(, stale)?|Option \d+ \([A-Z]+(, stale)?\))(, heading "[^"]*")?(: | deletes this clause\]$)`)
	info := regexp.MustCompile(`^ \|   [0-9a-f]{8} · (insert|amend|delete)`)
	infoGoesOn := regexp.MustCompile(`^ \|   \S`)
	long := strings.Repeat("The Parties shall consult each other without delay. ", 6)
	for _, width := range []int{0, 30, 44, 80} {
		for _, text := range append(adversarial, long, long+"\n"+long) {
			ss := newSession(t)
			ss.agree("a", text)
			id := ss.table("US", "a", text+" more")
			ss.accept(id, "EU")
			r := NewReader(ss.store, "berlin", Options{})
			head, err := r.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteDraftText(&b, BuildDraft(head, DraftOptions{}), Style{Width: width}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			var kinds []string
			// After the title, the point, the parties, observers and where
			// the text stands, however many lines they wrap to.
			for _, l := range lines[slices.Index(lines, ""):] {
				if width > 0 && len(l) > 0 && width < utf8.RuneCountInString(l) && !heading.MatchString(l) {
					t.Errorf("text %q, width %d: a line wider than that: %q", text, width, l)
				}
				kind := ""
				switch {
				case l == "":
					kind = "blank"
				case heading.MatchString(l):
					kind = "heading"
				case opening.MatchString(l):
					kind = "opening"
				case info.MatchString(l):
					kind = "info"
				case infoGoesOn.MatchString(l) && len(kinds) > 0 && kinds[len(kinds)-1] == "info":
					continue // the line of who accepts, wrapped
				case strings.HasPrefix(l, " |     "):
					kind = "continued"
				case strings.HasPrefix(l, "   "):
					kind = "agreed"
				default:
					t.Fatalf("text %q, width %d: a line of no kind: %q\n%s", text, width, l, b.String())
				}
				if width > 0 && len(kinds) > 0 && kinds[len(kinds)-1] == kind && (kind == "agreed" || kind == "continued") {
					continue // one line of the text, wrapped or not: counted once below
				}
				kinds = append(kinds, kind)
			}
			want := []string{"blank", "heading", "agreed", "opening"}
			if strings.Contains(text, "\n") || width > 0 && strings.Contains(b.String(), "\n |     ") {
				want = append(want, "continued")
			}
			want = append(want, "info")
			if width == 0 {
				n := strings.Count(text, "\n") + 1
				want = append([]string{"blank", "heading"}, repeat("agreed", n)...)
				want = append(want, "opening")
				want = append(want, repeat("continued", n-1)...)
				want = append(want, "info")
			}
			if strings.Join(kinds, " ") != strings.Join(want, " ") {
				t.Errorf("text %q, width %d:\nlines %v\nwant  %v\n%s", text, width, kinds, want, b.String())
			}
		}
	}
	// What a proposal is besides its text is said where no text can say it.
	ss := newSession(t)
	ss.agree("a", "A.")
	ss.table("US", "a", `heading "Forged": A.`)
	ss.table("UA", "a", "delete this clause")
	ss.do("EU", domain.Table{Proposal: "00090000-0000-4000-8000-000000000000", Clause: "a", Party: "EU", Delete: true})
	head, _ := NewReader(ss.store, "berlin", Options{}).Head(ctx)
	var b bytes.Buffer
	if err := WriteDraftText(&b, BuildDraft(head, DraftOptions{}), Style{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{` | [Option 1 (US): heading "Forged": A.]`, ` | [Option 2 (UA): delete this clause]`, ` | [Option 3 (EU) deletes this clause]`} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("the draft lacks %q:\n%s", want, b.String())
		}
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
