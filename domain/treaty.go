// Package domain is the negotiation: its events, the commands parties give,
// the state a fold over the events builds, and the rules that decide which
// acts are allowed and what they cause.
//
// It does no I/O and reads no clock and no randomness: times and IDs come in
// with the commands, so every rule can be tested with plain values. The rules
// of adoption, staleness and who may do what live here and nowhere else.
package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSlug is the longest treaty ID, clause ID or party code.
const MaxSlug = 64

// DefaultMaxText is the default limit on the size of a clause text, in bytes.
const DefaultMaxText = 1 << 20

// MaxText is the largest clause text the rules accept, in bytes, whatever
// limit the acting client sets: Evolve refuses a longer one in any event, so
// no writer can store a text that makes the negotiation unreadable. 8 MiB is
// eight times the default and a few thousand pages of plain text, more than
// any clause (an annex of tariff tables included) holds; stored as JSON, where
// '<', '>' and '&' take six bytes each, such a text still fits in one line of
// an export that import reads back.
const MaxText = 8 << 20

// maxLine limits titles, headings, names, notes and reasons: single lines of
// prose, never documents.
const maxLine = 4096

// Role is what a participant may do in the negotiation.
type Role string

const (
	// RoleParty: a party to the text. Every party must accept a proposal
	// for it to be adopted.
	RoleParty Role = "party"
	// RoleObserver: a mediator or observer. Observers table and withdraw
	// proposals but take no position on them, and their acceptance is not
	// required.
	RoleObserver Role = "observer"
)

// Party is a participant in the negotiation, party or observer.
type Party struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// CheckSlug reports whether s is a valid ID of the given kind ("treaty ID",
// "clause ID", "party code", "proposal ID"): ASCII letters, digits and '-', 1
// to MaxSlug characters.
func CheckSlug(kind, s string) error {
	if s == "" {
		return Errorf(EINVALID, "%s is empty", kind)
	}
	if len(s) > MaxSlug {
		return Errorf(EINVALID, "%s %q is %d characters long; the limit is %d", kind, truncate(s, 20), len(s), MaxSlug)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return Errorf(EINVALID, "%s %q may hold only ASCII letters, digits and '-' (found %q)", kind, s, r)
		}
	}
	return nil
}

// CheckText reports whether s may be stored as the text of a clause: valid
// UTF-8 with no control characters other than tab and newline, at most max
// bytes (DefaultMaxText when max is 0, and never more than MaxText).
func CheckText(what, s string, max int) error {
	if max <= 0 {
		max = DefaultMaxText
	}
	if err := checkSize(what, s, min(max, MaxText)); err != nil {
		return err
	}
	return checkChars(what, s, true)
}

// checkSize refuses a clause text longer than max bytes, naming the rules'
// own limit when that is the one exceeded.
func checkSize(what, s string, max int) error {
	switch {
	case len(s) <= max:
		return nil
	case max == MaxText:
		return Errorf(EINVALID, "%s is %d bytes; the rules accept at most %d bytes (%d MiB) in a clause", what, len(s), MaxText, MaxText>>20)
	}
	return Errorf(EINVALID, "%s is %d bytes; the limit is %d bytes", what, len(s), max)
}

// checkLine checks a one-line field: a title, heading, name, note or reason.
func checkLine(what, s string) error {
	if len(s) > maxLine {
		return Errorf(EINVALID, "%s is %d bytes; the limit is %d bytes", what, len(s), maxLine)
	}
	return checkChars(what, s, false)
}

func checkChars(what, s string, multiline bool) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			return Errorf(EINVALID, "%s is not valid UTF-8 (bad byte 0x%02x at byte %d)", what, s[i], i)
		case r == '\t' || r == '\n' && multiline:
		case unicode.IsControl(r):
			return Errorf(EINVALID, "%s holds the control character %U at byte %d; only tabs%s are allowed", what, r, i, map[bool]string{true: " and newlines", false: ""}[multiline])
		}
	}
	return nil
}

// validAt tells a real U+FFFD from the error marker of an invalid byte.
func validAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || size == 3
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Short gives the first 8 characters of a proposal ID, the form people quote
// and the command line accepts as a prefix.
func Short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// quote renders clause text inside a message, shortened so that a refusal
// stays readable.
func quote(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	return fmt.Sprintf("%q", truncate(text, 200))
}
