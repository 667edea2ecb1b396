package projections

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// ExportedEvent is one line of a JSON Lines export: a stored event with
// everything needed to store it again, byte for byte.
type ExportedEvent struct {
	Stream   string    `json:"stream"`
	Revision uint64    `json:"revision"`
	ID       uuid.UUID `json:"id"`
	Type     string    `json:"type"`
	// Data and Metadata are the stored JSON, embedded as it is. Bytes that
	// would not survive embedding (not compact JSON) are carried as
	// strings in DataText and MetadataText instead.
	Data         json.RawMessage `json:"data,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	DataText     *string         `json:"data_text,omitempty"`
	MetadataText *string         `json:"metadata_text,omitempty"`
}

// embed returns stored JSON to embed as is, or the text to carry instead.
func embed(b []byte) (json.RawMessage, *string) {
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil && bytes.Equal(buf.Bytes(), b) && len(b) > 0 {
		return json.RawMessage(b), nil
	}
	s := string(b)
	return nil, &s
}

// Bytes returns the event's data and metadata exactly as they were stored.
func (e ExportedEvent) Bytes() (data, meta []byte) {
	data, meta = e.Data, e.Metadata
	if e.DataText != nil {
		data = []byte(*e.DataText)
	}
	if e.MetadataText != nil {
		meta = []byte(*e.MetadataText)
	}
	return data, meta
}

// ExportJSONL writes every event of a negotiation as JSON Lines, oldest
// first, with its stream, revision, ID, type, data and metadata exactly as
// stored: ImportJSONL stores them again unchanged.
func ExportJSONL(ctx context.Context, store eventstore.Store, treaty string, w io.Writer) error {
	out := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for ev, err := range store.Read(ctx, Stream(treaty), 0) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return fmt.Errorf("%w %q in this store", ErrNoTreaty, treaty)
			}
			return err
		}
		x := ExportedEvent{Stream: ev.Stream, Revision: ev.Revision, ID: ev.ID, Type: ev.Type}
		x.Data, x.DataText = embed(ev.Data)
		x.Metadata, x.MetadataText = embed(ev.Metadata)
		if err := enc.Encode(x); err != nil {
			return err
		}
	}
	return out.Flush()
}
