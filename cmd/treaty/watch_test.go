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
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
)

// TestWatch follows a negotiation while other processes act on it, on the
// embedded store, on the server double and on PostgreSQL: every event
// arrives, in order, once, and Ctrl-C ends the watch cleanly.
func TestWatch(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testWatch(t, filepath.Join(t.TempDir(), "w.db")) })
	t.Run("esdb", func(t *testing.T) { testWatch(t, esdbtest.Start(t).URI()) })
	t.Run("postgres", func(t *testing.T) { testWatch(t, pgtest.Database(t)) })
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

// watch prints what is stored as log does: every control character made
// visible, each event on one line, as it lands and from before.
func TestWatchShowsStoredStringsVisibly(t *testing.T) {
	bin := treatyBin(t)
	store := filepath.Join(t.TempDir(), "w.db")
	const opening = `{"type":"TreatyOpened","data":{"treaty":"w","title":"Watched","parties":[{"code":"UA","role":"party"},{"code":"US","role":"party"},{"code":"EU","role":"party"}]},"meta":{"round":0,"time":"2026-01-05T09:00:00Z"}}`
	const tabled = `{"type":"ProposalTabled","data":{"proposal":"p1","clause":"a","party":"UA","action":"insert","text":"A.","base_revision":0},"meta":{"party":"UA","author":"\u001b[2J\u001b]0;pwned\u0007","round":0,"time":"2026-01-05T09:01:00Z"}}`
	forged := func(author string) string {
		return `{"type":"ProposalAccepted","data":{"proposal":"p1","party":"US"},"meta":{"party":"US","author":` + author + `,"round":0,"time":"2026-01-05T09:02:00Z"}}`
	}
	if err := forge("sqlite:"+store, "w", opening+"\n"+tabled); err != nil {
		t.Fatal(err)
	}
	watch := exec.Command(bin, "--store", store, "--treaty", "w", "watch", "--all")
	out, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer watch.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the watch ended early")
			}
			return l
		case <-time.After(15 * time.Second):
			t.Fatal("no line within 15 s")
		}
		return ""
	}
	var got []string
	got = append(got, next(), next())
	if err := forge("sqlite:"+store, "w", forged(`"Eve\n     9  2026-01-05 09:00:00    1  UA    -   ProposalAdopted"`)); err != nil {
		t.Fatal(err)
	}
	got = append(got, next())
	watch.Process.Signal(os.Interrupt)
	for l := range lines {
		got = append(got, l)
	}
	if len(got) != 3 {
		t.Fatalf("watch printed %d lines for 3 events:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, want := range []string{`UA    \x1b[2J\x1b]0;p…  ProposalTabled`, `US    Eve\n     9  20…  ProposalAccepted`} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("watch printed\n%s\nwithout %q", strings.Join(got, "\n"), want)
		}
	}
	if all := strings.Join(got, "\n"); strings.ContainsAny(all, "\x1b\x07") {
		t.Errorf("watch passed control characters through: %q", all)
	}
}
