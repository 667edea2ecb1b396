package redline

import (
	"slices"
	"testing"
)

func TestMerge3(t *testing.T) {
	for _, tc := range []struct {
		name, base, ours, theirs string
		want                     string
		conflicts                []Conflict
	}{
		{name: "only ours changed", base: "The Parties shall cooperate.", ours: "The Parties shall fully cooperate.", theirs: "The Parties shall cooperate.",
			want: "The Parties shall fully cooperate."},
		{name: "only theirs changed", base: "a b c", ours: "a b c", theirs: "a x c", want: "a x c"},
		{name: "same change", base: "a b c", ours: "a x c", theirs: "a x c", want: "a x c"},
		{name: "changes apart", base: "The Parties shall cooperate in good faith.",
			ours:   "The Parties shall cooperate fully in good faith.",
			theirs: "The States shall cooperate in good faith.",
			want:   "The States shall cooperate fully in good faith."},
		{name: "both change one word", base: "binding guarantees", ours: "legally binding guarantees", theirs: "firm guarantees",
			conflicts: []Conflict{{At: 0, Base: "binding", Ours: "legally binding", Theirs: "firm"}}},
		{name: "both insert at one place", base: "a c", ours: "a b c", theirs: "a d c",
			conflicts: []Conflict{{At: 2, Base: "", Ours: "b ", Theirs: "d "}}},
		{name: "Cyrillic", base: "Сторони співпрацюють у доброї волі.",
			ours:   "Сторони тісно співпрацюють у доброї волі.",
			theirs: "Сторони співпрацюють у дусі доброї волі.",
			want:   "Сторони тісно співпрацюють у дусі доброї волі."},
		{name: "Greek and emoji", base: "Ελλάδα και Κύπρος 👍", ours: "Ελλάδα και Κύπρος 👍🏽", theirs: "Ελλάδα, Κύπρος 👍",
			want: "Ελλάδα, Κύπρος 👍🏽"},
		{name: "CJK", base: "双方 同意 合作。", ours: "双方 同意 全面 合作。", theirs: "双方 一致 同意 合作。", want: "双方 一致 同意 全面 合作。"},
		{name: "RTL", base: "الطرفان يتفقان على التعاون", ours: "الطرفان يتفقان على التعاون الكامل", theirs: "الدولتان يتفقان على التعاون",
			want: "الدولتان يتفقان على التعاون الكامل"},
		{name: "ours deletes what theirs kept", base: "one two three four", ours: "one four", theirs: "one two three four five", want: "one four five"},
		{name: "empty base", base: "", ours: "x", theirs: "y", conflicts: []Conflict{{Base: "", Ours: "x", Theirs: "y"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, conflicts := Merge3(tc.base, tc.ours, tc.theirs)
			if !slices.Equal(conflicts, tc.conflicts) {
				t.Fatalf("conflicts %+v, want %+v", conflicts, tc.conflicts)
			}
			if got != tc.want {
				t.Fatalf("merged %q, want %q", got, tc.want)
			}
			checkMerge(t, tc.base, tc.ours, tc.theirs, got, conflicts)
		})
	}
}

// checkMerge checks what Merge3 promises of any inputs: a side that left
// the base alone gives the other side; a clean merge holds, in order, every
// token that both sides kept, and cuts no word (each of its tokens is a
// token of one of the three texts); each conflict is a run both sides
// changed differently.
func checkMerge(t *testing.T, base, ours, theirs, merged string, conflicts []Conflict) {
	t.Helper()
	switch {
	case ours == theirs || base == theirs:
		if merged != ours || conflicts != nil {
			t.Fatalf("Merge3(%q, %q, %q) = %q, %v; want %q", base, ours, theirs, merged, conflicts, ours)
		}
	case base == ours:
		if merged != theirs || conflicts != nil {
			t.Fatalf("Merge3(%q, %q, %q) = %q, %v; want %q", base, ours, theirs, merged, conflicts, theirs)
		}
	}
	for _, c := range conflicts {
		if c.Base == c.Ours || c.Base == c.Theirs || c.Ours == c.Theirs {
			t.Fatalf("conflict %+v is not a run both sides changed differently", c)
		}
		if c.At < 0 || c.At+len(c.Base) > len(base) || base[c.At:c.At+len(c.Base)] != c.Base {
			t.Fatalf("conflict %+v is not at its place in the base %q", c, base)
		}
	}
	if len(conflicts) > 0 {
		if merged != "" {
			t.Fatalf("a merge with conflicts gave text %q", merged)
		}
		return
	}
	known := map[string]bool{}
	for _, s := range []string{base, ours, theirs} {
		for _, tok := range tokens(s) {
			known[tok] = true
		}
	}
	for _, tok := range tokens(merged) {
		if !known[tok] {
			t.Fatalf("Merge3(%q, %q, %q) = %q: token %q is in none of the texts (a word cut)", base, ours, theirs, merged, tok)
		}
	}
	// The base tokens both redlines keep, in order, are a subsequence of the
	// merged tokens.
	a, b := keptTokens(base, ours), keptTokens(base, theirs)
	m := tokens(merged)
	k := 0
	for i, tok := range tokens(base) {
		if !a[i] || !b[i] {
			continue
		}
		for k < len(m) && m[k] != tok {
			k++
		}
		if k == len(m) {
			t.Fatalf("Merge3(%q, %q, %q) = %q lost %q, which both sides kept", base, ours, theirs, merged, tok)
		}
		k++
	}
}

func tokens(s string) []string {
	b := tokenBounds(s, nil)
	out := make([]string, len(b)-1)
	for i := range out {
		out[i] = s[b[i]:b[i+1]]
	}
	return out
}

// keptTokens says, for each token of base, whether the redline to other
// keeps it.
func keptTokens(base, other string) []bool {
	b := tokenBounds(base, nil)
	keep := make([]bool, len(b)-1)
	for _, r := range kept(Words(base, other)) {
		for i := range keep {
			if b[i] >= r.base && b[i+1] <= r.base+r.n {
				keep[i] = true
			}
		}
	}
	return keep
}

// FuzzMerge3 checks checkMerge's promises for any three strings.
func FuzzMerge3(f *testing.F) {
	for _, seed := range [][3]string{
		{"", "", ""},
		{"a b c", "a x c", "a b y"},
		{"The Parties shall cooperate.", "The Parties shall fully cooperate.", "The States shall cooperate."},
		{"Сторони зобов'язуються поважати суверенітет.", "Сторони зобов’язуються взаємно поважати суверенітет.", "Сторони зобов'язуються поважати суверенітет і цілісність."},
		{"双方同意合作。", "双方 同意 全面 合作。", "双方同意合作。第二条"},
		{"الطرفان يتفقان", "الطرفان يتفقان على التعاون", "الدولتان يتفقان"},
		{"ok 👍🏽 👨‍👩‍👧 🇺🇦", "ok 👎 👨‍👩‍👦 🇺🇦", "ok 👍🏽 👨‍👩‍👧 🇺🇸"},
		{"bad \xff\xfe byte", "bad \xfe\xff byte", "bad \xff\xfe bytes"},
		{"a a a a", "a a", "a a a a a"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, base, ours, theirs string) {
		merged, conflicts := Merge3(base, ours, theirs)
		checkMerge(t, base, ours, theirs, merged, conflicts)
	})
}
