package main

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows how far long work has come, on stderr and only when stderr
// is a terminal: scripts and logs get no bar. The returned update takes the
// number of items done; done ends the bar.
func (a *app) progress(total int, what string) (update func(n int), done func()) {
	if !isTerminal(a.stderr) || total <= 0 {
		return func(int) {}, func() {}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return func(n int) { _ = bar.Set(n) }, func() { _ = bar.Finish() }
}
