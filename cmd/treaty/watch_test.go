package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
)

// TestWatch follows a negotiation while other processes act on it, on the
// embedded store and on the server double: every event arrives, in order,
// once, and Ctrl-C ends the watch cleanly.
func TestWatch(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testWatch(t, filepath.Join(t.TempDir(), "w.db")) })
	t.Run("esdb", func(t *testing.T) { testWatch(t, esdbtest.Start(t).URI()) })
}

func testWatch(t *testing.T, store string) {
	bin := treatyBin(t)
	do := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--store", store, "--treaty", "w"}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("treaty %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	do("init", "--title", "Watched", "--party", "UA", "--party", "US")
	watch := exec.Command(bin, "--store", store, "--treaty", "w", "watch", "--all", "--format", "json")
	out, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	watch.Stderr = &stderr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan map[string]any)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e map[string]any
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("watch printed %q: %v", sc.Text(), err)
			}
			lines <- e
		}
		close(lines)
	}()
	next := func() map[string]any {
		t.Helper()
		select {
		case e, ok := <-lines:
			if !ok {
				t.Fatalf("the watch ended early: %s", stderr.String())
			}
			return e
		case <-time.After(15 * time.Second):
			t.Fatal("no event within 15 s")
		}
		return nil
	}
	if e := next(); e["type"] != "TreatyOpened" || e["event"] != 1.0 {
		t.Fatalf("first line %v", e)
	}
	for i := range 5 {
		id := do("--as", "UA", "propose", "--clause", fmt.Sprintf("c%d", i), "--text", "Text.")
		do("--as", "US", "accept", id)
		for _, want := range []string{"ProposalTabled", "ProposalAccepted", "ProposalAdopted"} {
			if e := next(); e["type"] != want {
				t.Fatalf("after proposal %d: got %v, want %s", i, e["type"], want)
			}
		}
	}
	if err := watch.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- watch.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch after Ctrl-C: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		watch.Process.Signal(syscall.SIGKILL)
		t.Fatal("watch did not end within 10 s of Ctrl-C")
	}
	if _, more := <-lines; more {
		t.Fatal("watch printed more than happened")
	}
}
