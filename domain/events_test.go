package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEvents() []Event {
	h := "Гарантії безпеки"
	return []Event{
		TreatyOpened{Treaty: "berlin", Title: "Berlin Framework", Parties: []Party{{Code: "UA", Name: "Україна", Role: RoleParty}, {Code: "DE", Name: "Germany", Role: RoleObserver}}},
		RoundOpened{Round: 1, Name: "Berlin I"},
		ProposalTabled{Proposal: "3f2a91c0", Clause: "guarantees", Party: "UA", Action: ActionInsert, Text: "Сторони зобов'язуються…\n\tparagraph", Heading: &h, After: "preamble", Note: "n"},
		ProposalTabled{Proposal: "3f2a91c1", Clause: "guarantees", Party: "UA", Action: ActionDelete, BaseRevision: 4, First: true},
		ProposalAccepted{Proposal: "3f2a91c0", Party: "US"},
		ProposalObjected{Proposal: "3f2a91c0", Party: "EU", Reason: "too broad"},
		ProposalWithdrawn{Proposal: "3f2a91c0", Party: "UA"},
		ProposalAdopted{Proposal: "3f2a91c0", Clause: "guarantees", Revision: 2},
		RoundClosed{Round: 1, Head: "3fa9"},
		PartyKeyRegistered{Party: "UA", Key: "MCowBQYDK2VwAyEA", Previous: "0123456789abcdef"},
		KeyEndorsed{Party: "US", Subject: "UA", Key: "0123456789abcdef", By: "fedcba9876543210"},
		KeyRevoked{Party: "US", Subject: "UA", Key: "0123456789abcdef", Reason: "stolen"},
		ProposalAccepted{Proposal: "3f2a91c0", Party: "UA", SubjectTo: []string{"77aa0000"}, AdReferendum: true},
		ProposalRevised{Proposal: "3f2a91c0", Party: "UA", Version: 2, Text: "Сторони…", Heading: &h, Note: "n"},
		ProposalCommented{Proposal: "3f2a91c0", Party: "DE", Text: "a comment"},
		AdoptionConfirmed{Proposal: "3f2a91c0", Party: "UA"},
		AdoptionDeclined{Proposal: "3f2a91c0", Party: "UA", Clause: "guarantees", Revision: 3},
		TextConcluded{Party: "DE", Head: "3fa9"},
		ReopeningAgreed{Party: "US"},
		TextInitialled{Party: "UA", Head: "3fa9"},
		ReservationMade{Party: "UA", Clause: "guarantees", Text: "r"},
		DeclarationMade{Party: "EU", Text: "d"},
	}
}

func TestEventsRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range sampleEvents() {
		typ, data, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		seen[typ] = true
		got, err := Decode(typ, data)
		if err != nil {
			t.Fatalf("Decode(%s, %s): %v", typ, data, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip of %s:\n got %#v\nwant %#v", typ, got, e)
		}
	}
	for _, typ := range EventTypes() {
		if !seen[typ] {
			t.Errorf("no sample of %s", typ)
		}
	}
}

// The stored JSON field names are a public contract; this pins them.
func TestEventJSONIsStable(t *testing.T) {
	_, data, _ := Encode(ProposalTabled{Proposal: "p", Clause: "c", Party: "UA", Action: ActionAmend, Text: "t", BaseRevision: 1})
	if want := `{"proposal":"p","clause":"c","party":"UA","action":"amend","text":"t","base_revision":1}`; string(data) != want {
		t.Fatalf("ProposalTabled encodes as %s, want %s", data, want)
	}
	m, _ := EncodeMeta(Meta{Party: "UA", Author: "Olena", Round: 2, Time: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), ID: "0192e5a0-0000-7000-8000-000000000001"})
	if want := `{"party":"UA","author":"Olena","round":2,"time":"2026-11-26T10:00:00Z","schema":3,"id":"0192e5a0-0000-7000-8000-000000000001"}`; string(m) != want {
		t.Fatalf("Meta encodes as %s, want %s", m, want)
	}
}

func TestDecodeIsTolerant(t *testing.T) {
	e, err := Decode(TypeProposalAccepted, []byte(`{"proposal":"p","party":"US","signature":"added-later","nested":{"x":[1,2]}}`))
	if err != nil || !reflect.DeepEqual(e, ProposalAccepted{Proposal: "p", Party: "US"}) {
		t.Fatalf("unknown fields: %v, %v", e, err)
	}
	_, err = Decode("TreatyRenamed", []byte(`{}`))
	var unknown *ErrUnknownEventType
	if !errors.As(err, &unknown) || unknown.Type != "TreatyRenamed" || !strings.Contains(err.Error(), "upgrade treaty") {
		t.Fatalf("unknown type: %v", err)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"round":"two"}`, "\xff"} {
		if _, err := Decode(TypeRoundOpened, []byte(bad)); err == nil || !strings.Contains(err.Error(), "RoundOpened data is not valid") {
			t.Errorf("Decode(%q) = %v", bad, err)
		}
	}
	m, err := DecodeMeta([]byte(`{"party":"UA","round":1,"time":"2026-11-26T10:00:00Z","schema":1,"hash":"abc"}`))
	if err != nil || m.Party != "UA" || m.Round != 1 {
		t.Fatalf("DecodeMeta: %+v, %v", m, err)
	}
	if _, err := DecodeMeta([]byte(`{"schema":4}`)); err == nil || !strings.Contains(err.Error(), "upgrade treaty") {
		t.Fatalf("newer schema: %v", err)
	}
	if _, err := DecodeMeta([]byte(`{"time":"yesterday"}`)); err == nil {
		t.Fatal("bad time accepted")
	}
}

// FuzzDecode feeds arbitrary stored bytes to the decoders and the fold: they
// must refuse cleanly, never panic.
func FuzzDecode(f *testing.F) {
	for _, e := range sampleEvents() {
		typ, data, _ := Encode(e)
		f.Add(typ, data, []byte(`{"party":"UA","round":1,"time":"2026-11-26T10:00:00Z","schema":1}`))
	}
	f.Add("ProposalTabled", []byte(`{"proposal":"","clause":"../x","action":"amend","heading":null}`), []byte(`{}`))
	f.Add("ProposalAdopted", []byte(`{"proposal":"p","revision":-1}`), []byte("\xff"))
	f.Fuzz(func(t *testing.T, typ string, data, meta []byte) {
		_, _ = DecodeMeta(meta)
		e, err := Decode(typ, data)
		if err != nil {
			return
		}
		// Fold the decoded event into a live negotiation.
		n := newNegotiation(t)
		n.agree("guarantees", "The Parties shall consult.")
		n.table("US", "guarantees", "Amended.")
		before := n.s.Events
		if err := n.s.Evolve(e); err != nil && n.s.Events != before {
			t.Fatalf("a refused event changed the state")
		}
		_, _, _ = Encode(e)
	})
}

// metaCases are metadata as treaty writes it and as it must still be read
// or refused: escapes, other spellings of keys and numbers, duplicates,
// nulls, white space, unknown members.
var metaCases = []string{
	`{"party":"UA","author":"sim-ua","round":1,"time":"2026-01-11T17:00:47Z","schema":2,"prev":"e24b","hash":"b076","key":"dd86","signature":"ZvFQ+/=="}`,
	`{"party":"UA","round":1,"time":"2026-11-26T10:00:00.123456789+02:00","schema":3,"id":"019b"}`,
	`{}`, ` { "party" : "UA" } `, "{\"party\":\"UA\"}\n", `{"party":"UA"}x`, `{"party":"UA",}`,
	`{"party":"U\u0041"}`, `{"party":"U\\A"}`, `{"author":"Zoë <z@x> & co"}`, "{\"author\":\"\xff\"}", "{\"author\":\"a\tb\"}",
	`{"Party":"UA"}`, `{"PARTY":"UA","party":"US"}`, `{"party":"UA","party":"US"}`, `{"party":null}`, `{"party":1}`,
	`{"round":01}`, `{"round":-0}`, `{"round":1e2}`, `{"round":1.0}`, `{"round":"1"}`, `{"round":99999999999999999999}`,
	`{"round":-3}`, `{"round":}`, `{"round":true}`, `{"time":null}`, `{"time":"yesterday"}`, `{"time":"2026-11-26T10:00:00"}`,
	`{"time":"2026-11-26T10:00:00Z","time":"2027-11-26T10:00:00Z"}`, `{"extra":{"a":[1,2]},"party":"UA"}`, `{"schema":4}`,
	`[]`, `null`, ``, `{"party":"UA"`,
}

// DecodeMeta reads every metadata as json.Unmarshal does, or refuses it
// as it does.
func TestDecodeMetaAsJSON(t *testing.T) {
	for _, c := range metaCases {
		checkMetaAsJSON(t, []byte(c))
	}
}

func FuzzDecodeMeta(f *testing.F) {
	for _, c := range metaCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, meta []byte) { checkMetaAsJSON(t, meta) })
}

func checkMetaAsJSON(t *testing.T, data []byte) {
	t.Helper()
	var want Meta
	wantErr := json.Unmarshal(data, &want)
	got, err := DecodeMeta(data)
	if wantErr != nil {
		if err == nil || !strings.Contains(err.Error(), wantErr.Error()) {
			t.Fatalf("DecodeMeta(%q) = %v, want the error %v", data, err, wantErr)
		}
		return
	}
	if want.Schema > SchemaVersion {
		if err == nil {
			t.Fatalf("DecodeMeta(%q) reads a newer schema", data)
		}
		return
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeMeta(%q) = %+v, %v; json.Unmarshal reads %+v", data, got, err, want)
	}
}
