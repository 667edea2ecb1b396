// Package wordmltest edits Word documents as a delegation would in Word or
// LibreOffice, for tests: tracked and untracked changes to text, new
// paragraphs, deleted clauses. It works on word/document.xml as text, on
// documents as treaty writes them (a run's text in one w:t).
package wordmltest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/projections/wordml"
)

// Doc is a .docx being edited.
type Doc struct {
	parts map[string][]byte
	order []string
	// XML is word/document.xml.
	XML string
	// Author and Date sign tracked changes.
	Author string
	Date   time.Time
	next   int
}

// Open reads a .docx.
func Open(data []byte) (*Doc, error) {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	d := &Doc{parts: map[string][]byte{}, Author: "Olena Kovalenko", Date: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), next: 9000}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		d.parts[f.Name] = b
		d.order = append(d.order, f.Name)
	}
	d.XML = string(d.parts["word/document.xml"])
	return d, nil
}

// Bytes writes the edited .docx.
func (d *Doc) Bytes() []byte {
	d.parts["word/document.xml"] = []byte(d.XML)
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, name := range d.order {
		w, _ := z.Create(name)
		w.Write(d.parts[name])
	}
	z.Close()
	return buf.Bytes()
}

// SetProp sets (or, with "", removes) a custom property's value in place.
func (d *Doc) SetProp(name, value string) error {
	custom := string(d.parts["docProps/custom.xml"])
	i := strings.Index(custom, `name="`+name+`"`)
	if i < 0 {
		return fmt.Errorf("no property %s", name)
	}
	start := strings.Index(custom[i:], "<vt:lpwstr>") + i + len("<vt:lpwstr>")
	end := strings.Index(custom[start:], "</vt:lpwstr>") + start
	d.parts["docProps/custom.xml"] = []byte(custom[:start] + wordml.Escape(value) + custom[end:])
	return nil
}

// Remove deletes a part of the package.
func (d *Doc) Remove(name string) {
	delete(d.parts, name)
	for i, n := range d.order {
		if n == name {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
}

func (d *Doc) change(kind string) string {
	d.next++
	return fmt.Sprintf(`<w:%s w:id="%d" w:author="%s" w:date="%s">`, kind, d.next, wordml.Escape(d.Author), d.Date.UTC().Format("2006-01-02T15:04:05Z"))
}

func (d *Doc) find(old string) (int, error) {
	esc := wordml.Escape(old)
	i := strings.Index(d.XML, esc)
	if i < 0 {
		return 0, fmt.Errorf("%q is not in the document's text", old)
	}
	return i, nil
}

// Replace replaces text old with new with change tracking on: old a
// tracked deletion, new a tracked insertion ("" for either: none).
func (d *Doc) Replace(old, new string) error {
	i, err := d.find(old)
	if err != nil {
		return err
	}
	esc := wordml.Escape(old)
	var b strings.Builder
	b.WriteString(`</w:t></w:r>`)
	if old != "" {
		b.WriteString(d.change("del") + `<w:r><w:delText xml:space="preserve">` + esc + `</w:delText></w:r></w:del>`)
	}
	if new != "" {
		b.WriteString(d.change("ins") + `<w:r><w:t xml:space="preserve">` + wordml.Escape(new) + `</w:t></w:r></w:ins>`)
	}
	b.WriteString(`<w:r><w:t xml:space="preserve">`)
	d.XML = d.XML[:i] + b.String() + d.XML[i+len(esc):]
	return nil
}

// Insert inserts new after text at, with change tracking on.
func (d *Doc) Insert(at, new string) error {
	i, err := d.find(at)
	if err != nil {
		return err
	}
	i += len(wordml.Escape(at))
	d.XML = d.XML[:i] + `</w:t></w:r>` + d.change("ins") + `<w:r><w:t xml:space="preserve">` + wordml.Escape(new) + `</w:t></w:r></w:ins><w:r><w:t xml:space="preserve">` + d.XML[i:]
	return nil
}

// Untracked replaces text old with new with change tracking off.
func (d *Doc) Untracked(old, new string) error {
	i, err := d.find(old)
	if err != nil {
		return err
	}
	d.XML = d.XML[:i] + wordml.Escape(new) + d.XML[i+len(wordml.Escape(old)):]
	return nil
}

// paragraphAround returns the bounds of the paragraph holding byte i.
func (d *Doc) paragraphAround(i int) (start, end int) {
	start = strings.LastIndex(d.XML[:i], "<w:p>")
	if s2 := strings.LastIndex(d.XML[:i], "<w:p "); s2 > start {
		start = s2
	}
	end = strings.Index(d.XML[i:], "</w:p>") + i + len("</w:p>")
	return start, end
}

// AddClause adds a heading paragraph (style Heading2) and a paragraph of
// text after the paragraph holding text after, tracked or not.
func (d *Doc) AddClause(after, heading, text string, tracked bool) error {
	i, err := d.find(after)
	if err != nil {
		return err
	}
	_, end := d.paragraphAround(i)
	para := func(style, t string) string {
		mark, open, close := "", "", ""
		if tracked {
			mark = `<w:rPr>` + strings.TrimSuffix(d.change("ins"), ">") + `/></w:rPr>`
			open, close = d.change("ins"), `</w:ins>`
		}
		return `<w:p><w:pPr><w:pStyle w:val="` + style + `"/>` + mark + `</w:pPr>` + open + `<w:r><w:t xml:space="preserve">` + wordml.Escape(t) + `</w:t></w:r>` + close + `</w:p>`
	}
	d.XML = d.XML[:end] + para("Heading2", heading) + para("TreatyText", text) + d.XML[end:]
	return nil
}

// clauseBlock returns the bounds of the clause whose heading paragraph
// holds text heading: its heading and the status and text paragraphs after
// it, up to the next heading or proposal.
func (d *Doc) clauseBlock(heading string) (start, end int, err error) {
	i, err := d.find(heading)
	if err != nil {
		return 0, 0, err
	}
	start, end = d.paragraphAround(i)
	for {
		next := d.XML[end:]
		if !strings.HasPrefix(next, `<w:p><w:pPr><w:pStyle w:val="TreatyText"/>`) && !strings.HasPrefix(next, `<w:p><w:pPr><w:pStyle w:val="TreatyStatus"/>`) {
			return start, end, nil
		}
		_, end = d.paragraphAround(end + 5)
	}
}

// MoveClause cuts the clause whose heading holds text heading (its heading
// and text, not the proposals on it) and pastes it before the clause whose
// heading holds text before, with tracking off.
func (d *Doc) MoveClause(heading, before string) error {
	start, end, err := d.clauseBlock(heading)
	if err != nil {
		return err
	}
	block := d.XML[start:end]
	d.XML = d.XML[:start] + d.XML[end:]
	i, err := d.find(before)
	if err != nil {
		return err
	}
	at, _ := d.paragraphAround(i)
	d.XML = d.XML[:at] + block + d.XML[at:]
	return nil
}

// DeleteClause deletes the clause whose heading paragraph holds text
// heading, with its text paragraphs (up to the next heading or proposal):
// with tracking on, as tracked deletions; off, gone with its bookmark.
func (d *Doc) DeleteClause(heading string, tracked bool) error {
	start, end, err := d.clauseBlock(heading)
	if err != nil {
		return err
	}
	if !tracked {
		d.XML = d.XML[:start] + d.XML[end:]
		return nil
	}
	block := d.XML[start:end]
	block = strings.ReplaceAll(block, `<w:r><w:t xml:space="preserve">`, d.change("del")+`<w:r><w:delText xml:space="preserve">`)
	block = strings.ReplaceAll(block, `</w:t></w:r>`, `</w:delText></w:r></w:del>`)
	block = strings.ReplaceAll(block, `"/></w:pPr>`, `"/><w:rPr>`+strings.TrimSuffix(d.change("del"), ">")+`/></w:rPr></w:pPr>`)
	d.XML = d.XML[:start] + block + d.XML[end:]
	return nil
}

// PrefixTexts puts prefix before the first line of every clause's agreed
// text, with tracking off: an amendment of every clause.
func (d *Doc) PrefixTexts(prefix string) int {
	open := `<w:pStyle w:val="TreatyText"/></w:pPr><w:r><w:t xml:space="preserve">`
	n := strings.Count(d.XML, open)
	d.XML = strings.ReplaceAll(d.XML, open, open+wordml.Escape(prefix))
	return n
}
