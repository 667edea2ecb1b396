package domain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// snapshotVersion changes whenever State or the meaning of a fold changes, so
// that snapshots written by older code are ignored, never misread.
const snapshotVersion = 9

// SnapshotVersion identifies the encoding of MarshalBinary and the fold that
// produced it; callers that cache snapshots key them by it.
func SnapshotVersion() int { return snapshotVersion }

// MarshalBinary encodes the state so that UnmarshalBinary restores one equal
// to it: MarshalParts' two parts, one after the other. A state in the middle
// of a command (a unanimity completed but not yet adopted) cannot be encoded:
// it is never a state worth keeping.
func (s *State) MarshalBinary() ([]byte, error) {
	present, closed, err := s.MarshalParts()
	if err != nil {
		return nil, err
	}
	out := binary.AppendUvarint(make([]byte, 0, len(present)+len(closed)+10), uint64(len(present)))
	out = append(out, present...)
	return append(out, closed...), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary of the same
// SnapshotVersion; any other version is refused. The state may keep
// referring to data, which the caller must not change afterwards.
func (s *State) UnmarshalBinary(data []byte) error {
	n, w := binary.Uvarint(data)
	if w <= 0 || n > uint64(len(data)-w) {
		return errors.New("domain: snapshot is truncated")
	}
	closed := data[w+int(n):]
	if err := s.UnmarshalParts(data[w:w+int(n)], func() ([]byte, error) { return closed, nil }); err != nil {
		return err
	}
	s.closed.ensure()
	return s.closed.err
}

// MarshalParts encodes the state in two parts: the present (parties, rounds,
// clauses, open proposals, keys, and a filter of the closed proposals' IDs)
// and the table of closed proposals, which makes up most of a long
// negotiation's bytes and which UnmarshalParts reads only when it is needed.
func (s *State) MarshalParts() (present, closed []byte, err error) {
	if err := s.snapshotable(); err != nil {
		return nil, nil, err
	}
	closed = s.closed.marshal(nil)
	if s.closed.err != nil {
		return nil, nil, s.closed.err
	}
	var table closedSet
	if err := table.unmarshal(closed); err != nil {
		return nil, nil, err
	}
	e := s.encodePresent()
	e.uint(uint64(table.base.len()))
	e.uint(0) // no proposal closed since the table
	e.filter(table.filter)
	return e.b, closed, nil
}

// snapshotable refuses a state in the middle of a command (a unanimity
// completed but not yet adopted): it is never a state worth keeping.
func (s *State) snapshotable() error {
	if s.pending != "" {
		return errors.New("domain: state awaits the adoption of " + s.pending + "; snapshot it after the adoption")
	}
	return nil
}

// maxCarried bounds the proposals closed since its closed part that a
// present part carries (see MarshalPresent): a hundred kilobytes or so.
const maxCarried = 2048

// MarshalPresent encodes the present part alone, for a state restored by
// UnmarshalParts whose closed part still serves it: the proposals closed
// since are carried in the present part, so that a checkpoint of a long
// negotiation costs its present, not a new copy of every closed proposal.
// ok is false when the closed part no longer serves (the state was not
// restored from parts, or has closed too many proposals since): then
// MarshalParts must write both parts.
func (s *State) MarshalPresent() (present []byte, ok bool, err error) {
	c := &s.closed
	if err := s.snapshotable(); err != nil {
		return nil, false, err
	}
	if !c.stored || c.err != nil || len(c.recent) > maxCarried {
		return nil, false, c.err
	}
	base := c.pendingLen
	if c.pending == nil {
		base = c.base.len()
	}
	e := s.encodePresent()
	e.uint(uint64(base))
	e.uint(uint64(len(c.recent)))
	for _, id := range slices.Sorted(maps.Keys(c.recent)) {
		p := c.recent[id]
		e.str(p.ID)
		e.str(p.Clause)
		e.str(p.Party)
		e.str(string(p.Action))
		e.str(string(p.Status))
		e.int(p.Tabled)
		e.int(p.Round)
		e.int(p.Closed)
	}
	e.filter(c.filter)
	return e.b, true, nil
}

// MarshalPresentAlone encodes the present part as MarshalParts does, every
// closed proposal counted in one table, without encoding the table: for a
// checkpoint whose closed part is cut, when needed, from a later state's
// (see ClosedPartAt).
func (s *State) MarshalPresentAlone() ([]byte, error) {
	c := &s.closed
	if err := s.snapshotable(); err != nil {
		return nil, err
	}
	filter := c.filter
	if n := c.len(); len(filter)*64 < bloomBits*n {
		// A state folded from the start filters only what it compacted.
		filter = newBloom(n)
		for p := range c.each {
			filter.add(p.ID)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	e := s.encodePresent()
	e.uint(uint64(c.len()))
	e.uint(0)
	e.filter(filter)
	return e.b, nil
}

func (e *encoder) filter(f bloom) {
	for _, word := range f {
		e.b = binary.LittleEndian.AppendUint64(e.b, word)
	}
}

// UnmarshalParts restores a state from MarshalParts' present part; closed
// supplies the other part the first time a closed proposal is looked at. If
// it cannot, the state says why through Err, and refuses every event and
// command from then on.
func (s *State) UnmarshalParts(present []byte, closed func() ([]byte, error)) error {
	d := &decoder{b: present}
	if v := d.uint(); v != snapshotVersion {
		if d.err != nil {
			return fmt.Errorf("domain: snapshot does not decode: %w", d.err)
		}
		return fmt.Errorf("domain: snapshot version %d, this code reads %d", v, snapshotVersion)
	}
	var st State
	st.decodePresent(d)
	count := d.uint()
	var recent map[string]ClosedProposal
	if n := d.count(); n > 0 {
		recent = make(map[string]ClosedProposal, n)
		for range n {
			p := ClosedProposal{ID: d.str(), Clause: d.str(), Party: d.str(), Action: Action(d.str()), Status: Status(d.str()),
				Tabled: d.int(), Round: d.int(), Closed: d.int()}
			recent[p.ID] = p
		}
	}
	if d.err != nil || count > 1<<32 || len(d.b)%8 != 0 {
		return fmt.Errorf("domain: snapshot does not decode: %w", errors.Join(d.err, errors.New("malformed")))
	}
	filter := make(bloom, len(d.b)/8)
	for i := range filter {
		filter[i] = binary.LittleEndian.Uint64(d.b[8*i:])
	}
	st.closed = closedSet{pending: closed, pendingLen: int(count), recent: recent, filter: filter, stored: true}
	*s = st
	return nil
}

// Err reports why the state cannot be trusted any more: a part of its
// snapshot (see UnmarshalParts) that could not be read when it was needed.
// Views built from a state should check it.
func (s *State) Err() error { return s.closed.err }

// The present part is written field by field, maps in key order so that
// equal states encode alike: a hand-written encoding decodes several times
// faster than a reflective one, and every command reads one.

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int)     { e.b = binary.AppendVarint(e.b, int64(v)) }
func (e *encoder) str(v string)  { e.uint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// decoder reads what encoder wrote; the first error sticks and every later
// read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) str() string {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	v := string(d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *decoder) bool() bool {
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail()
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

// count reads a length, refusing one the remaining bytes cannot hold.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errTruncated
	}
	d.b = nil
}

func (s *State) encodePresent() *encoder {
	e := &encoder{b: make([]byte, 0, 64<<10)}
	e.uint(snapshotVersion)
	e.str(s.Treaty)
	e.str(s.Title)
	e.uint(uint64(len(s.Parties)))
	for _, p := range s.Parties {
		e.str(p.Code)
		e.str(p.Name)
		e.str(string(p.Role))
	}
	e.int(s.Events)
	e.uint(uint64(len(s.Rounds)))
	for _, r := range s.Rounds {
		e.int(r.Number)
		e.str(r.Name)
		e.int(r.Opened)
		e.int(r.Closed)
	}
	e.uint(uint64(len(s.Order)))
	for _, id := range s.Order {
		e.str(id)
	}
	e.uint(uint64(len(s.Clauses)))
	for _, id := range slices.Sorted(maps.Keys(s.Clauses)) {
		c := s.Clauses[id]
		e.str(c.ID)
		e.str(c.Heading)
		e.str(c.Text)
		e.int(c.Revision)
		e.bool(c.Deleted)
	}
	e.uint(uint64(len(s.Keys)))
	for _, party := range slices.Sorted(maps.Keys(s.Keys)) {
		e.str(party)
		e.str(s.Keys[party])
	}
	e.int(s.Tabled)
	e.int(s.Adopted)
	e.int(s.Withdrawn)
	e.bool(s.KeepClosed)
	e.uint(uint64(len(s.Proposals)))
	for _, id := range slices.Sorted(maps.Keys(s.Proposals)) {
		p := s.Proposals[id]
		e.str(p.Proposal)
		e.str(p.Clause)
		e.str(p.Party)
		e.str(string(p.Action))
		e.str(p.Text)
		e.bool(p.Heading != nil)
		if p.Heading != nil {
			e.str(*p.Heading)
		}
		e.str(p.After)
		e.bool(p.First)
		e.int(p.BaseRevision)
		e.str(p.Note)
		e.int(p.Tabled)
		e.int(p.Round)
		e.str(string(p.Status))
		e.int(p.Closed)
		e.bool(p.Placed)
		e.uint(uint64(len(p.Positions)))
		for _, party := range slices.Sorted(maps.Keys(p.Positions)) {
			pos := p.Positions[party]
			e.str(party)
			e.str(string(pos.Stance))
			e.str(pos.Reason)
			e.int(pos.Event)
		}
	}
	e.uint(uint64(len(s.byClause)))
	for _, clause := range slices.Sorted(maps.Keys(s.byClause)) {
		e.str(clause)
		ids := s.byClause[clause]
		e.uint(uint64(len(ids)))
		for _, id := range ids {
			e.str(id)
		}
	}
	return e
}

func (s *State) decodePresent(d *decoder) {
	s.Treaty, s.Title = d.str(), d.str()
	s.Parties = make([]Party, d.count())
	for i := range s.Parties {
		s.Parties[i] = Party{Code: d.str(), Name: d.str(), Role: Role(d.str())}
	}
	s.Events = d.int()
	if n := d.count(); n > 0 {
		s.Rounds = make([]Round, n)
		for i := range s.Rounds {
			s.Rounds[i] = Round{Number: d.int(), Name: d.str(), Opened: d.int(), Closed: d.int()}
		}
	}
	if n := d.count(); n > 0 {
		s.Order = make([]string, n)
		for i := range s.Order {
			s.Order[i] = d.str()
		}
	}
	n := d.count()
	s.Clauses = make(map[string]*Clause, n)
	for range n {
		c := &Clause{ID: d.str(), Heading: d.str(), Text: d.str(), Revision: d.int(), Deleted: d.bool()}
		s.Clauses[c.ID] = c
	}
	if n := d.count(); n > 0 {
		s.Keys = make(map[string]string, n)
		for range n {
			party := d.str()
			s.Keys[party] = d.str()
		}
	}
	s.Tabled, s.Adopted, s.Withdrawn = d.int(), d.int(), d.int()
	s.KeepClosed = d.bool()
	n = d.count()
	s.Proposals = make(map[string]*Proposal, n)
	for range n {
		p := &Proposal{}
		p.Proposal, p.Clause, p.Party, p.Action, p.Text = d.str(), d.str(), d.str(), Action(d.str()), d.str()
		if d.bool() {
			h := d.str()
			p.Heading = &h
		}
		p.After, p.First, p.BaseRevision, p.Note = d.str(), d.bool(), d.int(), d.str()
		p.Tabled, p.Round, p.Status, p.Closed, p.Placed = d.int(), d.int(), Status(d.str()), d.int(), d.bool()
		m := d.count()
		p.Positions = make(map[string]Position, m)
		for range m {
			party := d.str()
			p.Positions[party] = Position{Stance: Stance(d.str()), Reason: d.str(), Event: d.int()}
		}
		s.Proposals[p.Proposal] = p
	}
	n = d.count()
	s.byClause = make(map[string][]string, n)
	for range n {
		clause := d.str()
		ids := make([]string, d.count())
		for i := range ids {
			ids[i] = d.str()
		}
		s.byClause[clause] = ids
	}
}

// ClosedPartAt returns the closed part (see MarshalParts) of the state
// after the first n events of its log, cut from the state's own closed
// proposals: a proposal closed by event n is closed in every later state,
// with the same record, so the cut is exact. It lets the checkpoints of
// many points share one copy of the closed proposals.
func (s *State) ClosedPartAt(n int) ([]byte, error) {
	var cut closedSet
	for p := range s.closed.each {
		if p.Closed <= n {
			if cut.recent == nil {
				cut.recent = map[string]ClosedProposal{}
			}
			cut.recent[p.ID] = p // no add: no filter, no compaction
		}
	}
	if s.closed.err != nil {
		return nil, s.closed.err
	}
	return cut.marshal(nil), nil
}
