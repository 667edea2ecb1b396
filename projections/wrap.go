package projections

import (
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/treaty-engine/treaty/projections/redline"
)

// Text for a terminal is wrapped at word boundaries to its width, each
// continuation after the margin and indent the layout gives the line's
// further lines (see hang), so that a wrapped line keeps the layout's
// guarantees: a terminal left to wrap it would start the rest at the first
// column, where only headings stand.

// minWrapRoom is the fewest columns a wrapped line must leave for text
// after its margin; a terminal narrower than that is left to wrap lines
// itself.
const minWrapRoom = 20

// cells measures text as a terminal shows it: East Asian wide characters
// take two columns, combining marks none; the locale does not decide (the
// width of East Asian ambiguous characters is one).
var cells = runewidth.Condition{StrictEmojiNeutral: true}

// tabStop is where a terminal's tab stops stand: every eighth column.
const tabStop = 8

// hang renders text (one or more lines) under margins: its first line after
// first, every further line after rest; on a terminal (st.Width > 0), a
// line too wide for it is wrapped at spaces, each continuation after rest
// too. Without a width it is the text's lines joined, margins added.
func (st Style) hang(first, rest, text string) string {
	var b strings.Builder
	st.writeHang(&b, first, rest, text)
	return b.String()
}

// writeHang writes to b what hang returns, without copying the text: a
// draft's texts are long.
func (st Style) writeHang(b *strings.Builder, first, rest, text string) {
	wraps := st.Width > 0 && st.Width-width(rest, 0) >= minWrapRoom
	prefix, further := first, false
	for line := range strings.SplitSeq(text, "\n") {
		if further {
			b.WriteByte('\n')
			prefix = rest
		}
		further = true
		b.WriteString(prefix)
		if wraps {
			wrap(b, line, width(prefix, 0), rest, st.Width)
		} else {
			b.WriteString(line)
		}
	}
}

// writeOpsHang writes to b what writeHang writes of textOps(ops, st), the
// redline written inline: without wrapping, straight from the ops' texts,
// as a compare document writes thousands.
func (st Style) writeOpsHang(b *strings.Builder, first, rest string, ops []redline.Op) {
	m := textMarkup(st)
	if st.Width > 0 {
		st.writeHang(b, first, rest, m.render(ops))
		return
	}
	b.WriteString(first)
	for _, op := range ops {
		open, end, ok := m.around(op.Kind)
		if !ok {
			continue
		}
		b.WriteString(open)
		for line, more := op.Text, true; more; {
			var l string
			l, line, more = strings.Cut(line, "\n")
			b.WriteString(l)
			if more {
				b.WriteByte('\n')
				b.WriteString(rest)
			}
		}
		b.WriteString(end)
	}
}

// block renders every line of text after margin, wrapped on a terminal.
func (st Style) block(margin, text string) string { return st.hang(margin, margin, text) }

// wrap writes line, its first character at column col of a terminal max
// columns wide: where the next word would pass the last column, the spaces
// before it become a newline and rest, the margin of continuations. A word
// wider than a whole line is cut where the line ends. Escape sequences
// (colours) take no column and are never cut.
func wrap(b *strings.Builder, line string, col int, rest string, max int) {
	restCol := width(rest, 0)
	fresh := true // nothing of line written on this terminal line yet
	newline := func() {
		b.WriteString("\n" + rest)
		col, fresh = restCol, true
	}
	for i, n := 0, 0; i < len(line); i += n {
		// The next run: spaces, then the word after them.
		sp := spaceRun(line[i:])
		word := wordRun(line[i+sp:])
		n = sp + len(word)
		spaces := line[i : i+sp]
		if !fresh && word != "" && width(word, width(spaces, col)) > max {
			newline() // the spaces go with the break
			spaces = ""
		}
		// Spaces past the last column show nothing but would make the
		// terminal start a line of its own.
		spaces = spaces[:fitting(spaces, col, max)]
		b.WriteString(spaces)
		col = width(spaces, col)
		if spaces != "" {
			fresh = false // a line's indent: a word that does not fit after it goes on the next
		}
		for word != "" {
			fit := fitting(word, col, max)
			switch {
			case fit == 0 && !fresh:
				newline()
				continue
			case fit == 0:
				fit = firstChar(word) // not one character fits: it goes anyway
			}
			b.WriteString(word[:fit])
			col, fresh = width(word[:fit], col), false
			if word = word[fit:]; word != "" {
				newline()
			}
		}
	}
}

// width returns the column after s, written from column col.
func width(s string, col int) int {
	for i := 0; i < len(s); {
		if n := escapeLen(s[i:]); n > 0 {
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t':
			col = (col/tabStop + 1) * tabStop
		case r == utf8.RuneError && size <= 1:
			col++
		default:
			col += cells.RuneWidth(r)
		}
		i += size
	}
	return col
}

// fitting returns how many bytes of word fit between column col and max,
// cut after a whole character and never inside an escape sequence.
func fitting(word string, col, max int) int {
	fit := 0
	for i := 0; i < len(word); {
		n := escapeLen(word[i:])
		if n == 0 {
			_, n = utf8.DecodeRuneInString(word[i:])
		}
		next := width(word[i:i+n], col)
		if next > max {
			break
		}
		i, col, fit = i+n, next, i+n
	}
	return fit
}

// firstChar is the length of word's first character, with any escape
// sequences before it.
func firstChar(word string) int {
	i := 0
	for n := escapeLen(word); n > 0; n = escapeLen(word[i:]) {
		i += n
	}
	if i < len(word) {
		_, n := utf8.DecodeRuneInString(word[i:])
		i += n
	}
	return i
}

// escapeLen is the length of the CSI escape sequence s starts with (ESC [
// parameters, a final byte), or 0. Styled text has had every such byte in
// stored text made visible by Printable: the sequences are the renderer's
// own colours. (Unstyled text rendered as it is and found to hold one is
// rendered again, made visible: see visibleText.)
func escapeLen(s string) int {
	if len(s) < 2 || s[0] != '\x1b' || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
	}
	return 0
}

// spaceRun is the length of the spaces and tabs s starts with.
func spaceRun(s string) int {
	n := 0
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		n++
	}
	return n
}

// wordRun is what s starts with up to its next space or tab.
func wordRun(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}
