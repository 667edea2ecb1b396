package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
	"github.com/treaty-engine/treaty/projections"
	"github.com/treaty-engine/treaty/projections/wordml/wordmltest"
)

// BenchmarkSimulate measures simulate's rate of writing events through the
// rules into the embedded store, sealed into the hash chain (and signed, in
// the sub-benchmark); the figure that matters is events/s.
func BenchmarkSimulate(b *testing.B) {
	b.Run("unsigned", func(b *testing.B) { benchSimulate(b, false) })
	b.Run("signed", func(b *testing.B) { benchSimulate(b, true) })
}

func benchSimulate(b *testing.B, signed bool) {
	n := benchEvents(b, 100_000)
	events := 0
	for b.Loop() {
		dir := b.TempDir()
		store, err := eventstore.Open(context.Background(), "sqlite:"+filepath.Join(dir, "sim.db"), eventstore.Create())
		if err != nil {
			b.Fatal(err)
		}
		kr := keyring{filepath.Join(dir, "keys")}
		r := projections.NewReader(store, "bench", projections.Options{Secret: []byte("bench secret")})
		w := &write.Writer{Store: store, Reader: r, Keys: kr}
		res, err := simulate(context.Background(), w, simOptions{treaty: "bench", clauses: 200, rounds: 20, events: n, seed: 1,
			edit: benchEdit(b), signed: signed, keys: kr}, 0, func(int) {})
		if err != nil {
			b.Fatal(err)
		}
		store.Close()
		events += res.events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// benchEvents is the size of the negotiations the benchmarks below work on:
// TREATY_BENCH_EVENTS, else def.
func benchEvents(b *testing.B, def int) int {
	if v := os.Getenv("TREATY_BENCH_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("TREATY_BENCH_EVENTS=%q is not a number of events (at least 100)", v)
		}
		return n
	}
	return def
}

// benchEdit is the edit style of the simulated negotiations the benchmarks
// work on: TREATY_BENCH_EDIT, else the default of simulate --edit.
func benchEdit(b *testing.B) string {
	v := os.Getenv("TREATY_BENCH_EDIT")
	switch {
	case v == "":
		return simEditWords
	case !slices.Contains(simEdits, v):
		b.Fatalf("TREATY_BENCH_EDIT=%q: want %s", v, strings.Join(simEdits, " or "))
	}
	return v
}

var (
	benchOnce  sync.Once
	benchBin   string
	benchDir   string
	benchStore benchBackend
	benchWork  string // the copy the benchmarks of this run read
	benchErr   error

	writeOnce   sync.Once
	benchAppend string // the copy the benchmarks of this run append to
	writeErr    error
)

// benchBackend keeps the simulated negotiation the Fresh benchmarks run
// against, between runs, and makes fresh copies of it: the embedded store,
// or with TREATY_BENCH_BACKEND=postgres databases on the server of
// TREATY_TEST_POSTGRES.
type benchBackend interface {
	// source is the store simulate writes; ready tells whether it holds
	// the simulation, once markReady has said so.
	source() string
	ready() bool
	markReady() error
	// reset empties source for simulate.
	reset() error
	// copy makes a fresh copy of source called name and returns its
	// store URI.
	copy(name string) (string, error)
}

// benchFixture builds the treaty binary and a store holding
// `simulate --clauses 200 --rounds R --events N --edit E`, once per test
// binary run:
// the benchmarks below run the binary as a fresh process against it, the
// way users do. store is a fresh copy of the simulated negotiation, so that
// what one run's benchmarks append does not weigh on the next run's; the
// benchmarks that append have a copy of their own (see benchAppending).
func benchFixture(b *testing.B) (bin, store string, rounds int) {
	b.Helper()
	n := benchEvents(b, 100_000)
	edit := benchEdit(b)
	rounds = 20
	if v := os.Getenv("TREATY_BENCH_ROUNDS"); v != "" {
		rounds, _ = strconv.Atoi(v)
	}
	benchOnce.Do(func() {
		// One fixture per size, kept between runs: writing a million events
		// takes a minute. Delete the directory to start afresh.
		// TREATY_BENCH_DIR moves them (worktrees that benchmark at the
		// same time each keep their own: the binary is rebuilt there).
		root := os.Getenv("TREATY_BENCH_DIR")
		if root == "" {
			root = filepath.Join(os.TempDir(), "treaty-bench")
		}
		name := fmt.Sprintf("%d-events-%d-rounds-signed", n, rounds)
		dbName := fmt.Sprintf("treaty_bench_%d_%d", n, rounds)
		if edit != simEditWords {
			// Another style is another negotiation: a fixture of its
			// own. The default's keeps the name it had before --edit.
			name += "-" + edit
			dbName += "_" + edit
		}
		var tags []string // the build opens the store the benchmarks use
		switch backend := os.Getenv("TREATY_BENCH_BACKEND"); backend {
		case "", "sqlite":
			benchDir = filepath.Join(root, name)
			benchStore = fileBench{benchDir}
		case "postgres":
			benchDir = filepath.Join(root, name+"-postgres")
			server := os.Getenv(pgtest.Env)
			if server == "" {
				benchErr = fmt.Errorf("TREATY_BENCH_BACKEND=postgres needs %s, a server on which the benchmarks may create databases", pgtest.Env)
				return
			}
			benchStore = pgBench{server: server, name: dbName, dir: benchDir}
			tags = []string{"-tags", "postgres"}
		default:
			benchErr = fmt.Errorf("TREATY_BENCH_BACKEND=%q: want sqlite or postgres", backend)
			return
		}
		if benchErr = os.MkdirAll(benchDir, 0o755); benchErr != nil {
			return
		}
		benchBin = filepath.Join(benchDir, "treaty")
		// Built as the README installs it (installBuild), with the
		// PostgreSQL backend only for a PostgreSQL store. Then put in
		// place by treaty install, whose 2 MiB writes let the kernel map
		// the binary a huge page at a time (see installChunk), where the
		// linker's output would be mapped 64 KiB at a time.
		built := filepath.Join(benchDir, "treaty.build")
		env, flags := installBuildParts()
		build := goCommand(append(append(append([]string{"build"}, flags...), tags...), "-o", built, ".")...)
		build.Env = append(build.Env, env...)
		if out, err := build.CombinedOutput(); err != nil {
			benchErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		install := exec.Command(built, "install", "--dir", benchDir)
		out, err := install.CombinedOutput()
		os.Remove(built)
		if err != nil {
			benchErr = fmt.Errorf("treaty install: %v\n%s", err, out)
			return
		}
		// One read leaves the checkpoints an ordinary session would find.
		// They belong to a build: a changed one reads the whole log once,
		// here rather than in a measurement.
		read := func() error {
			cmd := exec.Command(benchBin, "--store", benchStore.source(), "draft")
			cmd.Env = benchEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("draft: %v\n%s", err, out)
			}
			return nil
		}
		if !benchStore.ready() {
			if benchErr = benchStore.reset(); benchErr != nil {
				return
			}
			// Signed, as a negotiation among capitals would be: every act
			// carries its party's signature, and verify checks them all.
			cmd := exec.Command(benchBin, "--store", benchStore.source(), "--keys", filepath.Join(benchDir, "keys"),
				"simulate", "--signed", "--clauses", "200", "--rounds", strconv.Itoa(rounds), "--events", strconv.Itoa(n), "--edit", edit)
			if out, err := cmd.CombinedOutput(); err != nil {
				benchErr = fmt.Errorf("simulate: %v\n%s", err, out)
				return
			}
		}
		if benchErr = read(); benchErr != nil {
			return
		}
		if benchErr = benchStore.markReady(); benchErr == nil {
			benchWork, benchErr = benchStore.copy("work")
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchBin, benchWork, rounds
}

// benchAppending is benchFixture for the benchmarks that append (propose,
// accept, import): store is a copy of the simulated negotiation of their
// own, so that the clauses they table, each with a proposal left open, do
// not weigh on what the others read (the positions document lists every
// open proposal).
func benchAppending(b *testing.B) (bin, store string, rounds int) {
	b.Helper()
	bin, _, rounds = benchFixture(b)
	writeOnce.Do(func() { benchAppend, writeErr = benchStore.copy("write") })
	if writeErr != nil {
		b.Fatal(writeErr)
	}
	return bin, benchAppend, rounds
}

// fileBench keeps the simulation in bench.db in dir, and copies it to
// work.db and write.db.
type fileBench struct{ dir string }

func (f fileBench) source() string { return filepath.Join(f.dir, "bench.db") }

func (f fileBench) ready() bool {
	_, err := os.Stat(filepath.Join(f.dir, "ready"))
	return err == nil
}

func (f fileBench) markReady() error { return os.WriteFile(filepath.Join(f.dir, "ready"), nil, 0o644) }

func (f fileBench) reset() error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(f.source() + suffix)
	}
	return nil
}

// copy copies bench.db to name.db and flushes the copy to disk: otherwise
// the first fsync a benchmark measures would write the whole file.
func (f fileBench) copy(name string) (string, error) {
	work := filepath.Join(f.dir, name+".db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(work + suffix)
	}
	src, err := os.Open(f.source())
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.Create(work)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return "", err
	}
	return work, dst.Close()
}

// pgBench keeps the simulation in the database name on server, and copies
// it to name_work and name_write (CREATE DATABASE … TEMPLATE, which copies
// the files).
type pgBench struct{ server, name, dir string }

func (p pgBench) uri(db string) string {
	u, _ := url.Parse(p.server)
	u.Path = "/" + db
	return u.String()
}

func (p pgBench) source() string { return p.uri(p.name) }

func (p pgBench) admin(statements ...string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.server)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range statements {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// ready: the marker file names the server, whose database may be gone.
func (p pgBench) ready() bool {
	marked, err := os.ReadFile(filepath.Join(p.dir, "ready"))
	return err == nil && string(marked) == eventstore.Redact(p.server) &&
		exec.Command(benchBin, "--store", p.source(), "list").Run() == nil
}

func (p pgBench) markReady() error {
	return os.WriteFile(filepath.Join(p.dir, "ready"), []byte(eventstore.Redact(p.server)), 0o644)
}

func (p pgBench) reset() error {
	return p.admin("DROP DATABASE IF EXISTS "+p.name+" WITH (FORCE)", "CREATE DATABASE "+p.name+" TEMPLATE template0 ENCODING 'UTF8'")
}

func (p pgBench) copy(name string) (string, error) {
	work := p.name + "_" + name
	err := p.admin("DROP DATABASE IF EXISTS "+work+" WITH (FORCE)", "CREATE DATABASE "+work+" TEMPLATE "+p.name, "CHECKPOINT")
	return p.uri(work), err
}

// benchEnv is the environment of every process the benchmarks run: the
// fixture's key directory, which holds its signing keys and the secret its
// checkpoints are authenticated with, and its cache directory, which holds
// what the commands keep to answer again (see benchMemos).
func benchEnv() []string {
	return append(os.Environ(), "TREATY_KEYS="+filepath.Join(benchDir, "keys"), "XDG_CACHE_HOME="+filepath.Join(benchDir, "cache"))
}

// benchMemos returns the files in which the benchmarks' processes keep
// their memos of the given kind (as treaty's file cache lays them out:
// treaty/memos/NEGOTIATION/memo/BUILD/SECRET/KIND/NAME).
func benchMemos(b *testing.B, kind string) []string {
	files, err := filepath.Glob(filepath.Join(benchDir, "cache", "treaty", "memos", "*", "memo", "*", "*", kind, "*"))
	if err != nil {
		b.Fatal(err)
	}
	return files
}

// removeMemos removes the memos of the given kinds the benchmarks'
// processes kept.
func removeMemos(b *testing.B, kinds ...string) {
	for _, kind := range kinds {
		for _, f := range benchMemos(b, kind) {
			if err := os.Remove(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// runFresh runs the binary once. (Its peak memory cannot be read from
// here: a child's ru_maxrss starts at its parent's resident size, which it
// shares until exec. BenchmarkFoldAll in projections measures the memory of
// a replay.)
func runFresh(b *testing.B, bin string, args ...string) {
	cmd := exec.Command(bin, args...)
	cmd.Env = benchEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
}

func benchFresh(b *testing.B, args func(store string, rounds int) []string) {
	benchFreshOn(b, benchFixture, args)
}

// benchFreshOn is benchFresh on the store fixture gives (benchFixture's,
// or benchAppending's).
func benchFreshOn(b *testing.B, fixture func(*testing.B) (string, string, int), args func(store string, rounds int) []string) {
	bin, store, rounds := fixture(b)
	for b.Loop() {
		runFresh(b, bin, args(store, rounds)...)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/process")
}

// BenchmarkFreshDraft: `treaty draft` as a fresh process (target ≤ 300 ms on
// 100,000 events).
func BenchmarkFreshDraft(b *testing.B) {
	benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "draft"} })
}

// BenchmarkFreshDiff: `treaty diff --from round:1 --to round:R` as a fresh
// process (target ≤ 300 ms on 100,000 events).
func BenchmarkFreshDiff(b *testing.B) {
	benchFresh(b, func(store string, rounds int) []string {
		return []string{"--store", store, "diff", "--from", "round:1", "--to", fmt.Sprintf("round:%d", rounds)}
	})
}

// BenchmarkFreshPropose: one `treaty propose` as a fresh process, fsync
// included (target ≤ 100 ms on 100,000 events). Each iteration amends a
// clause, so the store grows by one event per iteration.
func BenchmarkFreshPropose(b *testing.B) {
	i := 0
	benchFreshOn(b, benchAppending, func(store string, _ int) []string {
		i++
		return []string{"--store", store, "--as", "UA", "propose", "--clause", fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i),
			"--text", "A clause tabled by the benchmark."}
	})
}

// BenchmarkFreshLogFirstLine: how soon `treaty log` as a fresh process
// prints its first line (target 50 ms on 1,000,000 events); the process is
// killed then, as `treaty log | head -1` would end it.
func BenchmarkFreshLogFirstLine(b *testing.B) {
	bin, store, _ := benchFixture(b)
	for b.Loop() {
		cmd := exec.Command(bin, "--store", store, "log")
		cmd.Env = benchEnv()
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.Contains(line, "TreatyOpened") {
			b.Fatalf("first line %q: %v", line, err)
		}
		b.StopTimer()
		cmd.Process.Kill()
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/first-line")
}

// BenchmarkFreshAcceptPrefix: a party accepting a proposal named by an
// 8-character prefix, as drafters do, as a fresh process; each iteration
// tables the proposal first (not measured).
func BenchmarkFreshAcceptPrefix(b *testing.B) {
	bin, store, _ := benchAppending(b)
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		cmd := exec.Command(bin, "--store", store, "--as", "UA", "propose", "--clause", fmt.Sprintf("bench-accept-%d-%d", time.Now().UnixNano(), i),
			"--text", "A clause to accept.")
		cmd.Env = benchEnv()
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("propose: %v", err)
		}
		b.StartTimer()
		runFresh(b, bin, "--store", store, "--as", "US", "accept", strings.TrimSpace(string(out))[:8])
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/process")
}

// BenchmarkFreshCascade: the acceptance that completes a chain of 50 linked
// proposals (each accepted by UA, EU and UK, and by US subject to the next), as
// a fresh process: one append of the acceptance and 50 adoptions. The
// chain is tabled and accepted before each iteration, not measured (about
// 200 processes: run it with -benchtime=3x).
func BenchmarkFreshCascade(b *testing.B) {
	bin, store, _ := benchAppending(b)
	run := func(args ...string) string {
		cmd := exec.Command(bin, append([]string{"--store", store}, args...)...)
		cmd.Env = benchEnv()
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	for b.Loop() {
		b.StopTimer()
		ids := make([]string, 50)
		for i := range ids {
			ids[i] = run("--as", "UA", "propose", "--clause", fmt.Sprintf("cascade-%d-%d", time.Now().UnixNano(), i), "--text", "A linked clause.")
			run("--as", "EU", "accept", ids[i])
			run("--as", "UK", "accept", ids[i])
		}
		for i := range 49 {
			run("--as", "US", "accept", ids[i], "--subject-to", ids[i+1])
		}
		b.StartTimer()
		if out := run("--as", "US", "accept", ids[49]); !strings.Contains(out, "Adopted together, as a package") {
			b.Fatalf("the last acceptance adopted no package:\n%s", out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/process")
}

// BenchmarkFreshVerify: `treaty verify`, a full replay without checkpoints
// that checks the hash chain and every signature, as a fresh process.
func BenchmarkFreshVerify(b *testing.B) {
	bin, store, _ := benchFixture(b)
	for b.Loop() {
		runFresh(b, bin, "--store", store, "verify")
	}
	n := benchEvents(b, 100_000)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// firstPairs counts the pairs of rounds BenchmarkVersusGit has compared
// for the first time in this process.
var firstPairs int

// BenchmarkVersusGit measures treaty against the tool reviewers already know,
// a git repository of the agreed text (as export --format git-fast-import
// writes it), side by side on the same negotiation, each as a fresh
// process: the redline between the first and the last round, and between
// the last two, against `git diff --word-diff`; tabling a proposal, and
// accepting one, against one `git -c core.fsync=all commit` of a one-file
// change (the same durability: what is acknowledged survives power loss).
// The ratios (treaty's time over git's) are reported as metrics; below 1,
// treaty is faster. json-ratio is `diff --format json` over the text form
// of the first compare. The two compares are made once before the
// iterations, as the first compare of two moments leaves its document for
// the next; first-diff-ratio measures compares of pairs of rounds never
// compared before, one per iteration, against git on the same pairs.
func BenchmarkVersusGit(b *testing.B) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		b.Skip("git is not installed")
	}
	bin, store, rounds := benchAppending(b)
	// The exported repository is kept between runs, and each run commits
	// to a fresh clone of it, as the store is a fresh copy.
	exported := filepath.Join(benchDir, "git")
	if _, err := os.Stat(filepath.Join(exported, ".git")); err != nil {
		os.RemoveAll(exported)
		if out, err := exec.Command(gitPath, "init", "-q", "-b", "main", exported).CombinedOutput(); err != nil {
			b.Fatalf("git init: %v\n%s", err, out)
		}
		export := exec.Command(bin, "--store", benchStore.source(), "export", "--format", "git-fast-import")
		export.Env = benchEnv()
		load := exec.Command(gitPath, "-C", exported, "fast-import", "--quiet")
		pipe, _ := export.StdoutPipe()
		load.Stdin = pipe
		if err := export.Start(); err != nil {
			b.Fatal(err)
		}
		if out, err := load.CombinedOutput(); err != nil {
			b.Fatalf("git fast-import: %v\n%s", err, out)
		}
		if err := export.Wait(); err != nil {
			b.Fatal(err)
		}
		if out, err := exec.Command(gitPath, "-C", exported, "checkout", "-q", "main").CombinedOutput(); err != nil {
			b.Fatalf("git checkout: %v\n%s", err, out)
		}
	}
	repo := filepath.Join(b.TempDir(), "git")
	if out, err := exec.Command(gitPath, "clone", "-q", "--local", exported, repo).CombinedOutput(); err != nil {
		b.Fatalf("git clone: %v\n%s", err, out)
	}
	last := fmt.Sprintf("round:%d", rounds)
	prev := fmt.Sprintf("round:%d", rounds-1)
	var treatyDiff, gitDiff, treatyPair, gitPair, treatyJSON, treatyPropose, treatyAccept, gitCommit time.Duration
	timed := func(d *time.Duration, f func()) {
		start := time.Now()
		f()
		*d += time.Since(start)
	}
	gitEnv := append(os.Environ(), "GIT_AUTHOR_NAME=Bench", "GIT_AUTHOR_EMAIL=bench@treaty",
		"GIT_COMMITTER_NAME=Bench", "GIT_COMMITTER_EMAIL=bench@treaty")
	// run runs a command line to its end and returns the start of its
	// output (a proposal's ID). The rest is read and dropped, as a reader
	// at the other end of a pipe that keeps none of it would: collecting a
	// compare's megabytes into a growing buffer costs this process, and so
	// the measurement, more than the writing costs the command measured.
	run := func(env []string, name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		var out outputStart
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		if out.n == 0 && slices.Contains(args, "diff") {
			b.Fatalf("%s %s wrote no compare", name, strings.Join(args, " "))
		}
		return string(out.start)
	}
	treatyEnv := benchEnv()
	commit := func(name string) {
		if err := os.WriteFile(filepath.Join(repo, name+".txt"), []byte("A clause tabled by the benchmark.\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		run(gitEnv, gitPath, "-C", repo, "add", name+".txt")
		timed(&gitCommit, func() { run(gitEnv, gitPath, "-C", repo, "-c", "core.fsync=all", "commit", "-q", "-m", "tabled "+name) })
	}
	// The pairs compared for the first time are counted from 0 in each
	// invocation (firstPairs): what an earlier invocation kept of them
	// (their moments' redlines, their documents) is removed first, so that
	// each is compared for the first time.
	if firstPairs == 0 {
		removeMemos(b, "redlines", "compare")
	}
	// The compares repeated every iteration are made once first, as a
	// reviewer's second look at them would find them (their redlines kept:
	// the first iteration keeps each document, the later ones find it
	// kept): the first compare of two moments is measured on its own
	// (first-diff-ratio), each iteration on a pair of rounds not compared
	// before.
	for _, from := range []string{"round:1", prev} {
		for _, format := range []string{"text", "json"} {
			run(treatyEnv, bin, "--store", store, "diff", "--from", from, "--to", last, "--format", format)
		}
	}
	var treatyFirst, gitFirst, treatyStart, gitStart time.Duration
	firsts := 0
	i := 0
	for b.Loop() {
		i++
		// Counted across runs (-count), which share the store copy and
		// the compares it keeps.
		k := firstPairs
		firstPairs++
		if lo, hi := 2+k%(rounds-3), rounds-1-k/(rounds-3); lo < hi {
			firsts++
			timed(&treatyFirst, func() {
				run(treatyEnv, bin, "--store", store, "diff", "--from", fmt.Sprintf("round:%d", lo), "--to", fmt.Sprintf("round:%d", hi))
			})
			timed(&gitFirst, func() {
				run(gitEnv, gitPath, "-C", repo, "diff", "--word-diff", fmt.Sprintf("round-%d", lo), fmt.Sprintf("round-%d", hi))
			})
		}
		timed(&treatyStart, func() { run(treatyEnv, bin, "--version") })
		timed(&gitStart, func() { run(gitEnv, gitPath, "--version") })
		timed(&treatyDiff, func() { run(treatyEnv, bin, "--store", store, "diff", "--from", "round:1", "--to", last) })
		timed(&gitDiff, func() {
			run(gitEnv, gitPath, "-C", repo, "diff", "--word-diff", "round-1", fmt.Sprintf("round-%d", rounds))
		})
		timed(&treatyPair, func() { run(treatyEnv, bin, "--store", store, "diff", "--from", prev, "--to", last) })
		timed(&gitPair, func() {
			run(gitEnv, gitPath, "-C", repo, "diff", "--word-diff", fmt.Sprintf("round-%d", rounds-1), fmt.Sprintf("round-%d", rounds))
		})
		timed(&treatyJSON, func() {
			run(treatyEnv, bin, "--store", store, "diff", "--from", "round:1", "--to", last, "--format", "json")
		})
		clause := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
		var id string
		timed(&treatyPropose, func() {
			id = strings.TrimSpace(run(treatyEnv, bin, "--store", store, "--as", "UA", "propose", "--clause", clause, "--text", "A clause tabled by the benchmark."))
		})
		commit(clause)
		timed(&treatyAccept, func() { run(treatyEnv, bin, "--store", store, "--as", "US", "accept", id) })
		commit(clause + "-accepted")
	}
	ms := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	b.ReportMetric(ms(treatyStart, i), "treaty-start-ms")
	b.ReportMetric(ms(gitStart, i), "git-start-ms")
	b.ReportMetric(ms(treatyDiff, i), "treaty-diff-ms")
	b.ReportMetric(ms(gitDiff, i), "git-diff-ms")
	b.ReportMetric(ms(treatyDiff, i)/ms(gitDiff, i), "diff-ratio")
	b.ReportMetric(ms(treatyPair, i)/ms(gitPair, i), "last-round-diff-ratio")
	if firsts > 0 {
		b.ReportMetric(ms(treatyFirst, firsts), "treaty-first-diff-ms")
		b.ReportMetric(ms(treatyFirst, firsts)/ms(gitFirst, firsts), "first-diff-ratio")
	}
	b.ReportMetric(ms(treatyJSON, i)/ms(treatyDiff, i), "json-ratio")
	b.ReportMetric(ms(treatyPropose, i), "treaty-propose-ms")
	b.ReportMetric(ms(treatyAccept, i), "treaty-accept-ms")
	b.ReportMetric(ms(gitCommit, 2*i), "git-commit-ms")
	b.ReportMetric(ms(treatyPropose, i)/ms(gitCommit, 2*i), "propose-ratio")
	b.ReportMetric(ms(treatyAccept, i)/ms(gitCommit, 2*i), "accept-ratio")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkFreshDraftDocx: `treaty draft --format docx --output F` as a
// fresh process (target ≤ 200 ms at 1,000,000 events and 200 clauses), with
// BenchmarkFreshDraft, the text draft, as its yardstick.
func BenchmarkFreshDraftDocx(b *testing.B) {
	b.Run("text", func(b *testing.B) {
		benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "draft"} })
	})
	b.Run("docx", func(b *testing.B) {
		out := filepath.Join(b.TempDir(), "draft.docx")
		benchFresh(b, func(store string, _ int) []string {
			return []string{"--store", store, "draft", "--format", "docx", "--output", out}
		})
	})
}

// BenchmarkFreshExportAKN: `treaty export --format akn` as a fresh process
// (target ≤ 200 ms at 1,000,000 events), and the JSON draft as yardstick.
func BenchmarkFreshExportAKN(b *testing.B) {
	b.Run("json", func(b *testing.B) {
		benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "draft", "--format", "json"} })
	})
	b.Run("akn", func(b *testing.B) {
		benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "export", "--format", "akn"} })
	})
}

// BenchmarkFreshImportDocx: `treaty import-docx` of the simulated draft
// with every one of its clauses amended (target ≤ 500 ms for 200 clauses):
// the dry run, and tabling the 200 amendments in one append, beside one
// `propose` (fsync included) as yardstick. The file is the draft at the
// head, exported once; each tabling reads another edit of it (the same
// file again would table nothing: UA has tabled its changes already),
// which stays valid, since tabling changes no clause's text, but leaves
// 200 more open proposals for the next to fold and check: run it a few
// times (-benchtime 3x), not for seconds.
func BenchmarkFreshImportDocx(b *testing.B) {
	bin, store, _ := benchAppending(b)
	dir := b.TempDir()
	orig := filepath.Join(dir, "draft.docx")
	runFresh(b, bin, "--store", store, "draft", "--format", "docx", "--output", orig)
	data, err := os.ReadFile(orig)
	if err != nil {
		b.Fatal(err)
	}
	// edit writes the draft with every clause text amended by prefix.
	edit := func(prefix string) string {
		d, err := wordmltest.Open(data)
		if err != nil {
			b.Fatal(err)
		}
		if n := d.PrefixTexts(prefix); n < 100 {
			b.Fatalf("only %d clause texts to amend", n)
		}
		f := filepath.Join(dir, fmt.Sprintf("edited-%d.docx", len(prefix)))
		if err := os.WriteFile(f, d.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		return f
	}
	edited := edit("Amended: ")
	i := 0
	b.Run("propose", func(b *testing.B) {
		benchFreshOn(b, benchAppending, func(store string, _ int) []string {
			i++
			return []string{"--store", store, "--as", "UA", "propose", "--clause", fmt.Sprintf("import-yardstick-%d", i), "--text", "A yardstick."}
		})
	})
	b.Run("dry-run", func(b *testing.B) {
		benchFreshOn(b, benchAppending, func(store string, _ int) []string {
			return []string{"--store", store, "--as", "UA", "import-docx", edited}
		})
	})
	b.Run("table", func(b *testing.B) {
		prefix := "Amended: "
		for b.Loop() {
			b.StopTimer()
			prefix = "Again " + prefix
			f := edit(prefix)
			b.StartTimer()
			cmd := exec.Command(bin, "--store", store, "--as", "UA", "import-docx", f, "--table")
			cmd.Env = benchEnv()
			out, err := cmd.CombinedOutput()
			if n := strings.Count(string(out), "\n"); err != nil || n < 200 { // an ID a line, and what was tabled
				b.Fatalf("import-docx --table: %v (%d lines)\n%.2000s", err, n, out)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/process")
	})
}

// The reviewers' views as fresh processes, beside BenchmarkFreshDraft (the
// yardstick: each within twice its time).

// BenchmarkFreshDiffWhole: `treaty diff --whole`, from the end of the last
// closed round to now.
func BenchmarkFreshDiffWhole(b *testing.B) {
	benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "diff", "--whole"} })
}

// BenchmarkFreshDiffWholeRound: `treaty diff --whole` over the last round,
// the compare document of a round as reviewers read it.
func BenchmarkFreshDiffWholeRound(b *testing.B) {
	benchFresh(b, func(store string, rounds int) []string {
		return []string{"--store", store, "diff", "--whole", "--from", fmt.Sprintf("round:%d:start", rounds), "--to", fmt.Sprintf("round:%d", rounds)}
	})
}

// BenchmarkFreshDiffJSON: `treaty diff --from round:1 --to round:R --format
// json`, each clause's adoptions over the whole history counted by party
// and the last few named, as the text form does.
func BenchmarkFreshDiffJSON(b *testing.B) {
	benchFresh(b, func(store string, rounds int) []string {
		return []string{"--store", store, "diff", "--from", "round:1", "--to", fmt.Sprintf("round:%d", rounds), "--format", "json"}
	})
}

// BenchmarkFreshPositions: `treaty positions`, the four-column document now,
// as reviewers ask for it again and again between two acts: written as kept
// (worked out by the first iteration, unless an earlier run kept it).
func BenchmarkFreshPositions(b *testing.B) {
	benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "positions"} })
}

// BenchmarkFreshPositionsWorked: `treaty positions` as the first to ask
// after an act does: the kept document is removed before each iteration
// (not measured), and worked out from the head checkpoint, with the
// proposals' redlines kept by the looks before.
func BenchmarkFreshPositionsWorked(b *testing.B) {
	bin, store, _ := benchFixture(b)
	runFresh(b, bin, "--store", store, "positions") // the redlines kept
	if len(benchMemos(b, "positions")) == 0 {
		b.Fatal("positions kept no document: nothing to remove")
	}
	for b.Loop() {
		b.StopTimer()
		removeMemos(b, "positions")
		b.StartTimer()
		runFresh(b, bin, "--store", store, "positions")
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/process")
}

// BenchmarkFreshShow: `treaty show P` of an open proposal, by its ID, and by
// an 8-character prefix (which names proposals of any status, so the closed
// ones are searched too).
func BenchmarkFreshShow(b *testing.B) {
	bin, store, _ := benchFixture(b)
	cmd := exec.Command(bin, "--store", store, "proposals", "--format", "json")
	cmd.Env = benchEnv()
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	var ps []struct{ ID string }
	if err := json.Unmarshal(out, &ps); err != nil || len(ps) == 0 {
		b.Fatalf("no open proposal to show: %v", err)
	}
	id := ps[len(ps)/2].ID
	b.Run("id", func(b *testing.B) {
		benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "show", id} })
	})
	b.Run("prefix", func(b *testing.B) {
		benchFresh(b, func(store string, _ int) []string { return []string{"--store", store, "show", id[:8]} })
	})
}

// outputStart keeps the first 256 bytes written to it, and counts the rest.
type outputStart struct {
	start []byte
	n     int
}

func (w *outputStart) Write(p []byte) (int, error) {
	w.start = append(w.start, p[:min(len(p), 256-len(w.start))]...)
	w.n += len(p)
	return len(p), nil
}
