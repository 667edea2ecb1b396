package domain

import (
	"iter"
	"strings"
)

// ClosedProposal is what the state keeps of an adopted or withdrawn
// proposal: its fate, not its text. A long negotiation closes hundreds of
// thousands of proposals; the state stays the size of its present.
type ClosedProposal struct {
	ID     string
	Clause string
	Party  string
	Action Action
	Status Status
	// Tabled, Round and Closed: the event and round it was tabled in, and
	// the event that adopted or withdrew it.
	Tabled int
	Round  int
	Closed int
}

// ClosedProposals is where a State keeps its closed proposals. The zero
// State keeps them in memory (see NewClosedProposals); a state restored from
// a checkpoint may keep them elsewhere and read them only when asked, which
// is why lookups can fail. A failed lookup is returned where it happens:
// the rule or view that needed the answer fails with it.
type ClosedProposals interface {
	// Lookup returns the record of closed proposal id.
	Lookup(id string) (ClosedProposal, bool, error)
	// Add records a proposal just closed; IDs are never added twice.
	Add(p ClosedProposal)
	// Len counts the closed proposals.
	Len() int
	// All yields every closed proposal, in no particular order, and then
	// stops; an error, if any, comes last.
	All() iter.Seq2[ClosedProposal, error]
	// WithPrefix returns the IDs of the closed proposals that start with
	// prefix, in no particular order.
	WithPrefix(prefix string) ([]string, error)
}

// NewClosedProposals returns an empty in-memory record of closed proposals,
// about eighty bytes a proposal: clause IDs and party codes are kept once.
func NewClosedProposals() ClosedProposals {
	return &closedMemory{rows: map[string]closedRow{}, index: map[string]uint32{}}
}

type closedMemory struct {
	rows  map[string]closedRow
	names []string // clause IDs and party codes, each once
	index map[string]uint32
}

type closedRow struct {
	clause, party         uint32
	action, status        uint8
	tabled, round, closed int32
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

func (m *closedMemory) name(s string) uint32 {
	i, ok := m.index[s]
	if !ok {
		i = uint32(len(m.names))
		m.index[s] = i
		m.names = append(m.names, s)
	}
	return i
}

func (m *closedMemory) Add(p ClosedProposal) {
	m.rows[p.ID] = closedRow{clause: m.name(p.Clause), party: m.name(p.Party),
		action: code(actionCodes, p.Action), status: code(statusCodes, p.Status),
		tabled: int32(p.Tabled), round: int32(p.Round), closed: int32(p.Closed)}
}

func (m *closedMemory) record(id string, r closedRow) ClosedProposal {
	return ClosedProposal{ID: id, Clause: m.names[r.clause], Party: m.names[r.party],
		Action: actionCodes[r.action], Status: statusCodes[r.status],
		Tabled: int(r.tabled), Round: int(r.round), Closed: int(r.closed)}
}

func (m *closedMemory) Lookup(id string) (ClosedProposal, bool, error) {
	r, ok := m.rows[id]
	if !ok {
		return ClosedProposal{}, false, nil
	}
	return m.record(id, r), true, nil
}

func (m *closedMemory) Len() int { return len(m.rows) }

func (m *closedMemory) All() iter.Seq2[ClosedProposal, error] {
	return func(yield func(ClosedProposal, error) bool) {
		for id, r := range m.rows {
			if !yield(m.record(id, r), nil) {
				return
			}
		}
	}
}

func (m *closedMemory) WithPrefix(prefix string) ([]string, error) {
	var ids []string
	for id := range m.rows {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
