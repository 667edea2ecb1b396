package domain

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReceiptKind names treaty's receipts in their files.
const ReceiptKind = "treaty-receipt"

// Receipt is a party's signed statement that a negotiation's log held, as
// its event Event, an event with hash Head: what a round's close (or the
// conclusion of the text) ended on. Each capital keeps its receipts; later,
// verify proves the log still holds what they cite, and a log truncated or
// rewritten since is caught at the event they name.
type Receipt struct {
	Kind   string    `json:"kind"`
	Treaty string    `json:"treaty"`
	Event  int       `json:"event"`
	Head   string    `json:"head"`
	Time   time.Time `json:"time"`
	// What says what the event is, for people ("the close of round 2").
	What string `json:"what,omitempty"`
	// Party issued the receipt; Key (its ID) and PublicKey signed it.
	Party     string `json:"party,omitempty"`
	Key       string `json:"key,omitempty"`
	PublicKey string `json:"public_key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// signedBytes is what a receipt's signature covers: every field a verdict
// rests on, in a fixed order.
func (r Receipt) signedBytes() []byte {
	return []byte(strings.Join([]string{"treaty-receipt-v1", r.Treaty, strconv.Itoa(r.Event), r.Head,
		r.Time.UTC().Format(time.RFC3339Nano), r.Party, r.Key}, "\n"))
}

// SignReceipt signs r with priv, filling in its key.
func SignReceipt(r Receipt, priv ed25519.PrivateKey) Receipt {
	pub := priv.Public().(ed25519.PublicKey)
	r.Kind, r.Key, r.PublicKey = ReceiptKind, KeyID(pub), EncodeKey(pub)
	r.Signature = base64.StdEncoding.EncodeToString(signBytes(priv, r.signedBytes()))
	return r
}

// CheckReceipt checks a receipt's form and, when it is signed, that the
// signature is its key's over what it says. It does not say whether the key
// was the party's: that is the log's to tell.
func CheckReceipt(r Receipt) error {
	switch {
	case r.Kind != ReceiptKind:
		return fmt.Errorf("it is not a treaty receipt (kind %q)", r.Kind)
	case CheckSlug("treaty ID", r.Treaty) != nil:
		return fmt.Errorf("it names no valid negotiation (%q)", r.Treaty)
	case r.Event < 1:
		return fmt.Errorf("it names no event")
	case !IsHash(r.Head):
		return fmt.Errorf("its head %q is not a full hash", r.Head)
	case r.Signature == "" && r.Key == "":
		return nil
	}
	pub, err := ParseKey(r.PublicKey)
	if err != nil || KeyID(pub) != r.Key {
		return fmt.Errorf("its public key does not match its key ID %s", r.Key)
	}
	sig, err := strictBase64.DecodeString(r.Signature)
	if err != nil || !ed25519.Verify(pub, r.signedBytes(), sig) {
		return fmt.Errorf("its signature does not match what it says: it was changed after %s signed it", r.Party)
	}
	return nil
}

// IsHash reports whether s is a full event hash: 64 lower-case hex digits.
func IsHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
