package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	// The tests, the scripts among them, run every backend.
	_ "github.com/treaty-engine/treaty/eventstore/esdb"
	_ "github.com/treaty-engine/treaty/eventstore/postgres"
)

// A build without tags holds the embedded store alone: its version says so,
// and a server store's URI is refused (exit 1) naming the tag that builds
// its backend in, the URI's password hidden, nothing made; a scheme no
// backend has is refused as before. (The test binary holds every backend,
// for the scripts.)
func TestBuildWithoutServers(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "treaty")
	// Built as the test binary's packages were (cgo as the environment
	// says), in the user's build cache, so that it links what go test
	// compiled: otherwise it compiles every package again, SQLite's among
	// them, about a minute on 2 cores.
	build := goCommand("build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	run := func(args ...string) (stdout, stderr string, status int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TREATY_STORE=", "TREATY_KEYS="+filepath.Join(dir, "keys"))
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}
	if out, _, status := run("--version"); status != 0 || !strings.HasSuffix(out, "; stores: sqlite\n") {
		t.Fatalf("--version (exit %d): %q", status, out)
	}
	for uri, tag := range map[string]string{
		"esdb://admin:s3cret@127.0.0.1:1?tls=false":  "esdb",
		"esdb+discover://admin:s3cret@cluster.local": "esdb",
		"postgres://treaty:s3cret@127.0.0.1:1/db":    "postgres",
		"postgresql://treaty:s3cret@127.0.0.1:1/db":  "postgres",
	} {
		_, stderr, status := run("--store", uri, "draft")
		if status != 1 || !strings.Contains(stderr, "need a build with -tags "+tag+":") ||
			!strings.Contains(stderr, "go install -tags "+tag+" ./cmd/treaty") || strings.Contains(stderr, "s3cret") {
			t.Errorf("%s (exit %d):\n%s", uri, status, stderr)
		}
	}
	if _, stderr, status := run("--store", "foo://x", "draft"); status != 1 || !strings.Contains(stderr, `unknown store scheme "foo"`) || !strings.Contains(stderr, "known schemes are sqlite\n") {
		t.Errorf("foo:// (exit %d):\n%s", status, stderr)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("the refused commands left %v (%v)", entries, err)
	}
}

// Nothing of treaty's, nor of the modules it builds in, uses cgo, with or
// without the server backends: the README's CGO_ENABLED=0 install builds
// the same program. (Only the standard library's net, os/user and runtime/cgo have
// cgo files, which CGO_ENABLED=0 replaces with their pure Go versions.)
func TestNoCgo(t *testing.T) {
	for _, tags := range []string{"", "esdb,postgres"} {
		list := goCommand("list", "-deps", "-tags", tags, "-f", "{{if and .CgoFiles (not .Standard)}}{{.ImportPath}} {{.CgoFiles}}{{end}}", ".")
		list.Env = append(list.Env, "CGO_ENABLED=1") // cgo files are listed only where cgo is on
		out, err := list.CombinedOutput()
		if err != nil {
			t.Fatalf("go list (tags %q): %v\n%s", tags, err, out)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("packages with cgo files (tags %q):\n%s", tags, s)
		}
	}
}
