package write

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

// Imported is what Import did.
type Imported struct {
	Treaty   string `json:"treaty"`
	Events   int    `json:"events"`   // in the file
	Appended int    `json:"appended"` // new to the store
	// Held counts the file's events the store held before.
	Held int `json:"held"`
}

// maxImportLine bounds one line of an import: an event's text is bounded by
// the rules (see domain.CheckText), and its line by a little more.
const maxImportLine = 64 << 20

// importAtOnce is the most event bytes an import appends in one atomic
// append; a larger file is appended in batches of importBatch events (which
// never part an acceptance from the adoption it causes). Every event was
// verified before the first append, so a failure part-way (a full disk, a
// lost server) leaves the store holding a verified beginning of the file,
// which importing again completes.
const (
	importAtOnce = 64 << 20
	importBatch  = 1000
)

// Export is an export file, opened afresh for each pass over it.
type Export struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// Check reads an export through, as Import does before it touches any store:
// its form (one negotiation from its first event) and every event as verify
// checks a log (the hash chain, what is recorded, the signatures, the rules).
// It returns the negotiation's ID and the number of events, or why the file
// would be refused.
func (x Export) Check(ctx context.Context) (string, int, error) {
	return x.check(ctx, nil)
}

// check is Check, calling also held (when not nil) with each event, which
// compares it with what a store holds.
func (x Export) check(ctx context.Context, held func(i int, ev eventstore.RecordedEvent) error) (string, int, error) {
	treaty, err := x.treaty()
	if err != nil {
		return "", 0, err
	}
	var refused error
	n := 0
	events := func(yield func(eventstore.RecordedEvent, error) bool) {
		refused = x.scan(treaty, func(i int, ev eventstore.RecordedEvent) error {
			n++
			if held != nil {
				if err := held(i, ev); err != nil {
					return err
				}
			}
			if !yield(ev, nil) {
				return errStop
			}
			return nil
		})
	}
	v, err := projections.VerifyEvents(ctx, events, treaty, projections.VerifyOptions{})
	switch {
	case refused != nil && !errors.Is(refused, errStop):
		return treaty, n, refused
	case err != nil:
		return treaty, n, err
	case !v.OK:
		return treaty, n, fmt.Errorf("%s does not verify, so nothing of it is imported: %v", x.Name, v.Problem)
	}
	return treaty, v.Events, nil
}

var errStop = errors.New("stopped")

// treaty reads the negotiation's ID from the opening, the file's first
// event.
func (x Export) treaty() (string, error) {
	f, err := x.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxImportLine)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e projections.ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return "", fmt.Errorf("%s line %d is not an exported event: %v", x.Name, line, err)
		}
		data, _ := e.Bytes()
		ev, err := domain.Decode(e.Type, data)
		if o, ok := ev.(domain.TreatyOpened); err == nil && ok && e.Revision == 0 {
			if err := domain.CheckSlug("treaty ID", o.Treaty); err != nil {
				return "", fmt.Errorf("%s line %d opens a negotiation whose ID is not valid: %v", x.Name, line, err)
			}
			return o.Treaty, nil
		}
		return "", fmt.Errorf("%s line %d (event %d, %s) is not the opening of a negotiation (TreatyOpened)", x.Name, line, e.Revision+1, e.ID)
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", x.Name, err)
	}
	return "", fmt.Errorf("%s holds no events", x.Name)
}

// scan reads the file and calls each for every event, in order, after
// checking its form: one negotiation's stream, revisions from 0 without a
// gap, every field present.
func (x Export) scan(treaty string, each func(i int, ev eventstore.RecordedEvent) error) error {
	f, err := x.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxImportLine)
	i := 0
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e projections.ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("%s line %d is not an exported event: %v", x.Name, line, err)
		}
		data, meta := e.Bytes()
		where := fmt.Sprintf("%s line %d (event %d, %s)", x.Name, line, e.Revision+1, e.ID)
		switch {
		case e.Revision != uint64(i):
			return fmt.Errorf("%s is revision %d where %d was next: the file is not one whole negotiation from its first event", where, e.Revision, i)
		case e.ID == uuid.Nil || e.Type == "" || data == nil || meta == nil:
			return fmt.Errorf("%s lacks its id, type, data or metadata", where)
		case treaty != "" && e.Stream != projections.Stream(treaty):
			return fmt.Errorf("%s belongs to stream %q, not %q: one file holds one negotiation", where, e.Stream, projections.Stream(treaty))
		}
		if err := each(i, eventstore.RecordedEvent{Stream: e.Stream, Revision: e.Revision, ID: e.ID, Type: e.Type, Data: data, Metadata: meta}); err != nil {
			return err
		}
		i++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", x.Name, err)
	}
	if i == 0 {
		return fmt.Errorf("%s holds no events", x.Name)
	}
	return nil
}

// Import appends to store the events of an export, keeping their IDs,
// types, data and metadata byte for byte. Before anything is appended the
// whole file is checked as verify checks a log (see Check): a file that
// verify would reject imports nothing. The events the store already holds
// must be the file's first ones, and only the rest are appended, so
// importing twice appends nothing; a file that does not continue the
// store's log is refused naming the first mismatch. The file is read twice
// (check, then append), so memory stays flat.
func Import(ctx context.Context, store eventstore.Store, x Export) (Imported, error) {
	var res Imported
	var next func() (eventstore.RecordedEvent, error, bool)
	stop := func() {}
	defer func() { stop() }()
	treaty, err := x.treaty()
	if err != nil {
		return res, err
	}
	_, events, err := x.check(ctx, func(i int, ev eventstore.RecordedEvent) error {
		if i == 0 {
			next, stop = iter.Pull2(store.Read(ctx, ev.Stream, 0))
		}
		rec, err, ok := next() // the store's event i, if it has one
		switch {
		case !ok || errors.Is(err, eventstore.ErrStreamNotFound):
			return nil
		case err != nil:
			return err
		case rec.ID != ev.ID || rec.Type != ev.Type || !bytes.Equal(rec.Data, ev.Data) || !bytes.Equal(rec.Metadata, ev.Metadata):
			return fmt.Errorf("%s event %d (%s) differs from the store's event %d (%s): the file does not continue the store's log of %s", x.Name, i+1, ev.ID, i+1, rec.ID, treaty)
		}
		res.Held++
		return nil
	})
	res.Treaty, res.Events = treaty, events
	if err != nil {
		return res, err
	}
	if next != nil {
		// The store may hold more than the file.
		if _, err, ok := next(); ok && err == nil {
			return res, fmt.Errorf("the store's %s has more events than %s (%d): the file is older than the store's log; nothing to import", treaty, x.Name, events)
		}
	}
	if res.Held == events {
		return res, nil
	}
	return res, x.append(ctx, store, treaty, &res)
}

// append appends the file's events after the first res.Held.
func (x Export) append(ctx context.Context, store eventstore.Store, treaty string, res *Imported) error {
	size := 0
	_ = x.scan(treaty, func(i int, ev eventstore.RecordedEvent) error {
		if i >= res.Held {
			size += len(ev.Data) + len(ev.Metadata) + 64
		}
		return nil
	})
	stream := projections.Stream(treaty)
	var batch []eventstore.EventData
	expected := eventstore.NoStream()
	if res.Held > 0 {
		expected = eventstore.Exact(uint64(res.Held - 1))
	}
	start := res.Held
	flush := func() error {
		last, err := store.Append(ctx, stream, expected, batch...)
		if err != nil {
			if res.Appended > 0 {
				return fmt.Errorf("%w; the store holds the first %d events of %s, all verified: import it again to go on", err, start+res.Appended, x.Name)
			}
			return err
		}
		res.Appended += len(batch)
		expected = eventstore.Exact(last)
		batch = batch[:0]
		return nil
	}
	err := x.scan(treaty, func(i int, ev eventstore.RecordedEvent) error {
		if i < res.Held {
			return nil
		}
		if size > importAtOnce && len(batch) >= importBatch && ev.Type != domain.TypeProposalAdopted {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, eventstore.EventData{ID: ev.ID, Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata})
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return err
}
