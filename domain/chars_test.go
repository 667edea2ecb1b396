package domain

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Text that real scripts and emoji need, which the rules keep.
var realScripts = []string{
	"Сторони зобов'язуються",                       // Cyrillic
	"می\u200cخواهم",                                // Persian, with a zero width non-joiner
	"क्\u200dष",                                    // Devanagari, with a zero width joiner
	"👩\u200d⚖\ufe0f",                               // an emoji joined with ZWJ, with a variation selector
	"\u05e9\u05dc\u05d5\u05dd 2026\u200f.",         // Hebrew with a right-to-left mark
	"\u0627\u0644\u0645\u0627\u062f\u0629 5\u061c", // Arabic with an Arabic letter mark
	"Flag \U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", // Scotland's, a tag sequence
	"e\u0301 \uFFFD", // a combining accent, a real replacement character
	"Column\tcolumn",
}

func TestVisible(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b[2J\x1b]0;pwned\x07ALL GOOD", `\x1b[2J\x1b]0;pwned\x07ALL GOOD`},
		{"two\nlines\r", `two\nlines\r`},
		{"del\x7f c1\u0085 csi\u009b", `del\x7f c1\u0085 csi\u009b`},
		{"bad \xff\xfe byte", `bad \xff\xfe byte`},
		{"nul\x00", `nul\x00`},
		{"0\u202e1000\u202c", `0\u202e1000\u202c`},
		{"\u2067isolate\u2069", `\u2067isolate\u2069`},
		{"zero\u200bwidth\u2060joiner\ufeff", `zero\u200bwidth\u2060joiner\ufeff`},
		{"soft\u00adhyphen", `soft\u00adhyphen`},
		{"line\u2028separator", `line\u2028separator`},
		{"smuggled\U000E0041\U000E0042", `smuggled\U000e0041\U000e0042`},
		{"lone flag \U0001F3F4 tag\U000E007F", "lone flag \U0001F3F4 tag\\U000e007f"},
		{"filler\u3164", `filler\u3164`},
	} {
		if got := Visible(tt.in); got != tt.want {
			t.Errorf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range realScripts {
		if got := Visible(s); got != s {
			t.Errorf("Visible(%q) = %q, want it unchanged", s, got)
		}
	}
}

// VisibleLines is Visible line by line, newlines kept: on each of the
// cases above and the real scripts, alone, across lines and mixed, and on
// text whose lines are clean, which it returns as it is.
func TestVisibleLines(t *testing.T) {
	texts := append([]string{"", "\n", "a\n\nb\n", "clean line\nand \t another"}, realScripts...)
	texts = append(texts, "plain\n\x1b[2J\n\u202eend", "two\nlines\r\n", strings.Join(realScripts, "\n"), "bad \xff\n\U000E0041x")
	for _, s := range texts {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = Visible(l)
		}
		if got, want := VisibleLines(s), strings.Join(lines, "\n"); got != want {
			t.Errorf("VisibleLines(%q) = %q, want %q", s, got, want)
		}
	}
}

// Decide refuses bidirectional controls and invisible characters in every
// field of free text, and keeps what real scripts need.
func TestDecideRefusesHiddenCharacters(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE"})
	id := n.table("UA", "a", "A.")
	for _, tt := range []struct {
		c    Command
		want string
	}{
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "The sum is 0\u202e0001\u202c euros."},
			"text of clause c holds U+202E, a bidirectional control character, at byte 12: it makes text display in another order than it is stored"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "\u2066isolated\u2069"}, "U+2066, a bidirectional control"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "pay\u200bment"}, "text of clause c holds U+200B, an invisible character, at byte 3: it would hide in the text"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "\ufeffBOM"}, "U+FEFF, an invisible character"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "soft\u00adhyphen"}, "U+00AD"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x\U000E0041"}, "U+E0041"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x", Heading: ptr("Head\u202eing")}, "heading holds U+202E"},
		{Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x", Note: "no\u2060te"}, "note holds U+2060"},
		{Object{Proposal: id, Party: "US", Reason: "re\u2067ason"}, "reason holds U+2067"},
		{Revise{Proposal: id, Party: "UA", Text: ptr("A\u202e.")}, "holds U+202E"},
		{Revise{Proposal: id, Party: "UA", Note: ptr("no\u200bte")}, "note holds U+200B"},
		{CommentOn{Proposal: id, Party: "DE", Text: "com\u2066ment"}, "comment holds U+2066"},
	} {
		n.refuse(tt.c, EINVALID, tt.want)
	}
	n.do(CloseRound{Party: "DE"})
	n.refuse(OpenRound{Party: "DE", Name: "Round\u200b"}, EINVALID, "round name holds U+200B")
	for i, s := range realScripts {
		n.table("UA", "script-"+string(rune('a'+i)), s, heading(s), func(c *Table) { c.Note = s })
	}
	var s State
	open := OpenTreaty{Treaty: "t", Title: "T", Parties: []Party{{Code: "A", Name: "A\u202eB", Role: RoleParty}}}
	if _, err := Decide(&s, open); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "name of A holds U+202E") {
		t.Errorf("an opening with a bidi control in a name: %v", err)
	}
	open.Parties[0].Name, open.Title = "A", "Ti\u200btle"
	if _, err := Decide(&s, open); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "title holds U+200B") {
		t.Errorf("an opening with a zero width space in its title: %v", err)
	}
}

// Logs written before the rule fold as they always did: Evolve does not
// refuse what Decide now does.
func TestEvolveFoldsHiddenCharactersOfOlderLogs(t *testing.T) {
	var s State
	for _, e := range []Event{
		TreatyOpened{Treaty: "t", Title: "Ti\u200btle", Parties: []Party{{Code: "A", Name: "A\u202e", Role: RoleParty}, {Code: "B", Role: RoleParty}}},
		RoundOpened{Round: 1, Name: "\u2066Round\u2069"},
		ProposalTabled{Proposal: "p1", Clause: "c", Party: "A", Action: ActionInsert, Text: "0\u202e0001", Heading: ptr("\ufeffH"), Note: "\u00ad"},
		ProposalObjected{Proposal: "p1", Party: "B", Reason: "\u200b"},
	} {
		if err := s.Evolve(e); err != nil {
			t.Fatalf("Evolve(%#v): %v", e, err)
		}
	}
}

func TestCheckAuthor(t *testing.T) {
	for _, ok := range []string{"", "Olena Kovalenko", "Katrin Brandt (DE)", "Ім'я\tПрізвище"} {
		if err := CheckAuthor(ok); err != nil {
			t.Errorf("CheckAuthor(%q): %v", ok, err)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"Mallory\x1b[2J", "author holds the control character U+001B at byte 7; only tabs are allowed"},
		{"two\nlines", "author holds the control character U+000A"},
		{"\u202eyrollaM", "author holds U+202E, a bidirectional control character"},
		{"bad \xff", "author is not valid UTF-8"},
		{strings.Repeat("x", 4097), "author is 4097 bytes; the limit is 4096 bytes"},
	} {
		if err := CheckAuthor(tt.in); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckAuthor(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func ptr(s string) *string { return &s }

// plain's shortcuts agree with classOf on every code point, alone and
// between others, and on bytes that are not UTF-8.
func TestPlainAgreesWithClassOf(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := utf8.ValidRune(r) && r != utf8.RuneError && (r == '\t' || classOf(r) == plainChar)
		s := string(r)
		if got := plain(s); got != want {
			t.Fatalf("plain(%q) = %v, want %v", s, got, want)
		}
		if got := plain("a" + s + "я"); got != want {
			t.Fatalf("plain(%q) = %v, want %v", "a"+s+"я", got, want)
		}
	}
	for _, s := range []string{"\xd0", "я\xd0", "\xd0a", "\xc3\xc3", "\xdf\x7f", "\xc2\xad", "\xc2\x85"} {
		if plain(s) {
			t.Errorf("plain(%q) = true", s)
		}
	}
}

// plain's eight bytes at a time: every byte, at every place of a run of
// ASCII long enough to be read so, and across its end.
func TestPlainEightBytesAtATime(t *testing.T) {
	base := []byte("The Parties shall consult.")
	for b := range 256 {
		for at := range len(base) {
			s := slices.Clone(base)
			s[at] = byte(b)
			want := b >= 0x20 && b < 0x7f || b == '\t'
			if got := plain(string(s)); got != want {
				t.Fatalf("plain(%q) = %v, want %v", s, got, want)
			}
		}
	}
}
