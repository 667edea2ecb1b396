package main

import (
	"io"
	"strings"
	"testing"
)

// Only the commands whose heap stays small collect garbage less often: a
// replay's, or a Word document's, is left as Go sizes it.
func TestSmallHeap(t *testing.T) {
	for _, c := range []struct {
		args string
		want bool
	}{
		{"draft", true},
		{"show 30a6", true},
		{"positions --format markdown", true},
		{"diff --from round:1 --to round:2", true},
		{"diff --format json", true},
		{"diff --every-adoption --format json", false},
		{"diff --format docx --output x.docx", false},
		{"draft --format docx --output x.docx", false},
		{"verify", false},
		{"audit", false},
		{"history a", false},
		{"propose --clause a --text A.", false},
		{"round open", false},
	} {
		root := newApp(strings.NewReader(""), io.Discard, io.Discard).rootCommand()
		args := strings.Fields(c.args)
		cmd, rest, err := root.Find(args)
		if err != nil {
			t.Fatalf("%s: %v", c.args, err)
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Fatalf("%s: %v", c.args, err)
		}
		format, _ := cmd.Flags().GetString("format")
		if got := smallHeap(cmd, format); got != c.want {
			t.Errorf("%s: small heap %v, want %v", c.args, got, c.want)
		}
	}
}
