package recbuf

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestArena(t *testing.T) {
	var a Arena
	if d, m := a.Copy(nil, []byte{}); d != nil || m != nil {
		t.Fatalf("empty event: %q, %q", d, m)
	}
	src := []byte(`{"n":1}{"m":2}`)
	d1, m1 := a.Copy(src[:7], src[7:])
	d2, m2 := a.Copy([]byte("data"), []byte("meta"))
	src[0] = 'X'
	if string(d1) != `{"n":1}` || string(m1) != `{"m":2}` || string(d2) != "data" || string(m2) != "meta" {
		t.Fatalf("copies %q %q %q %q", d1, m1, d2, m2)
	}
	if cap(d1) != len(d1) || cap(m1) != len(m1) {
		t.Fatalf("spare capacity: %d/%d, %d/%d", len(d1), cap(d1), len(m1), cap(m1))
	}
	_ = append(d1, 'z') // lands in a new array, not in m1
	_ = append(m1, 'z') // nor in d2
	if string(m1) != `{"m":2}` || string(d2) != "data" {
		t.Fatalf("an append wrote into a neighbour: %q %q", m1, d2)
	}
	big := bytes.Repeat([]byte{'b'}, ArenaSize+1)
	if d, _ := a.Copy(big, nil); !bytes.Equal(d, big) {
		t.Fatal("an event larger than an arena")
	}
}

func TestTypes(t *testing.T) {
	types := Types{}
	a, b := types.Intern([]byte("ProposalTabled")), types.Intern([]byte("ProposalTabled"))
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same type twice is two strings")
	}
}
