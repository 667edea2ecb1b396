package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// A simulation expects to be the only writer of its negotiation. When
// another process appends to it meanwhile, simulate stops and says so,
// with how much of the simulation was appended, rather than blaming a
// negotiation that was there before it began.
func TestSimulateWithAnotherWriter(t *testing.T) {
	bin := treatyBin(t)
	store := filepath.Join(t.TempDir(), "race.db")
	sim := exec.Command(bin, "--store", store, "simulate", "--clauses", "50", "--rounds", "2", "--events", "2000000")
	var stderr bytes.Buffer
	sim.Stderr = &stderr
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sim.Wait() }()
	// Table a proposal as soon as the simulation's first events are in.
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(bin, "--store", store, "--treaty", "simulation", "--as", "UA", "propose", "--clause", "intruder", "--text", "Another writer's text.").CombinedOutput()
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the simulation ended (%v) before another writer could append: %s\n%s", err, out, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			sim.Process.Kill()
			t.Fatalf("no append by another writer within a minute: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		sim.Process.Kill()
		t.Fatal("the simulation went on for a minute after another writer appended")
	}
	if exitCode(err) != exitRefused {
		t.Fatalf("simulate exited with %v; want status 1\n%s", err, stderr.String())
	}
	want := regexp.MustCompile(`^treaty: another writer appended to negotiation simulation in \S+race\.db while it was being simulated: its first \d+ events are in the store and the rest was not appended; simulate into another --treaty or store, where nobody else writes\n$`)
	if !want.Match(stderr.Bytes()) {
		t.Fatalf("simulate said:\n%s", stderr.String())
	}
}
