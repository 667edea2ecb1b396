package projections

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/projections/redline"
)

// TestRedlinesKept: a compare's redlines are kept in the cache, and the
// next compare of the same moments, in another Reader as another process
// would have, reads them and gives the same document; a kept redline that
// does not account for its texts is worked out again.
func TestRedlinesKept(t *testing.T) {
	ss := newSession(t)
	ss.amendRounds(3, 6, func(i, round int, clause string) string {
		return fmt.Sprintf("The Parties shall meet %d times in round %d, clause %s.", i, round, clause)
	})
	ctx := context.Background()
	from, to := ref(t, "round:1"), ref(t, "head")
	plain, err := NewReader(ss.store, "berlin", Options{}).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(ss.store, "berlin", withCheckpoints)
	first, err := r.Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	name := first.From.Hash + "-" + first.To.Hash
	kept := r.savedRedlines(ctx, first.From, first.To)
	if len(kept.ops) == 0 {
		t.Fatal("the compare kept no redlines")
	}
	again, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Diff{first, again} {
		if !reflect.DeepEqual(d, plain) {
			t.Fatalf("with kept redlines the compare differs:\n%+v\nwithout:\n%+v", d, plain)
		}
	}
	// The kept redlines are what the next compare reads: each clause's
	// replaced by one that strikes the old text whole and inserts the new.
	whole := func(before, after string) []redline.Op {
		return []redline.Op{{Kind: redline.Delete, Text: before}, {Kind: redline.Insert, Text: after}}
	}
	swapped := 0
	for _, ch := range first.Clauses {
		if ch.Before != "" && ch.After != "" && ch.Before != ch.After {
			kept.ops[pairKey(ch.Before, ch.After)] = encodeOps(whole(ch.Before, ch.After))
			swapped++
		}
	}
	if swapped == 0 {
		t.Fatal("no clause changed: nothing to test")
	}
	kept.added = true
	r.saveRedlines(ctx, kept)
	read, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range read.Clauses {
		if ch.Before != "" && ch.After != "" && ch.Before != ch.After && !reflect.DeepEqual(ch.Ops, whole(ch.Before, ch.After)) {
			t.Fatalf("clause %s: the kept redline was not read: %v", ch.ID, ch.Ops)
		}
	}
	// Every kept redline replaced by one that strikes a byte too few.
	var b []byte
	bad := encodeOps([]redline.Op{{Kind: redline.Delete, Text: "x"}})
	for k := range kept.ops {
		b = append(b, k[:]...)
		b = append(b, byte(len(bad)))
		b = append(b, bad...)
	}
	if err := r.cps.SaveMemo(ctx, redlinesMemo, name, b); err != nil {
		t.Fatal(err)
	}
	lied, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, from, to, CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lied, plain) {
		t.Fatalf("a kept redline that does not fit its texts was used:\n%+v", lied)
	}
}

// TestOpsEncoding: the ops of a redline, kept as kinds and lengths, come
// back as they were against their texts; ops that do not account for the
// texts given are refused.
func TestOpsEncoding(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	vocabulary := strings.Fields("the Parties shall may consult within days Сторони погоджуються 同意 , . ;")
	text := func() string {
		ws := make([]string, rng.Intn(30))
		for i := range ws {
			ws[i] = vocabulary[rng.Intn(len(vocabulary))]
		}
		return strings.Join(ws, " ")
	}
	for range 2000 {
		before, after := text(), text()
		ops := words(before, after)
		got, ok := decodeOps(encodeOps(ops), before, after)
		if !ok || !reflect.DeepEqual(got, ops) {
			t.Fatalf("%q → %q: %v came back as %v (%v)", before, after, ops, got, ok)
		}
		// Ops that do not use up both texts, or that keep unequal
		// text, are refused.
		if _, ok := decodeOps(encodeOps(ops), before+"x", after); ok {
			t.Fatalf("the ops of %q → %q were taken for a longer text's", before, after)
		}
		if before != "" && after != "" && before[:1] != after[:1] {
			if _, ok := decodeOps(encodeOps([]redline.Op{{Kind: redline.Equal, Text: before[:1]}}), before[:1], after[:1]); ok {
				t.Fatalf("%q kept as equal to %q", before[:1], after[:1])
			}
		}
	}
}
