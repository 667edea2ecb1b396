package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A directory of two schemas, one referring to the other, and a third that
// refers to a schema that is not there.
func schemas(t *testing.T, broken bool) string {
	dir := t.TempDir()
	files := map[string]string{
		"defs.json":  `{"$id": "https://treaty-engine.github.io/treaty/schema/defs.json", "$defs": {"party": {"type": "string", "pattern": "^[A-Z]{2}$"}}}`,
		"event.json": `{"$id": "https://treaty-engine.github.io/treaty/schema/event.json", "type": "object", "required": ["party"], "properties": {"party": {"$ref": "defs.json#/$defs/party"}, "at": {"type": "string", "format": "date-time"}}}`,
	}
	if broken {
		files["broken.json"] = `{"$id": "https://treaty-engine.github.io/treaty/schema/broken.json", "$ref": "missing.json"}`
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRun(t *testing.T) {
	dir, broken := schemas(t, false), schemas(t, true)
	for _, c := range []struct {
		name   string
		args   []string
		stdin  string
		status int
		stderr string
	}{
		{"valid", []string{dir, "event"}, `{"party": "UA"}`, 0, ""},
		{"through a reference", []string{dir, "event"}, `{"party": "Ukraine"}`, 1, "line 1 does not have the shape of docs/schema/event.json"},
		{"a format asserted", []string{dir, "event"}, `{"party": "UA", "at": "yesterday"}`, 1, "event.json"},
		{"not JSON", []string{dir, "event"}, `{"party": `, 1, "line 1 is not JSON"},
		{"lines", []string{"-lines", dir, "event"}, "{\"party\": \"UA\"}\n{\"party\": \"US\"}\n", 0, ""},
		{"the second line", []string{"-lines", dir, "event"}, "{\"party\": \"UA\"}\n{}\n", 1, "line 2 does not have the shape"},
		{"no lines", []string{"-lines", dir, "event"}, "", 1, "no JSON lines"},
		{"no such schema", []string{dir, "evnt"}, `{}`, 2, "no schema evnt.json in"},
		{"no such schema, no schemas", []string{t.TempDir(), "event"}, `{}`, 2, "no schema event.json"},
		{"no schemas to compile", []string{t.TempDir()}, "", 2, "no schemas in"},
		{"a schema that does not compile", []string{broken, "broken"}, `{}`, 2, "broken.json"},
		{"every schema compiles", []string{dir}, "", 0, ""},
		{"one does not", []string{broken}, "", 2, "broken: "},
		{"usage", nil, "", 2, "usage: schemacheck"},
		{"usage, -lines without a name", []string{"-lines", dir}, "", 2, "usage: schemacheck"},
	} {
		var stderr strings.Builder
		status := run(c.args, strings.NewReader(c.stdin), &stderr)
		if status != c.status || c.stderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d, stderr with %q", c.name, status, stderr.String(), c.status, c.stderr)
		}
	}
}
