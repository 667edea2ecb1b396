// Command schemacheck checks JSON against the schemas of a directory (the
// repository's docs/schema): the command line's tests run it for the
// `schema` command of their scripts and for the web workspace's answers.
//
// It is a program of its own, not a package of those tests, because every
// command a script runs starts their test binary afresh, and the validator
// compiles its metaschemas as its package initializes: about 10 ms and
// 1.7 MB of every start, linked in or not used.
//
// Usage:
//
//	schemacheck [-lines] DIR NAME < JSON
//	schemacheck DIR
//
// The first checks the JSON on standard input (with -lines, each line of
// JSON Lines) against DIR/NAME.json, every other schema of DIR there for it
// to refer to. The second compiles every schema of DIR. Exit status: 0 when
// it holds, 1 when it does not (why on standard error), 2 when the check
// could not be made (no such schema, one that does not compile, a usage
// error).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

func run(args []string, stdin io.Reader, stderr io.Writer) int {
	lines := len(args) > 0 && args[0] == "-lines"
	if lines {
		args = args[1:]
	}
	var err error
	switch {
	case len(args) == 1 && !lines:
		err = compileAll(args[0])
	case len(args) == 2:
		err = check(args[0], args[1], stdin, lines)
	default:
		fmt.Fprintln(stderr, "usage: schemacheck [-lines] DIR NAME < JSON, or schemacheck DIR")
		return 2
	}
	var fails failure
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fails):
		fmt.Fprintln(stderr, err)
		return 1
	default:
		fmt.Fprintln(stderr, err)
		return 2
	}
}

// failure is JSON found not to have its schema's shape.
type failure struct{ error }

// compiler has every schema of dir, each under the URL its name gives it.
func compiler(dir string) (*jsonschema.Compiler, []string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, nil, fmt.Errorf("no schemas in %s", dir)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if err := c.AddResource(schemaURL(name), doc); err != nil {
			return nil, nil, err
		}
		names = append(names, name)
	}
	return c, names, nil
}

// schemaURL is the $id of the schema named name.
func schemaURL(name string) string {
	return "https://treaty-engine.github.io/treaty/schema/" + name + ".json"
}

func compileAll(dir string) error {
	c, names, err := compiler(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if _, err := c.Compile(schemaURL(name)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
		}
	}
	return errors.Join(errs...)
}

func check(dir, name string, stdin io.Reader, lines bool) error {
	if _, err := os.Stat(filepath.Join(dir, name+".json")); err != nil {
		return fmt.Errorf("no schema %s.json in %s", name, dir)
	}
	c, _, err := compiler(dir)
	if err != nil {
		return err
	}
	s, err := c.Compile(schemaURL(name))
	if err != nil {
		return fmt.Errorf("%s.json: %v", name, err)
	}
	text, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	docs := []string{string(text)}
	if lines {
		docs = nil
		sc := bufio.NewScanner(bytes.NewReader(text))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			docs = append(docs, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return err
		}
		if len(docs) == 0 {
			return failure{errors.New("no JSON lines")}
		}
	}
	for i, d := range docs {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(d))
		if err != nil {
			return failure{fmt.Errorf("line %d is not JSON: %v", i+1, err)}
		}
		if err := s.Validate(v); err != nil {
			return failure{fmt.Errorf("line %d does not have the shape of docs/schema/%s.json: %v", i+1, name, err)}
		}
	}
	return nil
}
