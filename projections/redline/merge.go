package redline

// Conflict is a run of text that both sides of a three-way merge changed,
// differently: Base is what the run was, Ours and Theirs what each side
// made of it. At is its byte offset in the base text.
type Conflict struct {
	At     int    `json:"at"`
	Base   string `json:"base"`
	Ours   string `json:"ours"`
	Theirs string `json:"theirs"`
}

// Merge3 carries the change from base to ours over to theirs, word by word,
// as diff3 does line by line: the text that neither side changed stays, a
// run that only one side changed takes that side's text, a run both changed
// alike takes it once, and a run both changed differently is a conflict.
// With no conflict, merged is the result; with conflicts, merged is the
// empty string and conflicts lists each one, in the order of the base text.
//
// It rests on Words (the two redlines from base), so it keeps Words'
// guarantees: no panic, on any script or bytes; every run boundary is a
// token boundary, so no word is cut; and every token of base that both
// sides kept is in the result, in order.
func Merge3(base, ours, theirs string) (merged string, conflicts []Conflict) {
	switch {
	case ours == theirs:
		return ours, nil
	case base == ours:
		return theirs, nil
	case base == theirs:
		return ours, nil
	}
	a, b := kept(Words(base, ours)), kept(Words(base, theirs))
	var out []byte
	pb, pa, pt := 0, 0, 0 // how far base, ours and theirs are consumed
	settle := func(eb, ea, et int) {
		x, y, z := base[pb:eb], ours[pa:ea], theirs[pt:et]
		switch {
		case x == y:
			out = append(out, z...)
		case x == z || y == z:
			out = append(out, y...)
		default:
			conflicts = append(conflicts, Conflict{At: pb, Base: x, Ours: y, Theirs: z})
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		s, e := max(a[i].base, b[j].base), min(a[i].base+a[i].n, b[j].base+b[j].n)
		if s < e {
			// base[s:e] is kept by both: a point where the three agree.
			ea, et := a[i].other+s-a[i].base, b[j].other+s-b[j].base
			settle(s, ea, et)
			out = append(out, base[s:e]...)
			pb, pa, pt = e, ea+e-s, et+e-s
		}
		if a[i].base+a[i].n < b[j].base+b[j].n {
			i++
		} else {
			j++
		}
	}
	settle(len(base), len(ours), len(theirs))
	if len(conflicts) > 0 {
		return "", conflicts
	}
	return string(out), nil
}

// keptRun is a run of base, n bytes from byte base, that a redline keeps:
// it stands at byte other of the other text.
type keptRun struct{ base, other, n int }

// kept lists the runs a redline from base keeps, in order.
func kept(ops []Op) []keptRun {
	var runs []keptRun
	x, y := 0, 0
	for _, op := range ops {
		switch op.Kind {
		case Equal:
			runs = append(runs, keptRun{base: x, other: y, n: len(op.Text)})
			x += len(op.Text)
			y += len(op.Text)
		case Delete:
			x += len(op.Text)
		case Insert:
			y += len(op.Text)
		}
	}
	return runs
}
