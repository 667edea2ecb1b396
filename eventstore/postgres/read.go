package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/internal/recbuf"
)

// pageSQL reads a page of a stream: at most $4 events from revision $2
// on and below $3, each with the stream's count; a stream without events
// from $2 on gives one row of NULLs but the count, and a stream that does
// not exist no row. The count and the events come from one snapshot. The
// subquery refers to s, so it runs once for the one row of s, in a nested
// loop that yields its rows in its order (query checks, and sorts if it
// ever had to).
const pageSQL = `SELECT e.revision, e.id, e.type, e.data, e.metadata, e.created, s.events
	FROM treaty_streams s
	LEFT JOIN LATERAL (
		SELECT revision, id, type, data, metadata, created FROM treaty_events
		WHERE stream = s.name AND revision >= $2 AND revision < $3
		ORDER BY revision
		LIMIT $4) e ON true
	WHERE s.name = $1`

// Pages: the first is small (a command reads the few events past its
// checkpoint); each later one asks for as many events as pageBytes held
// in the one before, from minPageRows to maxPageRows. A page stops taking
// events once it holds pageBytes of data and metadata, so that memory
// stays flat however large the events (the rest of its rows are read and
// dropped, and asked for again by the next page).
const (
	firstPageRows = 128
	minPageRows   = 16
	maxPageRows   = 4096
	pageBytes     = 1 << 20
)

// Read yields the events of stream from revision from on, in revision order,
// as eventstore.Store.Read specifies: the events the stream held when
// iteration started (a snapshot of its count; events are never changed),
// read a page at a time, each page in a statement of its own that ends
// before the page's first event is yielded. No connection or transaction
// is held while the caller works, memory stays flat however long the
// stream, and each page waits at most the timeout, trying again if the
// connection is lost. The bytes of every event are the caller's to keep
// (events of one page share allocations of up to 16 KiB). Iteration ends
// with ctx's error once ctx is done, with ErrClosed once the store is
// closed, and with ErrCorrupt at a gap in the stored revisions.
func (s *Store) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.read)
}

func (s *Store) read(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "read " + stream
	p := s.newPager(stream, from)
	end := uint64(math.MaxInt64) // the stream's count when the first page was read
	for first := true; first || p.next < end; first = false {
		evs, count, err := p.fetch(ctx, op, end)
		if err != nil && len(evs) == 0 {
			return err
		}
		if first {
			if count < 0 {
				return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrStreamNotFound)
			}
			end = uint64(count)
		}
		for _, e := range evs {
			if err := s.checkOpen(op); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: %s: %w", op, s.uri, err)
			}
			if !yield(e, nil) {
				return nil
			}
		}
		if err != nil {
			return err // a gap after the events yielded
		}
	}
	return nil
}

// pager reads a stream a page at a time.
type pager struct {
	s      *Store
	stream string
	next   uint64 // the revision due
	rows   int    // the next page's row limit
	types  recbuf.Types
	arena  recbuf.Arena
	page   []eventstore.RecordedEvent
	bytes  int // of data and metadata in page
}

func (s *Store) newPager(stream string, from uint64) *pager {
	return &pager{s: s, stream: stream, next: from, rows: firstPageRows, types: recbuf.Types{}}
}

// fetch reads the next page: the events from p.next on and below end, as
// many as a page holds. It returns them (valid until the next fetch; their
// bytes are the caller's) and the stream's count in the page's snapshot,
// -1 when the stream does not exist. At a gap in the stream's revisions it
// returns the events before the gap and an error wrapping ErrCorrupt, to
// be reported after them.
func (p *pager) fetch(ctx context.Context, op string, end uint64) ([]eventstore.RecordedEvent, int64, error) {
	s := p.s
	var count int64
	err := s.call(ctx, op, func(ctx context.Context) error {
		p.page = p.page[:0]
		var err error
		count, err = p.query(ctx, op, end)
		return err
	})
	if err != nil && !errors.Is(err, eventstore.ErrCorrupt) {
		return nil, 0, err
	}
	if n := len(p.page); n > 0 {
		p.next = p.page[n-1].Revision + 1
		p.rows = min(max(pageBytes/max(p.bytes/n, 1), minPageRows), maxPageRows)
	}
	return p.page, count, err
}

// query runs the page's statement and collects its events in p.page.
func (p *pager) query(ctx context.Context, op string, end uint64) (int64, error) {
	s := p.s
	p.page, p.bytes = p.page[:0], 0
	from := min(p.next, math.MaxInt64)
	rows, err := s.pool.Query(ctx, pageSQL, p.stream, int64(from), int64(min(end, math.MaxInt64)), p.rows)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	count := int64(-1)
	sorted := true
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 7 || v[6] == nil || len(v[6]) != 8 {
			return 0, fmt.Errorf("%s: %s: an unexpected page row", op, s.uri)
		}
		count = int64(binary.BigEndian.Uint64(v[6]))
		if v[0] == nil || p.bytes >= pageBytes {
			continue // the stream, without events from p.next on; or the page is full
		}
		e, err := p.decode(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", op, s.uri, err)
		}
		if n := len(p.page); n > 0 && e.Revision < p.page[n-1].Revision {
			sorted = false
		}
		p.page = append(p.page, e)
		p.bytes += len(e.Data) + len(e.Metadata)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if !sorted {
		slices.SortFunc(p.page, func(a, b eventstore.RecordedEvent) int { return cmp.Compare(a.Revision, b.Revision) })
	}
	want := p.next
	for i, e := range p.page {
		if e.Revision != want {
			p.page = p.page[:i] // the events before the gap are good
			return count, fmt.Errorf("%s: %s: revision %d where %d was due: the table was edited by hand and the stream has a gap: %w",
				op, s.uri, e.Revision, want, eventstore.ErrCorrupt)
		}
		want++
	}
	if len(p.page) == 0 && count >= 0 && want < min(uint64(count), end) {
		return count, fmt.Errorf("%s: %s: the stream counts %d events but holds none from revision %d: the table was edited by hand: %w",
			op, s.uri, count, want, eventstore.ErrCorrupt)
	}
	return count, nil
}

// pgEpoch is where PostgreSQL's timestamps count from.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// decode makes an event of a page row's columns, in PostgreSQL's binary
// format, copying its bytes once into memory the caller may keep.
func (p *pager) decode(v [][]byte) (eventstore.RecordedEvent, error) {
	if len(v[0]) != 8 || len(v[1]) != 16 || len(v[5]) != 8 {
		return eventstore.RecordedEvent{}, errors.New("a page row not in the binary format")
	}
	e := eventstore.RecordedEvent{
		Stream:   p.stream,
		Revision: binary.BigEndian.Uint64(v[0]),
		ID:       [16]byte(v[1]),
		Type:     p.types.Intern(v[2]),
		Created:  pgEpoch.Add(time.Duration(int64(binary.BigEndian.Uint64(v[5]))) * time.Microsecond),
	}
	e.Data, e.Metadata = p.arena.Copy(v[3], v[4])
	return e, nil
}

// Streams lists the streams whose names start with prefix, sorted by name
// (byte order), each with its number of events, from one snapshot.
func (s *Store) Streams(ctx context.Context, prefix string) ([]eventstore.StreamInfo, error) {
	var out []eventstore.StreamInfo
	err := s.call(ctx, "list streams", func(ctx context.Context) error {
		out = out[:0]
		return s.prefixed(ctx, `SELECT name, events FROM treaty_streams`, "name", prefix, func(r pgxRow) error {
			var info eventstore.StreamInfo
			var n int64
			if err := r.Scan(&info.Name, &n); err != nil {
				return err
			}
			info.Events = uint64(n)
			out = append(out, info)
			return nil
		})
	})
	return out, err
}

// pgxRow is a row being read.
type pgxRow interface{ Scan(dest ...any) error }

// prefixed runs sel with a condition on the column col selecting the rows
// where it starts with prefix, in col's order, and calls row for each: a
// range on col, which its index serves, not LIKE, which treats '%' and '_'
// as wildcards. A prefix that is not valid UTF-8 starts no name.
func (s *Store) prefixed(ctx context.Context, sel, col, prefix string, row func(r pgxRow) error) error {
	if !validText(prefix) {
		return nil
	}
	sql, args := sel+" WHERE "+col+" >= $1", []any{prefix}
	if end, ok := prefixEnd(prefix); ok {
		sql, args = sql+" AND "+col+" < $2", append(args, end)
	}
	rows, err := s.pool.Query(ctx, sql+" ORDER BY "+col, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// prefixEnd returns the least valid UTF-8 string greater, in byte order,
// than every string starting with prefix (valid UTF-8), or false when there
// is none. The last character that can be raised is raised to the next
// one; UTF-8 orders by code point in byte order.
func prefixEnd(prefix string) (string, bool) {
	r := []rune(prefix)
	for i := len(r) - 1; i >= 0; i-- {
		switch next := r[i] + 1; {
		case next > 0x10FFFF:
			continue // the greatest: raise the one before
		case next == 0xD800:
			r[i] = 0xE000 // past the surrogates, which UTF-8 cannot hold
		default:
			r[i] = next
		}
		return string(r[:i+1]), true
	}
	return "", false
}

// validText reports whether PostgreSQL's text can hold s as it is.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
