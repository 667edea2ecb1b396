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
	for _, seed := range referenceSeeds {
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
