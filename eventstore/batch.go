package eventstore

import (
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The rules of Store.Append that do not depend on how a backend stores
// events are written here once, so that every backend refuses alike, with
// the same words: a backend calls CheckBatch before it looks at what is
// stored, and CheckRepeat once it has found some of the batch's IDs stored.
// Events are numbered from 1 in messages, as people count them.

// smallBatch is the batch size up to which CheckBatch compares IDs pairwise
// rather than through a map: no allocation for the usual batch.
const smallBatch = 16

// CheckBatch refuses a batch that no store may append to stream, whatever
// it holds: an empty batch with an error wrapping ErrEmptyAppend; an empty
// stream name, an event with the nil ID, and an event whose type is empty
// or not valid UTF-8 with ErrInvalid; an ID that appears twice in the batch
// with ErrDuplicateEvent. Every backend's Append calls it before anything
// else but its ErrClosed check; a backend may refuse more (names it cannot
// store, say) after it.
func CheckBatch(stream string, events []EventData) error {
	op := "append to " + stream
	switch {
	case len(events) == 0:
		return fmt.Errorf("%s: %w", op, ErrEmptyAppend)
	case stream == "":
		return fmt.Errorf("append: empty stream name: name the stream to append to: %w", ErrInvalid)
	}
	for i, e := range events {
		switch {
		case e.ID == uuid.Nil:
			return fmt.Errorf("%s: event %d of the batch has the nil ID: give every event its own: %w", op, i+1, ErrInvalid)
		case e.Type == "":
			return fmt.Errorf("%s: event %d of the batch has no type: %w", op, i+1, ErrInvalid)
		case !utf8.ValidString(e.Type):
			return fmt.Errorf("%s: event %d of the batch has a type that is not valid UTF-8 (%q): %w", op, i+1, e.Type, ErrInvalid)
		}
	}
	if i, j := twice(events); i >= 0 {
		return fmt.Errorf("%s: event %s appears twice in the batch (events %d and %d): give each event its own ID: %w",
			op, events[j].ID, i+1, j+1, ErrDuplicateEvent)
	}
	return nil
}

// twice returns the indexes i < j of the first event j whose ID an earlier
// event i has, or -1, -1.
func twice(events []EventData) (int, int) {
	if len(events) <= smallBatch {
		for j := 1; j < len(events); j++ {
			for i := range j {
				if events[i].ID == events[j].ID {
					return i, j
				}
			}
		}
		return -1, -1
	}
	seen := make(map[uuid.UUID]int, len(events))
	for j, e := range events {
		if i, dup := seen[e.ID]; dup {
			return i, j
		}
		seen[e.ID] = j
	}
	return -1, -1
}

// Stored is what a backend found of a batch's IDs already stored, for
// CheckRepeat: an event of the batch whose ID is stored, and where. It is
// the first such event in batch order, unless its ID is stored in another
// stream, which is refused wherever it is in the batch.
type Stored struct {
	// Index is that event's index in the batch (0 for its first event).
	Index int
	// Stream and Revision are where its ID is stored.
	Stream   string
	Revision uint64
	// Run matters when Index is 0 and Stream is the stream appended to:
	// it is how many events of the batch, from its first on, are stored in
	// that stream at consecutive revisions from Revision (at least 1).
	Run int
}

// CheckRepeat decides, as Store.Append specifies, on a batch to be appended
// to stream, which holds n events, when some of the batch's IDs are already
// stored; found says which and where. The batch is an exact repeat of an
// earlier append when all of it is stored in stream, in order, at
// consecutive revisions (found.Index is 0 and found.Run is its length). An
// exact repeat is a no-op when expected is Any or would have held for the
// original append, which found found.Revision events in the stream:
// CheckRepeat then returns the revision of its last event and a nil error,
// and the backend appends nothing. Under any other expectation it fails
// with a *WrongRevisionError that reports n. Any other batch with a stored
// ID is refused with an error wrapping ErrDuplicateEvent that names the
// event and where it is stored.
func CheckRepeat(stream string, expected ExpectedRevision, events []EventData, n uint64, found Stored) (uint64, error) {
	op := "append to " + stream
	i, id, k := found.Index, events[found.Index].ID, len(events)
	switch {
	case found.Stream != stream:
		return 0, fmt.Errorf("%s: event %s (event %d of the batch) is already stored in stream %s at revision %d, and an event belongs to one stream: "+
			"give the new events new IDs: %w", op, id, i+1, found.Stream, found.Revision, ErrDuplicateEvent)
	case i > 0:
		return 0, fmt.Errorf("%s: event %s (event %d of the batch) is already stored at revision %d, but the batch's first event is new: "+
			"a batch must be all new events or an exact repeat of an earlier append: %w", op, id, i+1, found.Revision, ErrDuplicateEvent)
	case found.Run < k:
		return 0, fmt.Errorf("%s: event %s is already stored at revision %d, but the batch is not a repeat of the events stored from there (event %d of %d differs): "+
			"a batch must be all new events or an exact repeat of an earlier append: %w", op, id, found.Revision, found.Run+1, k, ErrDuplicateEvent)
	case !expected.IsAny() && !expected.Holds(found.Revision):
		return 0, &WrongRevisionError{Stream: stream, Expected: expected, Events: n}
	}
	return found.Revision + uint64(k) - 1, nil
}
