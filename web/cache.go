package web

import "github.com/treaty-engine/treaty/internal/flight"

// answers keeps rendered answers (a page's body, the JSON of a view) by a
// key that names the question and the head it was answered at, so that
// fifty readers of the same compare document cost one compare; at most
// bytes of them.
func newAnswers(bytes int) *flight.Cache[string, *answer] {
	return flight.New[string](bytes, func(a *answer) int { return len(a.body) + 1024 })
}

// values keeps the views that replay the whole log (history, blame, audit,
// every proposal whole) by question, each as of one head (its version):
// asked at a newer head, a question is worked out again and its older
// answer dropped, so that memory holds one answer per question, at most n.
func newValues(n int) *flight.Cache[string, any] { return flight.New[string, any](n, nil) }
