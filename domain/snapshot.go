package domain

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
)

// snapshotVersion changes whenever State or the meaning of a fold changes, so
// that snapshots written by older code are ignored, never misread.
const snapshotVersion = 5

// SnapshotVersion identifies the encoding of MarshalBinary and the fold that
// produced it; callers that cache snapshots key them by it.
func SnapshotVersion() int { return snapshotVersion }

type snapshot struct {
	Version    int
	Treaty     string
	Title      string
	Parties    []Party
	Events     int
	Rounds     []Round
	Order      []string
	Clauses    map[string]*Clause
	Keys       map[string]string
	Counts     [3]int // tabled, adopted, withdrawn
	Proposals  map[string]*Proposal
	KeepClosed bool
	// Open lists each clause's open proposals in tabling order, which the
	// proposals map cannot keep.
	Open map[string][]string
	// EmptyHeadings lists the proposals whose heading is present but empty:
	// gob cannot tell a pointer to "" from nil, and the two mean different
	// things (clear the heading, keep it).
	EmptyHeadings []string
}

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
	if s.pending != "" {
		return nil, nil, errors.New("domain: state awaits the adoption of " + s.pending + "; snapshot it after the adoption")
	}
	if s.closed.err != nil {
		return nil, nil, s.closed.err
	}
	snap := snapshot{
		Version: snapshotVersion, Treaty: s.Treaty, Title: s.Title, Parties: s.Parties,
		Events: s.Events, Rounds: s.Rounds, Order: s.Order, Clauses: s.Clauses, Keys: s.Keys,
		Counts: [3]int{s.Tabled, s.Adopted, s.Withdrawn}, Proposals: s.Proposals, KeepClosed: s.KeepClosed, Open: s.byClause,
	}
	for id, p := range s.Proposals {
		if p.Heading != nil && *p.Heading == "" {
			snap.EmptyHeadings = append(snap.EmptyHeadings, id)
		}
	}
	closed = s.closed.marshal(nil)
	if s.closed.err != nil {
		return nil, nil, s.closed.err
	}
	var table closedSet
	if err := table.unmarshal(closed); err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(snap); err != nil {
		return nil, nil, err
	}
	present = binary.AppendUvarint(nil, uint64(buf.Len()))
	present = append(present, buf.Bytes()...)
	present = binary.AppendUvarint(present, uint64(table.base.len()))
	for _, word := range table.filter {
		present = binary.LittleEndian.AppendUint64(present, word)
	}
	return present, closed, nil
}

// UnmarshalParts restores a state from MarshalParts' present part; closed
// supplies the other part the first time a closed proposal is looked at. If
// it cannot, the state says why through Err, and refuses every event and
// command from then on.
func (s *State) UnmarshalParts(present []byte, closed func() ([]byte, error)) error {
	n, w := binary.Uvarint(present)
	if w <= 0 || n > uint64(len(present)-w) {
		return errors.New("domain: snapshot is truncated")
	}
	var snap snapshot
	if err := gob.NewDecoder(bytes.NewReader(present[w : w+int(n)])).Decode(&snap); err != nil {
		return fmt.Errorf("domain: snapshot does not decode: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("domain: snapshot version %d, this code reads %d", snap.Version, snapshotVersion)
	}
	rest := present[w+int(n):]
	count, cw := binary.Uvarint(rest)
	if cw <= 0 || count > 1<<32 || (len(rest)-cw)%8 != 0 {
		return errors.New("domain: snapshot's filter is truncated")
	}
	filter := make(bloom, (len(rest)-cw)/8)
	for i := range filter {
		filter[i] = binary.LittleEndian.Uint64(rest[cw+8*i:])
	}
	*s = State{Treaty: snap.Treaty, Title: snap.Title, Parties: snap.Parties, Events: snap.Events,
		Rounds: snap.Rounds, Order: snap.Order, Clauses: snap.Clauses, Keys: snap.Keys, Proposals: snap.Proposals,
		Tabled: snap.Counts[0], Adopted: snap.Counts[1], Withdrawn: snap.Counts[2],
		KeepClosed: snap.KeepClosed, byClause: snap.Open,
		closed: closedSet{pending: closed, pendingLen: int(count), filter: filter}}
	if s.Clauses == nil {
		s.Clauses = map[string]*Clause{}
	}
	if s.Proposals == nil {
		s.Proposals = map[string]*Proposal{}
	}
	if s.byClause == nil {
		s.byClause = map[string][]string{}
	}
	for _, p := range s.Proposals {
		if p.Positions == nil {
			p.Positions = map[string]Position{}
		}
	}
	for _, id := range snap.EmptyHeadings {
		if p := s.Proposals[id]; p != nil {
			p.Heading = new(string)
		}
	}
	return nil
}

// Err reports why the state cannot be trusted any more: a part of its
// snapshot (see UnmarshalParts) that could not be read when it was needed.
// Views built from a state should check it.
func (s *State) Err() error { return s.closed.err }
