package redline

import "testing"

// FuzzRedline checks, for any two strings, that Words does not panic, that
// Rebuild gives both inputs back exactly, that every op boundary is a token
// boundary of both texts (no word cut in two), that no op is empty, that no
// two adjacent ops have the same kind, and that the clean-up strikes no word
// that its token diff keeps unchanged (however short the unchanged run
// between two changes). It checks the same with the bit-parallel diff of
// texts that differ by much, by running it whatever the difference, and of
// the paths that large inputs take, by running them with small limits, but
// the last: there go-diff sees pieces of the texts, not the whole.
func FuzzRedline(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{"", "x"},
		{"x", ""},
		{"The Party shall pay the fee.", "The State must pay the fee."},
		{"The Parties  shall\tcooperate.", "The Parties shall\ncooperate."},
		{"Сторони зобов'язуються поважати суверенітет.", "Сторони зобов’язуються взаємно поважати суверенітет і територіальну цілісність."},
		{"Ця Угода набирає чинності з дати підписання.", "Ця Угода набирає чинності через тридцять днів після підписання."},
		{"双方同意合作。第一条", "双方 同意 全面 合作。第二条"},
		{"الطرفان يتفقان على التعاون", "الطرفان يتفقان على التعاون الكامل"},
		{"Ελλάδα και Κύπρος", "Ελλάδα, Κύπρος"},
		{"cafe\u0301 noir", "café noir\u0300"},
		{"\u0301\u0301\u0301", "a\u0301 \u0301"},
		{"ok 👍🏽 👨‍👩‍👧 🇺🇦", "ok 👎 👨‍👩‍👦 🇺🇸"},
		{"a\x00b\x00\x00c", "a\x00\x00b\x00c"},
		{"bad \xff\xfe byte", "bad \xfe\xff byte"},
		{"x\xe2\x82y \xed\xa0\x80", "x\xe2\x82\xacy \xed\xa0"},
		{"\xff", "\xc3"},
		{"\uFFFD", "\xff"},
		{"a a a a a a", "a a a"},
		{"a b a b a b a b", "b a b a b a b a"},
		{"Україна (UA) та Німеччина (DE)", "Україна (UA), Польща (PL) та Німеччина (DE)"},
		{"…схвалені Конгресом Сполучених Штатів.", "…подані на схвалення Конгресу Сполучених Штатів протягом 90 днів."},
		{"…approved by the Congress of the United States.", "…submitted for approval to the Congress of the United States within 90 days."},
		{"Сторони негайно консультуються.", "Держави невідкладно консультуються між собою."},
		{"a, b. c; d", "e, f. g; h"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		ops := Words(before, after)
		checkRedline(t, before, after, ops)
		checkKeepsWords(t, before, after, ops)
		ops = redline(before, after, redlineLimits{alphabet: maxTokenAlphabet, chunk: chunkTokens, minD: 1})
		checkRedline(t, before, after, ops)
		checkKeepsWordsOf(t, before, after, ops, 1)
		checkRedline(t, before, after, redline(before, after, redlineLimits{alphabet: maxTokenAlphabet, chunk: 6}))
		checkRedline(t, before, after, redline(before, after, redlineLimits{alphabet: 5, chunk: chunkTokens}))
	})
}
