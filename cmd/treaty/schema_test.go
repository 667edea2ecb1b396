package main

// The JSON shapes of docs/cli.md, as JSON Schemas in docs/schema, checked
// against real outputs: the scripts' `schema` command, and the web
// workspace's answers.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaDir holds the schemas, from this package's directory.
const schemaDir = "../../docs/schema"

var (
	schemasOnce sync.Once
	schemas     *jsonschema.Compiler
	schemasErr  error
	compiled    sync.Map // name → *jsonschema.Schema
)

// schemaNamed compiles docs/schema/NAME.json, with every other schema of
// the directory there for it to refer to.
func schemaNamed(name string) (*jsonschema.Schema, error) {
	schemasOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
		if err != nil || len(files) == 0 {
			schemasErr = fmt.Errorf("no schemas in %s: %v", schemaDir, err)
			return
		}
		for _, f := range files {
			r, err := os.Open(f)
			if err != nil {
				schemasErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(r)
			r.Close()
			if err != nil {
				schemasErr = fmt.Errorf("%s: %v", f, err)
				return
			}
			if err := c.AddResource(schemaURL(strings.TrimSuffix(filepath.Base(f), ".json")), doc); err != nil {
				schemasErr = err
				return
			}
		}
		schemas = c
	})
	if schemasErr != nil {
		return nil, schemasErr
	}
	if s, ok := compiled.Load(name); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := schemas.Compile(schemaURL(name))
	if err != nil {
		return nil, err
	}
	compiled.Store(name, s)
	return s, nil
}

func schemaURL(name string) string {
	return "https://treaty-engine.github.io/treaty/schema/" + name + ".json"
}

// validate checks JSON text against docs/schema/NAME.json; lines checks
// each line of JSON Lines.
func validate(name, text string, lines bool) error {
	s, err := schemaNamed(name)
	if err != nil {
		return err
	}
	docs := []string{text}
	if lines {
		docs = nil
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			docs = append(docs, sc.Text())
		}
		if len(docs) == 0 {
			return fmt.Errorf("no JSON lines")
		}
	}
	for i, d := range docs {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(d))
		if err != nil {
			return fmt.Errorf("line %d is not JSON: %v", i+1, err)
		}
		if err := s.Validate(v); err != nil {
			return fmt.Errorf("line %d does not have the shape of docs/schema/%s.json: %v", i+1, name, err)
		}
	}
	return nil
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
	case neg && err == nil:
		ts.Fatalf("the output has the shape of %s.json", args[0])
	case !neg && err != nil:
		ts.Fatalf("%v", err)
	}
}

// Every schema compiles, and every JSON output of the command line has
// one (the scripts' schema commands check the outputs).
func TestSchemasCompile(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if _, err := schemaNamed(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
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
