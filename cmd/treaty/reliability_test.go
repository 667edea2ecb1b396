package main

// What real use does to a negotiation's record: many drafters acting at the
// same moment from their own processes, readers reading meanwhile, a writer
// killed mid-write. Each test drives the real binary (the test binary
// standing in for it, see TestMain), several processes at once.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
)

// outcome of one command run by a worker.
type workerOutcome struct {
	Op     string `json:"op"`
	Clause string `json:"clause"`
	ID     string `json:"id"`
	Code   int    `json:"code"`
	Stderr string `json:"stderr"`
}

// workerMain is a drafter at work in a process of its own: it runs treaty
// commands one after another through run, exactly as the command line does,
// and writes one JSON line per command. Arguments: STORE WORKER PROPOSALS.
// Every fifth proposal amends one of three clauses all workers share.
func workerMain() {
	store, w := os.Args[1], os.Args[2]
	n, _ := strconv.Atoi(os.Args[3])
	out := json.NewEncoder(os.Stdout)
	treaty := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"--store", store, "--treaty", "load"}, args...), strings.NewReader(""), &stdout, &stderr)
		return code, strings.TrimSpace(stdout.String()), strings.TrimSpace(stderr.String())
	}
	for i := range n {
		clause := fmt.Sprintf("w%s-c%d", w, i)
		if i%5 == 0 {
			clause = fmt.Sprintf("shared-%d", i/5%3)
		}
		code, id, stderr := treaty("--as", "A", "propose", "--clause", clause, "--text", fmt.Sprintf("Text %d of worker %s.", i, w))
		out.Encode(workerOutcome{Op: "propose", Clause: clause, ID: id, Code: code, Stderr: stderr})
		if code != 0 {
			continue
		}
		code, _, stderr = treaty("--as", "B", "accept", id)
		out.Encode(workerOutcome{Op: "accept", Clause: clause, ID: id, Code: code, Stderr: stderr})
	}
}

// readerMain reads the draft and the log in a loop until the file STOP
// exists, and fails loudly if a read fails or the log shrinks. Arguments:
// STORE STOP.
func readerMain() {
	store, stop := os.Args[1], os.Args[2]
	last := 0
	for reads := 0; ; reads++ {
		if _, err := os.Stat(stop); err == nil {
			fmt.Printf("%d reads\n", reads)
			return
		}
		var stdout, stderr bytes.Buffer
		args := []string{"--store", store, "--treaty", "load", "draft", "--format", "json"}
		if reads%2 == 1 {
			args = []string{"--store", store, "--treaty", "load", "log", "--format", "json"}
		}
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			fmt.Fprintf(os.Stderr, "%s exited %d: %s\n", args[4], code, stderr.String())
			os.Exit(1)
		}
		if reads%2 == 0 {
			var d map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
				fmt.Fprintf(os.Stderr, "draft is not JSON: %v\n", err)
				os.Exit(1)
			}
			continue
		}
		lines := bytes.Count(stdout.Bytes(), []byte("\n"))
		if lines < last {
			fmt.Fprintf(os.Stderr, "the log went from %d events to %d\n", last, lines)
			os.Exit(1)
		}
		last = lines
	}
}

// treatyBin is the treaty command on PATH (see TestMain).
func treatyBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("treaty")
	if err != nil {
		t.Fatalf("the treaty command is not on PATH: %v", err)
	}
	return bin
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// loggedEvent is a line of `treaty log --format json`.
type loggedEvent struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// readLog returns the events of negotiation treaty in store, as `treaty log
// --format json` prints them.
func readLog(t *testing.T, store, treaty string) []loggedEvent {
	t.Helper()
	var evs []loggedEvent
	sc := bufio.NewScanner(strings.NewReader(mustRun(t, treatyBin(t), "--store", store, "--treaty", treaty, "log", "--format", "json")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e loggedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return evs
}

// startWorkers runs n workers of p proposals each, and returns a function
// that waits for them and returns every outcome.
func startWorkers(t *testing.T, store string, n, p int) func() []workerOutcome {
	worker, err := exec.LookPath("treaty-worker")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var all []workerOutcome
	var wg sync.WaitGroup
	for w := range n {
		cmd := exec.Command(worker, store, strconv.Itoa(w), strconv.Itoa(p))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := json.NewDecoder(stdout)
			var mine []workerOutcome
			for {
				var o workerOutcome
				if err := dec.Decode(&o); err != nil {
					break
				}
				mine = append(mine, o)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("worker %d: %v\n%s", w, err, stderr.String())
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	return func() []workerOutcome { wg.Wait(); return all }
}

// checkLanded checks that the log holds exactly the acts the workers saw
// land, each once, and that every refusal was a clear one the rules call
// for.
func checkLanded(t *testing.T, store string, outcomes []workerOutcome) {
	t.Helper()
	tabled, accepted := map[string]bool{}, map[string]bool{}
	refusals := 0
	for _, o := range outcomes {
		switch {
		case o.Code == 0 && o.Op == "propose":
			tabled[o.ID] = true
		case o.Code == 0 && o.Op == "accept":
			accepted[o.ID] = true
		case o.Code == 1 && o.Op == "accept" && strings.HasPrefix(o.Clause, "shared-") &&
			strings.Contains(o.Stderr, "is stale") && strings.Contains(o.Stderr, "treaty rebase"):
			// Two drafters amended a shared clause at once: the second
			// acceptance met the first's adoption, as the rules say.
			refusals++
		default:
			t.Errorf("unexpected outcome %+v", o)
		}
	}
	seen := map[string]int{}
	for _, e := range readLog(t, store, "load") {
		var d struct{ Proposal string }
		json.Unmarshal(e.Data, &d)
		switch e.Type {
		case "ProposalTabled":
			seen["tabled "+d.Proposal]++
			if !tabled[d.Proposal] {
				t.Errorf("the log holds proposal %s, which no worker saw tabled", d.Proposal)
			}
		case "ProposalAccepted":
			seen["accepted "+d.Proposal]++
			if !accepted[d.Proposal] {
				t.Errorf("the log holds an acceptance of %s, which no worker saw land", d.Proposal)
			}
		}
	}
	for id := range tabled {
		if seen["tabled "+id] != 1 {
			t.Errorf("proposal %s was tabled %d times in the log", id, seen["tabled "+id])
		}
	}
	for id := range accepted {
		if seen["accepted "+id] != 1 {
			t.Errorf("the acceptance of %s is in the log %d times", id, seen["accepted "+id])
		}
	}
	// No gap, the chain whole, every rule kept: the stale rule included.
	mustRun(t, treatyBin(t), "--store", store, "--treaty", "load", "verify")
	t.Logf("%d tabled, %d accepted, %d stale acceptances refused", len(tabled), len(accepted), refusals)
}

func newLoadStore(t *testing.T) string {
	t.Helper()
	return initLoad(t, filepath.Join(t.TempDir(), "load.db"))
}

// initLoad opens the negotiation the workers write in store, and returns
// store.
func initLoad(t *testing.T, store string) string {
	t.Helper()
	mustRun(t, treatyBin(t), "--store", store, "--treaty", "load", "init", "--title", "Load", "--party", "A", "--party", "B")
	return store
}

// TestConcurrentDrafters: 8 processes each table and accept 100 proposals
// on their own clauses and on three clauses they all share.
func TestConcurrentDrafters(t *testing.T) {
	if testing.Short() {
		t.Skip("eight processes of a hundred proposals each: run without -short")
	}
	concurrentDrafters(t, newLoadStore(t), 100)
}

// TestConcurrentDraftersPostgres: the same, on a PostgreSQL store, with
// fifty proposals each (every command connects afresh, which costs a
// server process more than opening a file).
func TestConcurrentDraftersPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("eight processes of fifty proposals each: run without -short")
	}
	concurrentDrafters(t, initLoad(t, pgtest.Database(t)), 50)
}

// concurrentDrafters runs 8 workers of n proposals each on store.
func concurrentDrafters(t *testing.T, store string, n int) {
	outcomes := startWorkers(t, store, 8, n)()
	if len(outcomes) < 8*n {
		t.Fatalf("%d outcomes from %d proposals", len(outcomes), 8*n)
	}
	checkLanded(t, store, outcomes)
}

// TestRestartDuringDrafters: 8 processes table and accept proposals on a
// PostgreSQL server of the test's own while it is restarted, once shutting
// down cleanly and once as if it crashed. Each command goes on through the
// restart; every act acknowledged is in the log once, and it verifies.
func TestRestartDuringDrafters(t *testing.T) {
	if testing.Short() {
		t.Skip("eight processes while a server restarts: run without -short")
	}
	c := pgtest.StartCluster(t)
	uri := c.Database(t)
	store := initLoad(t, uri)
	wait := startWorkers(t, store, 8, 40)
	for _, mode := range []string{"fast", "immediate"} {
		time.Sleep(1500 * time.Millisecond)
		start := time.Now()
		if err := c.Restart(mode); err != nil {
			t.Fatal(err)
		}
		t.Logf("restarted (%s) in %s", mode, time.Since(start).Round(time.Millisecond))
	}
	outcomes := wait()
	if len(outcomes) < 8*40 {
		t.Fatalf("%d outcomes from 320 proposals", len(outcomes))
	}
	checkLanded(t, store, outcomes)
}

// TestWritersAndReaders: 4 processes write while 4 read the draft and the
// log in a loop; every read succeeds and the log only grows.
func TestWritersAndReaders(t *testing.T) {
	if testing.Short() {
		t.Skip("eight processes: run without -short")
	}
	store := newLoadStore(t)
	stop := filepath.Join(t.TempDir(), "stop")
	reader, err := exec.LookPath("treaty-reader")
	if err != nil {
		t.Fatal(err)
	}
	var readers []*exec.Cmd
	var outs []*bytes.Buffer
	for range 4 {
		cmd := exec.Command(reader, store, stop)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		readers, outs = append(readers, cmd), append(outs, &out)
	}
	outcomes := startWorkers(t, store, 4, 50)()
	os.WriteFile(stop, nil, 0o644)
	for i, r := range readers {
		if err := r.Wait(); err != nil {
			t.Errorf("reader %d: %v\n%s", i, err, outs[i])
		} else {
			t.Logf("reader %d: %s", i, strings.TrimSpace(outs[i].String()))
		}
	}
	checkLanded(t, store, outcomes)
}

// TestKilledWriter kills simulate with SIGKILL at 20 random moments: each
// time the store opens, verify passes, and the log is a prefix of the one
// the same simulation writes when left alone: whole commands only.
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("twenty simulations killed: run without -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	bin := treatyBin(t)
	dir := t.TempDir()
	args := []string{"--treaty", "load", "simulate", "--clauses", "30", "--rounds", "4", "--events", "40000", "--seed", "3"}
	ref := filepath.Join(dir, "reference.db")
	mustRun(t, bin, append([]string{"--store", ref}, args...)...)
	want := eventIDs(t, ref)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	landed := 0
	for i := range 20 {
		store := filepath.Join(dir, fmt.Sprintf("killed-%d.db", i))
		cmd := exec.Command(bin, append([]string{"--store", store}, args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(1500)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if _, err := os.Stat(store); err != nil {
			continue // killed before it made the file
		}
		out, err := exec.Command(bin, "--store", store, "list", "--format", "json").CombinedOutput()
		if err != nil && strings.Contains(string(out), "no store at") {
			// Killed after SQLite made the file, before the schema
			// landed: nothing was stored, and a negotiation can start
			// there.
			mustRun(t, bin, "--store", store, "--treaty", "load", "init", "--title", "Load", "--party", "A")
			continue
		}
		if err != nil {
			t.Fatalf("kill %d: the store does not open: %v\n%s", i, err, out)
		}
		if !strings.Contains(string(out), `"id": "load"`) {
			continue // killed before the first batch landed: an empty log
		}
		if out, err := exec.Command(bin, "--store", store, "--treaty", "load", "verify").CombinedOutput(); err != nil {
			t.Fatalf("kill %d: verify fails: %v\n%s", i, err, out)
		}
		got := eventIDs(t, store)
		if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
			t.Fatalf("kill %d: the log of %d events is not a prefix of the simulation's", i, len(got))
		}
		landed += len(got)
	}
	if landed == 0 {
		t.Fatal("no kill came after a batch landed: the test tested nothing")
	}
}

func eventIDs(t *testing.T, store string) []string {
	t.Helper()
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(mustRun(t, treatyBin(t), "--store", store, "--treaty", "load", "log", "--format", "json")))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct{ ID string }
		json.Unmarshal(sc.Bytes(), &e)
		ids = append(ids, e.ID)
	}
	return ids
}

// TestReadOnlyStore: a store the user may read but not write answers every
// read and refuses every write, appending nothing, whether its directory is
// writable or not. (As root, whom file modes do not stop, the commands run
// as the user nobody.)
func TestReadOnlyStore(t *testing.T) {
	t.Run("file", func(t *testing.T) { testReadOnlyStore(t, 0o777) })
	t.Run("file and directory", func(t *testing.T) { testReadOnlyStore(t, 0o555) })
}

func testReadOnlyStore(t *testing.T, dirMode os.FileMode) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	// A directory others may enter: t.TempDir's is private.
	dir, err := os.MkdirTemp("", "treaty-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	store := filepath.Join(dir, "treaty.db")
	bin := filepath.Join(dir, "treaty")
	src, _ := os.ReadFile(treatyBin(t))
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, bin, "--store", store, "demo")
	for _, f := range []string{store, store + "-wal", store + "-shm"} {
		os.Chmod(f, 0o444)
	}
	os.Chmod(dir, dirMode)
	defer os.Chmod(dir, 0o755)
	as := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			cmd.Env = append(os.Environ(), "HOME=/nonexistent", "TREATY_KEYS="+filepath.Join(dir, "keys"))
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, read := range [][]string{{"draft"}, {"log"}, {"diff", "--from", "round:1", "--to", "round:2"}, {"verify"}, {"rounds"}} {
		if out, err := as(append([]string{"--store", store}, read...)...); err != nil {
			t.Errorf("%s on a read-only store: %v\n%s", read[0], err, out)
		}
	}
	out, err := as("--store", store, "--as", "EU", "propose", "--clause", "x", "--text", "X.")
	if code := exitCode(err); code != 1 || !strings.Contains(out, "read-only") {
		t.Fatalf("propose on a read-only store: exit %d\n%s", code, out)
	}
	if out, _ := as("--store", store, "list", "--format", "json"); !strings.Contains(out, `"events": 56`) {
		t.Fatalf("something was appended:\n%s", out)
	}
}

func exitCode(err error) int {
	if e, ok := err.(*exec.ExitError); ok {
		return e.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
