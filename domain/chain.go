package domain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The hash chain: every event's metadata carries the SHA-256 of its type, its
// data and its metadata (the hash and signature left out, the hash of the
// event before it included), so that changing, inserting, deleting or
// reordering any stored event breaks the chain at that event, and a party's
// signature over an event's hash covers everything the event says.

// sealDomain separates treaty's event hashes from any other use of SHA-256.
const sealDomain = "treaty-event-v1\n"

// Seal returns the hash of a stored event: hex SHA-256 over its type, its data
// exactly as stored, and its metadata in canonical form (see canonicalMeta).
// Metadata that is not a JSON object cannot be sealed.
func Seal(typ string, data, meta []byte) (string, error) {
	canon, err := canonicalMeta(meta)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(sealDomain))
	var n [binary.MaxVarintLen64]byte
	for _, part := range [][]byte{[]byte(typ), data, canon} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
		h.Write(part)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])), nil
}

// canonicalMeta is the form of an event's metadata that its hash covers: the
// members of the JSON object, each key and value exactly as stored, sorted by
// key (byte order), joined by commas inside braces without white space
// between members, and without the "hash" and "signature" members, which the
// hash cannot cover. "prev", the hash of the event before, stays in. Fields
// a newer treaty adds are covered like the rest. A duplicated key, or bytes
// that are not one JSON object, cannot be sealed.
func canonicalMeta(meta []byte) ([]byte, error) {
	var buf [metaMembers]member
	members, err := jsonMembers(buf[:0], meta)
	if err != nil {
		return nil, fmt.Errorf("metadata is not a JSON object: %w", err)
	}
	slices.SortFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	out := make([]byte, 0, len(meta))
	out = append(out, '{')
	for i, m := range members {
		if i > 0 && bytes.Equal(m.key, members[i-1].key) {
			return nil, fmt.Errorf("metadata has the key %s twice", m.key)
		}
		if k := string(m.key); k == `"hash"` || k == `"signature"` {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, m.key...)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), nil
}

// member is one "key": value of a JSON object, both as written.
type member struct{ key, value []byte }

var errNotObject = errors.New("malformed JSON object")

// metaMembers is room for the members of metadata as treaty writes it, so
// that splitting it allocates nothing.
const metaMembers = 12

// jsonMembers splits a JSON object into its members without decoding them,
// appending them to ms. It checks the object's structure (strings, nesting,
// separators) but not the spelling of numbers and literals, which
// DecodeMeta checks.
func jsonMembers(ms []member, b []byte) ([]member, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipSpace(b, i+1) != len(b) {
			return nil, errNotObject
		}
		return ms, nil
	}
	for {
		end, ok := scanString(b, i)
		if !ok {
			return nil, errNotObject
		}
		key := b[i:end]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, errNotObject
		}
		i = skipSpace(b, i+1)
		end, ok = scanValue(b, i)
		if !ok {
			return nil, errNotObject
		}
		ms = append(ms, member{key, b[i:end]})
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, errNotObject
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return nil, errNotObject
			}
			return ms, nil
		default:
			return nil, errNotObject
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the end of the JSON string starting at b[i].
func scanString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// scanValue returns the end of the JSON value starting at b[i].
func scanValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := scanString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i, i > start
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

// Fingerprint is what people read aloud to compare a key out of band: the
// first 128 bits of its SHA-256, in eight groups of four hex digits.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	h := hex.EncodeToString(sum[:16])
	var groups []string
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, " ")
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
	if len(priv) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("the private key is %d bytes, not an ed25519 key's %d", len(priv), ed25519.PrivateKeySize)
	}
	return base64.StdEncoding.EncodeToString(signBytes(priv, raw)), nil
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

// CheckLink checks a stored event's place in the hash chain: that its
// metadata m (decoded from rawMeta) carries a hash, that the hash covers its
// type, data and metadata as stored, that it names prev, the hash of the
// event before it ("" for the first event), as its predecessor, and (schema
// 3 on) that the ID the hash covers is the one it is stored under. It
// returns the event's hash. This is the one check of the chain: verify,
// every read and import use it.
func CheckLink(prev, id, typ string, data, rawMeta []byte, m Meta) (string, error) {
	if m.Hash == "" {
		return "", fmt.Errorf("carries no hash: it was written outside treaty, or its hash was removed")
	}
	hash, err := Seal(typ, data, rawMeta)
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot be hashed: %v", err)
	case hash != m.Hash:
		return "", fmt.Errorf("does not match its hash: its type, data or metadata was changed after it was written")
	case m.Prev != prev && prev == "":
		return "", fmt.Errorf("is the first event, but is chained to an event before it (%s): the events before it were deleted", ShortHash(m.Prev))
	case m.Prev != prev:
		return "", &MisplacedError{Claimed: m.Prev, Follows: prev}
	case m.Schema >= 3 && m.ID == "":
		return "", fmt.Errorf("records no ID in its metadata (schema %d): it was written outside treaty, or its ID was removed", m.Schema)
	case m.Schema >= 3 && m.ID != id:
		return "", fmt.Errorf("is stored under ID %s, but its hash covers ID %s: its ID was changed after it was written", id, m.ID)
	}
	return hash, nil
}

// MisplacedError is an event chained to another event than the one it
// follows in the log: an event before it was deleted, inserted or moved.
type MisplacedError struct {
	// Claimed is the hash of the event it is chained to, Follows the hash
	// of the event it follows.
	Claimed, Follows string
	// FollowsEvent, when known, is the number of the event it follows.
	FollowsEvent int
}

func (e *MisplacedError) Error() string {
	follows := ShortHash(e.Follows)
	if e.FollowsEvent > 0 {
		follows = fmt.Sprintf("%s (event %d)", follows, e.FollowsEvent)
	}
	return fmt.Sprintf("is chained to the event with hash %s, but follows %s: an event before it was deleted, inserted or moved", ShortHash(e.Claimed), follows)
}
