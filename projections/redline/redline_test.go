package redline

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

func eqOp(s string) Op  { return Op{Equal, s} }
func insOp(s string) Op { return Op{Insert, s} }
func delOp(s string) Op { return Op{Delete, s} }

func opsString(ops []Op) string {
	var sb strings.Builder
	for i, op := range ops {
		if i > 0 {
			sb.WriteString(" ")
		}
		fmt.Fprintf(&sb, "%s(%q)", op.Kind, op.Text)
	}
	return "[" + sb.String() + "]"
}

// refTokenBounds is an independent statement of the tokenisation rules, written
// for the tests: it returns, for every byte offset 0..len(s), whether a token
// boundary falls there.
func refTokenBounds(s string) []bool {
	at := make([]bool, len(s)+1)
	at[0], at[len(s)] = true, true
	class := func(r rune, size int) int {
		switch {
		case r == utf8.RuneError && size == 1:
			return -1 // invalid byte: alone
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			return 1
		case unicode.IsSpace(r):
			return 2
		}
		return 0 // other: alone
	}
	prev := -2
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := class(r, size)
		if prev == 1 && (r == '\'' || r == '’' || r == 'ʼ') && i+size < len(s) {
			if next, n := utf8.DecodeRuneInString(s[i+size:]); class(next, n) == 1 {
				// An apostrophe between letters is inside the word.
				i += size + n
				continue
			}
		}
		if c <= 0 || c != prev {
			at[i] = true
		}
		prev = c
		i += size
	}
	return at
}

// checkRedline asserts everything Words promises about ops for the two
// inputs.
func checkRedline(t testing.TB, before, after string, ops []Op) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		b, a := before, after
		if len(b)+len(a) > 400 {
			b, a = b[:min(len(b), 200)]+"…", a[:min(len(a), 200)]+"…"
		}
		t.Fatalf("Words(%q, %q): %s", b, a, fmt.Sprintf(format, args...))
	}
	gotB, gotA := Rebuild(ops)
	if gotB != before {
		fail("equal+delete texts do not rebuild before")
	}
	if gotA != after {
		fail("equal+insert texts do not rebuild after")
	}
	switch {
	case before == after && before == "":
		if len(ops) != 0 {
			fail("two empty texts gave %d ops", len(ops))
		}
	case before == after:
		if len(ops) != 1 || ops[0].Kind != Equal {
			fail("identical texts gave %s", opsString(ops))
		}
	case before == "":
		if len(ops) != 1 || ops[0].Kind != Insert {
			fail("empty before gave %s", opsString(ops))
		}
	case after == "":
		if len(ops) != 1 || ops[0].Kind != Delete {
			fail("empty after gave %s", opsString(ops))
		}
	}
	bb, ab := refTokenBounds(before), refTokenBounds(after)
	pb, pa := 0, 0
	for k, op := range ops {
		switch op.Kind {
		case Equal, Insert, Delete:
		default:
			fail("op %d has invalid kind %v", k, op.Kind)
		}
		if op.Text == "" {
			fail("op %d (%v) is empty", k, op.Kind)
		}
		if k > 0 {
			prev := ops[k-1].Kind
			if prev == op.Kind {
				fail("ops %d and %d are both %v", k-1, k, op.Kind)
			}
			if prev == Insert && op.Kind == Delete {
				fail("insert %d comes before delete %d", k-1, k)
			}
		}
		if op.Kind != Insert {
			pb += len(op.Text)
		}
		if op.Kind != Delete {
			pa += len(op.Text)
		}
		if !bb[pb] {
			fail("op %d ends at byte %d of before, inside a token; ops %s", k, pb, opsString(ops))
		}
		if !ab[pa] {
			fail("op %d ends at byte %d of after, inside a token; ops %s", k, pa, opsString(ops))
		}
	}
	if n := goDiffPanics.Load(); n != 0 {
		fail("go-diff panicked %d times", n)
	}
}

// wordTokens counts the words (see isWordToken) among the tokens of s.
func wordTokens(s string) int {
	b, n := tokenBounds(s, nil), 0
	for i := 0; i+1 < len(b); i++ {
		if isWordToken(s[b[i]:b[i+1]]) {
			n++
		}
	}
	return n
}

// checkKeepsWords asserts that ops (Words(before, after)) keep unchanged at
// least as many words as the token diff Words works from (go-diff's where
// the texts differ by fewer than bitParallelMinD tokens, see alignDiff):
// the clean-up folds white space and punctuation between changes into
// them, but never strikes and re-inserts a word that both texts keep. It
// holds where Words diffs the whole of both texts at once, which it does
// for texts of up to chunkTokens tokens.
func checkKeepsWords(t testing.TB, before, after string, ops []Op) {
	t.Helper()
	checkKeepsWordsOf(t, before, after, ops, bitParallelMinD)
}

// checkKeepsWordsOf is checkKeepsWords for a redline with the given
// redlineLimits.minD.
func checkKeepsWordsOf(t testing.TB, before, after string, ops []Op, minD int) {
	t.Helper()
	bb, ab := tokenBounds(before, nil), tokenBounds(after, nil)
	if len(bb)-1 > chunkTokens || len(ab)-1 > chunkTokens || before == after {
		return
	}
	ids := map[string]rune{}
	var word []bool
	code := func(s string, b []int) []rune {
		out := make([]rune, len(b)-1)
		for i := range out {
			tok := s[b[i]:b[i+1]]
			r, ok := ids[tok]
			if !ok {
				r = idToRune(len(ids))
				ids[tok] = r
				word = append(word, isWordToken(tok))
			}
			out[i] = r
		}
		return out
	}
	xs, ys := code(before, bb), code(after, ab)
	m := differ{minD: minD, word: word}
	_, want := keptRunes(diffsOf(m.alignDiff(xs, ys, time.Now().Add(time.Minute)), xs, ys), word)
	got := 0
	for _, op := range ops {
		if op.Kind == Equal {
			got += wordTokens(op.Text)
		}
	}
	if got < want {
		t.Fatalf("Words(%q, %q) keeps %d words unchanged where its token diff keeps %d: %s", before, after, got, want, opsString(ops))
	}
}

func TestOpKind(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		name string
	}{{Equal, "equal"}, {Insert, "insert"}, {Delete, "delete"}} {
		if got := c.kind.String(); got != c.name {
			t.Errorf("%d.String() = %q, want %q", c.kind, got, c.name)
		}
		data, err := json.Marshal(c.kind)
		if err != nil || string(data) != `"`+c.name+`"` {
			t.Errorf("json.Marshal(%v) = %s, %v", c.kind, data, err)
		}
		var k Kind
		if err := json.Unmarshal(data, &k); err != nil || k != c.kind {
			t.Errorf("json.Unmarshal(%s) = %v, %v", data, k, err)
		}
	}
	if got := Kind(0).String(); got != "Kind(0)" {
		t.Errorf("Kind(0).String() = %q", got)
	}
	for _, k := range []Kind{0, 4, 255} {
		if data, err := json.Marshal(k); err == nil {
			t.Errorf("json.Marshal(Kind(%d)) = %s, want an error", k, data)
		}
	}
	for _, in := range []string{`"Equal"`, `"insOp"`, `""`, `1`, `null`, `{}`} {
		k := Delete
		if err := json.Unmarshal([]byte(in), &k); err == nil {
			t.Errorf("json.Unmarshal(%s) succeeded with %v", in, k)
		} else if k != Delete {
			t.Errorf("json.Unmarshal(%s) changed the kind to %v", in, k)
		}
	}
}

func TestOpJSON(t *testing.T) {
	ops := []Op{eqOp("Сторони "), delOp("мають"), insOp("зобов'язуються"), eqOp(" діяти.")}
	data, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"op":"equal","text":"Сторони "},{"op":"delete","text":"мають"},` +
		`{"op":"insert","text":"зобов'язуються"},{"op":"equal","text":" діяти."}]`
	if string(data) != want {
		t.Fatalf("json.Marshal = %s\nwant %s", data, want)
	}
	var back []Op
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if opsString(back) != opsString(ops) {
		t.Fatalf("round trip gave %s", opsString(back))
	}
	if err := json.Unmarshal([]byte(`[{"op":"replace","text":"x"}]`), &back); err == nil {
		t.Fatal("an unknown op kind was accepted")
	}
	if _, err := json.Marshal([]Op{{Text: "x"}}); err == nil {
		t.Fatal("an op with the zero kind was marshalled")
	}
}

func TestRebuild(t *testing.T) {
	b, a := Rebuild([]Op{eqOp("The "), delOp("Party"), insOp("State"), eqOp(" shall "), insOp("not "), eqOp("act"), delOp(".")})
	if b != "The Party shall act." || a != "The State shall not act" {
		t.Fatalf("Rebuild = %q, %q", b, a)
	}
	if b, a := Rebuild(nil); b != "" || a != "" {
		t.Fatalf("Rebuild(nil) = %q, %q", b, a)
	}
	if b, a := Rebuild([]Op{eqOp("a"), {Kind: 0, Text: "zz"}, {Kind: 9, Text: "yy"}}); b != "a" || a != "a" {
		t.Fatalf("Rebuild ignoring invalid kinds = %q, %q", b, a)
	}
}

func TestTokenBounds(t *testing.T) {
	split := func(s string) []string {
		b := tokenBounds(s, nil)
		var out []string
		for i := 0; i+1 < len(b); i++ {
			out = append(out, s[b[i]:b[i+1]])
		}
		return out
	}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"The Parties, in 2026,  agree.", []string{"The", " ", "Parties", ",", " ", "in", " ", "2026", ",", "  ", "agree", "."}},
		{"Сторони зобов'язуються", []string{"Сторони", " ", "зобов'язуються"}},
		{"don’t 'quote' rock'n'roll '", []string{"don’t", " ", "'", "quote", "'", " ", "rock'n'roll", " ", "'"}},
		{"ʼ'a'' b'", []string{"ʼ'a", "'", "'", " ", "b", "'"}}, // U+02BC is a letter
		{"Ελλάδα και Κύπρος", []string{"Ελλάδα", " ", "και", " ", "Κύπρος"}},
		{"双方同意合作。第一条", []string{"双方同意合作", "。", "第一条"}},
		{"الطرفان يتفقان", []string{"الطرفان", " ", "يتفقان"}},
		{"cafe\u0301 noir", []string{"cafe\u0301", " ", "noir"}},
		{"\u0301abc", []string{"\u0301abc"}},
		{"a\u00a0b\u2003\tc\n\nd", []string{"a", "\u00a0", "b", "\u2003\t", "c", "\n\n", "d"}},
		{"ok 👍🏽!", []string{"ok", " ", "👍", "🏽", "!"}},
		{"👨‍👩‍👧", []string{"👨", "\u200d", "👩", "\u200d", "👧"}},
		{"🇺🇦", []string{"🇺", "🇦"}},
		{"a\x00b\x00\x00", []string{"a", "\x00", "b", "\x00", "\x00"}},
		{"ab\xff\xfecd", []string{"ab", "\xff", "\xfe", "cd"}},
		{"x\xe2\x82y", []string{"x", "\xe2", "\x82", "y"}},
		{"\xed\xa0\x80", []string{"\xed", "\xa0", "\x80"}}, // an encoded surrogate is invalid
		{"a\uFFFDb", []string{"a", "\uFFFD", "b"}},
		{"--", []string{"-", "-"}},
		{"Ⅻ½²", []string{"Ⅻ", "½", "²"}}, // number forms that are not IsDigit stand alone
	} {
		got := split(c.in)
		if strings.Join(got, "") != c.in || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
			t.Errorf("tokens of %q = %q, want %q", c.in, got, c.want)
		}
	}
	// Against the reference statement of the rules, on random text.
	rng := rand.New(rand.NewSource(7))
	for n := 0; n < 20000; n++ {
		s := soupText(rng, rng.Intn(40))
		ref := refTokenBounds(s)
		b := tokenBounds(s, nil)
		got := make([]bool, len(s)+1)
		for _, p := range b {
			got[p] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Fatalf("tokenBounds(%q) = %v, reference says %v", s, b, ref)
		}
	}
}

// TestClassAt holds the two-byte table of classAt to tokenClass for every
// rune it covers, and its decoding to utf8's for the byte sequences near
// its edges, valid and not; then tokenBounds to the reference on text made
// mostly of such runes.
func TestClassAt(t *testing.T) {
	for r := rune(0); r < 0x800; r++ {
		s := string(r) + "x"
		got, size, class := classAt(s, 0)
		if got != r || size != utf8.RuneLen(r) || class != tokenClass(r) {
			t.Fatalf("classAt(%q) = %U, %d, %d; want %U, %d, %d", s, got, size, class, r, utf8.RuneLen(r), tokenClass(r))
		}
	}
	for _, s := range []string{"\xc0\x80", "\xc1\xbf", "\xc2", "\xc2A", "\xdf\xc0", "\xdf", "\x80", "\xbf\xbf", "\xe0\xa0\x80", "\xed\xa0\x80", "\xf0\x90\x80\x80", "\xf4\x90\x80\x80", "\uFFFD"} {
		want, wsize := utf8.DecodeRuneInString(s)
		wclass := tokenClass(want)
		if want == utf8.RuneError && wsize <= 1 {
			wclass = -1
		}
		if r, size, class := classAt(s, 0); r != want || size != wsize || class != wclass {
			t.Errorf("classAt(%q) = %U, %d, %d; want %U, %d, %d", s, r, size, class, want, wsize, wclass)
		}
	}
	pieces := []string{"Сторони", "зобов", "'", "ʼ", "’", "язуються", "Ελλάδα", "cafe\u0301", "\u0301", "\u0589", "\u05d0\u05d1", "\u07ff",
		" ", "\u00a0", ".", "«", "»", "\xc0\x80", "\xc2", "\xdf\xc0", "\x80", "a", "1"}
	rng := rand.New(rand.NewSource(11))
	for n := 0; n < 20000; n++ {
		var sb strings.Builder
		for range rng.Intn(30) {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := sb.String()
		ref := refTokenBounds(s)
		got := make([]bool, len(s)+1)
		for _, p := range tokenBounds(s, nil) {
			got[p] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Fatalf("tokenBounds(%q) = %v, reference says %v", s, tokenBounds(s, nil), ref)
		}
	}
}

// characterisation names the rows of TestRedlineExact whose expected ops
// record one choice among several redlines the package doc allows (how
// go-diff's semantic clean-up folds short equalities, which of two equal
// words it keeps): a change there is worth a look, not necessarily a bug.
// Every other row is the specification: the minimal redline, the only one
// a reader would accept.
var characterisation = map[string]bool{
	"two words replaced":                         true,
	"white space around one word":                true,
	"several amendments":                         true,
	"sentence rewritten":                         true,
	"words moved":                                true,
	"repeated word inserted":                     true,
	"uk phrase rewritten":                        true,
	"uk date clause":                             true,
	"inserted at the end, before the full stop":  true,
	"Chinese without spaces is one word per run": true,
	"regional indicators are separate symbols":   true,
}

func TestRedlineExact(t *testing.T) {
	for _, c := range []struct {
		name          string
		before, after string
		want          []Op
	}{
		// English clause amendments.
		{"word replaced", "The Party shall pay the fee.", "The Party must pay the fee.",
			[]Op{eqOp("The Party "), delOp("shall"), insOp("must"), eqOp(" pay the fee.")}},
		{"two words replaced", "The Party shall pay the fee.", "The State must pay the fee.",
			// The one-space equality between two edits is folded into them.
			[]Op{eqOp("The "), delOp("Party shall"), insOp("State must"), eqOp(" pay the fee.")}},
		{"inserted at start", "Parties shall cooperate.", "The Parties shall cooperate.",
			[]Op{insOp("The "), eqOp("Parties shall cooperate.")}},
		{"inserted in the middle", "The Parties shall cooperate.", "The High Contracting Parties shall cooperate.",
			[]Op{eqOp("The "), insOp("High Contracting "), eqOp("Parties shall cooperate.")}},
		{"inserted at the end, before the full stop", "The Parties shall cooperate.", "The Parties shall cooperate closely.",
			[]Op{eqOp("The Parties shall cooperate"), insOp(" closely"), eqOp(".")}},
		{"sentence appended", "The Parties shall cooperate.", "The Parties shall cooperate. This Article is binding.",
			[]Op{eqOp("The Parties shall cooperate."), insOp(" This Article is binding.")}},
		{"deleted at start", "  leading", "leading",
			[]Op{delOp("  "), eqOp("leading")}},
		{"deleted at the end", "one two three ", "one two three",
			[]Op{eqOp("one two three"), delOp(" ")}},
		{"punctuation changed", "The Parties shall cooperate.", "The Parties shall cooperate;",
			[]Op{eqOp("The Parties shall cooperate"), delOp("."), insOp(";")}},
		{"commas removed", "The Parties shall, in good faith, cooperate.", "The Parties shall in good faith cooperate.",
			[]Op{eqOp("The Parties shall"), delOp(","), eqOp(" in good faith"), delOp(","), eqOp(" cooperate.")}},
		{"number changed", "Article 5", "Article 6",
			[]Op{eqOp("Article "), delOp("5"), insOp("6")}},
		{"sub-number changed", "Article 5.1", "Article 5.2",
			[]Op{eqOp("Article 5."), delOp("1"), insOp("2")}},
		{"space widened", "one two three", "one  two three",
			[]Op{eqOp("one"), delOp(" "), insOp("  "), eqOp("two three")}},
		{"space became a line break", "The Parties shall cooperate.", "The Parties shall\ncooperate.",
			[]Op{eqOp("The Parties shall"), delOp(" "), insOp("\n"), eqOp("cooperate.")}},
		{"white space around one word", "The Parties  shall\tcooperate.", "The Parties shall cooperate.",
			// A word between two changes stays unchanged, however short.
			[]Op{eqOp("The Parties"), delOp("  "), insOp(" "), eqOp("shall"), delOp("\t"), insOp(" "), eqOp("cooperate.")}},
		{"several amendments", "Each Party shall notify the Depositary within thirty days.",
			"Each Party shall promptly notify the Secretariat in writing within sixty days.",
			[]Op{eqOp("Each Party shall "), insOp("promptly "), eqOp("notify the "), delOp("Depositary"),
				insOp("Secretariat in writing"), eqOp(" within "), delOp("thirty"), insOp("sixty"), eqOp(" days.")}},
		{"sentence rewritten", "This Agreement shall enter into force on the date of signature.",
			"This Treaty enters into force thirty days after the deposit of the last instrument of ratification.",
			[]Op{eqOp("This "), delOp("Agreement shall enter"), insOp("Treaty enters"), eqOp(" into force "),
				delOp("on"), insOp("thirty days after"), eqOp(" the "), delOp("date"), insOp("deposit"), eqOp(" of "), delOp("signature"),
				insOp("the last instrument of ratification"), eqOp(".")}},
		{"repeated word inserted", "The fee is paid", "The fee fee is paid",
			[]Op{eqOp("The fee "), insOp("fee "), eqOp("is paid")}},
		{"words moved", "quick brown fox jumps", "brown fox jumps over",
			[]Op{delOp("quick "), eqOp("brown fox jumps"), insOp(" over")}},
		{"one word for another", "a", "b",
			[]Op{delOp("a"), insOp("b")}},

		// Ukrainian.
		{"uk word inserted", "Сторони зобов'язуються співпрацювати.", "Сторони зобов'язуються тісно співпрацювати.",
			[]Op{eqOp("Сторони зобов'язуються "), insOp("тісно "), eqOp("співпрацювати.")}},
		{"uk phrase rewritten", "Сторони зобов'язуються поважати суверенітет.",
			"Сторони зобов'язуються взаємно поважати територіальну цілісність.",
			[]Op{eqOp("Сторони зобов'язуються "), insOp("взаємно "), eqOp("поважати "), delOp("суверенітет"),
				insOp("територіальну цілісність"), eqOp(".")}},
		{"uk list extended", "Сторони зобов'язуються поважати суверенітет і територіальну цілісність.",
			"Сторони зобов'язуються поважати суверенітет, незалежність і територіальну цілісність.",
			[]Op{eqOp("Сторони зобов'язуються поважати суверенітет"), insOp(", незалежність"),
				eqOp(" і територіальну цілісність.")}},
		{"uk date clause", "Ця Угода набирає чинності з дати підписання.",
			"Ця Угода набирає чинності через тридцять днів після підписання.",
			[]Op{eqOp("Ця Угода набирає чинності "), delOp("з дати"), insOp("через тридцять днів після"), eqOp(" підписання.")}},
		{"uk word changed after its apostrophe", "Сторони зобов'язуються діяти.", "Сторони зобов'язується діяти.",
			[]Op{eqOp("Сторони "), delOp("зобов'язуються"), insOp("зобов'язується"), eqOp(" діяти.")}},
		{"uk apostrophe dropped", "Сторони зобов'язуються співпрацювати.", "Сторони зобовязуються співпрацювати.",
			// An apostrophe between letters is part of the word.
			[]Op{eqOp("Сторони "), delOp("зобов'язуються"), insOp("зобовязуються"), eqOp(" співпрацювати.")}},

		// The same amendment in an inflected language and in English: the
		// unchanged words between the changes stay unchanged in both, however
		// few they are.
		{"uk unchanged words between changes", "Ці гарантії обов'язкові для Сторін, щойно схвалені Конгресом Сполучених Штатів.",
			"Ці гарантії обов'язкові для Сторін, щойно подані на схвалення Конгресу Сполучених Штатів протягом 90 днів.",
			[]Op{eqOp("Ці гарантії обов'язкові для Сторін, щойно "), delOp("схвалені Конгресом"), insOp("подані на схвалення Конгресу"),
				eqOp(" Сполучених Штатів"), insOp(" протягом 90 днів"), eqOp(".")}},
		{"en unchanged words between changes", "These assurances bind the Parties once approved by the Congress of the United States.",
			"These assurances bind the Parties once submitted for approval to the Congress of the United States within 90 days.",
			[]Op{eqOp("These assurances bind the Parties once "), delOp("approved by"), insOp("submitted for approval to"),
				eqOp(" the Congress of the United States"), insOp(" within 90 days"), eqOp(".")}},
		{"uk one unchanged word between changes", "Сторони негайно консультуються.", "Держави невідкладно консультуються між собою.",
			[]Op{delOp("Сторони негайно"), insOp("Держави невідкладно"), eqOp(" консультуються"), insOp(" між собою"), eqOp(".")}},
		{"punctuation between changes goes with them", "alpha-beta", "gamma-delta",
			[]Op{delOp("alpha-beta"), insOp("gamma-delta")}},

		// Other scripts and mixtures.
		{"mixed Cyrillic and Latin", "Україна (UA) та Німеччина (DE) погоджуються.",
			"Україна (UA), Польща (PL) та Німеччина (DE) погоджуються.",
			[]Op{eqOp("Україна (UA)"), insOp(", Польща (PL)"), eqOp(" та Німеччина (DE) погоджуються.")}},
		{"Chinese without spaces is one word per run", "双方同意合作。", "双方同意全面合作。",
			[]Op{delOp("双方同意合作"), insOp("双方同意全面合作"), eqOp("。")}},
		{"Chinese with spaces", "双方 同意 合作。", "双方 同意 全面 合作。",
			[]Op{eqOp("双方 同意 "), insOp("全面 "), eqOp("合作。")}},
		{"Arabic", "الطرفان يتفقان على التعاون", "الطرفان يتفقان على التعاون الكامل",
			[]Op{eqOp("الطرفان يتفقان على التعاون"), insOp(" الكامل")}},
		{"German", "Die Vertragsparteien vereinbaren: Zusammenarbeit.", "Die Vertragsparteien vereinbaren: enge Zusammenarbeit.",
			[]Op{eqOp("Die Vertragsparteien vereinbaren: "), insOp("enge "), eqOp("Zusammenarbeit.")}},
		{"precomposed versus combining accent", "café", "cafe\u0301",
			[]Op{delOp("café"), insOp("cafe\u0301")}},
		{"combining accent changed", "cafe\u0301 noir", "cafe\u0300 noir",
			[]Op{delOp("cafe\u0301"), insOp("cafe\u0300"), eqOp(" noir")}},
		{"emoji", "Agreed 👍 by all", "Agreed 👎 by all",
			[]Op{eqOp("Agreed "), delOp("👍"), insOp("👎"), eqOp(" by all")}},
		{"regional indicators are separate symbols", "flag 🇺🇦 here", "flag 🇺🇸 here",
			[]Op{eqOp("flag 🇺"), delOp("🇦"), insOp("🇸"), eqOp(" here")}},
		{"NUL bytes", "a\x00b", "a\x00c",
			[]Op{eqOp("a\x00"), delOp("b"), insOp("c")}},
		{"invalid UTF-8", "bad \xff byte", "bad \xfe byte",
			[]Op{eqOp("bad "), delOp("\xff"), insOp("\xfe"), eqOp(" byte")}},

		// Edge cases.
		{"both empty", "", "", nil},
		{"from empty", "", "New clause.", []Op{insOp("New clause.")}},
		{"to empty", "Old clause.", "", []Op{delOp("Old clause.")}},
		{"identical", "Same text.", "Same text.", []Op{eqOp("Same text.")}},
		{"identical invalid", "\xff\x00\xfe", "\xff\x00\xfe", []Op{eqOp("\xff\x00\xfe")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Words(c.before, c.after)
			checkRedline(t, c.before, c.after, got)
			checkKeepsWords(t, c.before, c.after, got)
			if opsString(got) != opsString(c.want) {
				kind := "specification: the only redline the package doc allows"
				if characterisation[c.name] {
					kind = "characterisation: one of several correct redlines, as go-diff chose it; if the new one reads as well, update the row"
				}
				t.Errorf("Words(%q, %q) (%s)\n got %s\nwant %s", c.before, c.after, kind, opsString(got), opsString(c.want))
			}
		})
	}
}

// Pieces of text random inputs are made of: words of several scripts,
// combining marks, white space, punctuation, symbols, emoji, NUL and invalid
// UTF-8.
var soupPieces = []string{
	"the", "Party", "shall", "pay", "fee", "Article", "5", "2026",
	"Сторони", "зобов", "язуються", "співпрацювати", "Україна", "і", "та",
	"双方", "同意", "合作", "第一条", "الطرفان", "التعاون", "Ελλάδα", "και",
	"cafe\u0301", "e", "\u0301", "\u0300", "n\u0303",
	" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u3000",
	".", ",", ";", "'", "’", "(", ")", "-", "«", "»", "。", "،",
	"👍", "👎", "🇺", "🇦", "\u200d", "🏽", "\ufe0f", "€", "½",
	"\x00", "\xff", "\xfe", "\xe2\x82", "\x80", "\xed\xa0\x80", "\uFFFD",
}

func soupText(rng *rand.Rand, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(soupPieces[rng.Intn(len(soupPieces))])
	}
	return sb.String()
}

// amendTokens edits s the way an amendment would: a few tokens replaced,
// deleted or inserted.
func amendTokens(rng *rand.Rand, s string) string {
	b := tokenBounds(s, nil)
	toks := make([]string, 0, len(b))
	for i := 0; i+1 < len(b); i++ {
		toks = append(toks, s[b[i]:b[i+1]])
	}
	for n := rng.Intn(4) + 1; n > 0; n-- {
		at := 0
		if len(toks) > 0 {
			at = rng.Intn(len(toks) + 1)
		}
		switch rng.Intn(3) {
		case 0: // insert
			toks = append(toks[:at], append([]string{soupText(rng, 1+rng.Intn(4))}, toks[at:]...)...)
		case 1: // delete
			if at < len(toks) {
				toks = append(toks[:at], toks[min(len(toks), at+1+rng.Intn(3)):]...)
			}
		default: // replace
			if at < len(toks) {
				toks[at] = soupText(rng, 1+rng.Intn(2))
			}
		}
	}
	return strings.Join(toks, "")
}

func soupBytes(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		const alphabet = "ab \x00\xff\xd0\x81\xe4\xb8\x80\xcc\x81."
		b[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return string(b)
}

func TestRedlineProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	n := 30000
	if testing.Short() {
		n = 3000
	}
	for k := 0; k < n; k++ {
		var before, after string
		switch k % 4 {
		case 0: // independent texts
			before, after = soupText(rng, rng.Intn(30)), soupText(rng, rng.Intn(30))
		case 1: // an amendment
			before = soupText(rng, rng.Intn(80))
			after = amendTokens(rng, before)
		case 2: // raw bytes
			before, after = soupBytes(rng, rng.Intn(40)), soupBytes(rng, rng.Intn(40))
		case 3: // an amendment of an amendment, either way round
			before = soupText(rng, rng.Intn(60))
			after = amendTokens(rng, amendTokens(rng, before))
			if rng.Intn(2) == 0 {
				before, after = after, before
			}
		}
		ops := Words(before, after)
		checkRedline(t, before, after, ops)
		checkKeepsWords(t, before, after, ops)
		if k%4 == 0 {
			// The bit-parallel diff, whatever the difference.
			ops = redline(before, after, redlineLimits{alphabet: maxTokenAlphabet, chunk: chunkTokens, minD: 1})
			checkRedline(t, before, after, ops)
			checkKeepsWordsOf(t, before, after, ops, 1)
		}
	}
}

// TestRedlineCoarse covers the fallback used when there are more distinct
// tokens than code points to stand for them.
func TestRedlineCoarse(t *testing.T) {
	for _, c := range []struct {
		before, after string
		want          []Op
	}{
		{"The Party shall pay the fee.", "The State must pay the fee.",
			[]Op{eqOp("The "), delOp("Party shall"), insOp("State must"), eqOp(" pay the fee.")}},
		{"a b c", "x b y", []Op{delOp("a b c"), insOp("x b y")}},
		{"a b", "a b c", []Op{eqOp("a b"), insOp(" c")}},
		{"a b c", "c", []Op{delOp("a b "), eqOp("c")}},
		{"a a a", "a a", []Op{eqOp("a a"), delOp(" a")}},
	} {
		got := redline(c.before, c.after, redlineLimits{alphabet: 3, chunk: chunkTokens})
		checkRedline(t, c.before, c.after, got)
		if opsString(got) != opsString(c.want) {
			t.Errorf("coarse redline(%q, %q)\n got %s\nwant %s", c.before, c.after, opsString(got), opsString(c.want))
		}
	}
	rng := rand.New(rand.NewSource(3))
	for k := 0; k < 5000; k++ {
		before := soupText(rng, rng.Intn(40))
		after := amendTokens(rng, before)
		checkRedline(t, before, after, redline(before, after, redlineLimits{alphabet: 1 + rng.Intn(20), chunk: chunkTokens}))
	}
}

// TestRedlineTooManyTokens runs the real alphabet out: over 137,468
// distinct words.
func TestRedlineTooManyTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	words := make([]string, maxTokenAlphabet+10)
	for i := range words {
		words[i] = "w" + strconv.FormatInt(int64(i), 36)
	}
	before := strings.Join(words, " ")
	words[70000] = "changed"
	after := strings.Join(words, " ")
	start := time.Now()
	got := Words(before, after)
	t.Logf("%d distinct tokens, %d bytes: %v", len(words)+2, len(before), time.Since(start))
	checkRedline(t, before, after, got)
	if len(got) != 4 || got[1] != delOp("w"+strconv.FormatInt(70000, 36)) || got[2] != insOp("changed") {
		t.Fatalf("got %d ops, %v %v", len(got), got[1], got[2])
	}
}

// TestRedlineLarge checks that a text longer than chunkTokens, cut into
// chunks at its unique words, is still redlined word by word.
func TestRedlineLarge(t *testing.T) {
	words := make([]string, 3000) // 5,999 tokens with the spaces
	for i := range words {
		words[i] = "w" + strconv.Itoa(i)
	}
	before := strings.Join(words, " ")
	words[10], words[1500], words[2990] = "X", "Y", "Z"
	words[2000] = "alpha beta w2000"
	after := strings.Join(words, " ")
	got := Words(before, after)
	checkRedline(t, before, after, got)
	span := func(i, j int) string { // words i..j-1 of before, with the space after each
		return strings.Join(strings.Split(before, " ")[i:j], " ") + " "
	}
	want := []Op{
		eqOp(span(0, 10)), delOp("w10"), insOp("X"),
		eqOp(" " + span(11, 1500)), delOp("w1500"), insOp("Y"),
		eqOp(" " + span(1501, 2000)), insOp("alpha beta "),
		eqOp(span(2000, 2990)), delOp("w2990"), insOp("Z"),
		eqOp(" " + span(2991, 3000)[:len(span(2991, 3000))-1]),
	}
	if opsString(got) != opsString(want) {
		t.Fatalf("Redline on %d tokens:\n got %s\nwant %s", len(tokenBounds(before, nil))-1, opsString(got), opsString(want))
	}
}

// proseText returns n words of clause-like English drawn with a Zipf law
// from a vocabulary of common words and rarer coined ones, with commas and
// full stops.
func proseText(rng *rand.Rand, n int) string {
	common := strings.Fields(`the of and to in shall a Party Parties by this Agreement
		or any such that be for with as on State States other under its their not which
		provisions Article paragraph may within all from at an cooperation measures accordance
		information territory means including rights obligations date force present respect
		Convention Protocol competent authorities request Contracting notify apply relevant`)
	z := rand.NewZipf(rng, 1.1, 2, 20000)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			switch r := rng.Intn(30); {
			case r == 0:
				sb.WriteString(". ")
			case r == 1:
				sb.WriteString(", ")
			default:
				sb.WriteByte(' ')
			}
		}
		if k := int(z.Uint64()); k < len(common) {
			sb.WriteString(common[k])
		} else {
			sb.WriteString("term" + strconv.Itoa(k))
		}
	}
	sb.WriteByte('.')
	return sb.String()
}

// amendWords changes about one word in every so many: replaced, removed, or
// followed by a new one.
func amendWords(rng *rand.Rand, s string, every int) string {
	words := strings.Split(s, " ")
	for i := range words {
		if rng.Intn(every) == 0 {
			switch rng.Intn(3) {
			case 0:
				words[i] = "amended"
			case 1:
				words[i] = ""
			default:
				words[i] += " also"
			}
		}
	}
	return strings.Join(words, " ")
}

// numberedWords returns n words prefix0 prefix1 … with a space after each.
func numberedWords(prefix string, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(prefix + strconv.Itoa(i) + " ")
	}
	return sb.String()
}

// TestRedlineTime feeds Redline inputs that make go-diff's heuristics and
// clean-up slow, and unrelated megabyte texts: each must end with a faithful
// redline. It logs the times (about a second each on a quiet machine); the
// test binary's timeout is the bound, since a wall-clock one here would
// measure the machine, ten times slower under the race detector.
func TestRedlineTime(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	rng := rand.New(rand.NewSource(5))
	mib := 1 << 20
	prose := func() string {
		s := proseText(rng, mib/6)
		return s[:strings.LastIndexByte(s[:min(len(s), mib)], ' ')]
	}
	rep := func(s string, size int) string { return strings.Repeat(s, size/len(s)) }
	p1, p2 := prose(), prose()
	big := strings.Fields(proseText(rng, 200))
	for _, c := range []struct{ name, before, after string }{
		{"unrelated prose", p1, p2},
		{"prose with scattered changes", p1, amendWords(rng, p1, 20)},
		{"prose with dense changes", p1, amendWords(rng, p1, 3)},
		{"unrelated random bytes", soupBytes(rng, mib), soupBytes(rng, mib)},
		{"one word repeated", "Q " + rep("a ", mib), rep("a ", mib*4/5) + "Z"},
		{"two words alternating", "Q " + rep("a b ", mib) + "R", "P " + rep("a b ", mib*4/5) + "a c " + rep("a b ", mib/5) + "Z"},
		{"one word for another", rep("a ", mib), rep("b ", mib)},
		{"a rotation", rep("a b ", mib) + "c", "c" + rep("a b ", mib)},
		{"a paragraph repeated and amended", rep(strings.Join(big, " ")+"\n", mib), amendWords(rng, rep(strings.Join(big, " ")+"\n", mib), 500)},
		{"blocks of one word for another", rep("u"+strconv.Itoa(rng.Int())+" "+rep("a ", 8000), mib), rep("u"+strconv.Itoa(rng.Int())+" "+rep("b ", 8000), mib)},
		{"16k tokens each way, all different", rep("a ", 16000), rep("b ", 16000)},
		{"common megabyte around a passage rewritten", p1 + rep("a ", 4000) + p1, p1 + rep("b ", 4000) + p1},
		{"a clause rewritten word for word", "Article 5. The Parties agree that " + numberedWords("w", 2000),
			"Article 5. The Parties agree that " + numberedWords("v", 2000)},
	} {
		start := time.Now()
		got := Words(c.before, c.after)
		took := time.Since(start)
		t.Logf("%-36s %8d/%8d bytes: %6d ops in %v", c.name, len(c.before), len(c.after), len(got), took.Round(time.Millisecond))
		checkRedline(t, c.before, c.after, got)
	}
}

// faithfulDiff is what faithful checks, code point by code point: every
// code point of an equal or delete diff is the next of xs, every code point
// of an equal or insert diff the next of ys, and both are used up exactly.
func faithfulDiff(diffs []diffmatchpatch.Diff, xs, ys []rune) bool {
	x, y := 0, 0
	for _, d := range diffs {
		for _, r := range d.Text {
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				if x >= len(xs) || y >= len(ys) || xs[x] != r || ys[y] != r {
					return false
				}
				x++
				y++
			case diffmatchpatch.DiffDelete:
				if x >= len(xs) || xs[x] != r {
					return false
				}
				x++
			case diffmatchpatch.DiffInsert:
				if y >= len(ys) || ys[y] != r {
					return false
				}
				y++
			default:
				return false
			}
		}
	}
	return x == len(xs) && y == len(ys)
}

// TestFaithful feeds the check of go-diff's output diffs that do not
// describe the two sequences, as a faulty clean-up could: each is refused,
// by faithful as by its definition.
func TestFaithful(t *testing.T) {
	check := func(diffs []diffmatchpatch.Diff, xs, ys []rune) bool {
		got, want := faithful(diffs, string(xs), string(ys)), faithfulDiff(diffs, xs, ys)
		if got != want {
			t.Errorf("faithful(%q) = %v, its definition %v", diffs, got, want)
		}
		return got
	}
	xs, ys := []rune("abc"), []rune("axc")
	D := func(op diffmatchpatch.Operation, s string) diffmatchpatch.Diff {
		return diffmatchpatch.Diff{Type: op, Text: s}
	}
	E, I, X := diffmatchpatch.DiffEqual, diffmatchpatch.DiffInsert, diffmatchpatch.DiffDelete
	if !check([]diffmatchpatch.Diff{D(E, "a"), D(X, "b"), D(I, "x"), D(E, "c")}, xs, ys) {
		t.Fatal("the right diff was refused")
	}
	if !check([]diffmatchpatch.Diff{D(I, "ax"), D(E, ""), D(X, "ab"), D(E, "c")}, xs, ys) {
		t.Fatal("a right diff in another order was refused")
	}
	wide := []rune{idToRune(1), idToRune(70000)}
	for name, c := range map[string]struct {
		diffs  []diffmatchpatch.Diff
		xs, ys []rune
	}{
		"wrong token":    {[]diffmatchpatch.Diff{D(E, "a"), D(X, "x"), D(I, "x"), D(E, "c")}, xs, ys},
		"equal differs":  {[]diffmatchpatch.Diff{D(E, "abc")}, xs, ys},
		"too short":      {[]diffmatchpatch.Diff{D(E, "a"), D(X, "b"), D(I, "x")}, xs, ys},
		"too long":       {[]diffmatchpatch.Diff{D(E, "a"), D(X, "b"), D(I, "x"), D(E, "cc")}, xs, ys},
		"unknown type":   {[]diffmatchpatch.Diff{D(E, "a"), D(7, "b"), D(I, "x"), D(E, "c")}, xs, ys},
		"nil":            {nil, xs, ys},
		"cut code point": {[]diffmatchpatch.Diff{D(X, string(wide)[:2]), D(X, string(wide)[2:])}, wide, nil},
		"replaced code":  {[]diffmatchpatch.Diff{D(X, "\uFFFD"+string(wide[1]))}, wide, nil},
	} {
		if check(c.diffs, c.xs, c.ys) {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestFaithfulAsDefined holds faithful, which compares bytes, to its
// definition, which compares code points, on diffs of token code points of
// three and four bytes, faithful ones and ones damaged as a faulty clean-up
// could damage them: a text cut inside a code point, a byte changed, a diff
// of the wrong kind, one dropped or repeated.
func TestFaithfulAsDefined(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	E, I, X := diffmatchpatch.DiffEqual, diffmatchpatch.DiffInsert, diffmatchpatch.DiffDelete
	token := func() rune {
		if rng.Intn(4) == 0 {
			return idToRune(6400 + rng.Intn(3))
		}
		return idToRune(rng.Intn(4))
	}
	agreed := map[bool]int{}
	for range 20000 {
		// A faithful diff of xs and ys, built as runs of equal, deleted
		// and inserted tokens.
		var xs, ys []rune
		var diffs []diffmatchpatch.Diff
		for range 1 + rng.Intn(5) {
			op := []diffmatchpatch.Operation{E, I, X}[rng.Intn(3)]
			run := make([]rune, rng.Intn(4))
			for k := range run {
				run[k] = token()
			}
			if op != I {
				xs = append(xs, run...)
			}
			if op != X {
				ys = append(ys, run...)
			}
			diffs = append(diffs, diffmatchpatch.Diff{Type: op, Text: string(run)})
		}
		if len(diffs) > 0 && rng.Intn(4) != 0 {
			k := rng.Intn(len(diffs))
			d := &diffs[k]
			switch rng.Intn(5) {
			case 0: // cut inside the text, the rest moved to a diff of its own, of any kind
				if len(d.Text) > 1 {
					at := 1 + rng.Intn(len(d.Text)-1)
					rest := d.Text[at:]
					d.Text = d.Text[:at]
					op := []diffmatchpatch.Operation{d.Type, d.Type, E, I, X}[rng.Intn(5)]
					diffs = slices.Insert(diffs, k+1, diffmatchpatch.Diff{Type: op, Text: rest})
				}
			case 1: // a byte changed
				if d.Text != "" {
					b := []byte(d.Text)
					b[rng.Intn(len(b))] ^= byte(1 << rng.Intn(8))
					d.Text = string(b)
				}
			case 2:
				d.Type = []diffmatchpatch.Operation{E, I, X, 7}[rng.Intn(4)]
			case 3:
				diffs = slices.Delete(diffs, k, k+1)
			default:
				diffs = slices.Insert(diffs, k, diffs[k])
			}
		}
		got, want := faithful(diffs, string(xs), string(ys)), faithfulDiff(diffs, xs, ys)
		if got != want {
			t.Fatalf("faithful(%q) of %q and %q = %v, its definition %v", diffs, string(xs), string(ys), got, want)
		}
		agreed[got]++
	}
	if agreed[true] < 1000 || agreed[false] < 1000 {
		t.Fatalf("too few of each answer to hold one to the other: %v", agreed)
	}
}

// TestRedlineSmallChunks makes every path of large (anchors, segmentBounds,
// recursion, coarse pieces) run on small random inputs.
func TestRedlineSmallChunks(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	n := 30000
	if testing.Short() {
		n = 3000
	}
	for k := 0; k < n; k++ {
		var before, after string
		switch k % 3 {
		case 0:
			before = soupText(rng, rng.Intn(150))
			after = amendTokens(rng, before)
		case 1:
			base := soupText(rng, 1+rng.Intn(8))
			before = strings.Repeat(base, 1+rng.Intn(20))
			after = amendTokens(rng, amendTokens(rng, before))
		default:
			before, after = soupText(rng, rng.Intn(60)), soupText(rng, rng.Intn(60))
		}
		lim := redlineLimits{alphabet: maxTokenAlphabet, chunk: 1 + rng.Intn(12)}
		got := redline(before, after, lim)
		checkRedline(t, before, after, got)
	}
	// The small chunks still find the words that changed.
	before := "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11"
	after := "w0 w1 w2 X w4 w5 w6 w7 w8 Y w10 w11"
	want := []Op{eqOp("w0 w1 w2 "), delOp("w3"), insOp("X"), eqOp(" w4 w5 w6 w7 w8 "), delOp("w9"), insOp("Y"), eqOp(" w10 w11")}
	if got := redline(before, after, redlineLimits{alphabet: maxTokenAlphabet, chunk: 4}); opsString(got) != opsString(want) {
		t.Errorf("anchored: got %s, want %s", opsString(got), opsString(want))
	}
	before = strings.Repeat("a b c d. ", 8)
	after = strings.Replace(before, "c d. a b c", "c d. a B c", 1)
	if got := redline(before, after, redlineLimits{alphabet: maxTokenAlphabet, chunk: 6}); len(got) != 4 || got[1] != delOp("b") || got[2] != insOp("B") {
		t.Errorf("segmented: got %s", opsString(got))
	}
}

// TestCleanupSemantic checks that cleanupSemantic gives what go-diff's
// DiffCleanupSemantic gives, on diffs of token code points.
func TestCleanupSemantic(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	dmp := diffmatchpatch.New()
	seq := func(n, alphabet int) []rune {
		r := make([]rune, n)
		for i := range r {
			r[i] = idToRune(rng.Intn(alphabet))
		}
		return r
	}
	edit := func(xs []rune, alphabet int) []rune {
		ys := append([]rune(nil), xs...)
		for n := rng.Intn(8); n >= 0; n-- {
			at := rng.Intn(len(ys) + 1)
			switch rng.Intn(3) {
			case 0:
				ys = append(ys[:at], append(seq(1+rng.Intn(5), alphabet), ys[at:]...)...)
			case 1:
				ys = append(ys[:at], ys[min(len(ys), at+1+rng.Intn(5)):]...)
			default:
				if at < len(ys) {
					ys[at] = idToRune(rng.Intn(alphabet))
				}
			}
		}
		return ys
	}
	// pair makes the two sequences of the k-th case: an edit of the
	// first, or every third time another sequence.
	pair := func(k int) (xs, ys []rune) {
		alphabet := 2 + rng.Intn(20)
		xs = seq(rng.Intn(80), alphabet)
		if k%3 == 0 {
			return xs, seq(rng.Intn(80), alphabet)
		}
		return xs, edit(xs, alphabet)
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	differ := 0
	for k := 0; k < n; k++ {
		xs, ys := pair(k)
		raw := dmp.DiffMainRunes(xs, ys, false)
		keep := fmt.Sprint(raw)
		// What DiffCleanupSemantic makes of the raw diff without the empty
		// diffs DiffMainRunes sometimes leaves.
		want := slices.DeleteFunc(slices.Clone(raw), func(d diffmatchpatch.Diff) bool { return d.Text == "" })
		want = dmp.DiffCleanupSemantic(dmp.DiffCleanupMerge(want))
		got := cleanupSemantic(dmp, raw, nil)
		if fmt.Sprint(raw) != keep {
			t.Fatalf("cleanupSemantic changed its input")
		}
		if !faithfulDiff(got, xs, ys) {
			t.Fatalf("cleanupSemantic(%q) = %q is not a diff of the two", raw, got)
		}
		// DiffCleanupSemantic itself sometimes leaves empty diffs, which
		// Redline drops: compare without them.
		nonEmpty := func(ds []diffmatchpatch.Diff) string {
			return fmt.Sprint(slices.DeleteFunc(slices.Clone(ds), func(d diffmatchpatch.Diff) bool { return d.Text == "" }))
		}
		if nonEmpty(got) != nonEmpty(want) {
			differ++
			if differ <= 3 {
				t.Logf("raw  %q\ngot  %q\nwant %q", raw, got, want)
			}
		}
	}
	if differ > 0 {
		t.Errorf("cleanupSemantic differs from DiffCleanupSemantic on %d of %d diffs", differ, n)
	}

	// With some code points standing for words, no equality of the raw
	// diff that holds one is folded into the edits around it: the result
	// is a diff of the two with at least as many word code points equal as
	// the raw diff (the clean-up may still slide an edit along them).
	for k := 0; k < n; k++ {
		xs, ys := pair(k)
		word := func(r rune) bool { return runeToID(r)%3 == 0 }
		holdsWord := func(s string) bool { return strings.ContainsFunc(s, word) }
		equalWords := func(ds []diffmatchpatch.Diff) (n int) {
			for _, d := range ds {
				if d.Type == diffmatchpatch.DiffEqual {
					for _, r := range d.Text {
						if word(r) {
							n++
						}
					}
				}
			}
			return n
		}
		raw := dmp.DiffMainRunes(xs, ys, false)
		got := cleanupSemantic(dmp, raw, holdsWord)
		if !faithfulDiff(got, xs, ys) {
			t.Fatalf("cleanupSemantic(%q) keeping words = %q is not a diff of the two", raw, got)
		}
		if equalWords(got) < equalWords(raw) {
			t.Fatalf("cleanupSemantic(%q) keeping words = %q struck a word the raw diff keeps", raw, got)
		}
	}
}

func TestLongestIncreasing(t *testing.T) {
	for _, c := range []struct{ in, want [][2]int }{
		{nil, nil},
		{[][2]int{{0, 5}}, [][2]int{{0, 5}}},
		{[][2]int{{0, 3}, {1, 1}, {2, 2}, {3, 0}, {4, 4}}, [][2]int{{1, 1}, {2, 2}, {4, 4}}},
		{[][2]int{{0, 9}, {1, 8}, {2, 7}}, [][2]int{{2, 7}}},
	} {
		if got := longestIncreasing(c.in); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("longestIncreasing(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestIDToRune(t *testing.T) {
	seen := map[rune]bool{}
	for _, id := range []int{0, 6399, 6400, 6400 + 65533, 6400 + 65534, maxTokenAlphabet - 1} {
		r := idToRune(id)
		if !utf8.ValidRune(r) || !unicode.Is(unicode.Co, r) || unicode.IsSpace(r) || unicode.IsPunct(r) || seen[r] {
			t.Errorf("idToRune(%d) = %U", id, r)
		}
		seen[r] = true
	}
	if maxTokenAlphabet != 6400+65534+65534 {
		t.Errorf("maxTokenAlphabet = %d", maxTokenAlphabet)
	}
	if r := idToRune(maxTokenAlphabet - 1); r != 0x10FFFD {
		t.Errorf("last code point %U", r)
	}
}

func BenchmarkRedline(b *testing.B) {
	clause := `Each Party shall, in accordance with its national law and within thirty days
of the date on which this Agreement enters into force, notify the Depositary of the
competent authority designated to receive requests for assistance under Article 7.
The competent authorities of the Parties shall consult each other, at the request of
either Party, on the interpretation or application of this Agreement, and shall
endeavour to resolve by mutual agreement any difficulty or doubt arising as to the
implementation of its provisions, including the exchange of information referred to
in paragraph 2.`
	amended := strings.NewReplacer("thirty", "sixty", "the Depositary", "the Secretariat in writing",
		"either Party", "either Party or of the Joint Committee", " mutual", "").Replace(clause)
	rng := rand.New(rand.NewSource(11))
	long := proseText(rng, 5000)
	longAmended := amendWords(rng, long, 100)
	// Two clauses of a small vocabulary, one rewritten into the other, as
	// simulate's amendments leave a clause after a few hundred adoptions.
	vocabulary := strings.Fields(`the parties shall may consult within hours days assistance
		measures fund reconstruction security guarantee commission report monitor review sanctions
		territory sovereignty integrity charter united nations framework agreement article paragraph`)
	soup := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocabulary[rng.Intn(len(vocabulary))]
		}
		return strings.Join(ws, " ") + "."
	}
	rewritten, rewrite := soup(60), soup(60)
	for _, c := range []struct{ name, before, after string }{
		{"clause-100-words", clause, amended},
		{"clause-60-words-rewritten", rewritten, rewrite},
		{"text-5000-words", long, longAmended},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.before) + len(c.after)))
			var ops []Op
			for b.Loop() {
				ops = Words(c.before, c.after)
			}
			b.ReportMetric(float64(len(ops)), "ops")
		})
	}
}

// TestRedlineRewritten: a long clause rewritten whole keeps the words
// go-diff keeps, however few.
func TestRedlineRewritten(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	before, after := proseText(rng, 1500), proseText(rng, 1500)
	got := Words(before, after)
	checkRedline(t, before, after, got)
	checkKeepsWords(t, before, after, got)
}
