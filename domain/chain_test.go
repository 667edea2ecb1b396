package domain

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
)

func TestSeal(t *testing.T) {
	data := []byte(`{"proposal":"p","party":"US"}`)
	meta := []byte(`{"party":"US","round":1,"time":"2026-11-26T10:00:00Z","schema":2,"prev":"00aa"}`)
	h, err := Seal("ProposalAccepted", data, meta)
	if err != nil || len(h) != 64 {
		t.Fatalf("Seal = %q, %v", h, err)
	}
	same := []struct {
		name string
		meta string
	}{
		{"keys in another order", `{"round":1,"party":"US","prev":"00aa","schema":2,"time":"2026-11-26T10:00:00Z"}`},
		{"with its own hash and signature", `{"party":"US","round":1,"time":"2026-11-26T10:00:00Z","schema":2,"prev":"00aa","hash":"x","signature":"y"}`},
		{"with white space", `{ "party": "US", "round": 1, "time": "2026-11-26T10:00:00Z", "schema": 2, "prev": "00aa" }`},
	}
	for _, tt := range same {
		if got, _ := Seal("ProposalAccepted", data, []byte(tt.meta)); got != h {
			t.Errorf("%s: hash changed", tt.name)
		}
	}
	differ := []struct {
		name       string
		typ        string
		data, meta string
	}{
		{"type", "ProposalObjected", string(data), string(meta)},
		{"data", "ProposalAccepted", `{"proposal":"p","party":"UA"}`, string(meta)},
		{"data white space", "ProposalAccepted", `{"proposal": "p","party":"US"}`, string(meta)},
		{"party in metadata", "ProposalAccepted", string(data), strings.Replace(string(meta), `"party":"US"`, `"party":"UA"`, 1)},
		{"previous hash", "ProposalAccepted", string(data), strings.Replace(string(meta), `00aa`, `00ab`, 1)},
		{"a field added to metadata", "ProposalAccepted", string(data), strings.Replace(string(meta), `}`, `,"extra":1}`, 1)},
		{"the key that signs", "ProposalAccepted", string(data), strings.Replace(string(meta), `}`, `,"key":"k1"}`, 1)},
	}
	for _, tt := range differ {
		if got, err := Seal(tt.typ, []byte(tt.data), []byte(tt.meta)); err != nil || got == h {
			t.Errorf("changing the %s does not change the hash (%v)", tt.name, err)
		}
	}
	// Length prefixes keep parts from running into each other.
	a, _ := Seal("AB", []byte("C"), []byte(`{}`))
	b, _ := Seal("A", []byte("BC"), []byte(`{}`))
	if a == b {
		t.Error("type and data boundaries are ambiguous")
	}
	for _, bad := range []string{``, `[]`, `null`, `"x"`, `{`} {
		if _, err := Seal("T", nil, []byte(bad)); err == nil {
			t.Errorf("Seal accepted metadata %q", bad)
		}
	}
}

func TestSignatures(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	other, otherPriv, _ := ed25519.GenerateKey(nil)
	h, _ := Seal("RoundOpened", []byte(`{"round":1}`), []byte(`{"schema":2}`))
	sig, err := Sign(priv, h)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckSignature(pub, h, sig) {
		t.Fatal("a good signature does not check")
	}
	forged, _ := Sign(otherPriv, h)
	h2, _ := Seal("RoundOpened", []byte(`{"round":2}`), []byte(`{"schema":2}`))
	for name, ok := range map[string]bool{
		"another key's signature": CheckSignature(pub, h, forged),
		"the wrong key":           CheckSignature(other, h, sig),
		"another hash":            CheckSignature(pub, h2, sig),
		"garbage signature":       CheckSignature(pub, h, "not base64!"),
		"garbage hash":            CheckSignature(pub, "zz", sig),
		"truncated signature":     CheckSignature(pub, h, sig[:20]),
	} {
		if ok {
			t.Errorf("%s checks", name)
		}
	}
	if _, err := Sign(priv, "nothex"); err == nil {
		t.Error("signed something that is not a hash")
	}
	if id := KeyID(pub); len(id) != 16 || id == KeyID(other) {
		t.Errorf("KeyID %q", id)
	}
	back, err := ParseKey(EncodeKey(pub))
	if err != nil || !back.Equal(pub) {
		t.Fatalf("key round trip: %v", err)
	}
	for _, bad := range []string{"", "abc", EncodeKey(pub)[:20], "!!!!"} {
		if _, err := ParseKey(bad); ErrorCode(err) != EINVALID {
			t.Errorf("ParseKey(%q) = %v", bad, err)
		}
	}
}

func TestCanonicalMeta(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{}`, `{}`},
		{` { } `, `{}`},
		{`{"b":1,"a":"x"}`, `{"a":"x","b":1}`},
		{`{"hash":"h","signature":"s","prev":"p"}`, `{"prev":"p"}`},
		{`{"z":{"k":"}{\"","n":[1,{"a":[]}]},"a":null}`, `{"a":null,"z":{"k":"}{\"","n":[1,{"a":[]}]}}`},
		{"{\n\t\"b\" : true ,\r\n \"a\":false}", `{"a":false,"b":true}`},
		{`{"\u0061":1,"a":2}`, `{"\u0061":1,"a":2}`}, // keys as stored: two different spellings
	} {
		got, err := canonicalMeta([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("canonicalMeta(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}}`, `{"a":1} x`,
		`{"a":1,"a":2}`, `{"a":"unterminated}`, `{a:1}`, `{"a":{"b":1}`, `{"a":[1,2}`} {
		if _, err := canonicalMeta([]byte(bad)); err == nil {
			t.Errorf("canonicalMeta(%q) accepted", bad)
		}
	}
}

// FuzzSeal: any bytes as metadata are sealed or refused, never a panic; and
// a JSON object's hash does not depend on the order of its members.
func FuzzSeal(f *testing.F) {
	f.Add([]byte(`{"party":"UA","round":1,"prev":"ab"}`))
	f.Add([]byte(`{"a":{"b":["}",{"c":"\""}]},"hash":"x"}`))
	f.Add([]byte("{\"\\\"\":1}"))
	f.Fuzz(func(t *testing.T, meta []byte) {
		h, err := Seal("T", []byte(`{}`), meta)
		if err != nil {
			return
		}
		members, err := jsonMembers(nil, meta)
		if err != nil || len(h) != 64 {
			t.Fatalf("sealed %q, but it does not split: %v", meta, err)
		}
		// Reversed, the same members make the same hash.
		var rev bytes.Buffer
		rev.WriteByte('{')
		for i := len(members) - 1; i >= 0; i-- {
			if rev.Len() > 1 {
				rev.WriteByte(',')
			}
			rev.Write(members[i].key)
			rev.WriteByte(':')
			rev.Write(members[i].value)
		}
		rev.WriteByte('}')
		if h2, err := Seal("T", []byte(`{}`), rev.Bytes()); err != nil || h2 != h {
			t.Fatalf("member order changed the hash of %q (%v)", meta, err)
		}
	})
}
