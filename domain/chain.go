package domain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// The hash chain: every event's metadata carries the SHA-256 of its type, its
// data and its metadata (the hash and signature left out, the hash of the
// event before it included), so that changing, inserting, deleting or
// reordering any stored event breaks the chain at that event, and a party's
// signature over an event's hash covers everything the event says.

// sealDomain separates treaty's event hashes from any other use of SHA-256.
const sealDomain = "treaty-event-v1\n"

// Seal returns the hash of a stored event: hex SHA-256 over its type, its data
// exactly as stored, and its metadata in canonical form (keys sorted, "hash"
// and "signature" left out; "prev", the hash of the event before it, stays
// in). Metadata that is not a JSON object cannot be sealed.
func Seal(typ string, data, meta []byte) (string, error) {
	canon, err := canonicalMeta(meta)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(sealDomain))
	for _, part := range [][]byte{[]byte(typ), data, canon} {
		h.Write(binary.AppendUvarint(nil, uint64(len(part))))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalMeta re-encodes metadata with sorted keys and without the fields
// the hash cannot cover. Values are kept as written, so fields added by a
// newer treaty are covered too.
func canonicalMeta(meta []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("metadata is not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("metadata is not a JSON object")
	}
	delete(m, "hash")
	delete(m, "signature")
	return json.Marshal(m)
}

// strictBase64 refuses encodings with stray bits set in the last character:
// the signature is not covered by the hash, so only one spelling of it may
// be accepted, or a change to the stored bytes could go unnoticed.
var strictBase64 = base64.StdEncoding.Strict()

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// ParseKey reads a public key as PartyKeyRegistered stores it.
func ParseKey(s string) (ed25519.PublicKey, error) {
	b, err := strictBase64.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, Errorf(EINVALID, "key %q is not a base64 ed25519 public key", truncate(s, 20))
	}
	return ed25519.PublicKey(b), nil
}

// EncodeKey writes a public key as PartyKeyRegistered stores it.
func EncodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// Sign signs an event's hash (as Seal returns it) with a party's key.
func Sign(priv ed25519.PrivateKey, hash string) (string, error) {
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("%q is not an event hash", hash)
	}
	return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, raw)), nil
}

// CheckSignature reports whether sig is pub's signature of hash.
func CheckSignature(pub ed25519.PublicKey, hash, sig string) bool {
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != sha256.Size {
		return false
	}
	s, err := strictBase64.DecodeString(sig)
	if err != nil || len(s) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(pub, raw, s)
}

// Sealed is an event in its stored form, sealed into the hash chain.
type Sealed struct {
	Type     string
	Data     []byte
	Metadata []byte
	// Hash is the event's hash, which the next event chains to.
	Hash string
}

// SealEvent encodes e with its metadata, chained after prev (the hash of the
// log's last event, empty for the first event) and, when key is not nil,
// signed with it. It fills in meta's Schema, Prev, Key, Hash and Signature;
// the caller fills in the rest.
func SealEvent(e Event, meta Meta, prev string, key ed25519.PrivateKey) (Sealed, error) {
	typ, data, err := Encode(e)
	if err != nil {
		return Sealed{}, err
	}
	meta.Schema, meta.Prev, meta.Hash, meta.Key, meta.Signature = SchemaVersion, prev, "", "", ""
	if key != nil {
		meta.Key = KeyID(key.Public().(ed25519.PublicKey))
	}
	raw, err := EncodeMeta(meta)
	if err != nil {
		return Sealed{}, err
	}
	if meta.Hash, err = Seal(typ, data, raw); err != nil {
		return Sealed{}, err
	}
	if key != nil {
		if meta.Signature, err = Sign(key, meta.Hash); err != nil {
			return Sealed{}, err
		}
	}
	if raw, err = EncodeMeta(meta); err != nil {
		return Sealed{}, err
	}
	return Sealed{Type: typ, Data: data, Metadata: raw, Hash: meta.Hash}, nil
}
