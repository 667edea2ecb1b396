package main

import (
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows how far long work has come, on stderr and only when stderr
// is a terminal: scripts and logs get no bar. The returned update takes the
// number of items done; done ends the bar and clears it.
func (a *app) progress(total int, what string) (update func(n int), done func()) {
	if !isTerminal(a.stderr) || total <= 0 {
		return func(int) {}, func() {}
	}
	p := mpb.New(mpb.WithOutput(a.stderr), mpb.WithWidth(30))
	bar := p.AddBar(int64(total),
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(what+" ")),
		mpb.AppendDecorators(decor.CountersNoUnit(" %d / %d events"), decor.Name("  "), decor.EwmaETA(decor.ET_STYLE_GO, 30)),
	)
	last := 0
	return func(n int) {
			bar.EwmaIncrBy(n-last, 0)
			last = n
		}, func() {
			bar.SetTotal(int64(last), true) // completes, and removes, the bar
			p.Wait()
		}
}
