package main

// End-to-end scripts of the real binary: every command of CLI.md, its
// outputs and its refusals. The scripts are in testdata/script; the script
// language is github.com/rogpeppe/go-internal/testscript's, with the few
// commands below added.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
	"github.com/treaty-engine/treaty/internal/testtool"
	"github.com/treaty-engine/treaty/projections"
	"github.com/treaty-engine/treaty/projections/wordml/wordmltest"
)

func TestMain(m *testing.M) {
	commands := map[string]func(){
		"treaty": func() {
			// A script's stdout is never a terminal: TREATY_TEST_WIDTH
			// stands for the width of one, to see text wrapped.
			testWidth, _ = strconv.Atoi(os.Getenv("TREATY_TEST_WIDTH"))
			os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
		"treaty-worker": workerMain,
		"treaty-reader": readerMain,
	}
	if commands[filepath.Base(os.Args[0])] != nil {
		testscript.Main(m, commands) // a script's command, in the script's environment
		return
	}
	// The tests, and the commands they start, keep their memos (see
	// memoCache) in a directory of their own, never in the user's cache.
	cache, err := os.MkdirTemp("", "treaty-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	userCache, userCacheSet = os.LookupEnv("XDG_CACHE_HOME")
	os.Setenv("XDG_CACHE_HOME", cache)
	if toolDir, err = os.MkdirTemp("", "treaty-test-tools-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(cache)
		os.Exit(1)
	}
	testscript.Main(removing{m, []string{cache, toolDir}}, commands)
}

// userCache is XDG_CACHE_HOME as the tests found it (userCacheSet: set
// at all), before TestMain gave them a directory of their own.
var (
	userCache    string
	userCacheSet bool
)

// goCommand is the go command with args, in the environment of the tests
// but for XDG_CACHE_HOME, which is the user's again: the go command keeps
// its build cache there (unless GOCACHE says otherwise), and in the tests'
// own, empty, it compiles every package again, the standard library's too.
func goCommand(args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "XDG_CACHE_HOME=") })
	if userCacheSet {
		cmd.Env = append(cmd.Env, "XDG_CACHE_HOME="+userCache)
	}
	return cmd
}

// toolDir holds the programs the tests build to check outputs with
// (schemaTool).
var toolDir string

// removing runs the tests, then removes dirs.
type removing struct {
	m    *testing.M
	dirs []string
}

func (r removing) Run() int {
	defer func() {
		for _, d := range r.dirs {
			os.RemoveAll(d)
		}
	}()
	return r.m.Run()
}

// scriptEnv are the variables a script starts without: the binary must not
// pick up the environment of whoever runs the tests. (testscript builds a
// fresh environment for each script; Setup makes sure of these.) Colour needs
// a terminal, which a script's stdout never is, so NO_COLOR does not matter.
var scriptEnv = []string{"TREATY_TEST_WIDTH", "TREATY", "TREATY_STORE", "TREATY_PARTY", "TREATY_AUTHOR", "TREATY_MAX_TEXT", "TREATY_NO_CHECKPOINTS", "TREATY_KEYS", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"}

func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams("", nil))
}

// TestScriptsESDB runs the scripts once more with the default store on a
// KurrentDB server: the one TREATY_TEST_ESDB names, or else, for each
// script, the in-process protocol double of eventstore/esdb/esdbtest (which
// checks the backend against the protocol, not against a real server).
// Scripts that reach into the SQLite file itself say [esdb] skip.
func TestScriptsESDB(t *testing.T) {
	testscript.Run(t, scriptParams("esdb", func(env *testscript.Env) string {
		if uri := os.Getenv("TREATY_TEST_ESDB"); uri != "" {
			// A shared server: every script its own negotiations.
			env.Setenv("TREATY", "t"+strings.ReplaceAll(filepath.Base(env.WorkDir), "-", "")[:8])
			return uri
		}
		srv, err := esdbtest.Listen()
		if err != nil {
			env.T().Fatal(err)
		}
		env.Defer(srv.Close)
		return srv.URI()
	}))
}

// TestScriptsPostgres runs the scripts once more with the default store in
// a PostgreSQL database: for each script a fresh one, on the server
// TREATY_TEST_POSTGRES names (skipped without it, unless CI is set), dropped
// after. PG_SERVER (host:port) and PG_DATABASE tell a script where that is.
// Scripts that reach into the SQLite file itself say [postgres] skip.
func TestScriptsPostgres(t *testing.T) {
	server := pgtest.ServerURI(t)
	testscript.Run(t, scriptParams("postgres", func(env *testscript.Env) string {
		uri, drop, err := pgtest.CreateDatabase(context.Background(), server)
		if err != nil {
			env.T().Fatal(err)
		}
		env.Defer(func() {
			if err := drop(); err != nil {
				env.T().Log(err)
			}
		})
		u, err := url.Parse(uri)
		if err != nil {
			env.T().Fatal(err)
		}
		env.Setenv("PG_SERVER", u.Host)
		env.Setenv("PG_DATABASE", strings.TrimPrefix(u.Path, "/"))
		return uri
	}))
}

// scriptParams are the scripts' settings: server names the server backend
// the scripts run on ("esdb", "postgres"; "" for the embedded store), which
// the script conditions [esdb] and [postgres] test, and store, when not
// nil, gives each script the store URI to use by default.
func scriptParams(server string, store func(env *testscript.Env) string) testscript.Params {
	return testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			vars := env.Vars[:0]
			for _, kv := range env.Vars {
				name, _, _ := strings.Cut(kv, "=")
				if !slices.Contains(scriptEnv, name) {
					vars = append(vars, kv)
				}
			}
			// Signing keys and memos go to the script's own directory,
			// never to the user's configuration or cache.
			env.Vars = append(vars, "TREATY_KEYS="+filepath.Join(env.WorkDir, "keys"),
				"XDG_CONFIG_HOME="+filepath.Join(env.WorkDir, ".config"),
				"XDG_CACHE_HOME="+filepath.Join(env.WorkDir, ".cache"))
			if store != nil {
				env.Setenv("TREATY_STORE", store(env))
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "esdb", "postgres":
				return server == cond, nil
			case "akn", "pandoc", "soffice":
				// The outside checkers: absent, a script skips what needs
				// them; in CI, where .ci/run installs them, it fails.
				return testtool.Available(cond)
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":  cmdStatus,
			"capture": cmdCapture,
			"events":  cmdEvents,
			"sqlexec": cmdSQLExec,
			"pgexec":  cmdPGExec,
			"bytes":   cmdBytes,
			"typo":    cmdTypo,
			"forge":   cmdForge,
			"schema":  cmdSchema,
			"akn":     cmdAKN,
			"pandoc":  cmdPandoc,
			"docx":    cmdDocx,
			"samebin": cmdSameBin,
		},
	}
}

// samebin FILE: FILE holds the bytes of the treaty binary the scripts run
// (this test binary) and is executable by all; with '!', it differs.
func cmdSameBin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: samebin FILE")
	}
	exe, err := os.Executable()
	ts.Check(err)
	want, err := os.ReadFile(exe)
	ts.Check(err)
	path := ts.MkAbs(args[0])
	got, err := os.ReadFile(path)
	ts.Check(err)
	st, err := os.Stat(path)
	ts.Check(err)
	same := bytes.Equal(got, want) && st.Mode().Perm() == 0o755
	switch {
	case same && neg:
		ts.Fatalf("%s is the treaty binary", args[0])
	case !same && !neg:
		ts.Fatalf("%s (%d bytes, mode %v) is not the treaty binary (%d bytes), mode 0755", args[0], len(got), st.Mode().Perm(), len(want))
	}
}

// status N PROG [ARGS...]: run PROG (the treaty binary in practice) and
// check that it exits with status N exactly; stdout and stderr are kept for
// the stdout and stderr commands that follow.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("status does not take '!': give the exit status expected")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: status N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		ts.Fatalf("status: %q is not an exit status", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		got = exit.ExitCode()
	case err != nil:
		ts.Fatalf("status: cannot run %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d; want %d", strings.Join(args[1:], " "), got, want)
	}
}

// capture VAR [REGEXP]: set the environment variable VAR from the stdout of
// the previous command: its last non-empty line, trimmed, or with REGEXP the
// first submatch (the whole match when REGEXP has no group).
// typo VAR NAME: set VAR to the value of NAME with its eleventh character
// changed to another hex digit, as a hash copied by hand might be.
func cmdTypo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: typo VAR NAME")
	}
	b := []byte(ts.Getenv(args[1]))
	if len(b) < 11 {
		ts.Fatalf("typo: $%s is too short", args[1])
	}
	if b[10] == 'a' {
		b[10] = 'b'
	} else {
		b[10] = 'a'
	}
	ts.Setenv(args[0], string(b))
}

func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("capture does not take '!'")
	}
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: capture VAR [REGEXP]")
	}
	out := ts.ReadFile("stdout")
	var value string
	if len(args) == 2 {
		re, err := regexp.Compile("(?m)" + args[1])
		ts.Check(err)
		m := re.FindStringSubmatch(out)
		if m == nil {
			ts.Fatalf("capture %s: stdout does not match %q", args[0], args[1])
		}
		value = m[0]
		if len(m) > 1 {
			value = m[1]
		}
	} else {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		value = strings.TrimSpace(lines[len(lines)-1])
	}
	if value == "" {
		ts.Fatalf("capture %s: nothing to capture from stdout", args[0])
	}
	ts.Setenv(args[0], value)
	ts.Logf("%s=%s", args[0], value)
}

// events [-store PATH] N [TREATY]: the store holds exactly N events of the
// negotiation TREATY (default $TREATY), or N events in all when neither is
// given ('!': not N). The store is -store, else $TREATY_STORE, else
// treaty.db; a store file that does not exist holds no event.
func cmdEvents(ts *testscript.TestScript, neg bool, args []string) {
	uri := ts.Getenv("TREATY_STORE")
	if len(args) >= 2 && args[0] == "-store" {
		uri, args = args[1], args[2:]
	}
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: events [-store URI] N [TREATY]")
	}
	if uri == "" {
		uri = "treaty.db"
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("events: %q is not a number", args[0])
	}
	treaty := ts.Getenv("TREATY")
	if len(args) == 2 {
		treaty = args[1]
	}
	what := "events in all"
	if treaty != "" {
		what = "events of " + treaty
	}
	got, name := 0, uri
	if eventstore.Scheme(uri) == eventstore.DefaultScheme {
		// A file: a missing one holds no events.
		path := ts.MkAbs(strings.TrimPrefix(uri, "sqlite:"))
		uri, name = "sqlite:"+path, filepath.Base(path)
		if _, err := os.Stat(path); err != nil {
			uri = ""
		}
	}
	if uri != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		store, err := eventstore.Open(ctx, uri, eventstore.ReadOnly())
		if err != nil {
			ts.Fatalf("events: open %s: %v", name, err)
		}
		defer store.Close()
		streams, err := store.Streams(ctx, projections.StreamPrefix)
		if err != nil {
			ts.Fatalf("events: list the streams of %s: %v", name, err)
		}
		for _, s := range streams {
			if treaty == "" || s.Name == projections.Stream(treaty) {
				got += int(s.Events)
			}
		}
	}
	path := name
	switch {
	case neg && got == want:
		ts.Fatalf("the store %s holds %d %s; want any other number", filepath.Base(path), got, what)
	case !neg && got != want:
		ts.Fatalf("the store %s holds %d %s; want %d", filepath.Base(path), got, what, want)
	}
}

// sqlexec DBFILE SQL: run a statement against an SQLite file (to damage a
// stored event on purpose). It fails unless the statement changes a row.
func cmdSQLExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("sqlexec does not take '!'")
	}
	if len(args) != 2 {
		ts.Fatalf("usage: sqlexec DBFILE SQL")
	}
	db, err := sql.Open("sqlite", ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	res, err := db.Exec(args[1])
	if err != nil {
		ts.Fatalf("sqlexec %s: %v", args[1], err)
	}
	// A pragma or a create changes no row; any other statement must.
	verb, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(args[1])), " ")
	if n, err := res.RowsAffected(); err == nil && n == 0 && verb != "pragma" && verb != "create" {
		ts.Fatalf("sqlexec %s: no row changed", args[1])
	}
}

// pgexec SQL: run a statement against the script's PostgreSQL store,
// $TREATY_STORE (to look into it, or damage it on purpose). It fails
// unless the statement changes a row.
func cmdPGExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("pgexec does not take '!'")
	}
	if len(args) != 1 {
		ts.Fatalf("usage: pgexec SQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ts.Getenv("TREATY_STORE"))
	ts.Check(err)
	defer conn.Close(context.Background())
	tag, err := conn.Exec(ctx, args[0])
	if err != nil {
		ts.Fatalf("pgexec %s: %v", args[0], err)
	}
	if tag.RowsAffected() == 0 {
		ts.Fatalf("pgexec %s: no row changed", args[0])
	}
}

// bytes TARGET GOSTRING [COUNT]: the Go string literal GOSTRING (with
// escapes such as \xff, \x00 or \u0456), repeated COUNT times, written to the
// file TARGET, or with TARGET env:NAME set as the environment variable NAME,
// for bytes that a script line cannot hold.
func cmdBytes(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("bytes does not take '!'")
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: bytes FILE|env:NAME GOSTRING [COUNT]")
	}
	s, err := strconv.Unquote(args[1])
	if err != nil {
		ts.Fatalf("bytes: %s is not a Go string literal: %v", args[1], err)
	}
	if len(args) == 3 {
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 0 {
			ts.Fatalf("bytes: %q is not a count", args[2])
		}
		s = strings.Repeat(s, n)
	}
	if name, ok := strings.CutPrefix(args[0], "env:"); ok {
		ts.Setenv(name, s)
		return
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(s), 0o666))
}

// forge TREATY FILE: append to negotiation TREATY, in the store
// $TREATY_STORE (else treaty.db), the events of FILE, one JSON object a
// line: {"type": "…", "data": {…}, "meta": {…}}. Each is chained after the
// log's last event and sealed with its hash ("schema" is 2 unless given),
// but never decided, folded or signed: a log as an older treaty or another
// program wrote it, for scripts about what commands make of such logs. JSON
// escapes ("\u001b") carry the bytes a script line cannot.
func cmdForge(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: forge TREATY FILE")
	}
	uri := ts.Getenv("TREATY_STORE")
	if uri == "" {
		uri = "treaty.db"
	}
	if eventstore.Scheme(uri) == eventstore.DefaultScheme {
		uri = "sqlite:" + ts.MkAbs(strings.TrimPrefix(uri, "sqlite:"))
	}
	ts.Check(forge(uri, args[0], ts.ReadFile(args[1])))
}

// forge appends to negotiation treaty in the store at uri the events of
// jsonl, as cmdForge describes.
func forge(uri, treaty, jsonl string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := eventstore.Open(ctx, uri, eventstore.Create())
	if err != nil {
		return err
	}
	defer store.Close()
	stream := projections.Stream(treaty)
	expected, prev := eventstore.NoStream(), ""
	for ev, err := range store.Read(ctx, stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return err
		}
		m, err := domain.DecodeMeta(ev.Metadata)
		if err != nil {
			return err
		}
		expected, prev = eventstore.Exact(ev.Revision), m.Hash
	}
	var batch []eventstore.EventData
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var line struct {
			Type string
			Data json.RawMessage
			Meta map[string]json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("forge: %s: %v", sc.Text(), err)
		}
		meta := line.Meta
		if meta == nil {
			meta = map[string]json.RawMessage{}
		}
		if _, ok := meta["schema"]; !ok {
			meta["schema"] = json.RawMessage("2")
		}
		if prev != "" {
			meta["prev"], _ = json.Marshal(prev)
		}
		raw, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		hash, err := domain.Seal(line.Type, line.Data, raw)
		if err != nil {
			return err
		}
		meta["hash"], _ = json.Marshal(hash)
		if raw, err = json.Marshal(meta); err != nil {
			return err
		}
		batch = append(batch, eventstore.EventData{ID: uuid.New(), Type: line.Type, Data: line.Data, Metadata: raw})
		prev = hash
	}
	if err := sc.Err(); err != nil {
		return err
	}
	_, err = store.Append(ctx, stream, expected, batch...)
	return err
}

// akn FILE...: each file is an Akoma Ntoso document that validates against
// the official schema (xmllint); scripts run it under [akn].
func cmdAKN(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: akn FILE...")
	}
	xsd, err := testtool.FindAKNSchema()
	ts.Check(err)
	files := make([]string, len(args))
	for i, f := range args {
		files[i] = ts.MkAbs(f)
	}
	ts.Check(testtool.CheckAKN(xsd, files...))
}

// pandoc FILE: the tracked changes pandoc reads in a Word document, a line
// each (kind, author, text, tab separated), on stdout for the stdout
// command; scripts run it under [pandoc].
func cmdPandoc(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pandoc FILE")
	}
	out, err := testtool.PandocLines(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Stdout().Write([]byte(out))
}

// docx IN OUT EDIT ARGS... [EDIT ARGS...]: edits a Word document as a
// delegation would (see wordmltest) and writes the result to OUT. Edits:
// replace OLD NEW (tracked), untracked OLD NEW, add-clause AFTER HEADING
// TEXT (tracked), delete-clause HEADING (tracked), drop-clause HEADING
// (untracked), move-clause HEADING BEFORE (untracked), prop NAME VALUE,
// drop PART.
func cmdDocx(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: docx IN OUT EDIT ARGS...")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	d, err := wordmltest.Open(data)
	ts.Check(err)
	rest := args[2:]
	need := func(n int) []string {
		if len(rest) < n+1 {
			ts.Fatalf("docx %s needs %d arguments", rest[0], n)
		}
		a := rest[1 : n+1]
		rest = rest[n+1:]
		return a
	}
	for len(rest) > 0 {
		switch rest[0] {
		case "replace":
			a := need(2)
			ts.Check(d.Replace(a[0], a[1]))
		case "untracked":
			a := need(2)
			ts.Check(d.Untracked(a[0], a[1]))
		case "add-clause":
			a := need(3)
			ts.Check(d.AddClause(a[0], a[1], a[2], true))
		case "delete-clause":
			ts.Check(d.DeleteClause(need(1)[0], true))
		case "drop-clause":
			ts.Check(d.DeleteClause(need(1)[0], false))
		case "move-clause":
			a := need(2)
			ts.Check(d.MoveClause(a[0], a[1]))
		case "prop":
			a := need(2)
			ts.Check(d.SetProp(a[0], a[1]))
		case "drop":
			d.Remove(need(1)[0])
		default:
			ts.Fatalf("docx: unknown edit %q", rest[0])
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), d.Bytes(), 0o644))
}
