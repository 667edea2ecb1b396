package main

import (
	"context"
	"database/sql"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterrupts: once listening, Ctrl-C cancels the context; after close
// listen starts nothing, so that an interrupt then ends the process as the
// system's default does.
func TestInterrupts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := &interrupts{cancel: cancel}
	in.listen()
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
	late.close()
	late.listen()
	if late.sig != nil {
		t.Fatal("listen after close registered a channel")
	}
	late.close()
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
	before := len(readLogOf(t, bin, store))

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
	done := make(chan error, 1)
	go func() { done <- propose.Wait() }()
	// Well past listenAfter: the act is waiting for the lock by then, or
	// still starting on a very busy machine, where the test would fail
	// saying that the process was ended by the signal.
	select {
	case err := <-done:
		t.Fatalf("propose ended while the store was locked: %v\n%s", err, stderr.String())
	case <-time.After(1500 * time.Millisecond):
	}
	if err := propose.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		propose.Process.Kill()
		t.Fatal("propose did not end within 30 s of Ctrl-C")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("propose interrupted: %v (want exit %d)\n%s", err, exitInterrupted, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "treaty: interrupted") {
		t.Fatalf("stderr %q, want the interruption said", got)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()
	if after := len(readLogOf(t, bin, store)); after != before {
		t.Fatalf("%d events after the interrupted act, want the %d before it", after, before)
	}
}

// readLogOf returns the lines of `treaty log` of negotiation w in store.
func readLogOf(t *testing.T, bin, store string) []string {
	t.Helper()
	out, err := exec.Command(bin, "--store", store, "--treaty", "w", "log").Output()
	if err != nil {
		t.Fatalf("log: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
