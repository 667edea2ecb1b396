package domain

import (
	"fmt"
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Which characters a negotiated text may hold, and how output shows the
// ones it may not.
//
// Control characters (C0 but tab and, in a clause text, newline; DEL; C1)
// and bytes that are not UTF-8 were always refused, by Decide and Evolve
// alike (checkChars).
//
// New text may not hold either (checkHidden, by Decide only; Evolve folds
// logs written before the rule):
//   - the bidirectional embedding, override and isolate controls, U+202A to
//     U+202E and U+2066 to U+2069: they make a text display in another order
//     than it is stored ("Trojan Source": stored 0001 shown as 1000);
//   - characters that display as nothing and have no place in a treaty:
//     the soft hyphen U+00AD, zero width space U+200B, the line and paragraph
//     separators U+2028 and U+2029 (a text breaks lines with newlines), word
//     joiner U+2060, the invisible operators U+2061 to U+2064, the deprecated
//     format controls U+206A to U+206F, the byte order mark U+FEFF, the
//     interlinear annotation controls U+FFF9 to U+FFFB, the Hangul fillers
//     U+3164 and U+FFA0 (letters that look like blanks), and tag characters
//     (U+E0000 to U+E007F) except in an emoji tag sequence (the flags of
//     England, Scotland and Wales).
//
// Real scripts keep what they need: the zero width joiner and non-joiner
// (U+200D, U+200C) shape Persian, Arabic and Indic text and join emoji; the
// left-to-right, right-to-left and Arabic letter marks (U+200E, U+200F,
// U+061C) place punctuation and numbers in authentic right-to-left text.
// The marks change no order within a run of letters or digits, so they
// cannot make stored 0001 read 1000, and text in Arabic or Hebrew needs
// them; variation selectors, the combining grapheme joiner and the Mongolian
// vowel separator stay too.

// charClass is what a character of a stored string is, for checks and
// output.
type charClass uint8

const (
	plainChar     charClass = iota
	controlChar             // C0 (tab and newline included), DEL, C1
	badByte                 // a byte that is not UTF-8
	bidiChar                // a bidirectional embedding, override or isolate
	invisibleChar           // displays as nothing, see above
)

// char is one character of a string and where it is.
type char struct {
	at, size int
	r        rune
	class    charClass
}

// chars yields the characters of s with their class. Tag characters count
// as plain inside an emoji tag sequence: U+1F3F4, then tags U+E0020 to
// U+E007E, then the cancel tag U+E007F.
func chars(s string) iter.Seq[char] {
	return func(yield func(char) bool) {
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			c := char{at: i, size: size, r: r, class: classOf(r)}
			switch {
			case r == utf8.RuneError && size == 1:
				c.class = badByte
			case r == 0x1F3F4:
				if n := tagSequence(s[i+size:]); n > 0 {
					c.size += n // the flag and its tags, one character
				}
			}
			if !yield(c) {
				return
			}
			i += c.size
		}
	}
}

func classOf(r rune) charClass {
	switch {
	case unicode.IsControl(r):
		return controlChar
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return bidiChar
	case r == 0x00AD, r == 0x200B, r == 0x2028, r == 0x2029, r >= 0x2060 && r <= 0x2064,
		r >= 0x206A && r <= 0x206F, r == 0xFEFF, r >= 0xFFF9 && r <= 0xFFFB,
		r == 0x3164, r == 0xFFA0, r >= 0xE0000 && r <= 0xE007F:
		return invisibleChar
	}
	return plainChar
}

// plain reports that s has nothing Visible would change (cheaply: a real
// U+FFFD, or an emoji tag sequence, takes the long way).
func plain(s string) bool { return plainText(s, false) }

// plainText is plain, with newlines let through when lines is true: what
// VisibleLines would not change.
func plainText(s string, lines bool) bool {
	for i := 0; i < len(s); {
		if i+8 <= len(s) && printableASCII8(s[i:]) {
			i += 8
			continue
		}
		switch c := s[i]; {
		case c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' && lines:
			i++ // printable ASCII, the common case
			continue
		case c >= 0xC3 && c <= 0xDF && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
			i += 2 // U+00C0 to U+07FF (Latin, Greek, Cyrillic, Hebrew, Arabic…): nothing classOf flags
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || classOf(r) != plainChar {
			return false
		}
		i += size
	}
	return true
}

// printableASCII8 reports whether the first 8 bytes of s are all
// printable ASCII (0x20 to 0x7e), 8 at a time.
func printableASCII8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	del := x ^ 0x7f*ones   // a zero byte where x has DEL
	return x&highs == 0 && // ASCII
		(x-0x20*ones)&^x&highs == 0 && // no byte below 0x20 (with no high bit set, the borrow flags exactly those)
		(del-ones)&^del&highs == 0 // no DEL
}

// tagSequence returns the length of the tags and cancel tag that make an
// emoji tag sequence at the start of s, or 0 when there is none.
func tagSequence(s string) int {
	n, tags := 0, 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		switch {
		case r >= 0xE0020 && r <= 0xE007E:
			tags++
			n += size
		case r == 0xE007F && tags > 0:
			return n + size
		default:
			return 0
		}
	}
	return 0
}

// checkHidden refuses, in text new to the log, the characters that would
// hide in it: bidirectional controls and invisible characters (see above).
func checkHidden(what, s string) error {
	for c := range chars(s) {
		switch c.class {
		case bidiChar:
			return Errorf(EINVALID, "%s holds %U, a bidirectional control character, at byte %d: it makes text display in another order than it is stored", what, c.r, c.at)
		case invisibleChar:
			return Errorf(EINVALID, "%s holds %U, an invisible character, at byte %d: it would hide in the text", what, c.r, c.at)
		}
	}
	return nil
}

// newText lists the free text an event brings to the log, each with the
// name a refusal gives it.
func newText(e Event) [][2]string {
	switch e := e.(type) {
	case TreatyOpened:
		texts := [][2]string{{"title", e.Title}}
		for _, p := range e.Parties {
			texts = append(texts, [2]string{"name of " + p.Code, p.Name})
		}
		return texts
	case RoundOpened:
		return [][2]string{{"round name", e.Name}}
	case ProposalTabled:
		texts := [][2]string{{"text of clause " + e.Clause, e.Text}, {"note", e.Note}}
		if e.Heading != nil {
			texts = append(texts, [2]string{"heading", *e.Heading})
		}
		return texts
	case ProposalObjected:
		return [][2]string{{"reason", e.Reason}}
	case KeyRevoked:
		return [][2]string{{"reason", e.Reason}}
	case ProposalRevised:
		texts := [][2]string{{"text of proposal " + Short(e.Proposal), e.Text}, {"note", e.Note}}
		if e.Heading != nil {
			texts = append(texts, [2]string{"heading", *e.Heading})
		}
		return texts
	case ProposalCommented:
		return [][2]string{{"comment", e.Text}}
	case ReservationMade:
		return [][2]string{{"reservation", e.Text}}
	case DeclarationMade:
		return [][2]string{{"declaration", e.Text}}
	}
	return nil
}

// CheckAuthor checks the name of the person acting, recorded with an act:
// a one-line field, like a party's name.
func CheckAuthor(author string) error {
	if err := checkLine("author", author); err != nil {
		return err
	}
	return checkHidden("author", author)
}

// Visible returns s with every character that could act on a terminal or
// hide in a text shown as a Go escape: control characters (newline
// included: s is one line) as \n, \r, \x1b or \u0085, bytes that are not
// UTF-8 as \xff, bidirectional controls and invisible characters as \u202e.
// Tabs, and everything real scripts need, stay as they are. Output for
// people passes every stored string through it (a text of many lines, line
// by line); JSON, which is data, does not.
func Visible(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	for c := range chars(s) {
		switch {
		case c.class == plainChar, c.r == '\t':
			b.WriteString(s[c.at : c.at+c.size])
		case c.class == badByte:
			fmt.Fprintf(&b, `\x%02x`, s[c.at])
		case c.r == '\n':
			b.WriteString(`\n`)
		case c.r == '\r':
			b.WriteString(`\r`)
		case c.r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, c.r)
		case c.r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, c.r)
		default:
			fmt.Fprintf(&b, `\U%08x`, c.r)
		}
	}
	return b.String()
}

// VisibleLines is Visible for a text of many lines: each line made
// visible, the newlines kept.
func VisibleLines(s string) string {
	if plainText(s, true) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Visible(l)
	}
	return strings.Join(lines, "\n")
}
