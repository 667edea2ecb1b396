package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
)

// TestMoveBetweenStores moves a signed negotiation between the embedded
// store, PostgreSQL and the KurrentDB double in every direction, through
// export and import: each store it lands in reads it byte for byte as the
// first did (log and draft as JSON, the export itself, what verify says).
func TestMoveBetweenStores(t *testing.T) {
	bin := treatyBin(t)
	dir := t.TempDir()
	pg := pgtest.Database(t)
	kinds := []string{"sqlite", "postgres", "esdb"}
	// fresh returns a new, empty store of a kind.
	n := 0
	fresh := func(kind string) string {
		n++
		switch kind {
		case "postgres":
			return pgtest.With(pg, "search_path", fmt.Sprint("move", n)) // a schema each, in one database
		case "esdb":
			return esdbtest.Start(t).URI()
		}
		return filepath.Join(dir, fmt.Sprintf("move%d.db", n))
	}
	treaty := func(store string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--store", store}, args...)...)
		cmd.Env = append(os.Environ(), "TREATY_KEYS="+filepath.Join(dir, "keys"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("treaty --store %s %s: %v\n%s", store, strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	// reads is what a store must read alike everywhere (verify, which
	// must pass, included).
	reads := func(store string) [4][]byte {
		return [4][]byte{treaty(store, "log", "--format", "json"), treaty(store, "draft", "--format", "json"), treaty(store, "export"),
			treaty(store, "verify")}
	}

	origin := fresh("sqlite")
	treaty(origin, "demo")
	treaty(origin, "--as", "EU", "keys", "new")
	treaty(origin, "--as", "EU", "accept", "30a6")
	want := reads(origin)
	exported := filepath.Join(dir, "origin.jsonl")
	os.WriteFile(exported, want[2], 0o644)

	// From the origin into one store of each kind, then from each of them
	// into a fresh store of each other kind.
	first := map[string]string{}
	for _, to := range kinds {
		first[to] = fresh(to)
		treaty(first[to], "import", exported)
	}
	for _, from := range kinds {
		file := filepath.Join(dir, from+".jsonl")
		os.WriteFile(file, treaty(first[from], "export"), 0o644)
		for _, to := range kinds {
			if to == from {
				continue
			}
			t.Run(from+"-to-"+to, func(t *testing.T) {
				store := fresh(to)
				treaty(store, "import", file)
				if out := treaty(store, "import", file); !bytes.Contains(out, []byte("Nothing to import")) {
					t.Errorf("importing again: %s", out)
				}
				for i, got := range reads(store) {
					if !bytes.Equal(got, want[i]) {
						t.Errorf("%s reads differently after the move (%s):\n%s\nwhere the origin reads\n%s",
							[]string{"log", "draft", "export", "verify"}[i], store, got, want[i])
					}
				}
			})
		}
	}
}
