package wordml

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/internal/testtool"
)

var (
	us   = &Change{Author: "United States (US)", Date: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	ua   = &Change{Author: "Україна (UA)", Date: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)}
	when = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

func sample() *Document {
	return &Document{Title: "Berlin <Framework> & \"others\"", Created: when,
		Props:  map[string]string{"treaty.negotiation": "berlin", "treaty.event": "42"},
		Styles: []Style{{ID: "TreatyText", Name: "Treaty Text"}, {ID: "TreatyOption", Name: "Treaty Option", Indent: 567}},
		Paragraphs: []Paragraph{
			{Style: "Title", Runs: []Run{{Text: "Berlin"}}},
			{Style: "Heading2", Bookmarks: []string{"_c_security"}, Runs: []Run{{Text: "1. Security"}}},
			{Style: "TreatyText", EndBookmarks: []string{"_c_security"}, Comments: []int{0},
				Runs: []Run{{Text: "The Parties shall "}, {Text: "promptly ", Deleted: us}, {Text: "immediately ", Inserted: us}, {Text: "consult.\tTab\nBreak"}}},
			{Style: "TreatyOption", Inserted: ua, Runs: []Run{{Text: "[UA] ", Bold: true, Inserted: ua}, {Text: "Сторони консультуються.", Inserted: ua}}},
			{Style: "TreatyOption", Inserted: ua, Runs: []Run{{Text: "gone", Inserted: ua, Deleted: ua}}},
		},
		Comments: []Comment{{Author: "Germany (DE)", Initials: "DE", Date: when, Text: []string{"Ninety days.", "A second line."}}},
	}
}

func write(t *testing.T, doc *Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := doc.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func read(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Read(bytes.NewReader(data), int64(len(data)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWriteRead(t *testing.T) {
	data := write(t, sample())
	if again := write(t, sample()); !bytes.Equal(data, again) {
		t.Fatal("the same document written twice gives other bytes")
	}
	f := read(t, data)
	if f.Props["treaty.negotiation"] != "berlin" || f.Props["treaty.event"] != "42" {
		t.Errorf("props: %v", f.Props)
	}
	if len(f.Paragraphs) != 5 {
		t.Fatalf("%d paragraphs, want 5", len(f.Paragraphs))
	}
	h := f.Paragraphs[1]
	if h.Style != "heading 2" || h.Outline != 2 || len(h.Bookmarks) != 1 || h.Bookmarks[0] != "_c_security" {
		t.Errorf("heading: %+v", h)
	}
	p := f.Paragraphs[2]
	if p.Style != "Treaty Text" {
		t.Errorf("style %q", p.Style)
	}
	if want := "The Parties shall immediately consult.\tTab\nBreak"; p.Accepted != want {
		t.Errorf("accepted %q, want %q", p.Accepted, want)
	}
	if want := "The Parties shall promptly consult.\tTab\nBreak"; p.Original != want {
		t.Errorf("original %q, want %q", p.Original, want)
	}
	if len(p.Changes) != 2 || p.Changes[0].Author != us.Author || p.Changes[0].Kind != "del" || p.Changes[0].Date != "2026-11-20T10:00:00Z" {
		t.Errorf("changes %+v", p.Changes)
	}
	o := f.Paragraphs[3]
	if !o.MarkInserted || o.Accepted != "[UA] Сторони консультуються." || o.Original != "" {
		t.Errorf("option %+v", o)
	}
	if g := f.Paragraphs[4]; g.Accepted != "" || g.Original != "" {
		t.Errorf("inserted and deleted: %+v", g)
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range z.File {
		names = append(names, e.Name)
	}
	for _, want := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels", "word/styles.xml", "word/comments.xml", "docProps/core.xml", "docProps/custom.xml"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("no %s in %v", want, names)
		}
	}
}

// TestPandoc has pandoc, a reader independent of this package, read every
// tracked change with its author.
func TestPandoc(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sample.docx")
	if err := os.WriteFile(path, write(t, sample()), 0o644); err != nil {
		t.Fatal(err)
	}
	got := testtool.PandocTracked(t, path)
	want := []testtool.Tracked{
		{Kind: "deletion", Author: us.Author, Text: "promptly "},
		{Kind: "insertion", Author: us.Author, Text: "immediately "},
		{Kind: "insertion", Author: ua.Author, Text: "[UA] Сторони консультуються."},
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.Kind == w.Kind && g.Author == w.Author && strings.TrimSpace(g.Text) == strings.TrimSpace(w.Text) {
				found = true
			}
		}
		if !found {
			t.Errorf("pandoc does not see the %s %q by %s; it sees %+v", w.Kind, w.Text, w.Author, got)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"a<b>&\"'":       "a&lt;b&gt;&amp;&quot;&apos;",
		"bell\x07\xff":   "bell\uFFFD\uFFFD",
		"\uFFFE\uFFFF":   "\uFFFD\uFFFD",
		"Київ\u200d":     "Київ\u200d",
		"line\nnext\tab": "line&#xA;next&#x9;ab",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// zipOf makes a zip of the given parts.
func zipOf(t testing.TB, parts map[string]string) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	z.Close()
	return buf.Bytes()
}

// TestFormattingChange: a paragraph whose style was changed with tracking
// on has its new style, and the record of the old one adds nothing.
func TestFormattingChange(t *testing.T) {
	data := zipOf(t, map[string]string{"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p><w:pPr><w:pStyle w:val="Heading2"/><w:pPrChange w:author="x"><w:pPr><w:pStyle w:val="Normal"/></w:pPr></w:pPrChange></w:pPr>` +
		`<w:r><w:rPr><w:b/><w:rPrChange w:author="x"><w:rPr/></w:rPrChange></w:rPr><w:t>Heading</w:t></w:r></w:p></w:body></w:document>`})
	f := read(t, data)
	if p := f.Paragraphs[0]; p.Style != "Heading2" || p.Accepted != "Heading" || p.MarkDeleted {
		t.Fatalf("%+v", p)
	}
}

func TestRefused(t *testing.T) {
	small := Limits{File: 1 << 20, Unpacked: 1 << 16, Paragraphs: 10}
	bomb := zipOf(t, map[string]string{"word/document.xml": "<w:document>" + strings.Repeat(" ", 1<<17) + "</w:document>"})
	many := zipOf(t, map[string]string{"word/document.xml": "<w:document>" + strings.Repeat("<w:p/>", 11) + "</w:document>"})
	deep := zipOf(t, map[string]string{"word/document.xml": "<w:document>" + strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000) + "</w:document>"})
	changes := zipOf(t, map[string]string{"word/document.xml": "<w:document><w:p>" + strings.Repeat("<w:ins/>", maxChanges+1) + "</w:p></w:document>"})
	entity := zipOf(t, map[string]string{"word/document.xml": `<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><w:document xmlns:w="x"><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:document>`})
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"not a zip":      {[]byte("hello"), ErrNotDocx},
		"no document":    {zipOf(t, map[string]string{"a.txt": "x"}), ErrNotDocx},
		"unpacks large":  {bomb, ErrTooLarge},
		"too many paras": {many, ErrTooLarge},
		"entities":       {entity, nil},
		"nested deep":    {deep, ErrTooLarge},
		"many changes":   {changes, ErrTooLarge},
		"bad xml":        {zipOf(t, map[string]string{"word/document.xml": "<w:document><w:p>"}), nil},
	} {
		limits := small
		if name == "many changes" {
			limits.Unpacked = 16 << 20
		}
		_, err := Read(bytes.NewReader(c.data), int64(len(c.data)), limits)
		if err == nil {
			t.Errorf("%s: read", name)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	big := make([]byte, small.File+1)
	if _, err := Read(bytes.NewReader(big), int64(len(big)), small); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a large file: %v", err)
	}
}

// FuzzRead feeds the reader malformed packages and XML: it returns a File
// or an error, within its limits, and never panics or hangs.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	sample().Write(&buf)
	f.Add(buf.Bytes())
	f.Add(zipOf(f, map[string]string{"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p><w:pPr><w:pStyle w:val="Heading2"/><w:rPr><w:del w:author="x"/></w:rPr></w:pPr><w:ins><w:r><w:t>a</w:t><w:tab/></w:r></w:ins></w:p></w:body></w:document>`,
		"word/styles.xml":     `<w:styles xmlns:w="w"><w:style w:styleId="Heading2"><w:name w:val="heading 2"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style></w:styles>`,
		"docProps/custom.xml": `<Properties><property name="treaty.event"><vt:lpwstr>3</vt:lpwstr></property></Properties>`}))
	f.Add([]byte("PK\x03\x04"))
	limits := Limits{File: 1 << 20, Unpacked: 1 << 20, Paragraphs: 1000}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), int64(len(data)), limits)
		if err != nil {
			return
		}
		if len(file.Paragraphs) > limits.Paragraphs {
			t.Fatalf("%d paragraphs, beyond the limit", len(file.Paragraphs))
		}
		for _, p := range file.Paragraphs {
			if int64(len(p.Accepted)+len(p.Original)) > 2*limits.Unpacked {
				t.Fatal("more text than was unpacked")
			}
		}
	})
}

// TestLongParagraph: a paragraph of many pieces of text is read in time
// linear in their number (its text was copied again at each: 7.8 s for
// 300,000 tabs, a 9 KB file).
func TestLongParagraph(t *testing.T) {
	const n = 300_000
	data := zipOf(t, map[string]string{"word/document.xml": `<w:document xmlns:w="w"><w:body><w:p><w:r>` + strings.Repeat("<w:tab/>", n) + `</w:r></w:p></w:body></w:document>`})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f := read(t, data)
	runtime.ReadMemStats(&after)
	// Linear: a few hundred bytes a piece (the XML decoder's tokens, about
	// 70 MB in all). Copying the text again at each piece allocated some
	// 45 GB.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 2000*n {
		t.Errorf("%d tabs read with %d bytes allocated", n, allocated)
	}
	if p := f.Paragraphs[0]; p.Accepted != strings.Repeat("\t", n) || len(p.Segments) != 1 || p.Segments[0].Text != p.Accepted {
		t.Errorf("%d bytes accepted, %d segments", len(p.Accepted), len(p.Segments))
	}
}
