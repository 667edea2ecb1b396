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

// ukVocabulary is Ukrainian treaty language, for the redlines of a text
// in Cyrillic throughout.
var ukVocabulary = strings.Fields(`сторони зобов'язуються консультуватися протягом годин днів допомога заходи фонд
відбудова безпека гарантії комісія звіт моніторинг перегляд санкції територія суверенітет
цілісність статут організації об'єднаних націй рамкова угода стаття пункт положення виконання
зобов'язання право держава україна європейський союз сполучене королівство у з і та або до для
відповідно без шкоди незважаючи згода одностайна щорічна щоквартальна спільна`)

// simClause is a clause as simulate tables it: 30 to 79 words.
func simClause(rng *rand.Rand) string { return clauseOf(rng, simVocabulary) }

// clauseOf is a clause of 30 to 79 words of vocabulary.
func clauseOf(rng *rand.Rand, vocabulary []string) string {
	w := make([]string, 30+rng.Intn(50))
	for i := range w {
		w[i] = vocabulary[rng.Intn(len(vocabulary))]
	}
	return strings.Join(w, " ") + "."
}

// simAmend applies amendments as simulate's do: each replaces, inserts or
// deletes one to four words.
func simAmend(rng *rand.Rand, text string, amendments int) string {
	return amendOf(rng, text, amendments, simVocabulary)
}

// amendOf is simAmend with words of vocabulary.
func amendOf(rng *rand.Rand, text string, amendments int, vocabulary []string) string {
	words := strings.Fields(text)
	for range amendments {
		for range 1 + rng.Intn(4) {
			i := rng.Intn(len(words))
			switch rng.Intn(3) {
			case 0:
				words[i] = vocabulary[rng.Intn(len(vocabulary))]
			case 1:
				words = slices.Insert(words, i, vocabulary[rng.Intn(len(vocabulary))])
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
	return pairsOf(seed, n, amendments, simVocabulary)
}

// pairsOf is simPairs with words of vocabulary.
func pairsOf(seed int64, n, amendments int, vocabulary []string) [][2]string {
	rng := rand.New(rand.NewSource(seed))
	pairs := make([][2]string, n)
	for k := range pairs {
		before := clauseOf(rng, vocabulary)
		pairs[k] = [2]string{before, amendOf(rng, before, amendments, vocabulary)}
	}
	return pairs
}

// BenchmarkRedlineCompare redlines the 200 clauses of a compare: of
// distant rounds (rewritten), and of a proposal's small edit, in simulate's
// words and in Ukrainian.
func BenchmarkRedlineCompare(b *testing.B) {
	for _, c := range []struct {
		name       string
		amendments int
		vocabulary []string
	}{
		{"rewritten-200-clauses", 200, simVocabulary},
		{"edited-200-clauses", 1, simVocabulary},
		{"rewritten-200-clauses-uk", 200, ukVocabulary},
		{"edited-200-clauses-uk", 1, ukVocabulary},
	} {
		pairs := pairsOf(19, 200, c.amendments, c.vocabulary)
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
