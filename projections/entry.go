package projections

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
)

// Entry is one line of the log: an event with what was recorded about it.
// Its JSON form is CLI.md's `log` line.
type Entry struct {
	Event  int             `json:"event"`
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Time   time.Time       `json:"time"`
	Round  int             `json:"round"`
	Party  string          `json:"party"`
	Author string          `json:"author"`
	Data   json.RawMessage `json:"data"`
	// Summary says in a few words what happened.
	Summary string `json:"summary"`
	// Hash is the event's place in the hash chain; Key and Signature the
	// acting party's signature of it, when the party has a key.
	Hash      string `json:"hash,omitempty"`
	Key       string `json:"key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// EntryOf describes a recorded event for the log.
func EntryOf(r *Recorded) (Entry, error) {
	m, err := r.Meta()
	if err != nil {
		return Entry{}, err
	}
	data := json.RawMessage(r.Data)
	if !json.Valid(data) {
		return Entry{}, &EventError{Number: r.Number, ID: r.ID, Type: r.Type, Err: fmt.Errorf("data is not JSON")}
	}
	return Entry{Event: r.Number, ID: r.ID.String(), Type: r.Type, Time: m.Time, Round: m.Round,
		Party: m.Party, Author: m.Author, Data: data, Summary: Summary(r.Event),
		Hash: m.Hash, Key: m.Key, Signature: m.Signature}, nil
}

// Summary says in a few words what an event records.
func Summary(e domain.Event) string {
	switch e := e.(type) {
	case domain.TreatyOpened:
		var ps []string
		for _, p := range e.Parties {
			s := p.Code
			if p.Role == domain.RoleObserver {
				s += " (observer)"
			}
			ps = append(ps, s)
		}
		return fmt.Sprintf("opened %q with %s", e.Title, strings.Join(ps, ", "))
	case domain.RoundOpened:
		if e.Name != "" {
			return fmt.Sprintf("round %d opened: %s", e.Round, e.Name)
		}
		return fmt.Sprintf("round %d opened", e.Round)
	case domain.RoundClosed:
		return fmt.Sprintf("round %d closed", e.Round)
	case domain.ProposalTabled:
		s := fmt.Sprintf("%s tabled %s: %s %s", e.Party, domain.Short(e.Proposal), e.Action, e.Clause)
		if e.Text != "" {
			s += ": " + excerpt(e.Text, 60)
		}
		return s
	case domain.ProposalAccepted:
		s := fmt.Sprintf("%s accepts %s", e.Party, domain.Short(e.Proposal))
		if e.AdReferendum {
			s += " ad referendum"
		}
		if len(e.SubjectTo) > 0 {
			s += " subject to " + shortIDs(e.SubjectTo)
		}
		return s
	case domain.ProposalRevised:
		return fmt.Sprintf("%s revised %s (version %d): %s", e.Party, domain.Short(e.Proposal), e.Version, excerpt(e.Text, 60))
	case domain.ProposalCommented:
		return fmt.Sprintf("%s commented on %s: %s", e.Party, domain.Short(e.Proposal), excerpt(e.Text, 60))
	case domain.AdoptionConfirmed:
		return fmt.Sprintf("%s's capital confirmed %s", e.Party, domain.Short(e.Proposal))
	case domain.AdoptionDeclined:
		return fmt.Sprintf("%s's capital declined %s: %s is restored at revision %d", e.Party, domain.Short(e.Proposal), e.Clause, e.Revision)
	case domain.TextConcluded:
		return fmt.Sprintf("%s concluded the text: the whole is agreed", e.Party)
	case domain.ReopeningAgreed:
		return fmt.Sprintf("%s agrees to reopen the text", e.Party)
	case domain.TextInitialled:
		return fmt.Sprintf("%s initialled the text at %s", e.Party, domain.ShortHash(e.Head))
	case domain.ReservationMade:
		return fmt.Sprintf("%s made a reservation to %s: %s", e.Party, e.Clause, excerpt(e.Text, 60))
	case domain.DeclarationMade:
		return fmt.Sprintf("%s made a declaration: %s", e.Party, excerpt(e.Text, 60))
	case domain.KeyEndorsed:
		return fmt.Sprintf("%s endorsed %s's key %s", e.Party, e.Subject, e.Key)
	case domain.KeyRevoked:
		return fmt.Sprintf("%s voted to revoke %s's key %s", e.Party, e.Subject, e.Key)
	case domain.ProposalObjected:
		s := fmt.Sprintf("%s objects to %s", e.Party, domain.Short(e.Proposal))
		if e.Reason != "" {
			s += ": " + excerpt(e.Reason, 60)
		}
		return s
	case domain.ProposalWithdrawn:
		return fmt.Sprintf("%s withdrew %s", e.Party, domain.Short(e.Proposal))
	case domain.ProposalAdopted:
		return fmt.Sprintf("%s adopted: %s is at revision %d", domain.Short(e.Proposal), e.Clause, e.Revision)
	case domain.PartyKeyRegistered:
		pub, err := domain.ParseKey(e.Key)
		if err != nil {
			return fmt.Sprintf("%s registered a malformed key", e.Party)
		}
		if e.Previous != "" {
			return fmt.Sprintf("%s registered key %s, replacing %s", e.Party, domain.KeyID(pub), e.Previous)
		}
		return fmt.Sprintf("%s registered key %s", e.Party, domain.KeyID(pub))
	}
	return e.EventType()
}

// excerpt shortens text to one line of at most n characters.
func excerpt(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	return string(r[:n-1]) + "…"
}
