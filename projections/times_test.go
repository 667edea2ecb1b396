package projections

import (
	"strings"
	"testing"
	"time"
)

// timesGoingBack writes a negotiation in which a writer's clock was ten
// minutes behind: events 4 to 6 are recorded earlier than event 3.
//
//	1 09:01  2 09:02  3 09:03  4 08:54  5, 6 08:55
func timesGoingBack(t *testing.T) *session {
	ss := newSession(t)
	ss.openRound()
	id := ss.table("UA", "a", "A.")
	ss.at = ss.at.Add(-10 * time.Minute)
	ss.accept(id, "US", "EU")
	return ss
}

// Verify passes a log whose times go back, and warns of each event
// recorded earlier than the event before it.
func TestVerifyWarnsOfTimesGoingBack(t *testing.T) {
	ss := timesGoingBack(t)
	v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
	if err != nil || !v.OK {
		t.Fatalf("Verify: %+v, %v", v, err)
	}
	if len(v.Warnings) != 1 || v.Warnings[0].Event != 4 || v.Warnings[0].Type != "ProposalAccepted" ||
		!strings.Contains(v.Warnings[0].What, "is recorded at 2026-11-16T08:54:00Z, 9m0s earlier than the event before it (2026-11-16T09:03:00Z)") {
		t.Fatalf("warnings %+v", v.Warnings)
	}

	// At most maxWarnings are listed; the rest are counted.
	many := newSession(t)
	for range maxWarnings + 3 {
		many.at = many.at.Add(-2 * time.Minute)
		many.openRound()
		many.at = many.at.Add(2 * time.Minute)
		many.closeRound()
	}
	v, err = Verify(ctx, many.store, "berlin", VerifyOptions{})
	if err != nil || !v.OK || len(v.Warnings) != maxWarnings || v.WarningsOmitted != 3 {
		t.Fatalf("Verify: %d warnings, %d omitted, %v", len(v.Warnings), v.WarningsOmitted, err)
	}

	clean := newSession(t)
	clean.openRound()
	if v, err := Verify(ctx, clean.store, "berlin", VerifyOptions{}); err != nil || v.Warnings == nil || len(v.Warnings) != 0 {
		t.Fatalf("a clean log: warnings %#v, %v", v.Warnings, err)
	}
}

// A time REF is the longest beginning of the log whose events are all
// recorded at or before it: an event recorded earlier than one before it
// counts as recorded at the latest time before it.
func TestTimeRefsWhereTimesGoBack(t *testing.T) {
	ss := timesGoingBack(t)
	r := NewReader(ss.store, "berlin", Options{})
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   string
		want int
	}{
		{"2026-11-16T09:02:30Z", 2}, // events 4 to 6 are recorded before it, but follow event 3
		{"2026-11-16T09:03:00Z", 6},
		{"2026-11-16T10:00:00Z", 6},
	} {
		n, err := r.Resolve(ctx, ref(t, tt.at), head.State)
		if err != nil || n != tt.want {
			t.Errorf("Resolve(%s) = %d, %v; want %d", tt.at, n, err, tt.want)
		}
	}
	if _, err := r.Resolve(ctx, ref(t, "2026-11-16T08:56:00Z"), head.State); err == nil || !strings.Contains(err.Error(), "had not begun") {
		t.Errorf("Resolve(08:56), before the first event though after events 4 to 6: %v", err)
	}
}
