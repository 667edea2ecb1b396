package heapstart

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

func TestDisabled(t *testing.T) {
	for in, want := range map[string]bool{
		"":                             false,
		"disablethp=1":                 true,
		"disablethp=2":                 true,
		"disablethp=-1":                true,
		"disablethp=+0":                false,
		"disablethp=10":                true,
		"disablethp=00":                false,
		"gctrace=1,disablethp=1":       true,
		"disablethp=0":                 false,
		"disablethp=1,disablethp=0":    false,
		"disablethp=x":                 false,
		"disablethp=":                  false,
		"disablethp=1,disablethp=x":    true,
		"disablethp=1,disablethp=":     true,
		"disablethp=1,disablethp=-":    true,
		"disablethp=1,":                true,
		"madvdontneed=1, disablethp=1": false, // the runtime trims nothing
		"xdisablethp=1":                false,
	} {
		if got := Disabled(in); got != want {
			t.Errorf("Disabled(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestImports checks that the package imports nothing but syscall and
// unsafe: each other package it imported would initialize before it, and
// touch the heap before it could put it on huge pages.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if filepath.Ext(name) != ".go" || len(name) > len("_test.go") && name[len(name)-len("_test.go"):] == "_test.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path != "syscall" && path != "unsafe" {
				t.Errorf("%s imports %s", name, path)
			}
		}
		checked++
	}
	if checked < 2 {
		t.Fatalf("checked the imports of %d files, want the package's 2 or more", checked)
	}
}
