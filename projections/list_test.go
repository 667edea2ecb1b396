package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/jsonindent"
)

// manyProposals is a session with hundreds of proposals of every fate:
// adopted alone and in packages, withdrawn, open, stale, moving their
// clause, with headings and texts that JSON or a table could get wrong
// (markup, letters of more than a byte).
func manyProposals(t *testing.T) *session {
	ss := newSession(t)
	ss.agree("pre", "Before the rounds.")
	ss.amendRounds(6, 40, func(i, round int, clause string) string {
		return fmt.Sprintf("Clause %s <v%d.%d> & «сторони» %q", clause, round, i, strings.Repeat("x", i%7))
	})
	ss.openRound()
	gone := ss.table("US", "w", "Withdrawn <b>.", withHeading("Heading & more"))
	ss.do("US", domain.Withdraw{Proposal: gone, Party: "US"})
	p, q := ss.table("UA", "p", "P."), ss.table("US", "q", "Q.")
	ss.do("US", domain.Accept{Proposal: p, Party: "US", SubjectTo: []string{q}})
	ss.do("EU", domain.Accept{Proposal: p, Party: "EU"})
	ss.do("EU", domain.Accept{Proposal: q, Party: "EU"})
	ss.do("UA", domain.Accept{Proposal: q, Party: "UA", SubjectTo: []string{p}})
	lapsing := ss.table("EU", "l", "L.")
	cond := ss.table("UA", "m", "M.")
	ss.do("US", domain.Accept{Proposal: lapsing, Party: "US", SubjectTo: []string{cond}})
	ss.do("UA", domain.Withdraw{Proposal: cond, Party: "UA"})
	ss.table("EU", "moved", "Moved.", placedFirst)
	ss.table("UA", "pre", "Deleted.", deleting)
	ss.do("UA", domain.Object{Proposal: ss.table("US", "o", "Objected."), Party: "UA", Reason: "no <thanks>"})
	return ss
}

// The list on disk writes, as text and as JSON, exactly what the proposals
// of a state that keeps every closed proposal whole give.
func TestProposalListWritesWhatProposalsWould(t *testing.T) {
	ss := manyProposals(t)
	r := NewReader(ss.store, "berlin", withCheckpoints)
	whole, err := r.Complete(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Proposals(whole.State)
	_, list, err := r.AllProposals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	fates := map[string]int{}
	for _, p := range want {
		fates[p.Status]++
	}
	if len(want) < 200 || fates[ProposalStale] == 0 || fates[ProposalWithdrawn] < 2 || fates[ProposalOpen] == 0 {
		t.Fatalf("the session has too few proposals of some fate: %d, %v", len(want), fates)
	}
	if list.Len() != len(want) {
		t.Fatalf("the list holds %d proposals; want %d", list.Len(), len(want))
	}
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counted, err := proposalFates(head.State); err != nil || fmt.Sprint(counted) != fmt.Sprint(fates) {
		t.Fatalf("the state counts the proposals as %v (%v); want %v", counted, err, fates)
	}
	var text, listText bytes.Buffer
	if err := WriteProposalsText(&text, want, Style{}); err != nil {
		t.Fatal(err)
	}
	if err := list.WriteText(&listText); err != nil {
		t.Fatal(err)
	}
	same(t, "text", listText.String(), text.String())
	var doc, listDoc bytes.Buffer
	if err := jsonindent.Encode(&doc, want, "  "); err != nil {
		t.Fatal(err)
	}
	if err := list.WriteJSON(&listDoc, "  ", 0); err != nil {
		t.Fatal(err)
	}
	same(t, "JSON", listDoc.String()+"\n", doc.String())
	back, err := list.Summaries()
	if err != nil {
		t.Fatal(err)
	}
	for i := range back {
		a, _ := json.Marshal(back[i])
		b, _ := json.Marshal(want[i])
		if string(a) != string(b) || back[i].Place() != want[i].Place() {
			t.Fatalf("summary %d read back as %s (%s), want %s (%s)", i, a, back[i].Place(), b, want[i].Place())
		}
	}
}

// Any stretch of the list reads back, and writes as JSON, what the same
// stretch of the whole list is; a stretch outside it is an error.
func TestProposalListRows(t *testing.T) {
	ss := manyProposals(t)
	r := NewReader(ss.store, "berlin", withCheckpoints)
	_, list, err := r.AllProposals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	want, err := list.Summaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range [][2]int{{0, 0}, {0, 7}, {100, 150}, {len(want) - 3, len(want)}} {
		var got []ProposalSummary
		for p, err := range list.Rows(rows[0], rows[1]) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want[rows[0]:rows[1]])
		if len(got) != rows[1]-rows[0] || (len(got) > 0 && string(a) != string(b)) || (len(got) > 0 && got[0].Place() != want[rows[0]].Place()) {
			t.Fatalf("rows %v read back as %d summaries: %.200s; want %.200s", rows, len(got), a, b)
		}
		var doc, listDoc bytes.Buffer
		if err := jsonindent.Encode(&doc, want[rows[0]:rows[1]], "  "); err != nil {
			t.Fatal(err)
		}
		if err := list.WriteJSONRows(&listDoc, "  ", rows[0], rows[1]); err != nil {
			t.Fatal(err)
		}
		if rows[0] == rows[1] {
			doc.Reset()
			doc.WriteString("[]\n")
		}
		same(t, fmt.Sprintf("rows %v as JSON", rows), listDoc.String()+"\n", doc.String())
	}
	for p, err := range list.Rows(len(want)-1, len(want)+1) {
		if err == nil {
			t.Fatalf("rows past the end yield %s", p.ID)
		}
	}
	if err := list.WriteJSONRows(io.Discard, "  ", -1, 2); err == nil {
		t.Fatal("rows before the start write")
	}
}

// A list no one closes (the web workspace drops them from its cache) has
// its file closed once it is collected: no open file is left behind.
func TestProposalListClosedWhenCollected(t *testing.T) {
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd to count open files in")
		}
		return len(es)
	}
	ss := newSession(t)
	r := NewReader(ss.store, "berlin", withCheckpoints)
	before := fds()
	func() {
		_, list, err := r.AllProposals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fds() != before+1 {
			t.Skipf("%d files open with a list, %d before: something else opens files", fds(), before)
		}
		_ = list.Len()
	}()
	for deadline := time.Now().Add(5 * time.Second); fds() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d files open after the list was collected, %d before", fds(), before)
		}
		runtime.GC()
	}
}

// The audit with its proposals on disk, or counted by fate, writes what it
// writes with them in memory.
func TestAuditListWritesWhatAuditWould(t *testing.T) {
	ss := manyProposals(t)
	r := NewReader(ss.store, "berlin", withCheckpoints)
	whole, err := r.Complete(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, list, err := r.AuditList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	if len(a.Proposals) != 0 {
		t.Fatalf("AuditList kept %d proposals in memory", len(a.Proposals))
	}
	full := a
	full.Proposals = Proposals(whole.State)
	var doc, listDoc, text, listText bytes.Buffer
	if err := jsonindent.Encode(&doc, full, "  "); err != nil {
		t.Fatal(err)
	}
	if err := WriteAuditJSON(&listDoc, a, list, "  "); err != nil {
		t.Fatal(err)
	}
	same(t, "audit JSON", listDoc.String(), doc.String())
	// A page of the report is the report with that page's proposals.
	from, to := 3, min(3+7, len(full.Proposals))
	cut := full
	cut.Proposals = full.Proposals[from:to]
	var pageDoc, listPageDoc bytes.Buffer
	if err := jsonindent.Encode(&pageDoc, cut, "  "); err != nil {
		t.Fatal(err)
	}
	if err := WriteAuditJSONRows(&listPageDoc, a, list, "  ", from, to); err != nil {
		t.Fatal(err)
	}
	same(t, "a page of the audit JSON", listPageDoc.String(), pageDoc.String())
	if err := WriteAuditJSONRows(io.Discard, a, list, "  ", 0, list.Len()+1); err == nil {
		t.Error("rows past the list's end were written")
	}
	var page, listPage bytes.Buffer
	if err := WriteAuditHTML(&page, full); err != nil {
		t.Fatal(err)
	}
	if err := WriteAuditListHTML(&listPage, a, list); err != nil {
		t.Fatal(err)
	}
	same(t, "audit HTML", listPage.String(), page.String())
	if n := strings.Count(page.String(), "<tr><td><code>"); n != len(full.Proposals) {
		t.Fatalf("the audit page has %d proposal rows; want %d", n, len(full.Proposals))
	}
	if err := WriteAuditText(&text, full, Style{}); err != nil {
		t.Fatal(err)
	}
	counted, fates, err := r.AuditFates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteAuditFatesText(&listText, counted, fates, Style{}); err != nil {
		t.Fatal(err)
	}
	same(t, "audit text", listText.String(), text.String())
	// The list counts its proposals by fate as the state does.
	if got := list.Fates(); fmt.Sprint(got) != fmt.Sprint(fates) {
		t.Errorf("the list counts %v; the state %v", got, fates)
	}
}

// A list removes its file when closed, and a negotiation with no proposal
// lists none, in JSON as an empty array.
func TestProposalListEmptyAndClosed(t *testing.T) {
	ss := newSession(t)
	_, list, err := NewReader(ss.store, "berlin", withCheckpoints).AllProposals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	name := list.f.Name()
	var doc bytes.Buffer
	if err := list.WriteJSON(&doc, "  ", 0); err != nil || doc.String() != "[]" || list.Len() != 0 {
		t.Fatalf("an empty list: %q, %v", doc.String(), err)
	}
	if err := list.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Fatalf("the list's file %s is still there: %v", filepath.Base(name), err)
	}
	if _, _, err := NewReader(ss.store, "nowhere", withCheckpoints).AllProposals(ctx); err == nil {
		t.Fatal("a list of a negotiation the store does not hold")
	}
}

// same fails the test where got and want first differ.
func same(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s differs at byte %d of %d (want %d):\ngot  %q\nwant %q", what, i, len(got), len(want),
		got[max(0, i-80):min(len(got), i+80)], want[max(0, i-80):min(len(want), i+80)])
}

// An empty stretch of no list reads nothing, and fails nothing.
func TestProposalListRowsOfNone(t *testing.T) {
	var l *ProposalList
	for _, err := range l.Rows(0, 0) {
		t.Fatalf("rows of no list: %v", err)
	}
	for _, err := range l.Rows(0, 1) {
		if err == nil {
			t.Fatal("a row of no list read without error")
		}
	}
}
