package domain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
)

// closedSet holds what the state keeps of closed proposals. A long
// negotiation closes hundreds of thousands of them, and every command starts
// from a snapshot of the state, so the set is built to decode without a
// single allocation per proposal: a sorted, immutable table as it came from
// the snapshot, plus a map of the proposals closed since.
type closedSet struct {
	base   closedTable
	recent map[string]ClosedProposal
	// pending, when not nil, supplies the table's encoding on first use: a
	// command that starts from a checkpoint reads the (large) table only if
	// it looks at a closed proposal. Until then, filter answers "certainly
	// not closed" for the IDs it has never seen, and pendingLen is the
	// table's size.
	pending    func() ([]byte, error)
	pendingLen int
	filter     bloom
	// err is why the pending table could not be read.
	err error
	// stored is set when the table is the closed part the state was
	// restored from (see State.MarshalPresent), unchanged since.
	stored bool
}

// ensure reads the pending table, if there is one.
func (c *closedSet) ensure() {
	if c.pending == nil {
		return
	}
	load := c.pending
	c.pending = nil
	b, err := load()
	if err == nil {
		var t closedSet
		if err = t.unmarshal(b); err == nil && t.base.len() != c.pendingLen {
			err = fmt.Errorf("the table holds %d proposals where %d were expected", t.base.len(), c.pendingLen)
		}
		c.base = t.base
	}
	if err != nil {
		c.err = fmt.Errorf("%w (%v); run the command again, or with --no-checkpoints", ErrSnapshotPart, err)
	}
}

// ErrSnapshotPart is the error of a state whose closed proposals, left to be
// read when needed (see State.UnmarshalParts), could not be: the caller may
// read the state afresh and try again.
var ErrSnapshotPart = errors.New("the closed proposals of the checkpoint cannot be read")

// closedTable is closed proposals sorted by ID. It is read in place from
// its encoding: one string of all the IDs, and the fixed-size rows, decoded
// only when a proposal is looked at.
type closedTable struct {
	ids   string   // every ID, concatenated in order
	off   []uint32 // ID i is ids[off[i]:off[i+1]]
	rows  []byte   // rowSize bytes per proposal (see row)
	names []string // the clause IDs and party codes rows refer to
}

// A row is, little-endian: clause and party (indexes into names, uint32
// each), action and status (one byte each), then the events it was
// tabled, its round and the event it was closed (uint32 each).
const rowSize = 4 + 4 + 1 + 1 + 4 + 4 + 4

var (
	actionCodes = []Action{ActionInsert, ActionAmend, ActionDelete}
	statusCodes = []Status{StatusOpen, StatusAdopted, StatusWithdrawn}
)

func code[T comparable](all []T, v T) uint8 {
	for i, x := range all {
		if x == v {
			return uint8(i)
		}
	}
	return 0
}

func (t *closedTable) len() int { return max(len(t.off)-1, 0) }

func (t *closedTable) id(i int) string { return t.ids[t.off[i]:t.off[i+1]] }

func (t *closedTable) at(i int) ClosedProposal {
	r := t.rows[i*rowSize:]
	le := binary.LittleEndian
	return ClosedProposal{ID: t.id(i), Clause: t.names[le.Uint32(r)], Party: t.names[le.Uint32(r[4:])],
		Action: actionCodes[r[8]], Status: statusCodes[r[9]],
		Tabled: int(le.Uint32(r[10:])), Round: int(le.Uint32(r[14:])), Closed: int(le.Uint32(r[18:]))}
}

// search returns the index of the first ID not less than id.
func (t *closedTable) search(id string) int {
	return sort.Search(t.len(), func(i int) bool { return t.id(i) >= id })
}

// compactAt is how many recently closed proposals the map holds before they
// are merged into the table: a replay of a long history then holds it in
// about sixty bytes a proposal instead of a map entry's few hundred.
const compactAt = 8192

func (c *closedSet) add(p ClosedProposal) {
	if c.recent == nil {
		c.recent = map[string]ClosedProposal{}
	}
	c.recent[p.ID] = p
	c.filter.add(p.ID)
	if len(c.recent) >= compactAt {
		c.compact()
	}
}

// compact merges the recent map into the table.
func (c *closedSet) compact() {
	var merged closedSet
	if err := merged.unmarshal(c.marshal(nil)); err != nil {
		panic("domain: closed-proposal table does not read back: " + err.Error()) // a bug in marshal
	}
	*c = merged
}

func (c *closedSet) get(id string) (ClosedProposal, bool) {
	if p, ok := c.recent[id]; ok {
		return p, true
	}
	if c.pending != nil && !c.filter.mayHold(id) {
		return ClosedProposal{}, false
	}
	c.ensure()
	if i := c.base.search(id); i < c.base.len() && c.base.id(i) == id {
		return c.base.at(i), true
	}
	return ClosedProposal{}, false
}

func (c *closedSet) len() int {
	if c.pending != nil {
		return c.pendingLen + len(c.recent)
	}
	return c.base.len() + len(c.recent)
}

// each yields every closed proposal, the table's in ID order first.
func (c *closedSet) each(yield func(ClosedProposal) bool) {
	c.ensure()
	for i := range c.base.len() {
		if !yield(c.base.at(i)) {
			return
		}
	}
	for _, p := range c.recent {
		if !yield(p) {
			return
		}
	}
}

// withPrefix returns the IDs that start with prefix.
func (c *closedSet) withPrefix(prefix string) []string {
	c.ensure()
	var ids []string
	for i := c.base.search(prefix); i < c.base.len() && strings.HasPrefix(c.base.id(i), prefix); i++ {
		ids = append(ids, c.base.id(i))
	}
	for id := range c.recent {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	return ids
}

// marshal appends to b every closed proposal as one sorted table: the names,
// the count, each ID's length, the IDs, then the rows. The table read from
// the last snapshot is sorted already and keeps its names, so its rows are
// copied as they are and only the proposals closed since are encoded and
// merged in.
func (c *closedSet) marshal(b []byte) []byte {
	c.ensure()
	recent := make([]ClosedProposal, 0, len(c.recent))
	for _, p := range c.recent {
		recent = append(recent, p)
	}
	sort.Slice(recent, func(i, j int) bool { return recent[i].ID < recent[j].ID })
	names := slices.Clone(c.base.names)
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
	n := c.len()
	lens := make([]byte, 0, n)
	ids := make([]byte, 0, len(c.base.ids)+64*len(recent))
	rows := make([]byte, 0, n*rowSize)
	le := binary.LittleEndian
	for i, j := 0, 0; i < c.base.len() || j < len(recent); {
		if j == len(recent) || i < c.base.len() && c.base.id(i) < recent[j].ID {
			id := c.base.id(i)
			lens = append(lens, byte(len(id)))
			ids = append(ids, id...)
			rows = append(rows, c.base.rows[i*rowSize:(i+1)*rowSize]...)
			i++
			continue
		}
		p := recent[j]
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
	b = slices.Grow(b, size)
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

var errClosedTable = errors.New("domain: closed-proposal table is truncated or malformed")

// unmarshal reads what marshal wrote, checking every length, index and the
// order of the IDs. The table keeps referring to b's rows.
func (c *closedSet) unmarshal(b []byte) error {
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
		return errClosedTable
	}
	names := make([]string, nNames)
	for i := range names {
		l, ok := uvarint()
		if !ok || l > len(b) {
			return errClosedTable
		}
		names[i], b = string(b[:l]), b[l:]
	}
	n, ok := uvarint()
	if !ok || n > len(b) {
		return errClosedTable
	}
	off := make([]uint32, n+1)
	for i := range n {
		off[i+1] = off[i] + uint32(b[i])
	}
	b = b[n:]
	total := int(off[n])
	if len(b) != total+n*rowSize {
		return errClosedTable
	}
	ids, rows := string(b[:total]), b[total:]
	for i := 1; i < n; i++ {
		// Lookups search the table: it must be in order.
		if ids[off[i-1]:off[i]] >= ids[off[i]:off[i+1]] {
			return errClosedTable
		}
	}
	le := binary.LittleEndian
	for i := range n {
		r := rows[i*rowSize:]
		if int(le.Uint32(r)) >= nNames || int(le.Uint32(r[4:])) >= nNames ||
			int(r[8]) >= len(actionCodes) || int(r[9]) >= len(statusCodes) {
			return errClosedTable
		}
	}
	c.base = closedTable{ids: ids, off: off, rows: rows, names: names}
	c.recent = nil
	c.filter = newBloom(n)
	for i := range n {
		c.filter.add(c.base.id(i))
	}
	return nil
}

// bloom is a Bloom filter of proposal IDs: mayHold is false only for IDs
// never added. It lets a new proposal's ID be checked against every closed
// one without reading them all.
type bloom []uint64

// bloomBits per ID gives about one false "maybe" in two thousand (fewer
// while the filter has room to spare): a "maybe" costs reading every closed
// proposal, and a command asks about each proposal tabled in the hundred or
// so events it folds past its checkpoint, so fewer than one command in a
// hundred pays it. More bits would make every command read a larger
// checkpoint: at a million events the filter is most of the head's.
const bloomBits, bloomHashes = 16, 11

func newBloom(n int) bloom {
	// Room to grow: a state goes on closing proposals after its snapshot,
	// and carries up to maxCarried of them in later ones.
	return make(bloom, (bloomBits*(n+maxCarried+1024)+63)/64)
}

func (f bloom) positions(id string, yield func(i uint64)) {
	h := fnv.New64a()
	h.Write([]byte(id))
	sum := h.Sum64()
	h1, h2 := sum&0xffffffff, sum>>32|1
	m := uint64(len(f)) * 64
	for i := range uint64(bloomHashes) {
		yield((h1 + i*h2) % m)
	}
}

func (f bloom) add(id string) {
	if len(f) == 0 {
		return
	}
	f.positions(id, func(i uint64) { f[i/64] |= 1 << (i % 64) })
}

// mayHold reports whether id may have been added; an empty filter knows
// nothing and says yes.
func (f bloom) mayHold(id string) bool {
	if len(f) == 0 {
		return true
	}
	hold := true
	f.positions(id, func(i uint64) { hold = hold && f[i/64]&(1<<(i%64)) != 0 })
	return hold
}
