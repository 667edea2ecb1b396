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

// Imported is what ImportJSONL did.
type Imported struct {
	Treaty   string `json:"treaty"`
	Events   int    `json:"events"`   // in the file
	Appended int    `json:"appended"` // new to the store
}

// maxImportLine bounds one line of an import: an event's text is at most a
// few megabytes (see domain.DefaultMaxText).
const maxImportLine = 64 << 20

// importBatch is how many events an import appends at once.
const importBatch = 1000

// ImportJSONL appends to store the events of a JSON Lines export, keeping
// their IDs, type, data and metadata byte for byte. open opens the file; it
// is read twice, once to check it and once to append, so memory stays flat.
// The file must hold one negotiation from its first event, its hash chain
// whole; the events the store already holds must be the file's first ones,
// and only the rest are appended, so importing twice appends nothing. A file
// that does not continue the store's log is refused naming the first
// mismatch, and nothing is appended.
func ImportJSONL(ctx context.Context, store eventstore.Store, open func() (io.ReadCloser, error), name string) (Imported, error) {
	var res Imported
	held := 0
	// Pass 1: check the whole file, and what the store holds, first.
	var next func() (eventstore.RecordedEvent, error, bool)
	stop := func() {}
	err := scanExport(open, name, func(i int, ev eventstore.EventData, treaty string) error {
		if i == 0 {
			res.Treaty = treaty
			next, stop = iter.Pull2(store.Read(ctx, projections.Stream(treaty), 0))
		}
		res.Events++
		rec, err, ok := next() // the store's event i, if it has one
		switch {
		case !ok || errors.Is(err, eventstore.ErrStreamNotFound):
			return nil
		case err != nil:
			return err
		case rec.ID != ev.ID || rec.Type != ev.Type || !bytes.Equal(rec.Data, ev.Data) || !bytes.Equal(rec.Metadata, ev.Metadata):
			return fmt.Errorf("%s event %d (%s) differs from the store's event %d (%s): the file does not continue the store's log of %s", name, i+1, ev.ID, i+1, rec.ID, treaty)
		}
		return nil
	})
	if err == nil && next != nil {
		// The store may hold more than the file.
		if _, err2, ok := next(); ok && err2 == nil {
			err = fmt.Errorf("the store's %s has more events than %s (%d): the file is older than the store's log; nothing to import", res.Treaty, name, res.Events)
		}
	}
	stop()
	if err != nil {
		return res, err
	}
	streams, err := store.Streams(ctx, projections.Stream(res.Treaty))
	if err != nil {
		return res, err
	}
	for _, st := range streams {
		if st.Name == projections.Stream(res.Treaty) {
			held = int(st.Events)
		}
	}
	if held == res.Events {
		return res, nil
	}
	// Pass 2: append what the store lacks, in batches that never part an
	// acceptance from the adoption it causes.
	var batch []eventstore.EventData
	expected := eventstore.NoStream()
	if held > 0 {
		expected = eventstore.Exact(uint64(held - 1))
	}
	flush := func() error {
		last, err := store.Append(ctx, projections.Stream(res.Treaty), expected, batch...)
		if err != nil {
			return err
		}
		res.Appended += len(batch)
		expected = eventstore.Exact(last)
		batch = batch[:0]
		return nil
	}
	err = scanExport(open, name, func(i int, ev eventstore.EventData, _ string) error {
		if i < held {
			return nil
		}
		if len(batch) >= importBatch && ev.Type != domain.TypeProposalAdopted {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, ev)
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return res, err
}

// CheckExport reads a JSON Lines export through and reports the first thing
// that would make ImportJSONL refuse it, whatever the store.
func CheckExport(open func() (io.ReadCloser, error), name string) error {
	return scanExport(open, name, func(int, eventstore.EventData, string) error { return nil })
}

// scanExport reads an export and calls each for every event, in order,
// after checking that the file is one negotiation from its first event with
// its hash chain whole.
func scanExport(open func() (io.ReadCloser, error), name string, each func(i int, ev eventstore.EventData, treaty string) error) error {
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxImportLine)
	prev, treaty, i := "", "", 0
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var x projections.ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return fmt.Errorf("%s line %d is not an exported event: %v", name, line, err)
		}
		data, meta := x.Bytes()
		where := fmt.Sprintf("%s line %d (event %d, %s)", name, line, x.Revision+1, x.ID)
		switch {
		case x.Revision != uint64(i):
			return fmt.Errorf("%s is revision %d where %d was next: the file is not one whole negotiation from its first event", where, x.Revision, i)
		case x.ID == uuid.Nil || x.Type == "" || data == nil || meta == nil:
			return fmt.Errorf("%s lacks its id, type, data or metadata", where)
		}
		if i == 0 {
			e, err := domain.Decode(x.Type, data)
			o, ok := e.(domain.TreatyOpened)
			if err != nil || !ok {
				return fmt.Errorf("%s is not the opening of a negotiation (TreatyOpened)", where)
			}
			treaty = o.Treaty
		}
		if x.Stream != projections.Stream(treaty) {
			return fmt.Errorf("%s belongs to stream %q, not %q: one file holds one negotiation", where, x.Stream, projections.Stream(treaty))
		}
		// The chain, checked before anything is stored: a file changed
		// since its export is refused here, not found by verify later.
		m, err := domain.DecodeMeta(meta)
		if err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		hash, err := domain.CheckLink(prev, x.Type, data, meta, m)
		if err != nil {
			return fmt.Errorf("%s %v", where, err)
		}
		prev = hash
		if err := each(i, eventstore.EventData{ID: x.ID, Type: x.Type, Data: data, Metadata: meta}, treaty); err != nil {
			return err
		}
		i++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if i == 0 {
		return fmt.Errorf("%s holds no events", name)
	}
	return nil
}
