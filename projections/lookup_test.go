package projections

import (
	"fmt"
	"testing"

	"github.com/treaty-engine/treaty/domain"
)

// Upper-case proposal IDs, as a log written elsewhere may hold, are found
// by `show` in any case, also once their proposals are closed and kept in
// a checkpoint (sorted, outside memory) rather than in the state.
func TestUpperCaseIDsThroughCheckpoints(t *testing.T) {
	ss := newSession(t)
	for i := range 12 {
		id := fmt.Sprintf("C%03dABCD-0000-4000-8000-000000000000", i)
		ss.do("UA", domain.Table{Proposal: id, Clause: fmt.Sprintf("c%d", i), Party: "UA", Text: "Text."})
		ss.accept(id, "US", "EU")
	}
	ss.do("UA", domain.Table{Proposal: "OPEN0001-0000-4000-8000-000000000000", Clause: "open", Party: "UA", Text: "Open."})
	r := NewReader(ss.store, "berlin", withCheckpoints)
	r.every = 5
	for pass := range 2 { // the second pass reads the checkpoints the first left
		for _, tt := range []struct{ ref, want string }{
			{"C003ABCD-0000-4000-8000-000000000000", "C003ABCD-0000-4000-8000-000000000000"},
			{"c003abcd", "C003ABCD-0000-4000-8000-000000000000"},
			{"C011", "C011ABCD-0000-4000-8000-000000000000"},
			{"open0001", "OPEN0001-0000-4000-8000-000000000000"},
		} {
			d, err := r.Proposal(ctx, tt.ref)
			if err != nil || d.ID != tt.want {
				t.Errorf("pass %d: show %s = %s, %v; want %s", pass, tt.ref, d.ID, err, tt.want)
			}
		}
		m, err := r.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := m.State.FindOpenProposal("open"); err != nil || p.Proposal != "OPEN0001-0000-4000-8000-000000000000" {
			t.Errorf("pass %d: FindOpenProposal(open) = %v, %v", pass, p, err)
		}
		if pass == 1 && m.State.Closed.Len() != 12 {
			t.Fatalf("the head holds %d closed proposals", m.State.Closed.Len())
		}
	}
	if keys := ss.store.cacheKeys(t); len(keys) == 0 {
		t.Fatal("no checkpoint was left: the test reads nothing from one")
	}
}
