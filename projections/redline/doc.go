// Package redline is the word-level redline of the project: the one routine
// that says which words of a clause were kept, struck and inserted between
// two texts. The compare document, a proposal's redline, a clause's history
// and the provenance of each word all come from Words.
//
// What it guarantees, for every pair of strings (any script, invalid UTF-8,
// NUL bytes, megabytes of unrelated text):
//
//   - it never panics and returns within about a second;
//   - the ops rebuild both texts exactly (Rebuild), byte for byte;
//   - no word is cut in two: every op boundary is a token boundary of both
//     texts (see Words for what a token is);
//   - no op is empty, no two neighbours have the same kind, and a
//     replacement is a Delete immediately followed by its Insert;
//   - no unchanged word is struck and re-inserted to tidy the redline: the
//     clean-up folds runs of white space and punctuation between two
//     changes into them, never a run that holds a word, however short (so
//     that an inflected language, which says in two words what English
//     says in six, reads as little changed as the English).
//
// Tokens are mapped to private-use runes. Two texts that differ by fewer
// than 64 tokens, deleted plus inserted, once their common start and end
// are set aside (the redline of a proposal that changes a few words), are
// diffed as github.com/sergi/go-diff's DiffMainRunes diffs them, op for op
// (ported onto the runes in place, and held to go-diff's answers by a
// test). Texts that differ by more (a clause rewritten over many rounds),
// for which go-diff's Myers diff takes time of the order of the square of
// their length, are diffed from a longest common subsequence of their
// tokens, worked out 64 tokens at a time with bit vectors (Allison-Dix,
// Hyyrö): it keeps as many tokens as any diff can (go-diff's half-match
// heuristic may keep fewer), and among the ways of keeping that many it
// favours those that keep words rather than white space and punctuation,
// so the words it keeps may differ from go-diff's; texts too long for its
// table are left to go-diff. Either diff is then merged and cleaned up as
// go-diff does (its semantic clean-up, which never cuts a word); go-diff's
// patch functions, which have open crash reports on multi-byte text, are
// not used. The package knows nothing of negotiations: it compares
// strings.
package redline
