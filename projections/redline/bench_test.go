package redline

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// simVocabulary is the vocabulary of treaty simulate (cmd/treaty/simulate.go).
var simVocabulary = strings.Fields(`the parties shall may consult within hours days assistance measures fund
reconstruction security guarantee commission report monitor review sanctions territory sovereignty
integrity charter united nations framework agreement article paragraph provision implementation
obligation right party state ukraine european union states kingdom in of and or to for with by on
under without prejudice notwithstanding accordance subject consent unanimous annual quarterly joint
сторони зобов'язуються гарантії безпеки відбудова угода україна`)

// simClause is a clause as simulate tables it: 30 to 79 words.
func simClause(rng *rand.Rand) string {
	w := make([]string, 30+rng.Intn(50))
	for i := range w {
		w[i] = simVocabulary[rng.Intn(len(simVocabulary))]
	}
	return strings.Join(w, " ") + "."
}

// simAmend applies amendments as simulate's do: each replaces, inserts or
// deletes one to four words.
func simAmend(rng *rand.Rand, text string, amendments int) string {
	words := strings.Fields(text)
	for range amendments {
		for range 1 + rng.Intn(4) {
			i := rng.Intn(len(words))
			switch rng.Intn(3) {
			case 0:
				words[i] = simVocabulary[rng.Intn(len(simVocabulary))]
			case 1:
				words = slices.Insert(words, i, simVocabulary[rng.Intn(len(simVocabulary))])
			default:
				if len(words) > 5 {
					words = slices.Delete(words, i, i+1)
				}
			}
		}
	}
	return strings.Join(words, " ")
}

// simPairs returns n pairs of clauses, the second the first after so many
// amendments: one is a proposal's redline, two hundred a compare of
// distant rounds.
func simPairs(seed int64, n, amendments int) [][2]string {
	rng := rand.New(rand.NewSource(seed))
	pairs := make([][2]string, n)
	for k := range pairs {
		before := simClause(rng)
		pairs[k] = [2]string{before, simAmend(rng, before, amendments)}
	}
	return pairs
}

// BenchmarkRedlineCompare redlines the 200 clauses of a compare: of
// distant rounds (rewritten), and of a proposal's small edit.
func BenchmarkRedlineCompare(b *testing.B) {
	for _, c := range []struct {
		name       string
		amendments int
	}{
		{"rewritten-200-clauses", 200},
		{"edited-200-clauses", 1},
	} {
		pairs := simPairs(19, 200, c.amendments)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			ops := 0
			for b.Loop() {
				ops = 0
				for _, p := range pairs {
					ops += len(Words(p[0], p[1]))
				}
			}
			b.ReportMetric(float64(ops), "ops")
		})
	}
}
