package redline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// referenceLimits are the limits under which the redline is held to what
// it gave before: Words' own, and those that send clause-sized texts down
// the paths of large texts (bit-parallel diff, cut into pieces, too many
// distinct tokens).
var referenceLimits = []redlineLimits{
	{alphabet: maxTokenAlphabet, chunk: chunkTokens},
	{alphabet: maxTokenAlphabet, chunk: chunkTokens, minD: 1},
	{alphabet: maxTokenAlphabet, chunk: 6},
	{alphabet: 5, chunk: chunkTokens},
}

// referenceSeeds are pairs of texts that take the redline down each of its
// paths: the seeds of FuzzRedline and more.
var referenceSeeds = [][2]string{
	{"", ""},
	{"", "x"},
	{"x", ""},
	{"same", "same"},
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
	{"don't won't can't", "don’t won’t can't"},
	{"a'b' 'c d'", "a'b 'c' d'"},
	{"\u0301", "\u0301\u0301"},
	{"one\r\n\r\ntwo", "one\n\ntwo three"},
	{"x y", "y x"},
}

// ukrainianWords are words of a treaty in Ukrainian, some with apostrophes.
var ukrainianWords = strings.Fields(`Сторони зобов'язуються зобов’язуються поважати суверенітет
	територіальну цілісність України м'якого п'ять об'єднаних сім'ї гарантії безпеки відбудова
	угода набирає чинності з дати підписання Статті пункт відповідно до протягом днів і та або`)

// ukrainianText is n words of ukrainianWords with spaces, commas and
// full stops, and now and then an apostrophe that stands apart.
func ukrainianText(rng *rand.Rand, n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			switch rng.Intn(12) {
			case 0:
				sb.WriteString(", ")
			case 1:
				sb.WriteString(". ")
			case 2:
				sb.WriteString(" '")
			case 3:
				sb.WriteString("’ ")
			default:
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(ukrainianWords[rng.Intn(len(ukrainianWords))])
	}
	return sb.String()
}

// referenceCorpus calls check with each pair of texts the redline is held
// to: the seeds above both ways round, the simulated clauses of a compare
// (amended 0 to 300 times), random mixes of tokens and bytes, Ukrainian
// text and long prose. The same pairs every time.
func referenceCorpus(check func(before, after string)) {
	for _, p := range referenceSeeds {
		check(p[0], p[1])
		check(p[1], p[0])
	}
	const seeds = 10
	for seed := range int64(seeds) {
		for _, amendments := range []int{0, 1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 120, 200, 300} {
			for _, p := range simPairs(seed*1000+int64(amendments), 5, amendments) {
				check(p[0], p[1])
			}
		}
	}
	rng := rand.New(rand.NewSource(7))
	for range 50 * seeds {
		s := soupText(rng, rng.Intn(80))
		check(s, amendTokens(rng, s))
		check(soupText(rng, rng.Intn(30)), soupText(rng, rng.Intn(30)))
		b := soupBytes(rng, rng.Intn(60))
		check(b, soupBytes(rng, rng.Intn(60)))
		u := ukrainianText(rng, 5+rng.Intn(100))
		check(u, amendTokens(rng, u))
		check(u, ukrainianText(rng, 5+rng.Intn(100)))
	}
	for range 2 {
		long := proseText(rng, 5000)
		check(long, amendWords(rng, long, 100))
		check(long, amendWords(rng, long, 5))
		p := proseText(rng, 300)
		check(p, proseText(rng, 300))
	}
}

// opsDigest hashes the ops redline gives for every pair of the corpus under
// every one of referenceLimits.
func opsDigest(redline func(before, after string, lim redlineLimits) []Op) (digest string, pairs, ops int) {
	h := sha256.New()
	referenceCorpus(func(before, after string) {
		pairs++
		for _, lim := range referenceLimits {
			got := redline(before, after, lim)
			ops += len(got)
			fmt.Fprintf(h, "%d:", len(got))
			for _, op := range got {
				fmt.Fprintf(h, "%d %d:%s", op.Kind, len(op.Text), op.Text)
			}
		}
	})
	return hex.EncodeToString(h.Sum(nil)), pairs, ops
}

// referenceDigest is opsDigest of the redline of commit 352fec4, before it
// was made faster: every op of the corpus, under every limit, is what it
// was then. A change meant to change the redline changes it, and says so.
const referenceDigest = "36e74e8d0dd4e3cdb6712415726162da9b435bf0c812bc497c0a5f81dc3afc71"

func TestSameAsBefore(t *testing.T) {
	got, pairs, ops := opsDigest(redline)
	if got != referenceDigest {
		t.Fatalf("the redline of %d pairs (%d ops) is no longer what it was: digest %s", pairs, ops, got)
	}
}
