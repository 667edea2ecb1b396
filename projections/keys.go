package projections

import (
	"github.com/treaty-engine/treaty/domain"
)

// PartyKeys is where one participant's signing keys stand: what its acts'
// signatures can prove.
type PartyKeys struct {
	Party string `json:"party"`
	// Effective is the ID of its key in effect ("" when it has none: its
	// acts are not authenticated).
	Effective string `json:"effective"`
	// Pending are its keys waiting for endorsements, with whose.
	Pending []PendingKey `json:"pending"`
	// Revoked and Superseded list the IDs of its ended keys.
	Revoked    []string `json:"revoked"`
	Superseded []string `json:"superseded"`
}

// PendingKey is a key waiting for the endorsements Missing.
type PendingKey struct {
	Key     string   `json:"key"`
	Missing []string `json:"missing"`
}

// KeysOf reports every participant's keys in s, in the order the
// participants were listed at the opening.
func KeysOf(s *domain.State) []PartyKeys {
	out := []PartyKeys{}
	for _, p := range s.Parties {
		pk := PartyKeys{Party: p.Code, Pending: []PendingKey{}, Revoked: []string{}, Superseded: []string{}}
		for _, k := range s.PartyKeys(p.Code) {
			switch k.Status {
			case domain.KeyIsEffective:
				pk.Effective = k.ID
			case domain.KeyIsPending:
				pk.Pending = append(pk.Pending, PendingKey{Key: k.ID, Missing: nonNil(s.Missing(k))})
			case domain.KeyIsRevoked:
				pk.Revoked = append(pk.Revoked, k.ID)
			case domain.KeyIsSuperseded:
				pk.Superseded = append(pk.Superseded, k.ID)
			}
		}
		out = append(out, pk)
	}
	return out
}
