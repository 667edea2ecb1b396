package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's first steps hold (issue 15, item 9): it names the Go version
// go.mod requires, and every file its examples write into the checkout
// (`> redline.html`, `--receipt FILE`) is one git ignores.
func TestREADMEFirstSteps(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme, gomod, ignore := read("README.md"), read("go.mod"), read(".gitignore")
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(gomod)
	if goLine == nil || goLine[1] != "1.26.8" {
		t.Fatalf("go.mod's go line is %q; the README and the toolchain expect 1.26.8", goLine)
	}
	if !strings.Contains(readme, "Go "+goLine[1]) {
		t.Errorf("the README does not name Go %s, the version go.mod requires", goLine[1])
	}
	var patterns []string
	for _, l := range strings.Split(ignore, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.Trim(l, "/"))
		}
	}
	ignored := func(name string) bool {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, name); ok {
				return true
			}
		}
		return false
	}
	written := regexp.MustCompile("(?:> |--receipt )([A-Za-z0-9_.-]+\\.(?:html|jsonl|json))\\b").FindAllStringSubmatch(readme, -1)
	if len(written) == 0 {
		t.Fatal("found no file the README's examples write")
	}
	for _, w := range written {
		if !ignored(w[1]) {
			t.Errorf("the README's examples write %s, which .gitignore does not cover", w[1])
		}
	}
}
