package main

// The JSON shapes of docs/cli.md, as JSON Schemas in docs/schema, checked
// against real outputs: the scripts' `schema` command, and the web
// workspace's answers.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// schemaDir holds the schemas, from this package's directory.
const schemaDir = "../../docs/schema"

// schemaTool builds internal/testtool/schemacheck, which checks JSON
// against the schemas, into toolDir: the validator is kept out of this
// test binary, which every command a script runs starts afresh.
var schemaTool = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(toolDir, "schemacheck")
	out, err := goCommand("build", "-o", bin, "github.com/treaty-engine/treaty/internal/testtool/schemacheck").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build schemacheck: %v\n%s", err, out)
	}
	return bin, nil
})

// errUnchecked is a check that could not be made: no such schema, one that
// does not compile, no schemacheck.
var errUnchecked = errors.New("not checked")

// runSchemaTool runs schemacheck with args and text on its standard input.
// Its error is nil when the check holds, wraps errUnchecked when it could
// not be made, and else says why it does not hold.
func runSchemaTool(text string, args ...string) error {
	tool, err := schemaTool()
	if err != nil {
		return fmt.Errorf("%w: %v", errUnchecked, err)
	}
	cmd := exec.Command(tool, args...)
	cmd.Stdin = strings.NewReader(text)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		return errors.New(strings.TrimSpace(stderr.String()))
	default:
		return fmt.Errorf("%w: schemacheck %s: %v\n%s", errUnchecked, strings.Join(args, " "), err, stderr.String())
	}
}

// validate checks JSON text against docs/schema/NAME.json; lines checks
// each line of JSON Lines.
func validate(name, text string, lines bool) error {
	args := []string{schemaDir, name}
	if lines {
		args = append([]string{"-lines"}, args...)
	}
	return runSchemaTool(text, args...)
}

// schema [-lines] NAME [FILE]: the previous command's stdout (or FILE) has
// the shape of docs/schema/NAME.json; with -lines, each of its lines does.
func cmdSchema(ts *testscript.TestScript, neg bool, args []string) {
	lines := len(args) > 0 && args[0] == "-lines"
	if lines {
		args = args[1:]
	}
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: schema [-lines] NAME [FILE]")
	}
	text := ts.ReadFile("stdout")
	if len(args) == 2 {
		text = ts.ReadFile(args[1])
	}
	err := validate(args[0], text, lines)
	switch {
	case errors.Is(err, errUnchecked):
		ts.Fatalf("%v", err)
	case neg && err == nil:
		ts.Fatalf("the output has the shape of %s.json", args[0])
	case !neg && err != nil:
		ts.Fatalf("%v", err)
	}
}

// Every schema compiles, and every JSON output of the command line has
// one (the scripts' schema commands check the outputs).
func TestSchemasCompile(t *testing.T) {
	if err := runSchemaTool("", schemaDir); err != nil {
		t.Error(err)
	}
	files, _ := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	used := map[string]bool{}
	scripts, _ := filepath.Glob(filepath.Join("testdata", "script", "*.txtar"))
	for _, s := range scripts {
		b, _ := os.ReadFile(s)
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "schema" {
				name := f[1]
				if name == "-lines" && len(f) >= 3 {
					name = f[2]
				}
				used[name] = true
			}
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name != "defs" && name != "web-error" && !used[name] { // web-error: TestServeErrors
			t.Errorf("no script checks an output against %s.json", name)
		}
	}
}
