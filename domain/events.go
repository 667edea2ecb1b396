package domain

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Event is one recorded act of the negotiation. The concrete types below are
// all there is; their names (EventType) and JSON fields are a public contract:
// a stored event's meaning never changes, and a new meaning gets a new type.
type Event interface {
	// EventType is the name stored with the event and shown by `treaty log`.
	EventType() string
	event() // seals the set: only this package defines events
}

// Event type names, as stored.
const (
	TypeTreatyOpened       = "TreatyOpened"
	TypeRoundOpened        = "RoundOpened"
	TypeRoundClosed        = "RoundClosed"
	TypeProposalTabled     = "ProposalTabled"
	TypeProposalAccepted   = "ProposalAccepted"
	TypeProposalObjected   = "ProposalObjected"
	TypeProposalWithdrawn  = "ProposalWithdrawn"
	TypeProposalAdopted    = "ProposalAdopted"
	TypePartyKeyRegistered = "PartyKeyRegistered"
	TypeKeyEndorsed        = "KeyEndorsed"
	TypeKeyRevoked         = "KeyRevoked"
	TypeProposalRevised    = "ProposalRevised"
	TypeProposalCommented  = "ProposalCommented"
	TypeAdoptionConfirmed  = "AdoptionConfirmed"
	TypeAdoptionDeclined   = "AdoptionDeclined"
	TypeTextConcluded      = "TextConcluded"
	TypeReopeningAgreed    = "ReopeningAgreed"
	TypeTextInitialled     = "TextInitialled"
	TypeReservationMade    = "ReservationMade"
	TypeDeclarationMade    = "DeclarationMade"
)

// TreatyOpened starts a negotiation; it is always the first event.
type TreatyOpened struct {
	Treaty  string  `json:"treaty"`
	Title   string  `json:"title"`
	Parties []Party `json:"parties"`
	// Keys pins participants' public signing keys (ed25519, base64) at
	// the opening, by party code: keys whose fingerprints the delegations
	// compared out of band, effective from the first event without
	// anyone's endorsement.
	Keys map[string]string `json:"keys,omitempty"`
}

// RoundOpened opens the next numbered round of talks.
type RoundOpened struct {
	Round int    `json:"round"`
	Name  string `json:"name,omitempty"`
}

// RoundClosed closes the open round.
type RoundClosed struct {
	Round int `json:"round"`
	// Head is the hash of the last event before the round closed (see
	// Seal), so that parties can cite what the round ended on.
	Head string `json:"head,omitempty"`
}

// PartyKeyRegistered records a public signing key a participant claims as
// its own: its first, a replacement, or a new one after a loss. The key
// authenticates the participant's acts only once it is effective: pinned at
// the opening, or endorsed by every other party (see KeyEndorsed). Until
// then the participant's acts count as unsigned, whoever registered it.
type PartyKeyRegistered struct {
	Party string `json:"party"`
	// Key is the ed25519 public key, base64 (standard encoding).
	Key string `json:"key"`
	// Previous is the ID of the participant's key this one is to replace
	// (see KeyID), when it has one.
	Previous string `json:"previous,omitempty"`
}

// KeyEndorsed records a party vouching that a key is the subject's: its
// people compared the key's fingerprint with the subject's out of band. It
// is signed with By, the endorsing party's own key, and counts only while
// that key is effective (or becomes effective together with the keys it
// endorses).
type KeyEndorsed struct {
	Party   string `json:"party"`
	Subject string `json:"subject"`
	// Key is the ID of the key endorsed; By the ID of the endorser's key.
	Key string `json:"key"`
	By  string `json:"by"`
}

// KeyRevoked records a participant's vote to end one of the subject's keys
// (lost, or stolen). The key is revoked by the subject itself, or once every
// other party has voted so with its effective key. A revoked key
// authenticates nothing from then on.
type KeyRevoked struct {
	Party   string `json:"party"`
	Subject string `json:"subject"`
	Key     string `json:"key"`
	Reason  string `json:"reason,omitempty"`
}

// Action is what a proposal does to its clause.
type Action string

const (
	// ActionInsert gives text to a clause that has no agreed text: a new
	// clause, or one deleted earlier.
	ActionInsert Action = "insert"
	// ActionAmend replaces the whole agreed text of a clause.
	ActionAmend Action = "amend"
	// ActionDelete removes a clause from the agreed text.
	ActionDelete Action = "delete"
)

// ProposalTabled records a party tabling a proposal on a clause. The proposer
// counts as accepting it.
type ProposalTabled struct {
	Proposal string `json:"proposal"`
	Clause   string `json:"clause"`
	Party    string `json:"party"`
	Action   Action `json:"action"`
	// Text is the clause's whole proposed text (empty for a deletion).
	Text string `json:"text,omitempty"`
	// Heading, when present, is the clause's proposed heading; absent keeps
	// the current one.
	Heading *string `json:"heading,omitempty"`
	// After and First say where the clause goes: after the clause After,
	// or first. A clause not yet in the draft takes that place when the
	// proposal is tabled (at the end when neither is given); a clause
	// already in the draft moves there when the proposal is adopted.
	After string `json:"after,omitempty"`
	First bool   `json:"first,omitempty"`
	// BaseRevision is the revision of the clause the proposal was drafted
	// against (0: the clause had never been adopted).
	BaseRevision int    `json:"base_revision"`
	Note         string `json:"note,omitempty"`
	// Rebases, when set, is the stale proposal this one carries over to
	// the clause's current text; the proposer withdraws it in the same
	// append.
	Rebases string `json:"rebases,omitempty"`
}

// ProposalAccepted records a party's acceptance; it replaces any earlier
// position of that party on the proposal. An acceptance subject to other
// proposals counts only once each of them is adopted (linkage: "we accept
// this if that is agreed"); one given ad referendum counts, but the text it
// adopts stays subject to the party's capital (see AdoptionConfirmed).
type ProposalAccepted struct {
	Proposal     string   `json:"proposal"`
	Party        string   `json:"party"`
	SubjectTo    []string `json:"subject_to,omitempty"`
	AdReferendum bool     `json:"ad_referendum,omitempty"`
}

// ProposalObjected records a party's objection; it replaces any earlier
// position of that party and keeps the proposal open, in brackets.
type ProposalObjected struct {
	Proposal string `json:"proposal"`
	Party    string `json:"party"`
	Reason   string `json:"reason,omitempty"`
}

// ProposalWithdrawn records the proposer taking a proposal off the table.
type ProposalWithdrawn struct {
	Proposal string `json:"proposal"`
	Party    string `json:"party"`
}

// ProposalAdopted records a proposal becoming agreed text. It is appended
// together with the acceptance (or tabling) that completed unanimity.
type ProposalAdopted struct {
	Proposal string `json:"proposal"`
	Clause   string `json:"clause"`
	// Revision is the clause's new revision.
	Revision int `json:"revision"`
}

// ProposalRevised records the proposer's new version of an open proposal:
// its whole text (and heading, and note). Every other party's position on
// it is reset: they accepted another text.
type ProposalRevised struct {
	Proposal string  `json:"proposal"`
	Party    string  `json:"party"`
	Version  int     `json:"version"`
	Text     string  `json:"text,omitempty"`
	Heading  *string `json:"heading,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// ProposalCommented records a participant's comment on a proposal: a thread
// under it. A comment is no position.
type ProposalCommented struct {
	Proposal string `json:"proposal"`
	Party    string `json:"party"`
	Text     string `json:"text"`
}

// AdoptionConfirmed records a party's capital confirming its acceptance ad
// referendum of an adopted proposal.
type AdoptionConfirmed struct {
	Proposal string `json:"proposal"`
	Party    string `json:"party"`
}

// AdoptionDeclined records a party's capital declining its acceptance ad
// referendum: the clause gets a new revision, Revision, restoring the text
// it had before the proposal was adopted.
type AdoptionDeclined struct {
	Proposal string `json:"proposal"`
	Party    string `json:"party"`
	Clause   string `json:"clause"`
	Revision int    `json:"revision"`
}

// TextConcluded records that the whole text is agreed: nothing open,
// nothing ad referendum, no round open. Head is the hash of the last event
// before it, which the parties initial. Nothing is tabled after it unless
// every party agrees to reopen the text.
type TextConcluded struct {
	Party string `json:"party"`
	Head  string `json:"head"`
}

// ReopeningAgreed records a party agreeing to reopen a concluded text; once
// every party has, proposals may be tabled again.
type ReopeningAgreed struct {
	Party string `json:"party"`
}

// TextInitialled records a party initialling the concluded text (Vienna
// Convention on the Law of Treaties, art. 10), citing its head.
type TextInitialled struct {
	Party string `json:"party"`
	Head  string `json:"head"`
}

// ReservationMade records a party's reservation to a clause, kept with the
// text (VCLT arts. 2(1)(d), 19–23); a party makes it before it initials.
type ReservationMade struct {
	Party  string `json:"party"`
	Clause string `json:"clause"`
	Text   string `json:"text"`
}

// DeclarationMade records a party's declaration on the text as a whole.
type DeclarationMade struct {
	Party string `json:"party"`
	Text  string `json:"text"`
}

func (TreatyOpened) EventType() string       { return TypeTreatyOpened }
func (RoundOpened) EventType() string        { return TypeRoundOpened }
func (RoundClosed) EventType() string        { return TypeRoundClosed }
func (ProposalTabled) EventType() string     { return TypeProposalTabled }
func (ProposalAccepted) EventType() string   { return TypeProposalAccepted }
func (ProposalObjected) EventType() string   { return TypeProposalObjected }
func (ProposalWithdrawn) EventType() string  { return TypeProposalWithdrawn }
func (ProposalAdopted) EventType() string    { return TypeProposalAdopted }
func (PartyKeyRegistered) EventType() string { return TypePartyKeyRegistered }
func (KeyEndorsed) EventType() string        { return TypeKeyEndorsed }
func (KeyRevoked) EventType() string         { return TypeKeyRevoked }
func (ProposalRevised) EventType() string    { return TypeProposalRevised }
func (ProposalCommented) EventType() string  { return TypeProposalCommented }
func (AdoptionConfirmed) EventType() string  { return TypeAdoptionConfirmed }
func (AdoptionDeclined) EventType() string   { return TypeAdoptionDeclined }
func (TextConcluded) EventType() string      { return TypeTextConcluded }
func (ReopeningAgreed) EventType() string    { return TypeReopeningAgreed }
func (TextInitialled) EventType() string     { return TypeTextInitialled }
func (ReservationMade) EventType() string    { return TypeReservationMade }
func (DeclarationMade) EventType() string    { return TypeDeclarationMade }

func (TreatyOpened) event()       {}
func (RoundOpened) event()        {}
func (RoundClosed) event()        {}
func (ProposalTabled) event()     {}
func (ProposalAccepted) event()   {}
func (ProposalObjected) event()   {}
func (ProposalWithdrawn) event()  {}
func (ProposalAdopted) event()    {}
func (PartyKeyRegistered) event() {}
func (KeyEndorsed) event()        {}
func (KeyRevoked) event()         {}
func (ProposalRevised) event()    {}
func (ProposalCommented) event()  {}
func (AdoptionConfirmed) event()  {}
func (AdoptionDeclined) event()   {}
func (TextConcluded) event()      {}
func (ReopeningAgreed) event()    {}
func (TextInitialled) event()     {}
func (ReservationMade) event()    {}
func (DeclarationMade) event()    {}

// EventTypes lists every event type this package knows, in the order CLI.md
// documents them.
func EventTypes() []string {
	return []string{TypeTreatyOpened, TypeRoundOpened, TypeRoundClosed, TypeProposalTabled,
		TypeProposalAccepted, TypeProposalObjected, TypeProposalWithdrawn, TypeProposalAdopted,
		TypePartyKeyRegistered, TypeKeyEndorsed, TypeKeyRevoked, TypeProposalRevised, TypeProposalCommented,
		TypeAdoptionConfirmed, TypeAdoptionDeclined, TypeTextConcluded, TypeReopeningAgreed, TypeTextInitialled,
		TypeReservationMade, TypeDeclarationMade}
}

// SchemaVersion is the version of the event and metadata encoding written by
// this code. Readers accept every version up to it. Version 2 added the hash
// chain and signatures; version 3 the event's ID in its metadata, so that
// the hash covers it, and the keys other parties vouch for.
const SchemaVersion = 3

// Meta is what is recorded about an act besides the act itself.
type Meta struct {
	// Party is the acting party's code (empty for an anonymous init).
	Party string `json:"party,omitempty"`
	// Author is the person who acted, as given.
	Author string `json:"author,omitempty"`
	// Round is the round the act happened in: the open round's number, the
	// number of the round a RoundOpened opens, 0 between rounds.
	Round int `json:"round"`
	// Time is the writer's clock when the act was decided, or the time
	// of the event before it when that is later: writers record no time
	// earlier than the log's last (older logs may).
	Time   time.Time `json:"time"`
	Schema int       `json:"schema"`
	// ID is the event's own ID (schema 3 on), as the store keeps it: in
	// the metadata, the hash covers it, so that changing it is noticed.
	ID string `json:"id,omitempty"`
	// Prev is the hash of the event before this one in the negotiation's
	// log (empty for the first), and Hash this event's own (see Seal): the
	// chain that makes any change to the log detectable.
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash,omitempty"`
	// Key is the ID of the party's key (see KeyID) that made Signature, an
	// ed25519 signature of Hash, base64.
	Key       string `json:"key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// ErrUnknownEventType marks an event whose type this code does not know:
// written by a newer treaty, or not by treaty at all.
type ErrUnknownEventType struct{ Type string }

func (e *ErrUnknownEventType) Error() string {
	return fmt.Sprintf("unknown event type %q: it was written by a newer treaty or by another program; upgrade treaty", e.Type)
}

// Encode returns the stored form of an event: its type name and JSON data.
func Encode(e Event) (string, []byte, error) {
	data, err := json.Marshal(e)
	return e.EventType(), data, err
}

// EncodeMeta returns the stored form of an event's metadata.
func EncodeMeta(m Meta) ([]byte, error) {
	if m.Schema == 0 {
		m.Schema = SchemaVersion
	}
	return json.Marshal(m)
}

// decodeMetaAsWritten reads metadata as treaty writes it (an object of
// Meta's members, each once, its strings without escapes) to the Meta
// json.Unmarshal would read, without its reflection: every fold decodes
// every event's metadata. ok is false for anything else, which
// json.Unmarshal reads (or refuses) instead.
func decodeMetaAsWritten(data []byte) (m Meta, ok bool) {
	var buf [metaMembers]member
	members, err := jsonMembers(buf[:0], data)
	if err != nil {
		return m, false
	}
	// Each member's field: a string, an int, or (neither) the time.
	fields := [...]struct {
		key string
		str *string
		num *int
	}{
		{`"party"`, &m.Party, nil}, {`"author"`, &m.Author, nil}, {`"round"`, nil, &m.Round},
		{`"time"`, nil, nil}, {`"schema"`, nil, &m.Schema}, {`"id"`, &m.ID, nil},
		{`"prev"`, &m.Prev, nil}, {`"hash"`, &m.Hash, nil}, {`"key"`, &m.Key, nil},
		{`"signature"`, &m.Signature, nil},
	}
	var seen uint16
	for _, mb := range members {
		i := 0
		for i < len(fields) && fields[i].key != string(mb.key) {
			i++
		}
		if i == len(fields) || seen&(1<<i) != 0 {
			return m, false
		}
		seen |= 1 << i
		str, num := fields[i].str, fields[i].num
		switch {
		case num != nil:
			if *num, ok = plainInt(mb.value); !ok {
				return m, false
			}
		case !plainString(mb.value):
			return m, false
		case str != nil:
			*str = string(mb.value[1 : len(mb.value)-1])
		default:
			// As json.Unmarshal does: time.Time reads its quoted string.
			if m.Time.UnmarshalJSON(mb.value) != nil {
				return m, false
			}
		}
	}
	return m, true
}

// plainString reports whether v is a JSON string that reads as its bytes
// between the quotes: no escapes, no control characters, valid UTF-8.
func plainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c < 0x20 || c == '\\' || c == '"' {
			return false
		}
	}
	return utf8.Valid(v)
}

// plainInt reads a JSON integer as json.Unmarshal reads one into an int:
// no fraction, no exponent, no leading zeros.
func plainInt(v []byte) (int, bool) {
	digits := v
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

// Decode reads an event from its stored form. Unknown fields are ignored, so
// events written by a newer treaty that only added fields stay readable; an
// unknown type returns *ErrUnknownEventType.
func Decode(typ string, data []byte) (Event, error) {
	var (
		e   Event
		err error
	)
	switch typ {
	case TypeTreatyOpened:
		e, err = decodeAs[TreatyOpened](data)
	case TypeRoundOpened:
		e, err = decodeAs[RoundOpened](data)
	case TypeRoundClosed:
		e, err = decodeAs[RoundClosed](data)
	case TypeProposalTabled:
		e, err = decodeAs[ProposalTabled](data)
	case TypeProposalAccepted:
		e, err = decodeAs[ProposalAccepted](data)
	case TypeProposalObjected:
		e, err = decodeAs[ProposalObjected](data)
	case TypeProposalWithdrawn:
		e, err = decodeAs[ProposalWithdrawn](data)
	case TypeProposalAdopted:
		e, err = decodeAs[ProposalAdopted](data)
	case TypePartyKeyRegistered:
		e, err = decodeAs[PartyKeyRegistered](data)
	case TypeKeyEndorsed:
		e, err = decodeAs[KeyEndorsed](data)
	case TypeKeyRevoked:
		e, err = decodeAs[KeyRevoked](data)
	case TypeProposalRevised:
		e, err = decodeAs[ProposalRevised](data)
	case TypeProposalCommented:
		e, err = decodeAs[ProposalCommented](data)
	case TypeAdoptionConfirmed:
		e, err = decodeAs[AdoptionConfirmed](data)
	case TypeAdoptionDeclined:
		e, err = decodeAs[AdoptionDeclined](data)
	case TypeTextConcluded:
		e, err = decodeAs[TextConcluded](data)
	case TypeReopeningAgreed:
		e, err = decodeAs[ReopeningAgreed](data)
	case TypeTextInitialled:
		e, err = decodeAs[TextInitialled](data)
	case TypeReservationMade:
		e, err = decodeAs[ReservationMade](data)
	case TypeDeclarationMade:
		e, err = decodeAs[DeclarationMade](data)
	default:
		return nil, &ErrUnknownEventType{Type: typ}
	}
	if err != nil {
		return nil, fmt.Errorf("%s data is not valid: %w", typ, err)
	}
	return e, nil
}

func decodeAs[T Event](data []byte) (Event, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// DecodeMeta reads an event's metadata. Metadata of a schema newer than
// SchemaVersion is refused: its fields may carry meaning this code would lose.
func DecodeMeta(data []byte) (Meta, error) {
	m, ok := decodeMetaAsWritten(data)
	if !ok {
		// Another variable, so that m stays off the heap.
		var read Meta
		if err := json.Unmarshal(data, &read); err != nil {
			return read, fmt.Errorf("metadata is not valid: %w", err)
		}
		m = read
	}
	if m.Schema > SchemaVersion {
		return m, fmt.Errorf("metadata has schema %d, newer than this treaty knows (%d): upgrade treaty", m.Schema, SchemaVersion)
	}
	return m, nil
}
