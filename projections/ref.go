package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
)

// Ref names a moment of a negotiation, as CLI.md's REF: `round:N` (the end of
// round N, or now while it is open), `round:N:start`, `@N` (just after the
// N-th event), an RFC 3339 time, or `head` (now).
type Ref struct {
	kind refKind
	n    int
	t    time.Time
	text string
}

type refKind uint8

const (
	refHead refKind = iota
	refRoundEnd
	refRoundStart
	refEvent
	refTime
	// refLastClosed is the end of the last closed round, or the very start
	// when none has closed: where `diff` starts by default.
	refLastClosed
)

// Head is now: after the last event.
var Head = Ref{kind: refHead, text: "head"}

// LastClosedRound is the end of the last closed round, or the very start when
// no round has closed yet.
var LastClosedRound = Ref{kind: refLastClosed, text: "last-closed-round"}

// RefSyntaxError is a REF that does not parse.
type RefSyntaxError struct{ Text, Why string }

func (e *RefSyntaxError) Error() string {
	return fmt.Sprintf("REF %q %s; a REF is round:N, round:N:start, @N, an RFC 3339 time (2026-11-26T10:00:00Z) or head", e.Text, e.Why)
}

// ParseRef parses a REF. Malformed text returns *RefSyntaxError; whether the
// moment exists is known only against the log (see Resolve).
func ParseRef(s string) (Ref, error) {
	bad := func(why string) (Ref, error) { return Ref{}, &RefSyntaxError{Text: s, Why: why} }
	num := func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0 && strconv.Itoa(n) == v
	}
	switch {
	case s == "head":
		return Head, nil
	case strings.HasPrefix(s, "round:"):
		rest := strings.TrimPrefix(s, "round:")
		kind := refRoundEnd
		rest, suffix, cut := strings.Cut(rest, ":")
		n, ok := num(rest)
		switch {
		case !ok || n < 1:
			return bad("has no round number (rounds count from 1)")
		case cut && suffix != "start":
			return bad(fmt.Sprintf("ends in %q, which names no moment of a round (round:%d is its end, round:%d:start its start)", ":"+suffix, n, n))
		case cut:
			kind = refRoundStart
		}
		return Ref{kind: kind, n: n, text: s}, nil
	case strings.HasPrefix(s, "@"):
		n, ok := num(s[1:])
		if !ok {
			return bad("has no event number")
		}
		return Ref{kind: refEvent, n: n, text: s}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return bad("is not a REF")
	}
	return Ref{kind: refTime, t: t, text: s}, nil
}

// String gives the REF as written.
func (r Ref) String() string { return r.text }

// RefError is a well-formed REF that the negotiation does not contain.
type RefError struct{ Ref, Why string }

func (e *RefError) Error() string { return fmt.Sprintf("REF %s: %s", e.Ref, e.Why) }

// Resolve returns how many events the moment ref covers, given the state of
// the negotiation now. Time refs cannot be resolved from the state alone and
// return ok=false; Reader.Resolve scans the log for them.
func Resolve(ref Ref, head *domain.State) (n int, ok bool, err error) {
	rounds := head.Rounds
	round := func() (domain.Round, error) {
		if ref.n > len(rounds) {
			why := "no round has been opened yet"
			if len(rounds) > 0 {
				why = fmt.Sprintf("the negotiation has had %d round(s) so far", len(rounds))
			}
			return domain.Round{}, &RefError{Ref: ref.text, Why: fmt.Sprintf("there is no round %d: %s", ref.n, why)}
		}
		return rounds[ref.n-1], nil
	}
	switch ref.kind {
	case refHead:
		return head.Events, true, nil
	case refRoundEnd:
		r, err := round()
		if err != nil {
			return 0, false, err
		}
		if r.Closed == 0 {
			return head.Events, true, nil
		}
		return r.Closed, true, nil
	case refRoundStart:
		r, err := round()
		return r.Opened, err == nil, err
	case refEvent:
		if ref.n < 1 {
			return 0, false, &RefError{Ref: ref.text, Why: "there is no event 0: events count from 1"}
		}
		if ref.n > head.Events {
			return 0, false, &RefError{Ref: ref.text, Why: fmt.Sprintf("the negotiation has %d events", head.Events)}
		}
		return ref.n, true, nil
	case refLastClosed:
		for i := len(rounds) - 1; i >= 0; i-- {
			if rounds[i].Closed != 0 {
				return rounds[i].Closed, true, nil
			}
		}
		return 0, true, nil
	}
	return 0, false, nil
}

// Point is a resolved moment.
type Point struct {
	// Ref is the REF as given.
	Ref string `json:"ref"`
	// Event is the number of the last event included (0: none).
	Event int `json:"event"`
	// Round is the latest round opened by then (0: none).
	Round int `json:"round"`
	// Time is the writer's time of the last event included, and Hash its
	// hash (see domain.Seal): the head of the log at that point.
	Time time.Time `json:"time"`
	Hash string    `json:"hash,omitempty"`
	// place is where the last event included stands among the rounds (see
	// RoundPlace), for people.
	place string
}

// eventRef is the REF @n, as ParseRef reads it.
func eventRef(n int) Ref { return Ref{kind: refEvent, n: n, text: fmt.Sprintf("@%d", n)} }

// pointAt is the point of state s, just after its last event.
func pointAt(ref string, s *domain.State, t time.Time, hash string) Point {
	return Point{Ref: ref, Event: s.Events, Round: len(s.Rounds), Time: t, Hash: hash, place: RoundPlace(s.Rounds, s.Events)}
}

// Place says where the point's last event stands among the rounds: "round
// 2", "between rounds 2 and 3", "before round 1", or "" when no round had
// opened (see RoundPlace). Round alone cannot say it: it is the latest round
// opened by then, closed or not.
func (p Point) Place() string {
	if p.place == "" && p.Round > 0 {
		return fmt.Sprintf("round %d", p.Round) // a point made without a state
	}
	return p.place
}

// MarshalJSON writes the point's fields and, as "place" (absent when it is
// ""), its Place: the text says where a moment stands among the rounds, and
// the JSON says no less.
func (p Point) MarshalJSON() ([]byte, error) {
	type fields Point // without this method
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as every JSON output is written
	err := enc.Encode(struct {
		fields
		Place string `json:"place,omitempty"`
	}{fields(p), p.Place()})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// FollowsHead reports whether ref names now in a negotiation whose state
// now is head, and will name what comes next too: head, or the end of the
// round that is open. A view at such a moment changes with every event.
func (r Ref) FollowsHead(head *domain.State) bool {
	switch r.kind {
	case refHead:
		return true
	case refRoundEnd:
		return r.n == head.OpenRound()
	}
	return false
}
