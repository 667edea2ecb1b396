// Package checkpoint keeps checkpoints of a negotiation's folded state in the
// store's cache (eventstore.Cache), so that a command folds only the events
// since one instead of the whole history.
//
// A checkpoint is a cache: deleting it changes no answer. Editing it must
// not change one either, so every value is authenticated with a secret of
// this machine that an editor of the store does not hold (HMAC-SHA256 over
// its key and bytes), and records the hash of the last event it covers,
// which the reader checks against the log before trusting it. A value that
// cannot be authenticated is treated as absent. Checkpoints belong to the
// build that wrote them (see build.go): another build, whose fold may
// differ, ignores them. They belong to the secret too: machines sharing a
// store each keep their own, under names of their own.
//
// The package owns the encodings, the keys, the build identity, which old
// checkpoints are deleted, and the races between processes sharing a store;
// the domain's State stays plain data. It never changes the log.
package checkpoint

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// Point is where a checkpoint stands in the log: after its first Events
// events, the last of which has hash Hash and was recorded at Time.
type Point struct {
	Events int
	Hash   string
	Time   time.Time
}

// Config says where a Store keeps its checkpoints and how it checks them.
type Config struct {
	// Cache holds the checkpoints; nil keeps none.
	Cache eventstore.Cache
	// Memos holds the memos (see SaveMemo) when it is not nil: a cache of
	// this machine's, outside the store, so that keeping what a reader
	// worked out writes nothing to the store. Nil keeps them in Cache.
	Memos eventstore.Cache
	// Name is the negotiation's stream name; every key starts with it.
	Name string
	// Treaty is the negotiation's ID, which a checkpoint's state must have.
	Treaty string
	// Secret authenticates checkpoints; empty keeps none.
	Secret []byte
	// Refold returns the state after the first n events, folded from the
	// first event: what a checkpoint's closed proposals are rebuilt from
	// when they cannot be read.
	Refold func(ctx context.Context, n int) (*domain.State, error)
}

// Store reads and writes one negotiation's checkpoints. The zero Store, and
// one without a cache or secret, keeps none: Head and Round find nothing
// and the saves do nothing.
type Store struct {
	cfg Config
	// secretTag names the secret, so that machines sharing a store (a
	// server's, or a file carried from one to another) each keep their own
	// checkpoints: under one name, each would find the others' failing to
	// authenticate, and fold from the first event, and overwrite them.
	secretTag string
}

// New returns the Store cfg describes.
func New(cfg Config) *Store {
	m := hmac.New(sha256.New, cfg.Secret)
	m.Write([]byte("treaty checkpoint names"))
	return &Store{cfg: cfg, secretTag: hex.EncodeToString(m.Sum(nil)[:6])}
}

func (s *Store) enabled() bool {
	return s != nil && s.cfg.Cache != nil && len(s.cfg.Secret) > 0
}

// maxCarried bounds the proposals closed since its closed part that a head
// checkpoint carries in its present part: a hundred kilobytes or so.
const maxCarried = 2048

// keepClosedParts is how long a replaced closed part stays: a command that
// read the head's present before another process saved a newer one may
// still come for it.
const keepClosedParts = 2 * time.Minute

// Builds whose checkpoints are kept: several versions of treaty may share a
// store for a while (an upgrade rolling out across delegations), and each
// keeps its own checkpoints rather than delete the others'; a build not
// seen for a while is gone for good. A test binary never deletes another
// build's checkpoints.
const (
	keepBuilds    = 3
	keepUnusedFor = 14 * 24 * time.Hour
)

// markEvery is how often a build marks its use of a negotiation's
// checkpoints and looks for other builds' to delete. A save that finds its
// build marked more recently does neither: a two-week horizon needs no
// finer clock, and such a save reads one mark where it would write it and
// list every build's.
const markEvery = time.Hour

// pruneInTests lets this package's own tests see prune at work.
var pruneInTests = false

func (s *Store) key(name string) string {
	return s.cfg.Name + "/checkpoint/" + build() + "/" + s.secretTag + "/" + name
}

func roundName(n int) string { return fmt.Sprintf("round-%d", n) }

// closedKey names the closed part of the head checkpoint saved at the given
// point: a new name for every part, so that a reader never pairs a present
// with closed proposals it does not rest on.
func (s *Store) closedKey(events int) string {
	return fmt.Sprintf("%s.closed.%d", s.key("head"), events)
}

// prefixesKey names the prefix index of the closed part called closedKey.
// It stands outside the closed parts' names, which dropReplaced walks, and
// goes with its part.
func prefixesKey(closedKey string) string {
	return strings.Replace(closedKey, ".closed.", ".prefixes.", 1)
}

// prefixChunkKey names chunk i of the prefix index of the closed part
// called closedKey (see prefixIndex).
func prefixChunkKey(closedKey string, i int) string {
	return prefixesKey(closedKey) + "." + strconv.Itoa(i)
}

// putPrefixes saves the prefix index of the closed part called closedKey,
// its chunks first: a head is never saved before what it refers to.
func (s *Store) putPrefixes(ctx context.Context, closedKey string, p prefixes) error {
	head, chunks := splitPrefixes(p)
	for i, c := range chunks {
		if err := s.put(ctx, prefixChunkKey(closedKey, i), c); err != nil {
			return err
		}
	}
	return s.put(ctx, prefixesKey(closedKey), head)
}

// dropPrefixes deletes the prefix index of the closed part called
// closedKey.
func (s *Store) dropPrefixes(ctx context.Context, closedKey string) {
	c := s.cfg.Cache
	_ = c.CacheDelete(ctx, prefixesKey(closedKey))
	if keys, err := c.CacheKeys(ctx, prefixesKey(closedKey)+"."); err == nil {
		for _, k := range keys {
			_ = c.CacheDelete(ctx, k)
		}
	}
}

// filterKey names shard i of the Bloom filter of the given shape that goes
// with owner: a round's checkpoint (its name), or a head's closed part
// (headFilter). The shape is in the name: two processes saving a round's
// checkpoint at once may each write its shards, and a shard of one shape
// read as part of another would leave IDs out; shards of one shape from
// either save hold every ID of their shard.
func (s *Store) filterKey(owner string, shards, words, i int) string {
	return s.filterShape(owner, shards, words) + strconv.Itoa(i)
}

// filterShape is what the names of the shards of the filter of the given
// shape that goes with owner start with.
func (s *Store) filterShape(owner string, shards, words int) string {
	return s.key(fmt.Sprintf("filter.%s.%dx%d.", owner, shards, words))
}

func headFilter(closedAt int) string { return "head-" + strconv.Itoa(closedAt) }

// saveFilter saves the shards of f, the filter that goes with owner, and
// deletes the shards of another shape an earlier save left (a round's
// checkpoint saved again from a state of another kind).
func (s *Store) saveFilter(ctx context.Context, owner string, f *filter) error {
	for i, p := range f.parts {
		if err := s.put(ctx, s.filterKey(owner, f.shards, f.words, i), encodeBloom(p)); err != nil {
			return err
		}
	}
	s.dropFilter(ctx, owner, s.filterShape(owner, f.shards, f.words))
	return nil
}

// loadFilter returns the filter of the given shape that goes with owner,
// its shards read on first need; nil for no filter.
func (s *Store) loadFilter(ctx context.Context, owner string, shards, words int) *filter {
	if shards == 0 || words == 0 {
		return nil
	}
	return &filter{shards: shards, words: words, load: func(i int) bloom {
		return decodeBloom(s.get(ctx, s.filterKey(owner, shards, words, i)))
	}}
}

// dropFilter deletes the shards of the filter that goes with owner, but
// those whose names start with keep ("": none).
func (s *Store) dropFilter(ctx context.Context, owner, keep string) {
	keys, err := s.cfg.Cache.CacheKeys(ctx, s.key("filter."+owner+"."))
	if err != nil {
		return
	}
	for _, k := range keys {
		if keep == "" || !strings.HasPrefix(k, keep) {
			_ = s.cfg.Cache.CacheDelete(ctx, k)
		}
	}
}

// mac authenticates value (the parts of it, one after the other) under
// key.
func (s *Store) mac(key string, value ...[]byte) []byte {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write(binary.AppendUvarint(nil, uint64(len(key))))
	m.Write([]byte(key))
	for _, part := range value {
		m.Write(part)
	}
	return m.Sum(nil)
}

// get returns the value stored under key if it is there and authentic.
func (s *Store) get(ctx context.Context, key string) []byte {
	return s.getIn(ctx, s.cfg.Cache, key)
}

// getIn is get from the cache c.
func (s *Store) getIn(ctx context.Context, c eventstore.Cache, key string) []byte {
	raw, err := c.CacheGet(ctx, key)
	if err != nil || len(raw) < sha256.Size {
		return nil
	}
	value, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(sum, s.mac(key, value)) {
		return nil
	}
	return value
}

func (s *Store) put(ctx context.Context, key string, value []byte) error {
	return s.putIn(ctx, s.cfg.Cache, key, value)
}

// putIn is put into the cache c.
func (s *Store) putIn(ctx context.Context, c eventstore.Cache, key string, value []byte) error {
	return c.CachePut(ctx, key, s.sealed(key, value))
}

// memos is the cache the memos are kept in (see Config.Memos).
func (s *Store) memos() eventstore.Cache {
	if s.cfg.Memos != nil {
		return s.cfg.Memos
	}
	return s.cfg.Cache
}

// sealed is value as put stores it under key: followed by its
// authentication.
func (s *Store) sealed(key string, value []byte) []byte {
	return append(value, s.mac(key, value)...)
}

// cached reports whether key is in the cache, and whether it is a closed
// part that has been replaced, from the keys alone: the values run to
// megabytes.
func (s *Store) cached(ctx context.Context, key string) (stored, replaced bool) {
	keys, err := s.cfg.Cache.CacheKeys(ctx, key)
	return err == nil && slices.Contains(keys, key), slices.Contains(keys, key+".replaced")
}

// header is what a checkpoint says of itself before the state.
type header struct {
	Point
	// closedAt is the point of the closed part a head rests on; 0 for a
	// round's, whose closed proposals are cut from the head's.
	closedAt int
}

func (h header) encode(state []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(h.Hash)+64), uint64(h.Events))
	b = binary.AppendUvarint(b, uint64(h.closedAt))
	b = binary.AppendVarint(b, h.Time.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(h.Hash)))
	b = append(b, h.Hash...)
	return pack(b, state)
}

// decodeHeader reads what encode wrote, but for the state: what is left of
// b is the state as packed (see unpack).
func decodeHeader(b []byte) (header, []byte, bool) {
	var h header
	n, w := binary.Uvarint(b)
	if w <= 0 || n > 1<<40 || n < 1 {
		return h, nil, false
	}
	h.Events, b = int(n), b[w:]
	c, w := binary.Uvarint(b)
	if w <= 0 || c > n {
		return h, nil, false
	}
	h.closedAt, b = int(c), b[w:]
	t, w := binary.Varint(b)
	if w <= 0 {
		return h, nil, false
	}
	h.Time, b = time.Unix(0, t).UTC(), b[w:]
	l, w := binary.Uvarint(b)
	if w <= 0 || l > 128 || uint64(len(b)-w) < l {
		return h, nil, false
	}
	h.Hash = string(b[w : w+int(l)])
	return h, b[w+int(l):], true
}

// openCheckpoint reads what header.encode wrote: the header, and the state
// unpacked, unless the checkpoint covers more than max events (max < 0:
// any), which is then not unpacked.
func openCheckpoint(raw []byte, max int) (header, []byte, bool) {
	h, packed, ok := decodeHeader(raw)
	if !ok || max >= 0 && h.Events > max {
		return header{}, nil, false
	}
	body := unpack(packed, maxPresent)
	return h, body, body != nil
}

// load reads the checkpoint called name, if there is an authentic one of
// this negotiation covering at most max events (max < 0: any).
func (s *Store) load(ctx context.Context, name string, max int) (header, present, bool) {
	if !s.enabled() {
		return header{}, present{}, false
	}
	h, body, ok := openCheckpoint(s.get(ctx, s.key(name)), max)
	if !ok {
		return header{}, present{}, false
	}
	p, err := decodePresent(body)
	if err != nil || p.state.Events != h.Events || p.state.Treaty != s.cfg.Treaty {
		return header{}, present{}, false
	}
	return h, p, true
}

// restore gives p's state its closed proposals: the table load reads, and
// the ones p carries.
func restore(p present, closedAt int, f *filter, load func() (table, error)) *domain.State {
	recent := domain.NewClosedProposals()
	for _, c := range p.carried {
		recent.Add(c)
	}
	p.state.Closed = &closed{load: load, baseLen: p.baseLen, recent: recent, filter: f, closedAt: closedAt}
	return p.state
}

// Head returns the latest head checkpoint, if there is an authentic one. Its
// closed proposals are read only when the state is asked for one; if they
// are gone by then (another process replaced them), they are refolded from
// the log.
func (s *Store) Head(ctx context.Context) (*domain.State, Point, bool) {
	h, p, ok := s.load(ctx, "head", -1)
	if !ok || h.closedAt == 0 {
		return nil, Point{}, false
	}
	closedKey := s.closedKey(h.closedAt)
	if stored, _ := s.cached(ctx, closedKey); !stored {
		return nil, Point{}, false
	}
	st := restore(p, h.closedAt, s.loadFilter(ctx, headFilter(h.closedAt), p.shards, p.words), func() (table, error) {
		if b := s.get(ctx, closedKey); b != nil {
			if t, err := decodeTable(b); err == nil {
				return t, nil
			}
		}
		return s.refoldTable(ctx, h.closedAt)
	})
	st.Closed.(*closed).index = func() (*prefixIndex, bool) {
		b := s.get(ctx, prefixesKey(closedKey))
		if b == nil { // absent, or not authentic: the part answers
			return nil, false
		}
		return decodePrefixIndex(b, func(i int) (prefixes, bool) {
			return decodePrefixes(s.get(ctx, prefixChunkKey(closedKey, i)))
		})
	}
	return st, h.Point, true
}

// putHead saves the head checkpoint, and beside it its summary (see
// HeadSummary), a memo a few hundred bytes long where the checkpoint runs
// to megabytes.
func (s *Store) putHead(ctx context.Context, h header, present []byte, st *domain.State) error {
	head, summary := s.headValues(h, present, st)
	return s.putHeadValues(ctx, head, summary)
}

// headValues returns the head checkpoint of st with the given header and
// present part, and its summary, as putHeadValues stores them.
func (s *Store) headValues(h header, present []byte, st *domain.State) (head, summary []byte) {
	e := &encoder{}
	e.summary(st)
	return s.sealed(s.key("head"), h.encode(present)), s.sealed(s.summaryKey(), h.encode(e.b))
}

func (s *Store) putHeadValues(ctx context.Context, head, summary []byte) error {
	if err := s.cfg.Cache.CachePut(ctx, s.key("head"), head); err != nil {
		return err
	}
	return s.cfg.Cache.CachePut(ctx, s.summaryKey(), summary)
}

func (s *Store) summaryKey() string { return s.memoPrefix("summary") + "head" }

// HeadSummary returns the start of a head checkpoint, if there is an
// authentic one: a state holding only the negotiation's name, title,
// parties, number of events and rounds, which is all some questions need,
// without reading the rest. It is the latest head checkpoint's, or an
// earlier one's when a save was cut short between the two: either way the
// negotiation as it stood at the point returned.
func (s *Store) HeadSummary(ctx context.Context) (*domain.State, Point, bool) {
	if !s.enabled() {
		return nil, Point{}, false
	}
	for _, key := range []string{s.summaryKey(), s.key("head")} {
		h, body, ok := openCheckpoint(s.get(ctx, key), -1)
		if !ok || h.closedAt == 0 {
			continue
		}
		st, err := decodeSummary(body)
		if err != nil || st.Events != h.Events || st.Treaty != s.cfg.Treaty {
			continue
		}
		return st, h.Point, true
	}
	return nil, Point{}, false
}

// Round returns the checkpoint at the end of round n if there is an
// authentic one covering at most max events (max < 0: any). A round's
// checkpoint keeps no closed proposals of its own (a copy per round would
// outgrow the log): they are cut from the head's when it covers the round's
// end, else refolded from the log.
func (s *Store) Round(ctx context.Context, n, max int) (*domain.State, Point, bool) {
	h, p, ok := s.load(ctx, roundName(n), max)
	if !ok || h.closedAt != 0 {
		return nil, Point{}, false
	}
	f := s.loadFilter(ctx, roundName(n), p.shards, p.words)
	return restore(p, 0, f, func() (table, error) { return s.closedAt(ctx, h.Events) }), h.Point, true
}

// HasRound reports whether round n has an authentic checkpoint. One that
// does not authenticate (damaged, or edited) is there to be replaced: left
// in place, every read of the round would fold from the first event. It
// reads the checkpoint whole, as the folds that ask (at a round's end) can
// afford.
func (s *Store) HasRound(ctx context.Context, n int) bool {
	if !s.enabled() {
		return false
	}
	_, _, ok := decodeHeader(s.get(ctx, s.key(roundName(n))))
	return ok
}

// closedAt returns the closed proposals of the state after the first n
// events: cut from the head's when the head covers n (a proposal closed by
// event n is closed in every later state, with the same record, so the cut
// is exact), else refolded.
func (s *Store) closedAt(ctx context.Context, n int) (table, error) {
	if head, _, ok := s.Head(ctx); ok && head.Events >= n {
		var cut []domain.ClosedProposal
		err := collect(head, func(p domain.ClosedProposal) {
			if p.Closed <= n {
				cut = append(cut, p)
			}
		})
		if err == nil {
			return decodeTable(encodeTable(&table{}, cut))
		}
	}
	return s.refoldTable(ctx, n)
}

func (s *Store) refoldTable(ctx context.Context, n int) (table, error) {
	if s.cfg.Refold == nil {
		return table{}, errors.New("the checkpoint's closed proposals are gone, and nothing can fold them again")
	}
	st, err := s.cfg.Refold(ctx, n)
	if err != nil {
		return table{}, err
	}
	var all []domain.ClosedProposal
	if err := collect(st, func(p domain.ClosedProposal) { all = append(all, p) }); err != nil {
		return table{}, err
	}
	return decodeTable(encodeTable(&table{}, all))
}

func collect(st *domain.State, each func(domain.ClosedProposal)) error {
	for p, err := range st.ClosedProposals() {
		if err != nil {
			return err
		}
		each(p)
	}
	return nil
}

// SaveRound leaves a checkpoint of st, the state at the end of round n (p is
// where that is). Failing to save is not an error a reader must see (a
// read-only store keeps none); the error is for tests.
func (s *Store) SaveRound(ctx context.Context, n int, st *domain.State, p Point) error {
	if !s.enabled() || st.Events == 0 {
		return nil
	}
	count := 0
	if st.Closed != nil {
		count = st.Closed.Len()
	}
	// A state restored from a checkpoint has its closed part's filter: the
	// proposals closed since are added to a copy, rather than the part
	// read to make a new one.
	var f *filter
	if c, ok := st.Closed.(*closed); ok {
		if f = c.filter.whole(); f != nil && f.capacity() >= count {
			recent, err := c.recentRecords()
			if err != nil {
				return err
			}
			for _, p := range recent {
				f.add(p.ID)
			}
		} else {
			f = nil
		}
	}
	if f == nil {
		f = newFilter(count)
		if err := collect(st, func(c domain.ClosedProposal) { f.add(c.ID) }); err != nil {
			return err
		}
	}
	present, err := encodePresent(st, count, nil, f)
	if err != nil {
		return err
	}
	// The filter first: a checkpoint is never saved before what it refers
	// to.
	if err := s.saveFilter(ctx, roundName(n), f); err != nil {
		return err
	}
	return s.put(ctx, s.key(roundName(n)), header{Point: p}.encode(present))
}

// SaveHead leaves a checkpoint of st, the negotiation at p. Usually that is
// the present alone, carrying the proposals closed since the closed part it
// rests on; now and then (a state folded from the first event, too many
// carried) both parts, after which st.Closed is swapped for an equivalent
// record resting on the part just saved. Saving also records that this
// build uses the store and clears the checkpoints of builds not seen for a
// while. Failing to save is not an error a reader must see.
func (s *Store) SaveHead(ctx context.Context, st *domain.State, p Point) error {
	if !s.enabled() || st.Events == 0 {
		return nil
	}
	if h := s.PrepareHead(ctx, st, p); h != nil {
		h.Encode()
		return h.Write(ctx)
	}
	s.prune(ctx)
	var part []byte
	if c, ok := st.Closed.(*closed); ok {
		if err := c.ensure(); err != nil {
			return err
		}
		carried, err := c.recentRecords()
		if err != nil {
			return err
		}
		part = encodeTable(&c.base, carried)
	} else {
		var all []domain.ClosedProposal
		if err := collect(st, func(c domain.ClosedProposal) { all = append(all, c) }); err != nil {
			return err
		}
		part = encodeTable(&table{}, all)
	}
	t, err := decodeTable(part)
	if err != nil {
		return err
	}
	f := newFilter(t.len())
	for i := range t.len() {
		f.add(t.id(i))
	}
	present, err := encodePresent(st, t.len(), nil, f)
	if err != nil {
		return err
	}
	// The closed part and its filter first: a present is never saved
	// before what it refers to.
	if err := s.saveFilter(ctx, headFilter(st.Events), f); err != nil {
		return err
	}
	closedKey := s.closedKey(st.Events)
	if err := s.put(ctx, closedKey, part); err != nil {
		return err
	}
	if err := s.putPrefixes(ctx, closedKey, newPrefixes(&t)); err != nil {
		return err
	}
	if err := s.putHead(ctx, header{Point: p, closedAt: st.Events}, present, st); err != nil {
		return err
	}
	st.Closed = &closed{base: t, loaded: true, baseLen: t.len(), recent: domain.NewClosedProposals(), filter: f, closedAt: st.Events}
	s.dropReplaced(ctx, closedKey)
	return nil
}

// A PendingHead is a head checkpoint left in two steps, so that a writer
// can work it out while its append waits for the disk: Encode works it out
// and reads nothing but the state, which must not change until it returns;
// Write saves what Encode worked out.
type PendingHead struct {
	s             *Store
	st            *domain.State
	h             header
	c             *closed
	head, summary []byte
	err           error
}

// PrepareHead returns the head checkpoint of st at p that SaveHead leaves
// usually, the present alone, to be left in two steps; nil when there is
// none to leave, or when SaveHead has to save a closed part as well (and
// change st).
func (s *Store) PrepareHead(ctx context.Context, st *domain.State, p Point) *PendingHead {
	if !s.enabled() || st.Events == 0 {
		return nil
	}
	c, ok := st.Closed.(*closed)
	if !ok || c.closedAt == 0 || c.recent.Len() > maxCarried {
		return nil
	}
	if stored, replaced := s.cached(ctx, s.closedKey(c.closedAt)); !stored || replaced {
		return nil
	}
	return &PendingHead{s: s, st: st, h: header{Point: p, closedAt: c.closedAt}, c: c}
}

// Encode works the checkpoint out from the state, reading nothing else.
func (h *PendingHead) Encode() {
	carried, err := h.c.recentRecords()
	if err != nil {
		h.err = err
		return
	}
	present, err := encodePresent(h.st, h.c.baseLen, carried, h.c.filter)
	if err != nil {
		h.err = err
		return
	}
	h.head, h.summary = h.s.headValues(h.h, present, h.st)
}

// Write saves the checkpoint Encode worked out, as SaveHead would.
func (h *PendingHead) Write(ctx context.Context) error {
	if h.err != nil {
		return h.err
	}
	h.s.prune(ctx)
	return h.s.putHeadValues(ctx, h.head, h.summary)
}

// dropReplaced marks the closed parts other than kept as replaced, and
// deletes those replaced long enough ago (see keepClosedParts). Another
// process may have saved a present resting on an older part meanwhile (it
// checked the part before this save marked it): that part stays, and is no
// longer marked.
func (s *Store) dropReplaced(ctx context.Context, kept string) {
	c := s.cfg.Cache
	inUse := kept
	if h, _, ok := decodeHeader(s.get(ctx, s.key("head"))); ok {
		inUse = s.closedKey(h.closedAt)
	}
	now := time.Now()
	keys, err := c.CacheKeys(ctx, s.key("head")+".closed.")
	if err != nil {
		return
	}
	for _, k := range keys {
		switch {
		case k == kept || k == inUse:
		case k == inUse+".replaced":
			_ = c.CacheDelete(ctx, k)
		case strings.HasSuffix(k, ".replaced"):
			v, err := c.CacheGet(ctx, k)
			if t, n := binary.Varint(v); err == nil && (n <= 0 || now.Sub(time.Unix(t, 0)) > keepClosedParts) {
				part := strings.TrimSuffix(k, ".replaced")
				_ = c.CacheDelete(ctx, part)
				s.dropPrefixes(ctx, part)
				if at, err := strconv.Atoi(strings.TrimPrefix(part, s.key("head")+".closed.")); err == nil {
					s.dropFilter(ctx, headFilter(at), "")
				}
				_ = c.CacheDelete(ctx, k)
			}
		default:
			if v, _ := c.CacheGet(ctx, k+".replaced"); v == nil {
				_ = c.CachePut(ctx, k+".replaced", binary.AppendVarint(nil, now.Unix()))
			}
		}
	}
}

// prune marks this build as using the negotiation's checkpoints, and deletes
// those of the builds beyond the keepBuilds most recent or unused for
// keepUnusedFor; it does neither when this build's mark is less than
// markEvery old. A test binary marks and deletes nothing.
func (s *Store) prune(ctx context.Context) {
	if testing.Testing() && !pruneInTests {
		return
	}
	c := s.cfg.Cache
	usedPrefix := s.cfg.Name + "/checkpoint-used/"
	now := time.Now()
	if v, err := c.CacheGet(ctx, usedPrefix+build()); err == nil {
		if t, n := binary.Varint(v); n > 0 {
			if age := now.Sub(time.Unix(t, 0)); age >= 0 && age < markEvery {
				return
			}
		}
	}
	if err := c.CachePut(ctx, usedPrefix+build(), binary.AppendVarint(nil, now.Unix())); err != nil {
		return
	}
	keys, err := c.CacheKeys(ctx, usedPrefix)
	if err != nil {
		return
	}
	type use struct {
		build string
		at    time.Time
	}
	var uses []use
	for _, k := range keys {
		v, err := c.CacheGet(ctx, k)
		if err != nil {
			return
		}
		t, n := binary.Varint(v)
		if n <= 0 {
			t = 0
		}
		uses = append(uses, use{strings.TrimPrefix(k, usedPrefix), time.Unix(t, 0)})
	}
	slices.SortFunc(uses, func(a, b use) int { return b.at.Compare(a.at) })
	kept := map[string]bool{build(): true}
	for i, u := range uses {
		if u.build == build() || i < keepBuilds && now.Sub(u.at) < keepUnusedFor {
			kept[u.build] = true
			continue
		}
		for _, prefix := range []string{s.cfg.Name + "/checkpoint/" + u.build + "/", s.cfg.Name + "/memo/" + u.build + "/"} {
			if old, err := c.CacheKeys(ctx, prefix); err == nil {
				for _, k := range old {
					_ = c.CacheDelete(ctx, k)
				}
			}
		}
		_ = c.CacheDelete(ctx, usedPrefix+u.build)
	}
	if s.cfg.Memos != nil {
		s.pruneMemos(ctx, kept)
	}
}

// pruneMemos deletes the negotiation's memos kept outside the store
// (Config.Memos) by builds other than those kept: what a build that no
// longer uses this store kept there would otherwise stay for good. Another
// store of the same name, read by another build, loses its memos (only
// worked out again).
func (s *Store) pruneMemos(ctx context.Context, kept map[string]bool) {
	prefix := s.cfg.Name + "/memo/"
	keys, err := s.cfg.Memos.CacheKeys(ctx, prefix)
	if err != nil {
		return
	}
	for _, k := range keys {
		if b, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), "/"); !kept[b] {
			_ = s.cfg.Memos.CacheDelete(ctx, k)
		}
	}
}

// Keys lists the cache keys of the negotiation's checkpoints of this build
// and this secret, for inspection.
func (s *Store) Keys(ctx context.Context) ([]string, error) {
	if !s.enabled() {
		return nil, nil
	}
	return s.cfg.Cache.CacheKeys(ctx, s.key(""))
}

// Points lists the checkpoints of this build and secret that authenticate,
// by name ("head", "round-N"), with the number of events each covers.
func (s *Store) Points(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	if !s.enabled() {
		return out, nil
	}
	keys, err := s.cfg.Cache.CacheKeys(ctx, s.key(""))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		name := strings.TrimPrefix(k, s.key(""))
		if name != "head" && !strings.HasPrefix(name, "round-") {
			continue // a closed part, its mark or prefix index, a filter's shard
		}
		if h, _, ok := decodeHeader(s.get(ctx, k)); ok {
			out[name] = h.Events
		}
	}
	return out, nil
}

// Verifier compares the checkpoints of this build and secret with a replay
// of the log from its first event (see Agrees), as verify does. It reads
// the head checkpoint once: a round's closed proposals are those of the
// head that closed by the round's end, which it compares without making a
// table of them for each round. A Verifier is for one goroutine.
type Verifier struct {
	s        *Store
	head     *domain.State
	headRead bool
}

// Verifier returns a Verifier of s's checkpoints.
func (s *Store) Verifier() *Verifier { return &Verifier{s: s} }

// Agrees compares the checkpoint called name with fresh, the state a fold
// from the first event reached at the same point, and says where they
// differ, and which checkpoint is wrong: name, or "head" when a round's
// closed proposals, cut from the head's, differ. A checkpoint that fails
// to authenticate is no checkpoint, and agrees.
func (v *Verifier) Agrees(ctx context.Context, name string, fresh *domain.State) (wrong string, err error) {
	s := v.s
	var st *domain.State
	var ok bool
	var round int
	if name == "head" {
		// The one the rounds' closed proposals were compared with, read
		// once, its closed proposals with it.
		st = v.headState(ctx)
		ok = st != nil
	} else if _, err := fmt.Sscanf(name, "round-%d", &round); err == nil {
		st, _, ok = s.Round(ctx, round, -1)
	}
	if !ok {
		return "", nil
	}
	a, err := encodePresent(st, 0, nil, nil)
	if err != nil {
		return name, err
	}
	b, err := encodePresent(fresh, 0, nil, nil)
	if err != nil {
		return name, err
	}
	if !bytes.Equal(a, b) {
		return name, fmt.Errorf("its state differs from the log's at event %d", fresh.Events)
	}
	// The closed proposals: a round's are cut from the head's when the head
	// covers the round's end (see closedAt), so those are compared.
	from, wrong := st, name
	if name != "head" {
		if head := v.headState(ctx); head != nil && head.Events >= fresh.Events {
			from, wrong = head, "head"
		}
	}
	c, ok := from.Closed.(*closed) // what restore makes
	if !ok {
		return wrong, fmt.Errorf("its closed proposals are not a checkpoint's")
	}
	n, count := fresh.Events, 0
	for p, err := range c.Between(0, n) {
		if err != nil {
			return wrong, err
		}
		count++
		q, found, err := lookup(fresh, p.ID)
		if err != nil {
			return wrong, err
		}
		if !found || q != p {
			return wrong, fmt.Errorf("its closed proposals differ from the log's at event %d (proposal %s)", n, p.ID)
		}
	}
	if want := closedLen(fresh); count != want {
		return wrong, fmt.Errorf("its closed proposals number %d where the log's number %d at event %d", count, want, n)
	}
	return "", nil
}

// headState is the head checkpoint, read on first need; nil when there is
// no authentic one.
func (v *Verifier) headState(ctx context.Context) *domain.State {
	if !v.headRead {
		v.headRead = true
		v.head, _, _ = v.s.Head(ctx)
	}
	return v.head
}

func lookup(st *domain.State, id string) (domain.ClosedProposal, bool, error) {
	if st.Closed == nil {
		return domain.ClosedProposal{}, false, nil
	}
	return st.Closed.Lookup(id)
}

func closedLen(st *domain.State) int {
	if st.Closed == nil {
		return 0
	}
	return st.Closed.Len()
}

// Drop deletes the checkpoint called name (with its filter, for a round's).
func (s *Store) Drop(ctx context.Context, name string) {
	if s.enabled() {
		_ = s.cfg.Cache.CacheDelete(ctx, s.key(name))
		if name != "head" {
			s.dropFilter(ctx, name, "")
		}
	}
}

// keepMemos bounds the memos of one kind a build keeps: when a save would
// pass it, every other one of that kind that has not been read since the
// last such save goes, by name (names are hashes: about half, at random),
// or every other one of them all when each has been; those read are then
// kept, and must be read again to be kept the next time. A compare asked
// for again and again so stays, however many others are asked for once.
const keepMemos = 32

// readMark is the suffix of the mark a memo gets when it is read (see
// keepMemos). A mark decides only which memos go first, never an answer.
const readMark = ".read"

// noteRead marks the memo kept under key as read, unless it is already.
func (s *Store) noteRead(ctx context.Context, key string) {
	c := s.memos()
	if keys, err := c.CacheKeys(ctx, key); err == nil && !slices.Contains(keys, key+readMark) {
		_ = s.putIn(ctx, c, key+readMark, nil)
	}
}

func (s *Store) memoPrefix(kind string) string {
	return s.cfg.Name + "/memo/" + build() + "/" + s.secretTag + "/" + kind + "/"
}

// Memo returns the memo of the given kind saved under name by SaveMemo, if
// it is there and authentic; nil otherwise. A memo is a cache of what this
// build worked out from the log (the redlines of a compare, say), kept
// beside the checkpoints or in Config.Memos, and trusted as they are.
func (s *Store) Memo(ctx context.Context, kind, name string) []byte {
	if !s.enabled() {
		return nil
	}
	key := s.memoPrefix(kind) + name
	b := s.getIn(ctx, s.memos(), key)
	if b == nil {
		return nil
	}
	v := unpack(b, maxMemo)
	if v != nil {
		s.noteRead(ctx, key)
	}
	return v
}

// WriteMemo writes to w the memo Memo would return, a block at a time (see
// writeUnpacked), and reports whether there was an authentic one to write.
// An error is w's, or one that wraps errUnpacking: a memo that stopped
// decompressing part way. With no memo, nothing is written.
func (s *Store) WriteMemo(ctx context.Context, kind, name string, w io.Writer) (bool, error) {
	if !s.enabled() {
		return false, nil
	}
	key := s.memoPrefix(kind) + name
	b := s.getIn(ctx, s.memos(), key)
	if b == nil {
		return false, nil
	}
	written, err := writeUnpacked(w, b, maxMemo)
	if errors.Is(err, errUnpacking) {
		err = fmt.Errorf("the kept %s %s: %w", kind, name, err)
	}
	if written && err == nil {
		s.noteRead(ctx, key)
	}
	return written, err
}

// maxMemo bounds the memo Memo decompresses: more than any saved.
const maxMemo = 64 << 20

// SaveMemo keeps value as the memo of the given kind called name, among at
// most keepMemos of that kind. Failing to save is not an error a reader
// must see (a read-only store keeps none); the error is for tests. Memos are
// kept packed (see pack): one kept in the store is written twice by the
// command that makes it (the write-ahead log, then the file). value is
// only read.
func (s *Store) SaveMemo(ctx context.Context, kind, name string, value []byte) error {
	return s.saveMemo(ctx, kind, name, value, true)
}

// SaveMemoAsIs is SaveMemo, value kept unpacked when memos are kept outside
// the store (Config.Memos): for a memo a command saves before it ends, when
// packing it costs more than writing the bytes it would save (a few hundred
// kilobytes, written once to a file, from where they lie). In the store,
// which writes every value twice, it is packed all the same. Memo and
// WriteMemo read it back as they read any other.
func (s *Store) SaveMemoAsIs(ctx context.Context, kind, name string, value []byte) error {
	return s.saveMemo(ctx, kind, name, value, s.cfg.Memos == nil)
}

func (s *Store) saveMemo(ctx context.Context, kind, name string, value []byte, compress bool) error {
	if !s.enabled() {
		return nil
	}
	if len(value) > maxMemo {
		return fmt.Errorf("memo of %d bytes: more than %d are never kept", len(value), maxMemo)
	}
	laid := layOut(value, compress)
	prefix, c := s.memoPrefix(kind), s.memos()
	if keys, err := c.CacheKeys(ctx, prefix); err == nil {
		evictMemos(ctx, c, keys, prefix+name)
	}
	key := prefix + name
	if p, ok := c.(partsPutter); ok {
		return p.CachePutParts(ctx, key, append(laid, s.mac(key, laid...))...)
	}
	return s.putIn(ctx, c, key, joined(laid))
}

// partsPutter is a cache that stores a value given in parts without
// joining them first (filecache.Cache): a memo kept as it is is written
// from where it lies, not copied.
type partsPutter interface {
	CachePutParts(ctx context.Context, key string, parts ...[]byte) error
}

// evictMemos makes room among the memos of one kind in c, listed with their
// marks in keys, for the one to be saved under key (see keepMemos).
func evictMemos(ctx context.Context, c eventstore.Cache, keys []string, key string) {
	var memos, unread []string
	read := map[string]bool{}
	for _, k := range keys {
		if m, ok := strings.CutSuffix(k, readMark); ok {
			read[m] = true
		} else if k != key {
			memos = append(memos, k)
		}
	}
	if len(memos)+1 <= keepMemos {
		return
	}
	for _, k := range memos {
		if !read[k] {
			unread = append(unread, k)
		}
	}
	if len(unread) == 0 {
		unread = memos
	}
	for i, k := range unread {
		if i%2 == 0 {
			_ = c.CacheDelete(ctx, k)
		}
	}
	for m := range read {
		_ = c.CacheDelete(ctx, m+readMark)
	}
}
