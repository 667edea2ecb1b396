package projections

import (
	"slices"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/memstore"
)

// FuzzVerifyTamper flips bytes in one stored event of a signed, sealed log:
// verify must find every change, name an event, and never crash.
func FuzzVerifyTamper(f *testing.F) {
	f.Add(uint8(3), uint8(0), uint16(5), byte(1))
	f.Add(uint8(7), uint8(1), uint16(40), byte(0x20))
	f.Add(uint8(9), uint8(2), uint16(0), byte(0xff))
	f.Add(uint8(0), uint8(1), uint16(200), byte(0x80))
	f.Add(uint8(12), uint8(1), uint16(999), byte(7))
	base := newSession(f)
	base.openRound()
	base.registerKey("UA")
	base.agree("a", "Сторони зобов'язуються.")
	us := base.table("US", "a", "Amended <text> & more.")
	base.do("EU", domain.Object{Proposal: us, Party: "EU", Reason: "no"})
	base.closeRound()
	clean := base.stored()
	if v, err := Verify(ctx, base.store, "berlin", VerifyOptions{}); err != nil || !v.OK {
		f.Fatalf("the clean log fails: %v %v", err, v.Problem)
	}
	f.Fuzz(func(t *testing.T, event, field uint8, offset uint16, flip byte) {
		if flip == 0 {
			return
		}
		evs := make([]eventstore.RecordedEvent, len(clean))
		copy(evs, clean)
		i := int(event) % len(evs)
		e := evs[i]
		var b []byte
		switch field % 3 {
		case 0:
			b = []byte(e.Type)
		case 1:
			b = slices.Clone(e.Data)
		default:
			b = slices.Clone(e.Metadata)
		}
		if len(b) == 0 {
			return
		}
		b[int(offset)%len(b)] ^= flip
		switch field % 3 {
		case 0:
			e.Type = string(b)
		case 1:
			e.Data = b
		default:
			e.Metadata = b
		}
		evs[i] = e
		store := memstore.New()
		store.Tamper(Stream("berlin"), func([]eventstore.RecordedEvent) []eventstore.RecordedEvent { return evs })
		v, err := Verify(ctx, store, "berlin", VerifyOptions{})
		if err != nil {
			t.Fatalf("verify failed to run: %v", err)
		}
		if v.OK || v.Problem == nil {
			t.Fatalf("a changed byte in event %d went unnoticed", i+1)
		}
		if v.Problem.Event < 1 || v.Problem.Event > i+2 || strings.TrimSpace(v.Problem.What) == "" {
			t.Fatalf("the change in event %d was reported as %+v", i+1, v.Problem)
		}
	})
}
