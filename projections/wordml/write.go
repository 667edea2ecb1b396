// Package wordml writes and reads the part of WordprocessingML (Word's .docx,
// ECMA-376) that treaty's documents use: paragraphs in named styles, runs,
// tracked insertions and deletions with their author and date, hidden
// bookmarks, comments, and custom document properties. It is the standard
// library's archive/zip and encoding/xml, nothing else: the Go libraries
// for Word documents either cannot write tracked changes, bookmarks and
// comments as treaty needs them or are not to be had.
//
// Writing is deterministic: the same Document gives the same bytes (the zip
// entries carry the document's own time), so that two exports of one
// moment compare equal. Reading is bounded (see Limits): a crafted file
// cannot make it use more than a set amount of memory or time.
package wordml

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Document is a Word document to write.
type Document struct {
	// Title and Created go to the core properties (docProps/core.xml).
	Title   string
	Created time.Time
	// Props are custom document properties (docProps/custom.xml), strings
	// by name, which Word and LibreOffice keep when they save.
	Props map[string]string
	// Styles are the paragraph styles the body uses besides Normal,
	// Title and the headings (see Style).
	Styles     []Style
	Paragraphs []Paragraph
	// Comments are the comments Paragraph.Comments refer to, by index.
	Comments []Comment
}

// Style is a paragraph style: ID as the body names it, Name as Word shows
// it.
type Style struct {
	ID, Name string
	Italic   bool
	Bold     bool
	// Size in half-points (0: the default); Indent the left indent in
	// twentieths of a point; Color an RGB hex colour.
	Size   int
	Indent int
	Color  string
}

// Change is who made a tracked change, and when.
type Change struct {
	Author string
	Date   time.Time
}

// Paragraph is one paragraph.
type Paragraph struct {
	Style string
	// Inserted marks the paragraph itself (its mark) as a tracked
	// insertion: rejecting it removes the paragraph.
	Inserted *Change
	// Bookmarks start at the paragraph's beginning; EndBookmarks end at
	// its end (names of bookmarks started here or earlier).
	Bookmarks    []string
	EndBookmarks []string
	// Comments anchors the comments of these indexes to the whole
	// paragraph.
	Comments []int
	Runs     []Run
}

// Run is a stretch of text with one formatting and one tracked change.
type Run struct {
	Text         string
	Bold, Italic bool
	// Strike and Underline format the run (no tracked change): a redline
	// shown, not proposed.
	Strike, Underline bool
	// Inserted and Deleted mark the run as a tracked insertion or
	// deletion; both: inserted by one and deleted by another.
	Inserted, Deleted *Change
}

// Comment is a Word comment.
type Comment struct {
	Author, Initials string
	Date             time.Time
	// Paragraphs of the comment, a line each.
	Text []string
}

const (
	nsW   = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsR   = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	relNS = "http://schemas.openxmlformats.org/package/2006/relationships"
	// customFmtID is the format ID every user-defined property carries.
	customFmtID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
)

// Write writes doc as a .docx package.
func (doc *Document) Write(w io.Writer) error {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	modified := doc.Created
	if modified.Before(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		modified = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) // zip's epoch
	}
	add := func(name, body string) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified.UTC()})
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, body)
		return err
	}
	hasComments := len(doc.Comments) > 0
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes(hasComments)},
		{"_rels/.rels", packageRels},
		{"docProps/core.xml", doc.core()},
		{"docProps/custom.xml", doc.custom()},
		{"word/_rels/document.xml.rels", documentRels(hasComments)},
		{"word/styles.xml", doc.styles()},
		{"word/settings.xml", settings},
		{"word/document.xml", doc.body()},
	}
	if hasComments {
		parts = append(parts, struct{ name, body string }{"word/comments.xml", doc.comments()})
	}
	for _, p := range parts {
		if err := add(p.name, p.body); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func contentTypes(comments bool) string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
		`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
		`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>` +
		`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
		`<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>`)
	if comments {
		b.WriteString(`<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>`)
	}
	b.WriteString(`</Types>`)
	return b.String()
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

const packageRels = xmlHeader + `<Relationships xmlns="` + relNS + `">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
	`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/>` +
	`</Relationships>`

func documentRels(comments bool) string {
	s := xmlHeader + `<Relationships xmlns="` + relNS + `">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>`
	if comments {
		s += `<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="comments.xml"/>`
	}
	return s + `</Relationships>`
}

// settings asks Word to keep tracking changes: a delegation's edits of the
// document come back as tracked changes unless it turns tracking off.
const settings = xmlHeader + `<w:settings xmlns:w="` + nsW + `"><w:trackRevisions/><w:defaultTabStop w:val="720"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>`

func (doc *Document) core() string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	b.WriteString(`<dc:title>` + escape(doc.Title) + `</dc:title><dc:creator>treaty</dc:creator>`)
	if !doc.Created.IsZero() {
		t := doc.Created.UTC().Format(time.RFC3339)
		b.WriteString(`<dcterms:created xsi:type="dcterms:W3CDTF">` + t + `</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">` + t + `</dcterms:modified>`)
	}
	b.WriteString(`</cp:coreProperties>`)
	return b.String()
}

func (doc *Document) custom() string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">`)
	names := make([]string, 0, len(doc.Props))
	for n := range doc.Props {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		fmt.Fprintf(&b, `<property fmtid="%s" pid="%d" name="%s"><vt:lpwstr>%s</vt:lpwstr></property>`, customFmtID, i+2, escape(n), escape(doc.Props[n]))
	}
	b.WriteString(`</Properties>`)
	return b.String()
}

func (doc *Document) styles() string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<w:styles xmlns:w="` + nsW + `">` +
		`<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:cs="Times New Roman" w:eastAsia="Times New Roman"/><w:sz w:val="24"/><w:szCs w:val="24"/><w:lang w:val="en-GB"/></w:rPr></w:rPrDefault>` +
		`<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:after="240"/></w:pPr><w:rPr><w:b/><w:sz w:val="36"/><w:szCs w:val="36"/></w:rPr></w:style>`)
	for level := 1; level <= 3; level++ {
		fmt.Fprintf(&b, `<w:style w:type="paragraph" w:styleId="Heading%d"><w:name w:val="heading %d"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="360" w:after="60"/><w:outlineLvl w:val="%d"/></w:pPr><w:rPr><w:b/><w:sz w:val="%d"/><w:szCs w:val="%d"/></w:rPr></w:style>`,
			level, level, level-1, 32-4*level, 32-4*level)
	}
	for _, s := range doc.Styles {
		fmt.Fprintf(&b, `<w:style w:type="paragraph" w:customStyle="1" w:styleId="%s"><w:name w:val="%s"/><w:basedOn w:val="Normal"/><w:qFormat/>`, escape(s.ID), escape(s.Name))
		if s.Indent > 0 {
			fmt.Fprintf(&b, `<w:pPr><w:ind w:left="%d"/></w:pPr>`, s.Indent)
		}
		b.WriteString(`<w:rPr>`)
		if s.Bold {
			b.WriteString(`<w:b/>`)
		}
		if s.Italic {
			b.WriteString(`<w:i/>`)
		}
		if s.Color != "" {
			fmt.Fprintf(&b, `<w:color w:val="%s"/>`, escape(s.Color))
		}
		if s.Size > 0 {
			fmt.Fprintf(&b, `<w:sz w:val="%d"/><w:szCs w:val="%d"/>`, s.Size, s.Size)
		}
		b.WriteString(`</w:rPr></w:style>`)
	}
	b.WriteString(`</w:styles>`)
	return b.String()
}

// ids numbers the tracked changes, bookmarks and comments of a document:
// Word wants each kind's IDs unique.
type ids struct{ change, bookmark int }

func (doc *Document) body() string {
	var b strings.Builder
	b.Grow(4096 + 256*len(doc.Paragraphs))
	b.WriteString(xmlHeader + `<w:document xmlns:w="` + nsW + `" xmlns:r="` + nsR + `"><w:body>`)
	var n ids
	bookmarks := map[string]int{}
	for _, p := range doc.Paragraphs {
		b.WriteString(`<w:p>`)
		if p.Style != "" || p.Inserted != nil {
			b.WriteString(`<w:pPr>`)
			if p.Style != "" {
				b.WriteString(`<w:pStyle w:val="` + escape(p.Style) + `"/>`)
			}
			if p.Inserted != nil {
				b.WriteString(`<w:rPr>`)
				n.change++
				writeChange(&b, "ins", n.change, p.Inserted, true)
				b.WriteString(`</w:rPr>`)
			}
			b.WriteString(`</w:pPr>`)
		}
		for _, name := range p.Bookmarks {
			bookmarks[name] = n.bookmark
			fmt.Fprintf(&b, `<w:bookmarkStart w:id="%d" w:name="%s"/>`, n.bookmark, escape(name))
			n.bookmark++
		}
		for _, c := range p.Comments {
			fmt.Fprintf(&b, `<w:commentRangeStart w:id="%d"/>`, c)
		}
		for _, r := range p.Runs {
			writeRun(&b, &n, r)
		}
		for _, c := range p.Comments {
			fmt.Fprintf(&b, `<w:commentRangeEnd w:id="%d"/><w:r><w:commentReference w:id="%d"/></w:r>`, c, c)
		}
		for _, name := range p.EndBookmarks {
			if id, ok := bookmarks[name]; ok {
				fmt.Fprintf(&b, `<w:bookmarkEnd w:id="%d"/>`, id)
			}
		}
		b.WriteString(`</w:p>`)
	}
	b.WriteString(`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1418" w:right="1418" w:bottom="1418" w:left="1418" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr></w:body></w:document>`)
	return b.String()
}

// writeChange writes a w:ins or w:del; empty, it is a paragraph mark's.
func writeChange(b *strings.Builder, kind string, id int, c *Change, empty bool) {
	fmt.Fprintf(b, `<w:%s w:id="%d" w:author="%s"`, kind, id, escape(c.Author))
	if !c.Date.IsZero() {
		b.WriteString(` w:date="` + c.Date.UTC().Format("2006-01-02T15:04:05Z") + `"`)
	}
	if empty {
		b.WriteString(`/>`)
	} else {
		b.WriteString(`>`)
	}
}

func writeRun(b *strings.Builder, n *ids, r Run) {
	if r.Text == "" {
		return
	}
	if r.Inserted != nil {
		n.change++
		writeChange(b, "ins", n.change, r.Inserted, false)
	}
	if r.Deleted != nil {
		n.change++
		writeChange(b, "del", n.change, r.Deleted, false)
	}
	b.WriteString(`<w:r>`)
	if r.Bold || r.Italic || r.Strike || r.Underline {
		b.WriteString(`<w:rPr>`)
		if r.Bold {
			b.WriteString(`<w:b/>`)
		}
		if r.Italic {
			b.WriteString(`<w:i/>`)
		}
		if r.Strike {
			b.WriteString(`<w:strike/>`)
		}
		if r.Underline {
			b.WriteString(`<w:u w:val="single"/>`)
		}
		b.WriteString(`</w:rPr>`)
	}
	text := "t"
	if r.Deleted != nil {
		text = "delText"
	}
	// Tabs and line breaks are elements of their own in a run.
	for i, line := range strings.Split(r.Text, "\n") {
		if i > 0 {
			b.WriteString(`<w:br/>`)
		}
		for j, part := range strings.Split(line, "\t") {
			if j > 0 {
				b.WriteString(`<w:tab/>`)
			}
			if part != "" {
				b.WriteString(`<w:` + text + ` xml:space="preserve">` + escape(part) + `</w:` + text + `>`)
			}
		}
	}
	b.WriteString(`</w:r>`)
	if r.Deleted != nil {
		b.WriteString(`</w:del>`)
	}
	if r.Inserted != nil {
		b.WriteString(`</w:ins>`)
	}
}

// escape makes s safe as XML character data or an attribute value. XML 1.0
// cannot hold every character a string can: control characters other than
// tab and newline, U+FFFE and U+FFFF, and bytes that are not UTF-8 are
// written as U+FFFD (the views written for people make them visible before
// they get here).
func escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' || c >= utf8.RuneSelf || c < 0x20:
			clean = false
		}
		if !clean {
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r == '\n':
			b.WriteString("&#xA;")
		case r == '\t':
			b.WriteString("&#x9;")
		case r == utf8.RuneError && !validRuneAt(s, i), r < 0x20, r == 0xFFFE, r == 0xFFFF:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func validRuneAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || size == 3
}

// Escape is escape for the other XML treaty writes (see the Akoma Ntoso
// export): character data or an attribute value, safe for XML 1.0.
func Escape(s string) string { return escape(s) }

// itoa is strconv.Itoa, for the few places that build XML by hand.
var itoa = strconv.Itoa

func (doc *Document) comments() string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<w:comments xmlns:w="` + nsW + `">`)
	for i, c := range doc.Comments {
		b.WriteString(`<w:comment w:id="` + itoa(i) + `" w:author="` + escape(c.Author) + `"`)
		if c.Initials != "" {
			b.WriteString(` w:initials="` + escape(c.Initials) + `"`)
		}
		if !c.Date.IsZero() {
			b.WriteString(` w:date="` + c.Date.UTC().Format("2006-01-02T15:04:05Z") + `"`)
		}
		b.WriteString(`>`)
		lines := c.Text
		if len(lines) == 0 {
			lines = []string{""}
		}
		for _, line := range lines {
			b.WriteString(`<w:p>`)
			var n ids
			writeRun(&b, &n, Run{Text: line})
			b.WriteString(`</w:p>`)
		}
		b.WriteString(`</w:comment>`)
	}
	b.WriteString(`</w:comments>`)
	return b.String()
}
