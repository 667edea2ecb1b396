package wordml

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bound what Read accepts, so that a crafted file (a zip bomb, a
// document of a million empty paragraphs) is refused instead of read.
type Limits struct {
	// File is the largest .docx accepted, in bytes; Unpacked the most
	// bytes read out of it, all parts together; Paragraphs the most
	// paragraphs in its body.
	File, Unpacked int64
	Paragraphs     int
}

// DefaultLimits are generous for any treaty: its text is bounded by the
// rules long before these.
var DefaultLimits = Limits{File: 64 << 20, Unpacked: 256 << 20, Paragraphs: 200_000}

// ErrNotDocx is a file that is not a Word document at all: not a zip, or a
// zip without word/document.xml.
var ErrNotDocx = errors.New("not a Word document (.docx)")

// ErrTooLarge is a file beyond the Limits.
var ErrTooLarge = errors.New("too large")

// File is what Read found in a .docx.
type File struct {
	// Props are the custom document properties, by name.
	Props map[string]string
	// Paragraphs are the body's paragraphs in order, those in tables and
	// content controls included.
	Paragraphs []Para
}

// Para is one paragraph as read.
type Para struct {
	// Style is the paragraph style's name as styles.xml gives it (its ID
	// when it has none), and Outline its outline level (0 for none, 1 for
	// a first-level heading).
	Style   string
	Outline int
	// Bookmarks names the bookmarks that start in the paragraph (or just
	// before it, between paragraphs).
	Bookmarks []string
	// Accepted is the paragraph's text with every tracked change accepted
	// (insertions kept, deletions dropped); Original with every one
	// rejected. Tabs are "\t", line breaks "\n".
	Accepted, Original string
	// Segments is the paragraph's text in stretches of one tracked
	// change each, for readings between those two (see Para.Text).
	Segments []Segment
	// MarkDeleted and MarkInserted say that the paragraph mark itself is
	// a tracked deletion (the paragraph joins the next once accepted) or
	// insertion.
	MarkDeleted, MarkInserted bool
	// Changes are the tracked changes in the paragraph, its mark's
	// included, in order.
	Changes []TrackedChange
}

// Segment is a stretch of a paragraph's text: inserted, deleted, both
// (inserted, then deleted) or neither, by the changes named.
type Segment struct {
	Text     string
	Ins, Del *TrackedChange
}

// Text is the paragraph's text with the tracked changes keep says to keep
// accepted and the others rejected: an insertion kept stays, a deletion
// kept goes.
func (p Para) Text(keep func(TrackedChange) bool) string {
	var b strings.Builder
	for _, s := range p.Segments {
		in := s.Ins == nil || keep(*s.Ins)
		gone := s.Del != nil && keep(*s.Del)
		if in && !gone {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// TrackedChange is one tracked insertion or deletion as read.
type TrackedChange struct {
	Kind   string // "ins" or "del"
	Author string
	Date   string
}

// Read reads a .docx of size bytes from r, within limits.
func Read(r io.ReaderAt, size int64, limits Limits) (*File, error) {
	if size > limits.File {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d accepted", ErrTooLarge, size, limits.File)
	}
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDocx, err)
	}
	budget := limits.Unpacked
	part := func(name string) ([]byte, error) {
		for _, f := range z.File {
			if path.Clean(strings.TrimPrefix(f.Name, "/")) != name {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			defer rc.Close()
			// The header's size is the file's word, not a promise: read at
			// most the budget left, and one byte more to tell.
			data, err := io.ReadAll(io.LimitReader(rc, budget+1))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if int64(len(data)) > budget {
				return nil, fmt.Errorf("%w: it unpacks to more than %d bytes", ErrTooLarge, limits.Unpacked)
			}
			budget -= int64(len(data))
			return data, nil
		}
		return nil, nil
	}
	doc, err := part("word/document.xml")
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: it has no word/document.xml", ErrNotDocx)
	}
	f := &File{Props: map[string]string{}}
	if custom, err := part("docProps/custom.xml"); err != nil {
		return nil, err
	} else if custom != nil {
		if f.Props, err = readProps(custom); err != nil {
			return nil, fmt.Errorf("docProps/custom.xml: %w", err)
		}
	}
	styles := map[string]style{}
	if s, err := part("word/styles.xml"); err != nil {
		return nil, err
	} else if s != nil {
		if styles, err = readStyles(s); err != nil {
			return nil, fmt.Errorf("word/styles.xml: %w", err)
		}
	}
	if f.Paragraphs, err = readBody(doc, styles, limits.Paragraphs); err != nil {
		return nil, fmt.Errorf("word/document.xml: %w", err)
	}
	return f, nil
}

// maxDepth is the deepest nesting of elements read: far beyond any real
// document's (tables in tables included). encoding/xml keeps a record of
// every element open, some hundred bytes each, so that a part of nothing
// but start tags would otherwise take some 37 times its size in memory.
const maxDepth = 1000

// maxChanges is the most tracked insertions and deletions read: each is
// kept, some hundred bytes, so that a part of nothing but empty w:ins
// elements would otherwise take some 24 times its size in memory.
const maxChanges = 1_000_000

// boundedDecoder is an xml.Decoder that refuses elements nested deeper
// than maxDepth.
type boundedDecoder struct {
	*xml.Decoder
	depth int
}

func (d *boundedDecoder) Token() (xml.Token, error) {
	t, err := d.Decoder.Token()
	switch t.(type) {
	case xml.StartElement:
		if d.depth++; d.depth > maxDepth {
			return nil, fmt.Errorf("%w: elements nested more than %d deep", ErrTooLarge, maxDepth)
		}
	case xml.EndElement:
		d.depth--
	}
	return t, err
}

func decoder(data []byte) *boundedDecoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	// encoding/xml expands no entity but the five predefined and
	// character references, and resolves no external one: a DOCTYPE's
	// entities are not expanded, so no entity bomb reaches here.
	d.Strict = true
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8") {
			return input, nil
		}
		return nil, fmt.Errorf("encoding %q: only UTF-8 is read", charset)
	}
	return &boundedDecoder{Decoder: d}
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func readProps(data []byte) (map[string]string, error) {
	props := map[string]string{}
	d := decoder(data)
	name, in := "", false
	var val strings.Builder
	for {
		t, err := d.Token()
		if err == io.EOF {
			return props, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "property":
				name = attr(t, "name")
			case name != "":
				in = true
				val.Reset()
			}
		case xml.CharData:
			if in {
				val.Write(t)
			}
		case xml.EndElement:
			switch {
			case t.Name.Local == "property":
				name = ""
			case in:
				props[name] = val.String()
				in = false
			}
		}
	}
}

type style struct {
	name    string
	outline int
}

func readStyles(data []byte) (map[string]style, error) {
	styles := map[string]style{}
	d := decoder(data)
	id := ""
	var cur style
	for {
		t, err := d.Token()
		if err == io.EOF {
			return styles, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "style":
				id, cur = attr(t, "styleId"), style{}
			case "name":
				if id != "" {
					cur.name = attr(t, "val")
				}
			case "outlineLvl":
				if id != "" {
					cur.outline = outlineOf(attr(t, "val"))
				}
			}
		case xml.EndElement:
			if t.Name.Local == "style" && id != "" {
				if cur.name == "" {
					cur.name = id
				}
				styles[id] = cur
				id = ""
			}
		}
	}
}

// outlineOf turns w:outlineLvl's 0-based value into a level from 1 (0:
// body text, Word's 9).
func outlineOf(v string) int {
	if len(v) == 1 && v[0] >= '0' && v[0] <= '8' {
		return int(v[0]-'0') + 1
	}
	return 0
}

// readBody walks the body's paragraphs: their style, bookmarks and the two
// readings of their text. Everything it does not know (drawings, fields'
// instructions, footnote references) adds no text; text boxes are skipped
// whole, they are not the treaty's.
func readBody(data []byte, styles map[string]style, maxParas int) ([]Para, error) {
	d := decoder(data)
	var paras []Para
	var p *Para
	var pending []string // bookmarks started between paragraphs
	var accepted, original strings.Builder
	var changes []TrackedChange
	var segments []Segment
	// segText is the text of the last of segments, kept here while it
	// grows (a string added to piece by piece is copied at each piece).
	var segText strings.Builder
	var insStack, delStack []*TrackedChange
	// ins and del count the tracked insertions and deletions around the
	// current position; inPPr that we are in a paragraph's properties,
	// skip how deep we are in something skipped whole.
	ins, del, skip := 0, 0, 0
	tracked := 0 // tracked changes read, against maxChanges
	inPPr, inRPrOfPPr := false, false
	text := func(s string) {
		if p == nil {
			return
		}
		if del == 0 {
			accepted.WriteString(s)
		}
		if ins == 0 {
			original.WriteString(s)
		}
		var in, out *TrackedChange
		if len(insStack) > 0 {
			in = insStack[len(insStack)-1]
		}
		if len(delStack) > 0 {
			out = delStack[len(delStack)-1]
		}
		if n := len(segments); n > 0 && segments[n-1].Ins == in && segments[n-1].Del == out {
			segText.WriteString(s)
			return
		}
		if n := len(segments); n > 0 {
			segments[n-1].Text = segText.String()
		}
		segText.Reset()
		segText.WriteString(s)
		segments = append(segments, Segment{Ins: in, Del: out})
	}
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if skip > 0 {
				skip++
				continue
			}
			switch t.Name.Local {
			// Skipped whole: text boxes, fields' instructions, pictures,
			// and the record of formatting changed with tracking on (a
			// paragraph's earlier style is not its style).
			case "txbxContent", "footnoteReference", "endnoteReference", "instrText", "delInstrText", "pict", "drawing", "object", "Fallback",
				"pPrChange", "rPrChange", "sectPrChange", "tblPrChange", "trPrChange", "tcPrChange", "numberingChange":
				skip = 1
			case "p":
				if p != nil {
					return nil, errors.New("a paragraph inside a paragraph")
				}
				if len(paras) >= maxParas {
					return nil, fmt.Errorf("%w: more than %d paragraphs", ErrTooLarge, maxParas)
				}
				p = &Para{Bookmarks: pending}
				pending = nil
				accepted.Reset()
				original.Reset()
				changes, segments = nil, nil
				segText.Reset()
			case "pPr":
				inPPr = true
			case "rPr":
				inRPrOfPPr = inPPr
			case "pStyle":
				if inPPr && p != nil {
					id := attr(t, "val")
					s, ok := styles[id]
					if !ok {
						s = style{name: id}
					}
					p.Style, p.Outline = s.name, s.outline
				}
			case "outlineLvl":
				if inPPr && p != nil && !inRPrOfPPr {
					p.Outline = outlineOf(attr(t, "val"))
				}
			case "ins", "moveTo":
				if tracked++; tracked > maxChanges {
					return nil, fmt.Errorf("%w: more than %d tracked changes", ErrTooLarge, maxChanges)
				}
				c := TrackedChange{Kind: "ins", Author: attr(t, "author"), Date: attr(t, "date")}
				if inRPrOfPPr {
					if p != nil {
						p.MarkInserted = true
						changes = append(changes, c)
					}
					skip = 1 // an empty element; its end comes next
					continue
				}
				ins++
				changes = append(changes, c)
				insStack = append(insStack, &c)
			case "del", "moveFrom":
				if tracked++; tracked > maxChanges {
					return nil, fmt.Errorf("%w: more than %d tracked changes", ErrTooLarge, maxChanges)
				}
				c := TrackedChange{Kind: "del", Author: attr(t, "author"), Date: attr(t, "date")}
				if inRPrOfPPr {
					if p != nil {
						p.MarkDeleted = true
						changes = append(changes, c)
					}
					skip = 1
					continue
				}
				del++
				changes = append(changes, c)
				delStack = append(delStack, &c)
			case "bookmarkStart":
				name := attr(t, "name")
				if p != nil {
					p.Bookmarks = append(p.Bookmarks, name)
				} else {
					pending = append(pending, name)
				}
			case "t", "delText":
				if inPPr {
					continue
				}
				var s strings.Builder
				for {
					tt, err := d.Token()
					if err != nil {
						return nil, err
					}
					if cd, ok := tt.(xml.CharData); ok {
						s.Write(cd)
						continue
					}
					if _, ok := tt.(xml.EndElement); ok {
						break
					}
					return nil, fmt.Errorf("an element inside w:%s", t.Name.Local)
				}
				text(s.String())
			case "tab":
				if !inPPr {
					text("\t")
				}
			case "br", "cr":
				if !inPPr {
					text("\n")
				}
			case "noBreakHyphen":
				text("-")
			}
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			switch t.Name.Local {
			case "pPr":
				inPPr = false
			case "rPr":
				inRPrOfPPr = false
			case "ins", "moveTo":
				ins = max(ins-1, 0)
				if len(insStack) > 0 {
					insStack = insStack[:len(insStack)-1]
				}
			case "del", "moveFrom":
				del = max(del-1, 0)
				if len(delStack) > 0 {
					delStack = delStack[:len(delStack)-1]
				}
			case "p":
				if p != nil {
					if n := len(segments); n > 0 {
						segments[n-1].Text = segText.String()
					}
					p.Accepted, p.Original, p.Changes, p.Segments = accepted.String(), original.String(), changes, segments
					paras = append(paras, *p)
					p = nil
				}
			}
		}
	}
	return paras, nil
}
