package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestInstallInterrupted: a Ctrl-C (the command's context ending) while
// install works, before it begins, after its first chunk or after its last
// (while the copy is synced), leaves nothing in the directory.
func TestInstallInterrupted(t *testing.T) {
	src, err := runningBinary()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	last := int((st.Size() + installChunk - 1) / installChunk)
	if last < 2 {
		t.Fatalf("the test binary is %d bytes, one chunk", st.Size())
	}
	defer func() { afterChunk = nil }()
	for _, c := range []struct {
		name  string
		after int // the chunk after which Ctrl-C comes; 0: before any
	}{{"before", 0}, {"after the first chunk", 1}, {"after the last chunk", last}} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		chunks := 0
		afterChunk = func() {
			if chunks++; chunks == c.after {
				cancel()
			}
		}
		if c.after == 0 {
			cancel()
		}
		if _, err := installBinary(ctx, src, dir); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: installBinary with its context ended: %v, want context.Canceled", c.name, err)
		}
		if c.after > 0 && chunks != c.after {
			t.Errorf("%s: %d chunks written, want %d", c.name, chunks, c.after)
		}
		left, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range left {
			t.Errorf("%s: left behind: %s", c.name, e.Name())
		}
	}
}

// installBuildParts splits installBuild into the environment it sets and
// the flags of its go build, but -o and the package: what a test that
// builds treaty as the README installs it passes on.
func installBuildParts() (env, flags []string) {
	fields := strings.Fields(installBuild)
	for len(fields) > 0 && strings.Contains(fields[0], "=") {
		env, fields = append(env, fields[0]), fields[1:]
	}
	if len(fields) < 2 || fields[0] != "go" || fields[1] != "build" {
		panic(fmt.Sprintf("installBuild %q is no go build", installBuild))
	}
	for _, f := range fields[2:] {
		if f == "-o" {
			break
		}
		flags = append(flags, f)
	}
	return env, flags
}

// TestInstallBuild checks that the build the README, the CLI reference and
// install's help give is one and the same, and that this Go accepts its
// settings (a GOEXPERIMENT it does not know would fail every build).
func TestInstallBuild(t *testing.T) {
	env, flags := installBuildParts()
	if !slices.Contains(env, "CGO_ENABLED=0") || !slices.Contains(env, "GOEXPERIMENT=norandomizedheapbase64") || !slices.Contains(flags, "-ldflags=-R=0x200000") {
		t.Fatalf("installBuild %q: env %q, flags %q", installBuild, env, flags)
	}
	spaced := regexp.MustCompile(`\s+`)
	for _, name := range []string{"README.md", "docs/cli.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(spaced.ReplaceAllString(string(b), " "), installBuild+" && /tmp/treaty install") {
			t.Errorf("%s does not give the build installBuild is: %s && /tmp/treaty install", name, installBuild)
		}
	}
	cmd := goCommand("env", "GOEXPERIMENT")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go env with %q: %v\n%s", env, err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.Contains(got, "norandomizedheapbase64") {
		t.Errorf("go env GOEXPERIMENT = %q under %q", got, env)
	}
}
