package projections

import (
	"context"
	"time"

	"github.com/treaty-engine/treaty/domain"
)

// AuditKey is one key a participant registered or had pinned.
type AuditKey struct {
	ID string `json:"id"`
	// PublicKey is the ed25519 public key, base64.
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Replaces    string    `json:"replaces,omitempty"`
	Event       int       `json:"event"`
	Time        time.Time `json:"time"`
	Pinned      bool      `json:"pinned"`
	// Status is pending, effective, superseded or revoked; EndorsedBy the
	// parties that vouched for it, Missing those still awaited.
	Status     string   `json:"status"`
	EndorsedBy []string `json:"endorsed_by"`
	Missing    []string `json:"missing"`
}

func auditKey(b64 string, event int, t time.Time, pinned bool, replaces string) AuditKey {
	k := AuditKey{PublicKey: b64, Event: event, Time: t, Pinned: pinned, Replaces: replaces, EndorsedBy: []string{}, Missing: []string{}}
	if pub, err := domain.ParseKey(b64); err == nil {
		k.ID, k.Fingerprint = domain.KeyID(pub), domain.Fingerprint(pub)
	}
	return k
}

// AuditParty is a participant and the keys it registered, oldest first.
type AuditParty struct {
	domain.Party
	Keys []AuditKey `json:"keys"`
}

// AuditRound is a round with the hashes that pin it down.
type AuditRound struct {
	RoundView
	// Head is the hash of the last event before the round closed, as its
	// RoundClosed event records it; ClosedHash the RoundClosed event's own
	// hash, the one parties cite.
	Head       string `json:"head,omitempty"`
	ClosedHash string `json:"closed_hash,omitempty"`
}

// Audit is everything an auditor reports on a negotiation: its parties and
// their keys, its rounds and their closing hashes, every proposal and its
// fate, and the result of verifying the whole log.
type Audit struct {
	Treaty       string            `json:"treaty"`
	Title        string            `json:"title"`
	AsOf         Point             `json:"as_of"`
	Parties      []AuditParty      `json:"parties"`
	Rounds       []AuditRound      `json:"rounds"`
	Proposals    []ProposalSummary `json:"proposals"`
	Verification Verification      `json:"verification"`
}

// AuditList replays the whole log twice: once to gather what happened (see
// AuditUnverified), with the proposals in a list (see ProposalList), not in
// memory: the report's Proposals is left empty; and once to verify it up to
// the same event (see VerifyTo), however the log grew meanwhile. A log that
// fails verification still gets its report, with the problem in it, as far
// as it folds. The list is nil when the log did not fold, and the caller
// must Close it otherwise.
func (r *Reader) AuditList(ctx context.Context) (Audit, *ProposalList, error) {
	a, list, folded := r.AuditUnverified(ctx)
	a, err := r.VerifyAudit(ctx, a, folded)
	if err != nil && list != nil {
		list.Close()
		list = nil
	}
	return a, list, err
}

// Verify verifies the whole log (see Verify), from the reader's
// checkpoints.
func (r *Reader) Verify(ctx context.Context) (Verification, error) {
	return r.VerifyTo(ctx, 0)
}

// VerifyAudit is report a, gathered by a replay that returned folded, with
// the verification of the log up to the event it was gathered at (the
// whole log when it did not fold, for the verification to say where): see
// verified.
func (r *Reader) VerifyAudit(ctx context.Context, a Audit, folded error) (Audit, error) {
	v, err := r.VerifyTo(ctx, a.verifyTo(folded))
	if err != nil {
		return Audit{}, err
	}
	return a.verified(v, folded)
}

// VerifyTo verifies the log's first n events (see VerifyOptions.Upto; 0:
// the whole log), from the reader's checkpoints.
func (r *Reader) VerifyTo(ctx context.Context, n int) (Verification, error) {
	return Verify(ctx, r.store, r.treaty, VerifyOptions{Checkpoints: r, Upto: n})
}

// verifyTo is how much of the log the verification of report a is to
// cover: the events it was gathered from, or the whole log when the replay
// that gathered it failed (folded), for the verification to say where.
func (a Audit) verifyTo(folded error) int {
	if folded != nil {
		return 0
	}
	return a.AsOf.Event
}

// AuditUnverified is AuditList's replay without its verification: one
// replay of the whole log that gathers the report's parties, keys and
// rounds and lists every proposal, as AllProposals does. The report's
// Verification is left empty (see VerifyAudit); a log that does not fold is
// an error, and then the list is nil; the caller must Close it otherwise.
func (r *Reader) AuditUnverified(ctx context.Context) (Audit, *ProposalList, error) {
	list, err := newProposalList()
	if err != nil {
		return Audit{}, nil, err
	}
	a, _, err := r.audit(ctx, list)
	if err != nil {
		list.Close()
		return a, nil, err
	}
	return a, list, nil
}

// verified is the report a, gathered by a replay that returned folded,
// with the verification v of the same log: a log that did not fold still
// gets its report, with only the verification in it, when the verification
// found the problem; otherwise the replay's error is the answer.
func (a Audit) verified(v Verification, folded error) (Audit, error) {
	if folded != nil {
		if v.OK {
			return Audit{}, folded
		}
		a = emptyAudit(a.Treaty)
	}
	a.Verification = v
	return a, nil
}

func emptyAudit(treaty string) Audit {
	return Audit{Treaty: treaty, Parties: []AuditParty{}, Rounds: []AuditRound{}, Proposals: []ProposalSummary{}}
}

// AuditFates is Audit with its proposals counted by the status they are
// shown with (see WriteAuditFatesText), not listed: what the report for
// people says of them, worked out from the state the replay ends with.
func (r *Reader) AuditFates(ctx context.Context) (Audit, map[string]int, error) {
	a, s, folded := r.audit(ctx, nil)
	a, err := r.VerifyAudit(ctx, a, folded)
	if err != nil || folded != nil {
		return a, map[string]int{}, err
	}
	fates, err := proposalFates(s)
	if err != nil {
		return Audit{}, nil, err
	}
	return a, fates, nil
}

// proposalFates counts every proposal s has had by the status Summarize
// gives it.
func proposalFates(s *domain.State) (map[string]int, error) {
	fates := map[string]int{}
	for p, err := range s.AllProposals() {
		if err != nil {
			return nil, err
		}
		if s.Stale(p) {
			fates[ProposalStale]++
		} else {
			fates[string(p.Status)]++
		}
	}
	return fates, nil
}

// audit gathers the report on a log but its verification, its proposals
// in list if there is one, and returns the state the replay ended with; a
// log that does not fold is an error, with the report empty.
func (r *Reader) audit(ctx context.Context, list *ProposalList) (Audit, *domain.State, error) {
	keys := map[string][]AuditKey{}
	var rounds []AuditRound
	m, err := r.provenance(ctx, list, func(ev Folded, s *domain.State) error {
		rec, meta := ev.Rec, ev.Meta
		switch e := rec.Event.(type) {
		case domain.TreatyOpened:
			for _, p := range e.Parties {
				if k, ok := e.Keys[p.Code]; ok {
					keys[p.Code] = append(keys[p.Code], auditKey(k, rec.Number, meta.Time, true, ""))
				}
			}
		case domain.PartyKeyRegistered:
			keys[e.Party] = append(keys[e.Party], auditKey(e.Key, rec.Number, meta.Time, false, e.Previous))
		case domain.RoundOpened:
			rounds = append(rounds, AuditRound{RoundView: RoundView{Number: e.Round, Name: e.Name, Status: StatusOpen,
				Opened: rec.Number, OpenedAt: meta.Time}})
		case domain.RoundClosed:
			if n := len(rounds); n > 0 {
				t := meta.Time
				rd := &rounds[n-1]
				rd.Status, rd.Closed, rd.ClosedAt, rd.Head, rd.ClosedHash = "closed", rec.Number, &t, e.Head, meta.Hash
			}
		}
		return nil
	})
	a := emptyAudit(r.treaty)
	if err != nil {
		return a, nil, err
	}
	s := m.State
	a.Title, a.AsOf = s.Title, m.Point
	for _, p := range s.Parties {
		ks := append([]AuditKey{}, keys[p.Code]...)
		for i := range ks {
			if k := s.Keys[ks[i].ID]; k != nil {
				ks[i].Status, ks[i].Missing = string(k.Status), nonNil(s.Missing(k))
				for _, en := range k.Endorsements {
					ks[i].EndorsedBy = append(ks[i].EndorsedBy, en.Party)
				}
			}
		}
		a.Parties = append(a.Parties, AuditParty{Party: p, Keys: ks})
	}
	views := make([]RoundView, len(rounds))
	for i, rd := range rounds {
		views[i] = rd.RoundView
	}
	if err := countRounds(s, views); err != nil {
		return Audit{}, nil, err
	}
	for i, rd := range rounds {
		rd.RoundView = views[i]
		a.Rounds = append(a.Rounds, rd)
	}
	return a, s, nil
}
