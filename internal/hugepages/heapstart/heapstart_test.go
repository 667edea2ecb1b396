package heapstart

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDisabled(t *testing.T) {
	for in, want := range map[string]bool{
		"":                                       false,
		"disablethp=1":                           true,
		"disablethp=2":                           true,
		"disablethp=-1":                          true,
		"disablethp=+0":                          false,
		"disablethp=10":                          true,
		"disablethp=00":                          false,
		"disablethp=2147483647":                  true,
		"disablethp=-2147483648":                 true,
		"disablethp=1,disablethp=2147483648":     true, // not an int32: the runtime keeps the 1
		"disablethp=4294967296":                  false,
		"disablethp=1,disablethp=-2147483649":    true,
		"disablethp=1,disablethp=99999999999999": true,
		"gctrace=1,disablethp=1":                 true,
		"disablethp=0":                           false,
		"disablethp=1,disablethp=0":              false,
		"disablethp=x":                           false,
		"disablethp=":                            false,
		"disablethp=1,disablethp=x":              true,
		"disablethp=1,disablethp=":               true,
		"disablethp=1,disablethp=-":              true,
		"disablethp=1,":                          true,
		"disablethp=1_0":                         false,
		"madvdontneed=1, disablethp=1":           false, // the runtime trims nothing
		"xdisablethp=1":                          false,
	} {
		if got := disabled(in); got != want {
			t.Errorf("disabled(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestDisabledAsTheRuntime checks disabled against strconv.ParseInt(v, 10,
// 32), which the runtime reads each GODEBUG number with.
func TestDisabledAsTheRuntime(t *testing.T) {
	for _, v := range []string{"0", "1", "-0", "+7", "2147483647", "2147483648", "-2147483648", "-2147483649",
		"007", "", "+", "-", "1e3", "0x10", " 1", "1 ", "١", "99999999999999999999999"} {
		want := false
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			want = n != 0
		}
		if got := disabled("disablethp=" + v); got != want {
			t.Errorf("disabled(%q) = %v; the runtime reads %v", "disablethp="+v, got, want)
		}
	}
}

func TestBracketed(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n":         "madvise",
		"[always] madvise never\n":         "always",
		"always madvise [never]\n":         "never",
		"":                                 "",
		"[] madvise":                       "",
		"[inherit] always madvise never\n": "inherit",
		"always[madvise] never":            "",
		"always [madvise]never":            "",
		"[":                                "",
		"]":                                "",
	} {
		if got := bracketed(in); got != want {
			t.Errorf("bracketed(%q) = %q, want %q", in, got, want)
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
		if strings.HasSuffix(name, "_test.go") {
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

// TestNoBuiltInDisablethp checks that the module builds no disablethp
// default into its binaries (a godebug line in go.mod, a //go:debug
// directive), which disabled does not read.
func TestNoBuiltInDisablethp(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mod), "disablethp") {
		t.Errorf("go.mod sets disablethp, which heapstart's disabled does not read")
	}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "//go:debug") && strings.Contains(line, "disablethp") {
				t.Errorf("%s: %s, which heapstart's disabled does not read", path, line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
