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
const snapshotVersion = 4

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
// to it. A state in the middle of a command (a unanimity completed but not
// yet adopted) cannot be encoded: it is never a state worth keeping.
func (s *State) MarshalBinary() ([]byte, error) {
	if s.pending != "" {
		return nil, errors.New("domain: state awaits the adoption of " + s.pending + "; snapshot it after the adoption")
	}
	snap := snapshot{
		Version: snapshotVersion, Treaty: s.Treaty, Title: s.Title, Parties: s.Parties,
		Events: s.Events, Rounds: s.Rounds, Order: s.Order, Clauses: s.Clauses, Keys: s.Keys,
		Proposals: s.Proposals, KeepClosed: s.KeepClosed, Open: s.byClause,
	}
	for id, p := range s.Proposals {
		if p.Heading != nil && *p.Heading == "" {
			snap.EmptyHeadings = append(snap.EmptyHeadings, id)
		}
	}
	// The present (clauses, open proposals) in gob, then the closed-proposal
	// table in its own encoding, which decodes in place: it is most of the
	// bytes of a long negotiation.
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(snap); err != nil {
		return nil, err
	}
	out := binary.AppendUvarint(nil, uint64(buf.Len()))
	out = append(out, buf.Bytes()...)
	return s.closed.marshal(out), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary of the same
// SnapshotVersion; any other version is refused. The state may keep
// referring to data, which the caller must not change afterwards.
func (s *State) UnmarshalBinary(data []byte) error {
	n, w := binary.Uvarint(data)
	if w <= 0 || n > uint64(len(data)-w) {
		return errors.New("domain: snapshot is truncated")
	}
	var snap snapshot
	if err := gob.NewDecoder(bytes.NewReader(data[w : w+int(n)])).Decode(&snap); err != nil {
		return fmt.Errorf("domain: snapshot does not decode: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("domain: snapshot version %d, this code reads %d", snap.Version, snapshotVersion)
	}
	*s = State{Treaty: snap.Treaty, Title: snap.Title, Parties: snap.Parties, Events: snap.Events,
		Rounds: snap.Rounds, Order: snap.Order, Clauses: snap.Clauses, Keys: snap.Keys, Proposals: snap.Proposals,
		KeepClosed: snap.KeepClosed, byClause: snap.Open}
	if err := s.closed.unmarshal(data[w+int(n):]); err != nil {
		return err
	}
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
