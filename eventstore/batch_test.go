package eventstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func batch(n int) []EventData {
	es := make([]EventData, n)
	for i := range es {
		es[i] = EventData{ID: uuid.New(), Type: "T"}
	}
	return es
}

// TestCheckBatchTwice: a repeated ID is named by the same two events
// whether the batch is checked pairwise or through a map.
func TestCheckBatchTwice(t *testing.T) {
	for _, n := range []int{2, smallBatch, smallBatch + 1, 200} {
		es := batch(n)
		es[n-1].ID = es[(n-1)/2].ID
		err := CheckBatch("s", es)
		want := fmt.Sprintf("(events %d and %d)", (n-1)/2+1, n)
		if !errors.Is(err, ErrDuplicateEvent) || !strings.Contains(err.Error(), want) {
			t.Errorf("batch of %d: %v, want ErrDuplicateEvent naming %s", n, err, want)
		}
		if err := CheckBatch("s", batch(n)); err != nil {
			t.Errorf("batch of %d distinct IDs: %v", n, err)
		}
	}
}

// TestCheckRepeat: the verdict on a batch whose IDs are found stored.
func TestCheckRepeat(t *testing.T) {
	es := batch(3)
	cases := []struct {
		name     string
		expected ExpectedRevision
		found    Stored
		rev      uint64
		err      error
		says     string
	}{
		{"exact repeat, Any", Any(), Stored{Stream: "s", Revision: 4, Run: 3}, 6, nil, ""},
		{"exact repeat, the original expectation", Exact(3), Stored{Stream: "s", Revision: 4, Run: 3}, 6, nil, ""},
		{"exact repeat, StreamExists", StreamExists(), Stored{Stream: "s", Revision: 4, Run: 3}, 6, nil, ""},
		{"exact repeat at the start, NoStream", NoStream(), Stored{Stream: "s", Revision: 0, Run: 3}, 2, nil, ""},
		{"exact repeat, another expectation", Exact(5), Stored{Stream: "s", Revision: 4, Run: 3}, 0, ErrWrongExpectedRevision, "holds 9 events"},
		{"exact repeat, NoStream", NoStream(), Stored{Stream: "s", Revision: 4, Run: 3}, 0, ErrWrongExpectedRevision, "holds 9 events"},
		{"partial repeat", Any(), Stored{Stream: "s", Revision: 4, Run: 2}, 0, ErrDuplicateEvent, "(event 3 of 3 differs)"},
		{"first event new", Any(), Stored{Index: 1, Stream: "s", Revision: 0}, 0, ErrDuplicateEvent, "(event 2 of the batch) is already stored at revision 0"},
		{"stored in another stream", Any(), Stored{Index: 2, Stream: "o", Revision: 7}, 0, ErrDuplicateEvent, "(event 3 of the batch) is already stored in stream o at revision 7"},
		{"first stored in another stream", Any(), Stored{Stream: "o", Revision: 7, Run: 3}, 0, ErrDuplicateEvent, "in stream o"},
	}
	for _, c := range cases {
		rev, err := CheckRepeat("s", c.expected, es, 9, c.found)
		switch {
		case c.err == nil && (err != nil || rev != c.rev):
			t.Errorf("%s: %d, %v; want %d", c.name, rev, err, c.rev)
		case c.err != nil && (!errors.Is(err, c.err) || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%s: %v; want %v saying %q", c.name, err, c.err, c.says)
		}
	}
}
