package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/treaty-engine/treaty/domain"
)

// table is closed proposals sorted by ID, read in place from its encoding:
// one string of all the IDs and fixed-size rows, decoded only when a
// proposal is looked at. A long negotiation's table is megabytes; it decodes
// with a handful of allocations.
type table struct {
	ids   string   // every ID, concatenated in order
	off   []uint32 // ID i is ids[off[i]:off[i+1]]
	rows  []byte   // rowSize bytes per proposal (see row)
	names []string // the clause IDs and party codes rows refer to
}

// A row is, little-endian: clause and party (indexes into names, uint32
// each), action and status (one byte each), then the event it was tabled
// in, its round and the event it was closed in (uint32 each).
const rowSize = 4 + 4 + 1 + 1 + 4 + 4 + 4

var (
	actionCodes = []domain.Action{domain.ActionInsert, domain.ActionAmend, domain.ActionDelete}
	statusCodes = []domain.Status{domain.StatusOpen, domain.StatusAdopted, domain.StatusWithdrawn}
)

func code[T comparable](all []T, v T) uint8 {
	for i, x := range all {
		if x == v {
			return uint8(i)
		}
	}
	return 0
}

func (t *table) len() int { return max(len(t.off)-1, 0) }

func (t *table) id(i int) string { return t.ids[t.off[i]:t.off[i+1]] }

// closedAt is the event that closed proposal i: a row's last field.
func (t *table) closedAt(i int) int {
	return int(binary.LittleEndian.Uint32(t.rows[i*rowSize+18:]))
}

func (t *table) at(i int) domain.ClosedProposal {
	r := t.rows[i*rowSize:]
	le := binary.LittleEndian
	return domain.ClosedProposal{ID: t.id(i), Clause: t.names[le.Uint32(r)], Party: t.names[le.Uint32(r[4:])],
		Action: actionCodes[r[8]], Status: statusCodes[r[9]],
		Tabled: int(le.Uint32(r[10:])), Round: int(le.Uint32(r[14:])), Closed: int(le.Uint32(r[18:]))}
}

// search returns the index of the first ID not less than id.
func (t *table) search(id string) int {
	return sort.Search(t.len(), func(i int) bool { return t.id(i) >= id })
}

func (t *table) lookup(id string) (domain.ClosedProposal, bool) {
	if i := t.search(id); i < t.len() && t.id(i) == id {
		return t.at(i), true
	}
	return domain.ClosedProposal{}, false
}

// encodeTable writes base's rows and every proposal of more as one sorted
// table: the names, the count, each ID's length, the IDs, then the rows.
// base's rows are copied as they are (its names are kept), so that a table
// grows by the proposals closed since without decoding the rest.
func encodeTable(base *table, more []domain.ClosedProposal) []byte {
	slices.SortFunc(more, func(a, b domain.ClosedProposal) int { return strings.Compare(a.ID, b.ID) })
	names := slices.Clone(base.names)
	index := make(map[string]uint32, len(names))
	for i, n := range names {
		index[n] = uint32(i)
	}
	name := func(s string) uint32 {
		i, ok := index[s]
		if !ok {
			i = uint32(len(names))
			index[s] = i
			names = append(names, s)
		}
		return i
	}
	n := base.len() + len(more)
	lens := make([]byte, 0, n)
	ids := make([]byte, 0, len(base.ids)+40*len(more))
	rows := make([]byte, 0, n*rowSize)
	le := binary.LittleEndian
	for i, j := 0, 0; i < base.len() || j < len(more); {
		if j == len(more) || i < base.len() && base.id(i) < more[j].ID {
			id := base.id(i)
			lens = append(lens, byte(len(id)))
			ids = append(ids, id...)
			rows = append(rows, base.rows[i*rowSize:(i+1)*rowSize]...)
			i++
			continue
		}
		p := more[j]
		j++
		lens = append(lens, byte(len(p.ID))) // proposal IDs are slugs of at most 64 bytes
		ids = append(ids, p.ID...)
		rows = le.AppendUint32(rows, name(p.Clause))
		rows = le.AppendUint32(rows, name(p.Party))
		rows = append(rows, code(actionCodes, p.Action), code(statusCodes, p.Status))
		rows = le.AppendUint32(rows, uint32(p.Tabled))
		rows = le.AppendUint32(rows, uint32(p.Round))
		rows = le.AppendUint32(rows, uint32(p.Closed))
	}
	size := len(lens) + len(ids) + len(rows) + (len(names)+2)*binary.MaxVarintLen64
	for _, n := range names {
		size += len(n)
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, lens...)
	b = append(b, ids...)
	return append(b, rows...)
}

var errTable = errors.New("the closed-proposal table is truncated or malformed")

// decodeTable reads what encodeTable wrote, checking every length, index and
// the order of the IDs. The table keeps referring to b.
func decodeTable(b []byte) (table, error) {
	uvarint := func() (int, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > uint64(len(b)) {
			return 0, false
		}
		b = b[n:]
		return int(v), true
	}
	nNames, ok := uvarint()
	if !ok {
		return table{}, errTable
	}
	names := make([]string, nNames)
	for i := range names {
		l, ok := uvarint()
		if !ok || l > len(b) {
			return table{}, errTable
		}
		names[i], b = string(b[:l]), b[l:]
	}
	n, ok := uvarint()
	if !ok || n > len(b) {
		return table{}, errTable
	}
	off := make([]uint32, n+1)
	for i := range n {
		off[i+1] = off[i] + uint32(b[i])
	}
	b = b[n:]
	total := int(off[n])
	if len(b) != total+n*rowSize {
		return table{}, errTable
	}
	ids, rows := string(b[:total]), b[total:]
	for i := 1; i < n; i++ {
		// Lookups search the table: it must be in order.
		if ids[off[i-1]:off[i]] >= ids[off[i]:off[i+1]] {
			return table{}, errTable
		}
	}
	le := binary.LittleEndian
	for i := range n {
		r := rows[i*rowSize:]
		if int(le.Uint32(r)) >= nNames || int(le.Uint32(r[4:])) >= nNames ||
			int(r[8]) >= len(actionCodes) || int(r[9]) >= len(statusCodes) {
			return table{}, errTable
		}
	}
	return table{ids: ids, off: off, rows: rows, names: names}, nil
}

// closed is the record of closed proposals of a state restored from a
// checkpoint: the table of its closed part, read only when a closed
// proposal is looked at, and the proposals closed since, in memory. Until
// the table is read, the filter answers "certainly not closed" for IDs it
// has never seen, which is what a new proposal's ID usually gets asked.
type closed struct {
	// mu guards what is read on first need (loaded, base, loadErr, index,
	// prefixes, hasIndex): a state shared among readers (see Live) may be
	// asked about closed proposals on several goroutines.
	mu sync.Mutex
	// load reads the table; it is called once, on first need.
	load     func() (table, error)
	base     table
	loaded   bool
	loadErr  error
	baseLen  int // the table's size, known before it is read
	recent   domain.ClosedProposals
	filter   *filter // of the table's IDs; those closed since are in recent
	closedAt int     // the point of the closed part the table is, 0: none of its own
	// index reads the head of the table's prefix index, if one was saved,
	// on first need; it is nil once read (or when there is none to read).
	index    func() (*prefixIndex, bool)
	prefixes *prefixIndex
	hasIndex bool
}

var _ domain.ClosedProposals = (*closed)(nil)

func (c *closed) ensure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		c.loaded = true
		t, err := c.load()
		if err == nil && t.len() != c.baseLen {
			err = fmt.Errorf("the checkpoint's closed proposals number %d where %d were expected", t.len(), c.baseLen)
		}
		c.base, c.loadErr = t, err
	}
	return c.loadErr
}

func (c *closed) Lookup(id string) (domain.ClosedProposal, bool, error) {
	if p, ok, _ := c.recent.Lookup(id); ok {
		return p, true, nil
	}
	if !c.isLoaded() && !c.filter.mayHold(id) {
		return domain.ClosedProposal{}, false, nil
	}
	if err := c.ensure(); err != nil {
		return domain.ClosedProposal{}, false, err
	}
	p, ok := c.base.lookup(id)
	return p, ok, nil
}

// isLoaded reports whether the table has been read.
func (c *closed) isLoaded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loaded
}

func (c *closed) Add(p domain.ClosedProposal) {
	c.recent.Add(p)
}

func (c *closed) Len() int { return c.baseLen + c.recent.Len() }

func (c *closed) All() iter.Seq2[domain.ClosedProposal, error] {
	return func(yield func(domain.ClosedProposal, error) bool) {
		if err := c.ensure(); err != nil {
			yield(domain.ClosedProposal{}, err)
			return
		}
		for i := range c.base.len() {
			if !yield(c.base.at(i), nil) {
				return
			}
		}
		for p, err := range c.recent.All() {
			if !yield(p, err) {
				return
			}
		}
	}
}

func (c *closed) WithPrefix(prefix string) ([]string, error) {
	c.mu.Lock()
	if !c.loaded && c.index != nil {
		c.prefixes, c.hasIndex = c.index()
		c.index = nil
	}
	skip := !c.loaded && c.hasIndex && !c.prefixes.mayStart(prefix)
	c.mu.Unlock()
	if skip {
		return c.recent.WithPrefix(prefix)
	}
	if err := c.ensure(); err != nil {
		return nil, err
	}
	var ids []string
	for i := c.base.search(prefix); i < c.base.len() && strings.HasPrefix(c.base.id(i), prefix); i++ {
		ids = append(ids, c.base.id(i))
	}
	more, err := c.recent.WithPrefix(prefix)
	return append(ids, more...), err
}

// Between yields the proposals closed by events (lo, hi], in no
// particular order, and then stops; an error, if any, comes last. It reads
// of each row of the table only the event that closed it until one is in
// range: a long history's table is hundreds of thousands of rows.
func (c *closed) Between(lo, hi int) iter.Seq2[domain.ClosedProposal, error] {
	return func(yield func(domain.ClosedProposal, error) bool) {
		if err := c.ensure(); err != nil {
			yield(domain.ClosedProposal{}, err)
			return
		}
		for i := range c.base.len() {
			if n := c.base.closedAt(i); n <= lo || n > hi {
				continue
			}
			if !yield(c.base.at(i), nil) {
				return
			}
		}
		for p, err := range c.recent.All() {
			if err == nil && (p.Closed <= lo || p.Closed > hi) {
				continue
			}
			if !yield(p, err) || err != nil {
				return
			}
		}
	}
}

// recentRecords lists the proposals closed since the table.
func (c *closed) recentRecords() ([]domain.ClosedProposal, error) {
	var ps []domain.ClosedProposal
	for p, err := range c.recent.All() {
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// filter is a Bloom filter of proposal IDs: mayHold is false only for IDs
// never added. It lets a new proposal's ID be checked against every closed
// one without reading them all. It is kept in shards, each a cache value of
// its own read on first need: an ID's bits all lie in one shard, so a
// command that asks about one ID reads one shard, not the whole filter (at
// a million events it would be half of the head's checkpoint, read by
// every command).
type filter struct {
	shards, words int // how many shards, and 64-bit words in each
	// mu guards parts and read: a state shared among readers (see Live)
	// may be asked about IDs on several goroutines.
	mu    sync.Mutex
	parts []bloom // by shard; nil until read or built
	read  []bool  // by shard: whether load was called
	// load reads shard i; nil when it cannot be read (then every ID may
	// be held). Nil for a filter built in memory.
	load func(i int) bloom
}

// bloom is one shard of a filter.
type bloom []uint64

// bloomBits per ID gives about one false "maybe" in a hundred thousand
// (fewer while the filter has room to spare). A "maybe" costs reading every
// closed proposal, and every command that folds past the same events asks
// again until a checkpoint covers them: a command asks about the proposals
// tabled in the events it folds past its checkpoint (a few).
const bloomBits, bloomHashes = 24, 17

// shardWords is the size of a shard, 8 KB. A command asks about a few new
// IDs (the ones tabled since its checkpoint, and its own), a shard read for
// each: a lookup in the cache, then the shard copied, authenticated and
// decoded, which for large shards costs an act more than the lookups do.
// Smaller shards read no faster, and a round's save writes every one.
const shardWords = 1024

// newFilter returns an empty filter sized for n IDs, every shard in memory.
func newFilter(n int) *filter {
	total := (bloomBits*(n+1024) + 63) / 64
	shards := (total + shardWords - 1) / shardWords
	f := &filter{shards: shards, words: (total + shards - 1) / shards}
	f.parts = make([]bloom, shards)
	for i := range f.parts {
		f.parts[i] = make(bloom, f.words)
	}
	return f
}

// shape is how many shards the filter has, and 64-bit words in each; 0, 0
// for no filter.
func (f *filter) shape() (shards, words int) {
	if f == nil {
		return 0, 0
	}
	return f.shards, f.words
}

// capacity is how many IDs the filter was sized for, at least.
func (f *filter) capacity() int {
	if f == nil {
		return 0
	}
	return f.shards*f.words*64/bloomBits - 1024
}

// hashes returns the shard of id and the two hashes its bits derive from.
func (f *filter) hashes(id string) (shard int, h1, h2 uint64) {
	h := fnv.New64a()
	h.Write([]byte(id))
	sum := h.Sum64()
	return int((sum * 0x9e3779b97f4a7c15 >> 32) % uint64(f.shards)), sum & 0xffffffff, sum>>32 | 1
}

func (f *filter) add(id string) {
	i, h1, h2 := f.hashes(id)
	p := f.parts[i]
	m := uint64(len(p)) * 64
	for k := range uint64(bloomHashes) {
		b := (h1 + k*h2) % m
		p[b/64] |= 1 << (b % 64)
	}
}

// part returns shard i, reading it on first need; nil if it cannot be read.
func (f *filter) part(i int) bloom {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.parts == nil {
		f.parts, f.read = make([]bloom, f.shards), make([]bool, f.shards)
	}
	if f.parts[i] == nil && f.load != nil && !f.read[i] {
		f.read[i] = true
		if p := f.load(i); len(p) == f.words {
			f.parts[i] = p
		}
	}
	return f.parts[i]
}

// mayHold reports whether id may have been added; a filter that is absent,
// or whose shard cannot be read, knows nothing and says yes.
func (f *filter) mayHold(id string) bool {
	if f == nil || f.shards == 0 {
		return true
	}
	i, h1, h2 := f.hashes(id)
	p := f.part(i)
	if p == nil {
		return true
	}
	m := uint64(len(p)) * 64
	for k := range uint64(bloomHashes) {
		b := (h1 + k*h2) % m
		if p[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// whole returns a copy of the filter with every shard in memory, or nil if
// a shard cannot be read.
func (f *filter) whole() *filter {
	if f == nil || f.shards == 0 {
		return nil
	}
	c := &filter{shards: f.shards, words: f.words, parts: make([]bloom, f.shards)}
	for i := range c.parts {
		p := f.part(i)
		if p == nil {
			return nil
		}
		c.parts[i] = slices.Clone(p)
	}
	return c
}

func encodeBloom(p bloom) []byte {
	b := make([]byte, 0, 8*len(p))
	for _, w := range p {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// decodeBloom reads what encodeBloom wrote; nil if b is not that.
func decodeBloom(b []byte) bloom {
	if len(b) == 0 || len(b)%8 != 0 {
		return nil
	}
	p := make(bloom, len(b)/8)
	for i := range p {
		p[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return p
}

// prefixLen is how many leading characters of each closed proposal's ID the
// prefix index keeps: the short IDs the views print.
const prefixLen = 8

// prefixes is the index of a closed part's IDs by their first prefixLen
// characters in ASCII lower case: the keys prefixKey packs, sorted, each in
// eight bytes big-endian, as saved. It tells that no closed proposal starts
// with a prefix without reading the part (megabytes in a long negotiation),
// which is what resolving an open proposal's short ID needs; searched where
// it was read, as it is itself megabytes there.
type prefixes []byte

// len is the number of keys in p.
func (p prefixes) len() int { return len(p) / 8 }

// key is p's i-th key.
func (p prefixes) key(i int) uint64 { return binary.BigEndian.Uint64(p[8*i:]) }

// prefixKey packs the first prefixLen characters of s, lower-cased, padded
// with pad.
func prefixKey(s string, pad byte) uint64 {
	var k uint64
	for i := range prefixLen {
		c := pad
		if i < len(s) {
			c = s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
		}
		k = k<<8 | uint64(c)
	}
	return k
}

func newPrefixes(t *table) prefixes {
	keys := make([]uint64, 0, t.len())
	for i := range t.len() {
		keys = append(keys, prefixKey(t.id(i), 0))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	p := make(prefixes, 0, 8*len(keys))
	for _, k := range keys {
		p = binary.BigEndian.AppendUint64(p, k)
	}
	return p
}

// mayStart reports whether an ID of the index may start with prefix, in any
// case: false means none does; true, that one starts with its first
// prefixLen characters.
func (p prefixes) mayStart(prefix string) bool {
	lo, hi := prefixKey(prefix, 0), prefixKey(prefix, 0xff)
	i := sort.Search(p.len(), func(i int) bool { return p.key(i) >= lo })
	return i < p.len() && p.key(i) <= hi
}

// prefixChunk is how many keys each stored chunk of a prefix index holds:
// 16 KiB, where the whole index of a million events' closed proposals runs
// to 1.5 MB, all of which a store would read and authenticate to resolve
// one short ID.
const prefixChunk = 2048

// prefixIndex is a prefix index as stored: its keys cut, in order, into
// chunks of prefixChunk keys, each a value of its own (see prefixChunkKey),
// and a head (the value prefixesKey names) holding the number of keys and
// each chunk's first key and digest (SHA-256, its first 8 bytes: a chunk
// is authentic on its own, and the digest ties it to this index, not to
// another saved under the same name). A reader reads the head, then only
// the chunk a prefix's keys would be in (two, where they could straddle a
// cut).
type prefixIndex struct {
	keys    int
	firsts  []uint64
	digests []uint64
	// load reads chunk i; chunks holds those read, nil for one that could
	// not be (missing, not authentic, not the keys the head says).
	load   func(i int) (prefixes, bool)
	chunks map[int]prefixes
}

// splitPrefixes cuts p into the head and chunks of its prefixIndex.
func splitPrefixes(p prefixes) (head []byte, chunks [][]byte) {
	head = binary.AppendUvarint(nil, uint64(p.len()))
	for i := 0; i < p.len(); i += prefixChunk {
		end := 8 * min(i+prefixChunk, p.len())
		// Capped: put appends the authentication to each.
		chunk := p[8*i : end : end]
		head = binary.BigEndian.AppendUint64(head, p.key(i))
		head = binary.BigEndian.AppendUint64(head, chunkDigest(chunk))
		chunks = append(chunks, chunk)
	}
	return head, chunks
}

// chunkDigest is the first 8 bytes of the SHA-256 of a chunk.
func chunkDigest(chunk []byte) uint64 {
	sum := sha256.Sum256(chunk)
	return binary.BigEndian.Uint64(sum[:8])
}

// decodePrefixIndex reads a head splitPrefixes wrote, or false when b is
// not one: a chunk for every prefixChunk keys, their first keys in order,
// each with its digest.
func decodePrefixIndex(b []byte, load func(i int) (prefixes, bool)) (*prefixIndex, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b))*prefixChunk {
		return nil, false
	}
	b = b[w:]
	chunks := (int(n) + prefixChunk - 1) / prefixChunk
	if len(b) != 16*chunks {
		return nil, false
	}
	x := &prefixIndex{keys: int(n), firsts: make([]uint64, chunks), digests: make([]uint64, chunks), load: load, chunks: map[int]prefixes{}}
	for i := range x.firsts {
		x.firsts[i] = binary.BigEndian.Uint64(b[16*i:])
		x.digests[i] = binary.BigEndian.Uint64(b[16*i+8:])
		if i > 0 && x.firsts[i] <= x.firsts[i-1] {
			return nil, false
		}
	}
	return x, true
}

// mayStart is prefixes.mayStart over the whole index, reading the chunks
// it needs; true, too, when one of them cannot be read: the part answers.
func (x *prefixIndex) mayStart(prefix string) bool {
	lo, hi := prefixKey(prefix, 0), prefixKey(prefix, 0xff)
	// A key in [lo, hi] is in the last chunk that starts at or before it.
	after := func(k uint64) int { return sort.Search(len(x.firsts), func(i int) bool { return x.firsts[i] > k }) }
	for i := max(after(lo)-1, 0); i < after(hi); i++ {
		c, ok := x.chunk(i)
		if !ok || c.mayStart(prefix) {
			return true
		}
	}
	return false
}

// chunk returns chunk i, read once, if it is the one the head names.
func (x *prefixIndex) chunk(i int) (prefixes, bool) {
	c, read := x.chunks[i]
	if !read {
		var ok bool
		c, ok = x.load(i)
		if !ok || c.len() != min(prefixChunk, x.keys-i*prefixChunk) || c.key(0) != x.firsts[i] || chunkDigest(c) != x.digests[i] {
			c = nil
		}
		x.chunks[i] = c
	}
	return c, c != nil
}

// decodePrefixes returns the keys saved as b (a chunk of a prefixIndex), which
// it keeps, or false when b is not that: not whole keys, or not in order.
func decodePrefixes(b []byte) (prefixes, bool) {
	p := prefixes(b)
	if len(b)%8 != 0 {
		return nil, false
	}
	for i := 1; i < p.len(); i++ {
		if p.key(i) <= p.key(i-1) {
			return nil, false
		}
	}
	return p, true
}
