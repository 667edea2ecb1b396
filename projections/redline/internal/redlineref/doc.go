// Package redlineref is the redline as it stood at commit 352fec4
// (redline.go, lcs.go and myers.go, copied unchanged but for the package
// clause), frozen so that tests can hold the redline package to the same
// ops for every input while it is made faster. Only tests import it.
package redlineref

// Redline is Words with the limits the redline package's tests shrink:
// alphabet, chunk and minD as in its redlineLimits.
func Redline(before, after string, alphabet, chunk, minD int) []Op {
	return redline(before, after, redlineLimits{alphabet: alphabet, chunk: chunk, minD: minD})
}

// MaxTokenAlphabet and ChunkTokens are the limits Words uses.
var MaxTokenAlphabet = maxTokenAlphabet

const ChunkTokens = chunkTokens
