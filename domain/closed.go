package domain

import (
	"encoding/binary"
	"errors"
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
}

// closedTable is closed proposals sorted by ID, column by column.
type closedTable struct {
	ids   string   // every ID, concatenated in order
	off   []uint32 // ID i is ids[off[i]:off[i+1]]
	rows  []closedRow
	names []string // the clause IDs and party codes rows refer to
}

type closedRow struct {
	clause, party          uint32 // indexes into names
	action, status         uint8
	tabled, round, closeAt uint32
}

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

func (t *closedTable) len() int { return len(t.rows) }

func (t *closedTable) id(i int) string { return t.ids[t.off[i]:t.off[i+1]] }

func (t *closedTable) at(i int) ClosedProposal {
	r := t.rows[i]
	return ClosedProposal{ID: t.id(i), Clause: t.names[r.clause], Party: t.names[r.party],
		Action: actionCodes[r.action], Status: statusCodes[r.status],
		Tabled: int(r.tabled), Round: int(r.round), Closed: int(r.closeAt)}
}

// search returns the index of the first ID not less than id.
func (t *closedTable) search(id string) int {
	return sort.Search(t.len(), func(i int) bool { return t.id(i) >= id })
}

func (c *closedSet) add(p ClosedProposal) {
	if c.recent == nil {
		c.recent = map[string]ClosedProposal{}
	}
	c.recent[p.ID] = p
}

func (c *closedSet) get(id string) (ClosedProposal, bool) {
	if p, ok := c.recent[id]; ok {
		return p, true
	}
	if i := c.base.search(id); i < c.base.len() && c.base.id(i) == id {
		return c.base.at(i), true
	}
	return ClosedProposal{}, false
}

func (c *closedSet) len() int { return c.base.len() + len(c.recent) }

// each yields every closed proposal, the table's in ID order first.
func (c *closedSet) each(yield func(ClosedProposal) bool) {
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

// marshal encodes every closed proposal as one sorted table: a count, the
// names, the IDs, then fixed-size rows, all little-endian.
func (c *closedSet) marshal() []byte {
	all := make([]ClosedProposal, 0, c.len())
	for p := range c.each {
		all = append(all, p)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	index := map[string]uint32{}
	var names []string
	name := func(s string) uint32 {
		i, ok := index[s]
		if !ok {
			i = uint32(len(names))
			index[s] = i
			names = append(names, s)
		}
		return i
	}
	rows := make([]closedRow, len(all))
	for i, p := range all {
		rows[i] = closedRow{clause: name(p.Clause), party: name(p.Party), action: code(actionCodes, p.Action),
			status: code(statusCodes, p.Status), tabled: uint32(p.Tabled), round: uint32(p.Round), closeAt: uint32(p.Closed)}
	}
	b := binary.AppendUvarint(nil, uint64(len(names)))
	for _, n := range names {
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	b = binary.AppendUvarint(b, uint64(len(all)))
	for _, p := range all {
		b = append(b, byte(len(p.ID)))
		b = append(b, p.ID...)
	}
	for _, r := range rows {
		b = binary.LittleEndian.AppendUint32(b, r.clause)
		b = binary.LittleEndian.AppendUint32(b, r.party)
		b = append(b, r.action, r.status)
		b = binary.LittleEndian.AppendUint32(b, r.tabled)
		b = binary.LittleEndian.AppendUint32(b, r.round)
		b = binary.LittleEndian.AppendUint32(b, r.closeAt)
	}
	return b
}

const rowSize = 4 + 4 + 1 + 1 + 4 + 4 + 4

var errClosedTable = errors.New("domain: closed-proposal table is truncated or malformed")

// unmarshal decodes what marshal wrote, checking every length and index.
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
	var ids strings.Builder
	off := make([]uint32, n+1)
	for i := range n {
		if len(b) < 1 || int(b[0])+1 > len(b) {
			return errClosedTable
		}
		l := int(b[0])
		ids.Write(b[1 : 1+l])
		b = b[1+l:]
		off[i+1] = off[i] + uint32(l)
	}
	all := ids.String()
	for i := 1; i < n; i++ {
		// Lookups search the table: it must be in order.
		if all[off[i-1]:off[i]] >= all[off[i]:off[i+1]] {
			return errClosedTable
		}
	}
	if len(b) != n*rowSize {
		return errClosedTable
	}
	rows := make([]closedRow, n)
	for i := range rows {
		r := b[i*rowSize:]
		rows[i] = closedRow{clause: binary.LittleEndian.Uint32(r), party: binary.LittleEndian.Uint32(r[4:]),
			action: r[8], status: r[9], tabled: binary.LittleEndian.Uint32(r[10:]),
			round: binary.LittleEndian.Uint32(r[14:]), closeAt: binary.LittleEndian.Uint32(r[18:])}
		if int(rows[i].clause) >= nNames || int(rows[i].party) >= nNames ||
			int(rows[i].action) >= len(actionCodes) || int(rows[i].status) >= len(statusCodes) {
			return errClosedTable
		}
	}
	c.base = closedTable{ids: all, off: off, rows: rows, names: names}
	c.recent = nil
	return nil
}
