package write

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

// Another writer appending between the reading and the append: one act and
// several are decided again against the negotiation with its events (one
// act by catching up, several by reading afresh, since the state holds the
// first ones folded in), and land once, after them, each in one append.
func TestConflict(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d acts", n), func(t *testing.T) {
			ctx := context.Background()
			store, w := memWriter()
			b := w.NewBatch("t") // as init opens a negotiation
			if _, err := b.Do(act("", opening), time.Now(), nil); err != nil {
				t.Fatal(err)
			}
			if err := b.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			// other is another process writing the same store.
			other := &Writer{Store: store, Reader: projections.NewReader(store, "t", projections.Options{})}
			attempts := 0
			out, err := w.DoAll(ctx, Acts{Party: "UA", Commands: func(s *domain.State, _ string) ([]domain.Command, error) {
				attempts++
				if attempts == 1 {
					c := domain.Table{Proposal: uuid.NewString(), Clause: "intruder", Party: "US", Text: "Another writer's."}
					if _, err := other.Do(ctx, act("US", c)); err != nil {
						t.Fatal(err)
					}
				}
				if s.Clauses["intruder"] == nil && attempts > 1 {
					t.Errorf("attempt %d decided without the other writer's event", attempts)
				}
				cmds := make([]domain.Command, n)
				for i := range cmds {
					cmds[i] = domain.Table{Proposal: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), Clause: fmt.Sprintf("c%d", i), Party: "UA", Text: "Ours."}
				}
				return cmds, nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if attempts != 2 || out.First != 3 || len(out.Events) != n || out.State.Events != 2+n {
				t.Errorf("attempts %d, first %d, %d events, state at %d", attempts, out.First, len(out.Events), out.State.Events)
			}
			for i := range n {
				if out.State.Clauses[fmt.Sprintf("c%d", i)] == nil {
					t.Errorf("the outcome's state has no clause c%d", i)
				}
			}
			fresh, err := w.Reader.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if fresh.State.Events != 2+n || fresh.Point.Hash != out.Head {
				t.Errorf("the store holds %d events, head %s; the outcome says %s", fresh.State.Events, fresh.Point.Hash, out.Head)
			}
		})
	}
}
