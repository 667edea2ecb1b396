package projections

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// Reader folds one negotiation's events into states, starting from
// checkpoints where the store keeps them (see eventstore.Cache), so that a
// command does not pay for the whole history. A checkpoint is a cache: a
// Reader without them gives the same answers, only slower.
type Reader struct {
	store  eventstore.Store
	treaty string
	cache  eventstore.Cache
	// Every is how many events a fold may read beyond its starting
	// checkpoint before it leaves a new checkpoint at its end. A new
	// checkpoint usually costs only the present (see save), so it can be
	// small: then no command folds more than that many events.
	every int
}

// Moment is a negotiation as it stood at a point.
type Moment struct {
	Point Point
	// State is the fold of the events up to the point. It belongs to the
	// caller.
	State *domain.State
}

// NewReader returns a Reader of the negotiation treaty. With checkpoints
// false, or when the store keeps no cache, every fold starts from the first
// event.
func NewReader(store eventstore.Store, treaty string, checkpoints bool) *Reader {
	r := &Reader{store: store, treaty: treaty, every: 100}
	if c, ok := store.(eventstore.Cache); ok && checkpoints {
		r.cache = c
	}
	return r
}

// Treaty is the negotiation the Reader reads.
func (r *Reader) Treaty() string { return r.treaty }

// tip is what a fold knows of the last event it folded: the writer's time
// and the event's hash, which the next event chains to.
type tip struct {
	time time.Time
	hash string
}

// Head returns the negotiation now.
func (r *Reader) Head(ctx context.Context) (Moment, error) {
	s, last, closedAt := r.load(ctx, "head", -1)
	start := s.Events
	last, err := r.fold(ctx, s, -1, last)
	if err != nil {
		return Moment{}, err
	}
	if s.Events == 0 {
		return Moment{}, fmt.Errorf("%w %q in this store; `treaty list` shows the negotiations it holds", ErrNoTreaty, r.treaty)
	}
	if s.Events-start >= r.every {
		r.save(ctx, "head", s, last, closedAt)
	}
	return Moment{Point: pointOf(Head, s, last), State: s}, nil
}

// Complete returns the negotiation now with every proposal whole, closed ones
// included (domain.State.KeepClosed). It folds the whole log, from the first
// event: checkpoints keep only the present.
func (r *Reader) Complete(ctx context.Context) (Moment, error) {
	s := &domain.State{KeepClosed: true}
	last, err := r.fold(ctx, s, -1, tip{})
	if err != nil {
		return Moment{}, err
	}
	if s.Events == 0 {
		return Moment{}, fmt.Errorf("%w %q in this store; `treaty list` shows the negotiations it holds", ErrNoTreaty, r.treaty)
	}
	return Moment{Point: pointOf(Head, s, last), State: s}, nil
}

// CatchUp folds into m (a moment of this negotiation, e.g. from Head) the
// events appended since it was read, and moves its point to the new head.
func (r *Reader) CatchUp(ctx context.Context, m *Moment) error {
	last, err := r.fold(ctx, m.State, -1, tip{time: m.Point.Time, hash: m.Point.Hash})
	if err != nil {
		return err
	}
	m.Point = pointOf(Head, m.State, last)
	return nil
}

// At returns the negotiation as it stood at ref.
func (r *Reader) At(ctx context.Context, ref Ref) (Moment, error) {
	head, err := r.Head(ctx)
	if err != nil || ref.kind == refHead {
		return head, err
	}
	n, err := r.Resolve(ctx, ref, head.State)
	if err != nil {
		return Moment{}, err
	}
	if n == head.State.Events {
		head.Point.Ref = ref.text
		return head, nil
	}
	return r.StateAt(ctx, ref, n, head.State)
}

// Resolve returns how many events ref covers, given the state now.
func (r *Reader) Resolve(ctx context.Context, ref Ref, head *domain.State) (int, error) {
	n, ok, err := Resolve(ref, head)
	if err != nil || ok {
		return n, err
	}
	// A time: every event recorded at or before it, up to the first one
	// recorded after it.
	n = 0
	var first time.Time
	for rec, err := range Events(ctx, r.store, r.treaty, 0) {
		if err != nil {
			return 0, err
		}
		m, err := rec.Meta()
		if err != nil {
			return 0, err
		}
		if rec.Number == 1 {
			first = m.Time
		}
		if m.Time.After(ref.t) {
			break
		}
		n = rec.Number
	}
	if n == 0 {
		return 0, &RefError{Ref: ref.text, Why: fmt.Sprintf("the negotiation had not begun: it opened at %s", first.Format(time.RFC3339))}
	}
	return n, nil
}

// StateAt returns the negotiation after its first n events, labelled with
// ref. head, the state now, tells which checkpoints may help.
func (r *Reader) StateAt(ctx context.Context, ref Ref, n int, head *domain.State) (Moment, error) {
	s, last := &domain.State{}, tip{}
	// Start from the latest round checkpoint at or before n.
	for i := len(head.Rounds) - 1; i >= 0 && r.cache != nil; i-- {
		if c := head.Rounds[i].Closed; c != 0 && c <= n {
			if cs, cl, _ := r.load(ctx, roundKey(head.Rounds[i].Number), n); cs.Events > 0 {
				s, last = cs, cl
				break
			}
		}
	}
	last, err := r.fold(ctx, s, n, last)
	if err != nil {
		return Moment{}, err
	}
	if s.Events != n {
		return Moment{}, &RefError{Ref: ref.text, Why: fmt.Sprintf("the negotiation has %d events", s.Events)}
	}
	return Moment{Point: pointOf(ref, s, last), State: s}, nil
}

func roundKey(n int) string { return fmt.Sprintf("round-%d", n) }

func pointOf(ref Ref, s *domain.State, last tip) Point {
	return Point{Ref: ref.text, Event: s.Events, Round: len(s.Rounds), Time: last.time, Hash: last.hash}
}

// fold folds events into s until it holds n events (n < 0: all of them) and
// returns what it knows of the last event folded (last, when none was). It
// leaves a checkpoint at each round's end that has none.
func (r *Reader) fold(ctx context.Context, s *domain.State, n int, last tip) (tip, error) {
	if n >= 0 && s.Events >= n {
		return last, nil
	}
	var lastRec *Recorded
	for rec, err := range Events(ctx, r.store, r.treaty, s.Events) {
		if err != nil {
			return last, err
		}
		if err := s.Evolve(rec.Event); err != nil {
			return last, &EventError{Number: rec.Number, ID: rec.ID, Type: rec.Type, Err: err}
		}
		lastRec = rec
		if c, ok := rec.Event.(domain.RoundClosed); ok && r.cache != nil {
			if m, err := rec.Meta(); err == nil && !r.has(ctx, roundKey(c.Round)) {
				r.save(ctx, roundKey(c.Round), s, tip{m.Time, m.Hash}, 0)
			}
		}
		if n >= 0 && s.Events >= n {
			break
		}
	}
	if lastRec != nil {
		m, err := lastRec.Meta()
		if err != nil {
			return last, err
		}
		last = tip{m.Time, m.Hash}
	}
	// A log may be read up to a point inside one append, but it may not end
	// inside one.
	if p := s.Pending(); p != "" && n < 0 {
		return last, &EventError{Number: s.Events, ID: lastRec.ID, Type: lastRec.Type,
			Err: fmt.Errorf("every party had accepted proposal %s but the log ends without its adoption", domain.Short(p))}
	}
	return last, nil
}

// checkpoint is what the cache holds for one point of a negotiation.
type checkpoint struct {
	Events int
	// ClosedAt is the point of the closed part the state rests on, for
	// the head (see save); 0 for a round, whose closed proposals are cut
	// from the head's (see closedAt).
	ClosedAt int
	LastID   uuid.UUID
	Last     tip
	State    []byte
}

// encode writes the checkpoint as a small binary header (events, the last
// event's ID, time and hash) followed by the state's own encoding, which
// decodes in place.
func (cp checkpoint) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(cp.Events))
	b = binary.AppendUvarint(b, uint64(cp.ClosedAt))
	b = append(b, cp.LastID[:]...)
	b = binary.AppendVarint(b, cp.Last.time.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(cp.Last.hash)))
	b = append(b, cp.Last.hash...)
	return append(b, cp.State...)
}

func decodeCheckpoint(b []byte) (checkpoint, bool) {
	var cp checkpoint
	n, w := binary.Uvarint(b)
	if w <= 0 || n > 1<<40 {
		return cp, false
	}
	cp.Events = int(n)
	b = b[w:]
	c, w := binary.Uvarint(b)
	if w <= 0 || c > n || len(b) < w+16 {
		return cp, false
	}
	cp.ClosedAt = int(c)
	copy(cp.LastID[:], b[w:w+16])
	b = b[w+16:]
	t, tw := binary.Varint(b)
	if tw <= 0 {
		return cp, false
	}
	cp.Last.time = time.Unix(0, t).UTC()
	b = b[tw:]
	hl, hw := binary.Uvarint(b)
	if hw <= 0 || hl > 128 || uint64(len(b)-hw) < hl {
		return cp, false
	}
	cp.Last.hash = string(b[hw : hw+int(hl)])
	cp.State = b[hw+int(hl):]
	return cp, true
}

// fingerprint keeps the checkpoints of one build of treaty from being read
// by another, whose fold may differ: it is the domain's snapshot version and
// the executable's Go build ID, which changes whenever any of the code it
// was built from does (where the executable has none, its size and time).
var fingerprint = sync.OnceValue(func() string {
	return fmt.Sprintf("s%d-%s", domain.SnapshotVersion(), executableID())
})

// executableID identifies the running executable's build.
func executableID() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	if id := goBuildID(exe); id != "" {
		// Only the content part is needed: it changes with the code.
		if _, content, ok := strings.Cut(id, "/"); ok {
			id = content
		}
		return strings.NewReplacer("/", ".").Replace(id)
	}
	if st, err := os.Stat(exe); err == nil {
		return fmt.Sprintf("%d.%d", st.Size(), st.ModTime().UnixNano())
	}
	return "unknown"
}

// goBuildID reads the Go build ID from an ELF executable's notes (name "Go",
// type 4, as the go command writes it), or returns "".
func goBuildID(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<16 {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			continue
		}
		for len(data) >= 12 {
			nameSize, descSize, typ := f.ByteOrder.Uint32(data), f.ByteOrder.Uint32(data[4:]), f.ByteOrder.Uint32(data[8:])
			name := (int(nameSize) + 3) &^ 3
			desc := (int(descSize) + 3) &^ 3
			if nameSize > 1<<10 || descSize > 1<<10 || 12+name+desc > len(data) {
				break
			}
			if typ == 4 && string(data[12:12+nameSize]) == "Go\x00\x00"[:nameSize] {
				return string(data[12+name : 12+name+int(descSize)])
			}
			data = data[12+name+desc:]
		}
	}
	return ""
}

func (r *Reader) key(name string) string {
	return Stream(r.treaty) + "/checkpoint/" + fingerprint() + "/" + name
}

// has reports whether the checkpoint called name is in the cache.
func (r *Reader) has(ctx context.Context, name string) bool {
	stored, _ := r.cached(ctx, r.key(name))
	return stored
}

// load returns the checkpointed state called name if there is a valid one
// covering at most max events (max < 0: any), else an empty state; and the
// point of the closed part the state rests on (0: none of its own).
func (r *Reader) load(ctx context.Context, name string, max int) (*domain.State, tip, int) {
	empty := &domain.State{}
	if r.cache == nil {
		return empty, tip{}, 0
	}
	raw, err := r.cache.CacheGet(ctx, r.key(name))
	if err != nil || raw == nil {
		return empty, tip{}, 0
	}
	cp, ok := decodeCheckpoint(raw)
	if !ok || cp.Events < 1 || max >= 0 && cp.Events > max {
		return empty, tip{}, 0
	}
	// The checkpoint holds only if the log still has the event it ends at.
	if id, ok := r.eventID(ctx, cp.Events); !ok || id != cp.LastID {
		return empty, tip{}, 0
	}
	// The closed proposals are read only if the command needs them: a
	// round's are cut from the head's, the head's are a part of their own.
	closed := func() ([]byte, error) { return r.closedAt(ctx, cp.Events) }
	if name == "head" {
		closedKey := r.closedKey(cp.ClosedAt)
		if live, _ := r.cached(ctx, closedKey); cp.ClosedAt == 0 || !live {
			return empty, tip{}, 0
		}
		closed = func() ([]byte, error) {
			b, err := r.cache.CacheGet(ctx, closedKey)
			if err == nil && b == nil {
				err = fmt.Errorf("%s is missing", closedKey)
			}
			return b, err
		}
	}
	s := &domain.State{}
	err = s.UnmarshalParts(cp.State, closed)
	if err != nil || s.Events != cp.Events || s.Treaty != r.treaty {
		return empty, tip{}, 0
	}
	return s, cp.Last, cp.ClosedAt
}

// cached reports whether key is in the cache, and whether it is a closed
// part that has been replaced (see keepClosedParts), from the keys alone:
// the values run to megabytes.
func (r *Reader) cached(ctx context.Context, key string) (stored, replaced bool) {
	keys, err := r.cache.CacheKeys(ctx, key)
	return err == nil && slices.Contains(keys, key), slices.Contains(keys, key+".replaced")
}

// closedAt returns the closed part of the state after the first n events,
// for a round's checkpoint, which keeps none of its own: cut from the
// head's when the head checkpoint covers n (see domain.State.ClosedPartAt),
// else folded afresh.
func (r *Reader) closedAt(ctx context.Context, n int) ([]byte, error) {
	if s, _, _ := r.load(ctx, "head", -1); s.Events >= n {
		if part, err := s.ClosedPartAt(n); err == nil {
			return part, nil
		}
	}
	s := &domain.State{}
	if _, err := r.fold(ctx, s, n, tip{}); err != nil {
		return nil, err
	}
	if s.Events != n {
		return nil, fmt.Errorf("the log has %d events, not the %d the checkpoint covers", s.Events, n)
	}
	_, closed, err := s.MarshalParts()
	return closed, err
}

// closedKey names the closed part of the head checkpoint saved at the
// given point: a new name for every part, so that a reader never pairs a
// present with closed proposals it does not rest on.
func (r *Reader) closedKey(events int) string {
	return fmt.Sprintf("%s.closed.%d", r.key("head"), events)
}

// keepClosedParts is how long a replaced closed part stays: a command that
// read the present part before another process saved a newer one may still
// come for it.
const keepClosedParts = 2 * time.Minute

// Builds whose checkpoints are kept: several versions of treaty may share a
// store for a while (an upgrade rolling out across delegations), and each
// must keep its own checkpoints rather than delete the others'; but a build
// not seen for a while is gone for good.
const (
	keepBuilds    = 3
	keepUnusedFor = 14 * 24 * time.Hour
)

// save leaves a checkpoint of s; failing to is not an error (a read-only
// store keeps none). closedAt is the point of the head's closed part that s
// was restored from (0: none). Saving the head also records that this build
// uses the store and clears the checkpoints of builds not seen for a while.
func (r *Reader) save(ctx context.Context, name string, s *domain.State, last tip, closedAt int) {
	if r.cache == nil || s.Events == 0 {
		return
	}
	lastID, ok := r.eventID(ctx, s.Events)
	if !ok {
		return
	}
	cp := checkpoint{Events: s.Events, LastID: lastID, Last: last}
	if name != "head" {
		// A round's checkpoint keeps no closed part: a copy of every
		// closed proposal per round would outgrow the log itself. The
		// head's serves (see closedAt).
		if cp.State, _ = s.MarshalPresentAlone(); cp.State != nil {
			_ = r.cache.CachePut(ctx, r.key(name), cp.encode())
		}
		return
	}
	r.prune(ctx)
	// Usually the present alone, carrying the proposals closed since the
	// closed part it rests on, which stays: a few hundred kilobytes instead
	// of every closed proposal again.
	if closedAt > 0 {
		present, ok, _ := s.MarshalPresent()
		if stored, replaced := r.cached(ctx, r.closedKey(closedAt)); ok && stored && !replaced {
			cp.State, cp.ClosedAt = present, closedAt
			_ = r.cache.CachePut(ctx, r.key(name), cp.encode())
			return
		}
	}
	present, closed, err := s.MarshalParts()
	if err != nil {
		return
	}
	cp.State, cp.ClosedAt = present, s.Events
	// The closed part first: a present part is never saved before what it
	// refers to. Then the parts replaced long enough ago go (see
	// keepClosedParts); their time of replacement is kept beside them.
	closedKey := r.closedKey(s.Events)
	if r.cache.CachePut(ctx, closedKey, closed) != nil {
		return
	}
	if r.cache.CachePut(ctx, r.key(name), cp.encode()) != nil {
		return
	}
	// Another process may have saved since, a present resting on an older
	// part (it checked the part before this save marked it): that part
	// stays, and is no longer marked.
	inUse := closedKey
	if raw, err := r.cache.CacheGet(ctx, r.key(name)); err == nil {
		if cp, ok := decodeCheckpoint(raw); ok {
			inUse = r.closedKey(cp.ClosedAt)
		}
	}
	now := time.Now()
	keys, err := r.cache.CacheKeys(ctx, r.key(name)+".closed.")
	if err != nil {
		return
	}
	for _, k := range keys {
		switch {
		case k == closedKey || k == inUse:
		case k == inUse+".replaced":
			_ = r.cache.CacheDelete(ctx, k)
		case strings.HasSuffix(k, ".replaced"):
			v, err := r.cache.CacheGet(ctx, k)
			if t, n := binary.Varint(v); err == nil && (n <= 0 || now.Sub(time.Unix(t, 0)) > keepClosedParts) {
				_ = r.cache.CacheDelete(ctx, strings.TrimSuffix(k, ".replaced"))
				_ = r.cache.CacheDelete(ctx, k)
			}
		default:
			if v, _ := r.cache.CacheGet(ctx, k+".replaced"); v == nil {
				_ = r.cache.CachePut(ctx, k+".replaced", binary.AppendVarint(nil, now.Unix()))
			}
		}
	}
}

// prune marks this build as using the negotiation's checkpoints, and deletes
// those of the builds beyond the keepBuilds most recent or unused for
// keepUnusedFor.
func (r *Reader) prune(ctx context.Context) {
	usedPrefix := Stream(r.treaty) + "/checkpoint-used/"
	now := time.Now()
	if err := r.cache.CachePut(ctx, usedPrefix+fingerprint(), binary.AppendVarint(nil, now.Unix())); err != nil {
		return
	}
	keys, err := r.cache.CacheKeys(ctx, usedPrefix)
	if err != nil {
		return
	}
	type build struct {
		fp   string
		used time.Time
	}
	var builds []build
	for _, k := range keys {
		v, err := r.cache.CacheGet(ctx, k)
		if err != nil {
			return
		}
		t, n := binary.Varint(v)
		if n <= 0 {
			t = 0
		}
		builds = append(builds, build{strings.TrimPrefix(k, usedPrefix), time.Unix(t, 0)})
	}
	slices.SortFunc(builds, func(a, b build) int { return b.used.Compare(a.used) })
	for i, b := range builds {
		if b.fp == fingerprint() || i < keepBuilds && now.Sub(b.used) < keepUnusedFor {
			continue
		}
		prefix := Stream(r.treaty) + "/checkpoint/" + b.fp + "/"
		if old, err := r.cache.CacheKeys(ctx, prefix); err == nil {
			for _, k := range old {
				_ = r.cache.CacheDelete(ctx, k)
			}
		}
		_ = r.cache.CacheDelete(ctx, usedPrefix+b.fp)
	}
}

// Checkpoint leaves a checkpoint of m, the negotiation now, for the next
// reader; writers call it after appending. When m's last event closed a
// round, it is that round's checkpoint too (see CheckpointRound).
func (r *Reader) Checkpoint(ctx context.Context, m Moment) {
	r.CheckpointRound(ctx, m)
	r.save(ctx, "head", m.State, tip{m.Point.Time, m.Point.Hash}, 0)
}

// CheckpointRound leaves a checkpoint of m as the end of the round its last
// event closed, if it closed one and the round has none: diffs between
// rounds start there. A fold leaves one whenever it passes a round's end;
// writers that append many rounds without folding them (simulate) call it
// at each round's end, and Checkpoint once at their end.
func (r *Reader) CheckpointRound(ctx context.Context, m Moment) {
	s := m.State
	if r.cache == nil || len(s.Rounds) == 0 {
		return
	}
	last := s.Rounds[len(s.Rounds)-1]
	if last.Closed != s.Events || r.has(ctx, roundKey(last.Number)) {
		return
	}
	r.save(ctx, roundKey(last.Number), s, tip{m.Point.Time, m.Point.Hash}, 0)
}

// eventID returns the ID of event number n.
func (r *Reader) eventID(ctx context.Context, n int) (uuid.UUID, bool) {
	for ev, err := range r.store.Read(ctx, Stream(r.treaty), uint64(n-1)) {
		return ev.ID, err == nil && ev.Revision == uint64(n-1)
	}
	return uuid.UUID{}, false
}
