package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterrupts: once listening, Ctrl-C cancels the context; listenIn
// listens once its time has passed; after close neither starts anything,
// so that an interrupt then ends the process as the system's default does.
func TestInterrupts(t *testing.T) {
	// Should listen fail, the test's SIGINT must not end the test binary.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGINT)
	defer signal.Stop(guard)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := &interrupts{cancel: cancel}
	in.listenIn(time.Millisecond)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		in.mu.Lock()
		listening := in.sig != nil
		in.mu.Unlock()
		if listening {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("listenIn(1ms) not listening after 10 s")
		}
	}
	sig := in.sig
	in.listen()
	if in.sig != sig {
		t.Fatal("a second listen registered another channel")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not cancel the context within 10 s")
	}
	in.close()
	if _, open := <-in.sig; open {
		t.Fatal("the channel stayed open after close")
	}

	late := &interrupts{cancel: func() { t.Error("cancel called") }}
	late.listenIn(time.Hour)
	late.close()
	if late.timer.Stop() {
		t.Fatal("close left listenIn's timer running")
	}
	late.listen()
	late.listenIn(time.Millisecond)
	if late.sig != nil || late.timer.Stop() {
		t.Fatal("listen or listenIn after close started something")
	}
	late.close()
}

// TestListeningFromTheStart: the commands that run until stopped or long,
// and those about to write a file that Ctrl-C would leave half made, listen
// at once; a command that only reads does not, and listens from
// listenAfter on.
func TestListeningFromTheStart(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "s.db")
	keys := filepath.Join(dir, "keys")
	var stdout, stderr strings.Builder
	if code := run([]string{"--store", store, "--keys", keys, "--treaty", "w", "init", "--title", "Listening", "--party", "UA", "--party", "US"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, stderr.String())
	}
	listens := func(args ...string) (bool, error) {
		t.Helper()
		listened := false
		a := newApp(strings.NewReader(""), io.Discard, io.Discard)
		a.listen = func() { listened = true }
		args = append([]string{"--store", store, "--keys", keys, "--treaty", "w"}, args...)
		root := a.rootFor(args)
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.ExecuteContext(context.Background())
		a.close()
		return listened, err
	}
	for _, c := range []struct {
		args   []string
		listen bool
		fails  bool // after listening: the command runs until stopped
	}{
		{[]string{"serve", "--addr", "256.0.0.1:1"}, true, true},
		{[]string{"--store", filepath.Join(dir, "missing.db"), "watch"}, true, true},
		{[]string{"simulate", "--clauses", "0", "--rounds", "1", "--events", "10"}, true, true},
		{[]string{"draft", "--output", filepath.Join(dir, "draft.txt")}, true, false},
		{[]string{"--as", "UA", "round", "open"}, false, false},
		{[]string{"--as", "UA", "round", "close", "--receipt", filepath.Join(dir, "receipt.json")}, true, false},
		{[]string{"--as", "UA", "keys", "generate"}, true, false},
		{[]string{"draft"}, false, false},
		{[]string{"log"}, false, false},
		{[]string{"--as", "US", "propose", "--clause", "c2", "--text", "Text."}, false, false},
	} {
		got, err := listens(c.args...)
		if got != c.listen {
			t.Errorf("treaty %s: listened at once %v, want %v", strings.Join(c.args, " "), got, c.listen)
		}
		if (err != nil) != c.fails {
			t.Errorf("treaty %s: error %v", strings.Join(c.args, " "), err)
		}
	}
}

// sliceReader is a reader of a type that == cannot compare.
type sliceReader struct{ b []byte }

func (r sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	return copy(p, r.b), io.EOF
}

// TestInterruptibleStdin: standard input is read whole and unchanged, a
// regular file directly and anything else through the pipe, which listens
// at once; a read still waiting when the context ends returns its error.
func TestInterruptibleStdin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(file, []byte("The Parties shall consult."), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, c := range map[string]struct {
		r      io.Reader
		piped  bool
		listen bool
	}{
		"regular file": {f, false, false},
		"reader":       {strings.NewReader("The Parties shall consult."), true, true},
		"value reader": {sliceReader{[]byte("The Parties shall consult.")}, true, true},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			listened := false
			in := &interruptibleStdin{ctx: ctx, r: c.r, listen: func() { listened = true }}
			got, err := io.ReadAll(in)
			if err != nil || string(got) != "The Parties shall consult." {
				t.Fatalf("read %q, %v", got, err)
			}
			if in.piped != c.piped || listened != c.listen {
				t.Fatalf("piped %v, listened %v; want %v, %v", in.piped, listened, c.piped, c.listen)
			}
			if n, err := in.Read(make([]byte, 8)); n != 0 || err != io.EOF {
				t.Fatalf("a read after the end: %d, %v, want EOF", n, err)
			}
			cancel() // the run ends
			if in.piped {
				// The pipe was closed at its end first: that stands.
				if n, err := in.Read(make([]byte, 8)); n != 0 || err != io.EOF {
					t.Fatalf("a read after the run: %d, %v, want EOF", n, err)
				}
			}
		})
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	in := &interruptibleStdin{ctx: ctx, r: r, listen: func() {}}
	read := make(chan error, 1)
	go func() { _, err := io.ReadAll(in); read <- err }()
	cancel()
	select {
	case err := <-read:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a read waiting when the context ended: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a read waiting on an open pipe did not end within 10 s of the context")
	}
}

// TestInterruptWhileWaiting: Ctrl-C reaches a command that has run past
// listenAfter, here an act waiting for another writer's lock: it ends with
// exit 130 and `treaty: interrupted`, and appends nothing.
func TestInterruptWhileWaiting(t *testing.T) {
	bin := treatyBin(t)
	store := filepath.Join(t.TempDir(), "locked.db")
	treaty := func(args ...string) *exec.Cmd {
		return exec.Command(bin, append([]string{"--store", store, "--treaty", "w"}, args...)...)
	}
	if out, err := treaty("init", "--title", "Waiting", "--party", "UA", "--party", "US").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	before := len(readLog(t, store, "w"))

	db, err := sql.Open("sqlite", store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	propose := treaty("--timeout", "2m", "--as", "UA", "propose", "--clause", "c1", "--text", "Text.")
	var stderr strings.Builder
	propose.Stderr = &stderr
	if err := propose.Start(); err != nil {
		t.Fatal(err)
	}
	interruptWaiting(t, propose, &stderr)
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()
	if after := len(readLog(t, store, "w")); after != before {
		t.Fatalf("%d events after the interrupted act, want the %d before it", after, before)
	}
}

// TestInterruptReadingStdin: Ctrl-C ends a command waiting to read
// standard input (a pipe whose writer stays open) with exit 130 and
// `treaty: interrupted`, where the read would wait on; nothing is appended.
func TestInterruptReadingStdin(t *testing.T) {
	bin := treatyBin(t)
	for name, args := range map[string][]string{
		"propose":     {"--as", "UA", "propose", "--clause", "c1", "--file", "-"},
		"import":      {"import", "-"},
		"import-docx": {"--as", "UA", "import-docx", "-"},
	} {
		t.Run(name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "t.db")
			if out, err := exec.Command(bin, "--store", store, "--treaty", "w", "init", "--title", "Read", "--party", "UA", "--party", "US").CombinedOutput(); err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			before := len(readLog(t, store, "w"))
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.WriteString("The Parties"); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, append([]string{"--store", store, "--treaty", "w"}, args...)...)
			cmd.Stdin = r
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r.Close()
			interruptWaiting(t, cmd, &stderr)
			if after := len(readLog(t, store, "w")); after != before {
				t.Fatalf("%d events after the interruption, want %d", after, before)
			}
		})
	}
}

// interruptWaiting interrupts cmd, started and waiting for something, once
// it has run well past listenAfter, and checks that it ends with exit 130
// and `treaty: interrupted` on stderr. On a machine so busy that cmd has not
// started listening by then, it fails saying that the signal ended cmd.
func interruptWaiting(t *testing.T, cmd *exec.Cmd, stderr *strings.Builder) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("ended while waiting: %v\n%s", err, stderr.String())
	case <-time.After(1500 * time.Millisecond):
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still waiting 30 s after Ctrl-C")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted: %v (want exit %d)\n%s", err, exitInterrupted, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "treaty: interrupted") {
		t.Fatalf("stderr %q, want the interruption said", got)
	}
}
