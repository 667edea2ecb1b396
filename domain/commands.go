package domain

import (
	"crypto/ed25519"
	"strings"
)

// Command is an act a participant asks for. Decide turns it into events or
// refuses it.
type Command interface{ command() }

// OpenTreaty opens a negotiation.
type OpenTreaty struct {
	Treaty  string
	Title   string
	Parties []Party
	// Keys pins participants' public keys (base64), by party code.
	Keys map[string]string
}

// OpenRound opens the next numbered round.
type OpenRound struct {
	Party string
	Name  string
}

// CloseRound closes the open round. Head is the hash of the last event
// (see Seal), recorded with it; the domain does not see hashes and takes it
// as given.
type CloseRound struct {
	Party string
	Head  string
}

// Table tables a proposal on a clause. Whether it inserts or amends follows
// from the clause: a clause without agreed text is inserted, one with agreed
// text is amended; Delete proposes removing it.
type Table struct {
	Proposal string
	Clause   string
	Party    string
	Text     string
	Delete   bool
	// Heading, when not nil, is the proposed heading.
	Heading *string
	After   string
	First   bool
	Note    string
	// Rebases, when set, is the proposer's stale proposal this one carries
	// over to the clause's current text; it is withdrawn in the same
	// append.
	Rebases string
	// MaxText limits the size of Text in bytes (DefaultMaxText when 0); the
	// rules' own limit, MaxText, applies whatever it says.
	MaxText int
}

// Accept records a party's acceptance of a proposal: subject to the
// proposals SubjectTo, when given (it counts once they are adopted), and ad
// referendum (subject to the party's capital) with AdReferendum.
type Accept struct {
	Proposal     string
	Party        string
	SubjectTo    []string
	AdReferendum bool
}

// Revise records the proposer's new version of an open proposal; nil fields
// keep what the proposal has.
type Revise struct {
	Proposal string
	Party    string
	Text     *string
	Heading  *string
	Note     *string
	MaxText  int
}

// CommentOn records a participant's comment on a proposal.
type CommentOn struct {
	Proposal string
	Party    string
	Text     string
}

// Confirm records a party's capital confirming its acceptance ad referendum
// of an adopted proposal; Decline its capital declining it, which restores
// the clause's text from before the adoption.
type Confirm struct {
	Proposal string
	Party    string
}

// Decline: see Confirm.
type Decline struct {
	Proposal string
	Party    string
}

// Conclude records that the whole text is agreed; Head is the hash of the
// log's last event, as for CloseRound.
type Conclude struct {
	Party string
	Head  string
}

// Reopen records a party agreeing to reopen the concluded text.
type Reopen struct{ Party string }

// InitialText records a party initialling the concluded text, citing its
// head.
type InitialText struct {
	Party string
	Head  string
}

// Reserve records a party's reservation to a clause; Declare a declaration.
type Reserve struct {
	Party  string
	Clause string
	Text   string
}

// Declare: see Reserve.
type Declare struct {
	Party string
	Text  string
}

// Object records a party's objection to a proposal.
type Object struct {
	Proposal string
	Party    string
	Reason   string
}

// Withdraw takes a proposal off the table; only its proposer may.
type Withdraw struct {
	Proposal string
	Party    string
}

// RegisterKey registers a participant's public signing key: its first, a
// replacement for its effective key, or a new one after a loss. It takes
// effect once every other party endorses it.
type RegisterKey struct {
	Party string
	Key   ed25519.PublicKey
}

// EndorseKey records Party vouching for a key of Subject: the one with ID
// Key, or Subject's pending key when Key is empty.
type EndorseKey struct {
	Party   string
	Subject string
	Key     string
}

// RevokeKey records Party's vote to end a key of Subject: the one with ID
// Key, or Subject's effective key when Key is empty.
type RevokeKey struct {
	Party   string
	Subject string
	Key     string
	Reason  string
}

func (RegisterKey) command() {}
func (Revise) command()      {}
func (CommentOn) command()   {}
func (Confirm) command()     {}
func (Decline) command()     {}
func (Conclude) command()    {}
func (Reopen) command()      {}
func (InitialText) command() {}
func (Reserve) command()     {}
func (Declare) command()     {}
func (EndorseKey) command()  {}
func (RevokeKey) command()   {}
func (OpenTreaty) command()  {}
func (OpenRound) command()   {}
func (CloseRound) command()  {}
func (Table) command()       {}
func (Accept) command()      {}
func (Object) command()      {}
func (Withdraw) command()    {}

// Decide returns the events that command c causes in state s, or a refusal
// (an *Error, or the failure to read what a rule needed) and no events. The
// events are to be appended together, in one atomic append: an acceptance
// that completes unanimity comes with the adoption it causes. Decide does
// not change s.
//
// Decide holds new text to rules that Evolve does not, because logs
// written before them must still fold: no bidirectional controls and no
// invisible characters (see checkHidden).
func Decide(s *State, c Command) ([]Event, error) {
	evs, err := decide(s, c)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		for _, t := range newText(e) {
			if err := checkHidden(t[0], t[1]); err != nil {
				return nil, err
			}
		}
	}
	return evs, nil
}

// checkErr keeps a check's error, dropping what it found.
func checkErr[T any](_ T, err error) error { return err }

// one returns e alone when check passed.
func one(e Event, check error) ([]Event, error) {
	if check != nil {
		return nil, check
	}
	return []Event{e}, nil
}

func decide(s *State, c Command) ([]Event, error) {
	if _, ok := c.(OpenTreaty); !ok && s.Treaty == "" {
		return nil, Errorf(ENOTFOUND, "the negotiation is not open yet").because(ReasonNotOpened, "")
	}
	switch c := c.(type) {
	case OpenTreaty:
		e := TreatyOpened{Treaty: c.Treaty, Title: c.Title, Parties: c.Parties, Keys: c.Keys}
		if s.Treaty != "" {
			return nil, Errorf(ECONFLICT, "negotiation %s already exists", s.Treaty)
		}
		return one(e, checkOpening(e))
	case OpenRound:
		if _, err := s.Participant(c.Party); err != nil {
			return nil, err
		}
		e := RoundOpened{Round: len(s.Rounds) + 1, Name: strings.TrimSpace(c.Name)}
		return one(e, s.checkOpenRound(e))
	case CloseRound:
		if _, err := s.Participant(c.Party); err != nil {
			return nil, err
		}
		e := RoundClosed{Round: s.OpenRound(), Head: c.Head}
		return one(e, s.checkCloseRound(e))
	case RegisterKey:
		e := PartyKeyRegistered{Party: c.Party, Key: EncodeKey(c.Key)}
		if _, current, ok := s.KeyOf(c.Party); ok {
			e.Previous = current
		}
		return one(e, s.checkRegisterKey(e))
	case EndorseKey:
		if _, err := s.Participant(c.Party); err != nil {
			return nil, err
		}
		e := KeyEndorsed{Party: c.Party, Subject: c.Subject, Key: c.Key}
		if c.Party == c.Subject {
			return nil, Errorf(EFORBIDDEN, "%s cannot endorse its own key: the other parties vouch for it", c.Party)
		}
		if e.Key == "" {
			k, ok := s.PendingKey(c.Subject)
			if !ok {
				return nil, Errorf(ENOTFOUND, "%s has no key waiting for endorsement", c.Subject)
			}
			e.Key = k.ID
		}
		if _, id, ok := s.KeyOf(c.Party); ok {
			e.By = id
		} else if k, ok := s.PendingKey(c.Party); ok {
			e.By = k.ID
		} else {
			return nil, Errorf(ECONFLICT, "%s has no key to endorse with: an endorsement is signed with the endorser's own key", c.Party).because(ReasonNoKey, "")
		}
		return one(e, checkErr(s.checkEndorse(e)))
	case RevokeKey:
		e := KeyRevoked{Party: c.Party, Subject: c.Subject, Key: c.Key, Reason: strings.TrimSpace(c.Reason)}
		if e.Key == "" {
			_, id, ok := s.KeyOf(c.Subject)
			if !ok {
				return nil, Errorf(ENOTFOUND, "%s has no effective key to revoke", c.Subject)
			}
			e.Key = id
		}
		return one(e, checkErr(s.checkRevoke(e)))
	case Table:
		return s.decideTable(c)
	case Accept:
		e := ProposalAccepted{Proposal: c.Proposal, Party: c.Party, SubjectTo: c.SubjectTo, AdReferendum: c.AdReferendum}
		p, err := s.checkAccept(e)
		if err != nil {
			return nil, err
		}
		adopted, err := s.adoptions(&override{proposal: p.Proposal, party: c.Party, pos: acceptance(e, s.Events+1)})
		if err != nil {
			return nil, err
		}
		return append([]Event{e}, adopted...), nil
	case Revise:
		return s.decideRevise(c)
	case CommentOn:
		e := ProposalCommented{Proposal: c.Proposal, Party: c.Party, Text: strings.TrimSpace(c.Text)}
		return one(e, s.checkComment(e))
	case Confirm:
		e := AdoptionConfirmed(c)
		return one(e, checkErr(s.adRefClause(c.Proposal, c.Party)))
	case Decline:
		cl, err := s.adRefClause(c.Proposal, c.Party)
		if err != nil {
			return nil, err
		}
		e := AdoptionDeclined{Proposal: c.Proposal, Party: c.Party, Clause: cl.ID, Revision: cl.Revision + 1}
		return one(e, checkErr(s.checkDecline(e)))
	case Conclude:
		e := TextConcluded(c)
		return one(e, s.checkConclude(e))
	case Reopen:
		e := ReopeningAgreed(c)
		return one(e, s.checkReopen(e))
	case InitialText:
		e := TextInitialled(c)
		return one(e, s.checkInitial(e))
	case Reserve:
		e := ReservationMade{Party: c.Party, Clause: c.Clause, Text: strings.TrimSpace(c.Text)}
		return one(e, s.checkReserve(e))
	case Declare:
		e := DeclarationMade{Party: c.Party, Text: strings.TrimSpace(c.Text)}
		return one(e, s.checkAddition(e.Party, "declaration", e.Text))
	case Object:
		e := ProposalObjected{Proposal: c.Proposal, Party: c.Party, Reason: strings.TrimSpace(c.Reason)}
		_, err := s.checkObject(e)
		return one(e, err)
	case Withdraw:
		e := ProposalWithdrawn(c)
		_, err := s.checkWithdraw(e)
		return one(e, err)
	}
	return nil, Errorf(EINVALID, "unknown command %T", c)
}

func (s *State) adoption(p *Proposal) ProposalAdopted {
	rev := 1
	if c := s.Clauses[p.Clause]; c != nil {
		rev = c.Revision + 1
	}
	return ProposalAdopted{Proposal: p.Proposal, Clause: p.Clause, Revision: rev}
}

func (s *State) decideTable(c Table) ([]Event, error) {
	party, err := s.Participant(c.Party)
	if err != nil {
		return nil, err
	}
	if err := CheckSlug("clause ID", c.Clause); err != nil {
		return nil, err
	}
	text := strings.TrimSpace(c.Text)
	cl := s.Clauses[c.Clause]
	if !c.Delete && text == "" && c.Heading != nil {
		// A new heading alone: the clause keeps its text.
		if cl == nil || !cl.Agreed() {
			return nil, Errorf(EINVALID, "clause %s has no agreed text to keep under a new heading; give its text", c.Clause)
		}
		text = cl.Text
	}
	if !c.Delete {
		if err := CheckText("text of clause "+c.Clause, text, c.MaxText); err != nil {
			return nil, err
		}
	}
	action, err := s.tableAction(c.Clause, c.Delete)
	if err != nil {
		return nil, err
	}
	e := ProposalTabled{Proposal: c.Proposal, Clause: c.Clause, Party: c.Party, Action: action,
		Text: text, After: c.After, First: c.First, Note: strings.TrimSpace(c.Note), Rebases: c.Rebases}
	if c.Heading != nil {
		h := strings.TrimSpace(*c.Heading)
		e.Heading = &h
	}
	if cl != nil {
		e.BaseRevision = cl.Revision
	}
	if action == ActionDelete && (e.Heading != nil || e.After != "" || e.First) {
		return nil, Errorf(EINVALID, "a deletion carries no heading or place")
	}
	if action == ActionAmend && e.Text == cl.Text && (e.Heading == nil || *e.Heading == cl.Heading) && e.After == "" && !e.First {
		return nil, Errorf(ECONFLICT, "clause %s already reads %s; the proposal would change nothing", c.Clause, quote(cl.Text))
	}
	if err := s.checkTable(e); err != nil {
		return nil, err
	}
	evs := []Event{e}
	// The proposer counts as accepting: alone among the parties, that
	// completes unanimity and the proposal is adopted at once.
	tabled := &Proposal{ProposalTabled: e, Tabled: s.Events + 1, Status: StatusOpen}
	if party.Role == RoleParty {
		tabled.Positions.Set(c.Party, Position{Stance: Accepts})
	}
	adopted, err := s.adoptions(&override{extra: tabled})
	if err != nil {
		return nil, err
	}
	evs = append(evs, adopted...)
	if c.Rebases != "" {
		evs = append(evs, ProposalWithdrawn{Proposal: c.Rebases, Party: c.Party})
	}
	return evs, nil
}

func (s *State) decideRevise(c Revise) ([]Event, error) {
	p, err := s.existing(c.Proposal)
	if err != nil {
		return nil, err
	}
	e := ProposalRevised{Proposal: c.Proposal, Party: c.Party, Version: p.Version + 1, Text: p.Text, Heading: p.Heading, Note: p.Note}
	if c.Text != nil {
		e.Text = strings.TrimSpace(*c.Text)
		if err := CheckText("text of proposal "+Short(p.Proposal), e.Text, c.MaxText); err != nil {
			return nil, err
		}
	}
	if c.Heading != nil {
		h := strings.TrimSpace(*c.Heading)
		e.Heading = &h
	}
	if c.Note != nil {
		e.Note = strings.TrimSpace(*c.Note)
	}
	return one(e, checkErr(s.checkRevise(e)))
}
