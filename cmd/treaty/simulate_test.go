package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
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

// simulateEvents runs simulate o in a store of its own and returns its
// events. (The embedded store: importing memstore would add its scheme to
// those the scripts see.)
func simulateEvents(t *testing.T, o simOptions) []*projections.Recorded {
	t.Helper()
	ctx := context.Background()
	store, err := eventstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "sim.db"), eventstore.Create())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w := &write.Writer{Store: store, Reader: projections.NewReader(store, o.treaty, projections.Options{Secret: []byte("test secret")})}
	if _, err := simulate(ctx, w, o, 0, func(int) {}); err != nil {
		t.Fatal(err)
	}
	var evs []*projections.Recorded
	for r, err := range projections.Events(ctx, store, o.treaty, 0) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, r)
	}
	return evs
}

// wordChanges says how many words of before an amendment struck and how
// many it inserted: those outside a longest common subsequence of words.
func wordChanges(before, after string) (struck, inserted int) {
	a, b := strings.Fields(before), strings.Fields(after)
	lcs := make([]int, len(b)+1) // lcs[j]: of a[:i] and b[:j]
	for i := range a {
		prev := 0 // lcs[j-1] of the row before
		for j := range b {
			was := lcs[j+1]
			if a[i] == b[j] {
				lcs[j+1] = prev + 1
			} else {
				lcs[j+1] = max(lcs[j+1], lcs[j])
			}
			prev = was
		}
	}
	return len(a) - lcs[len(b)], len(b) - lcs[len(b)]
}

// Each --edit style gives the same negotiation for the same seed, and
// amends agreed text as it says: words strikes and inserts at most four
// words an amendment (the realistic negotiation of issue 14), rewrite
// nearly the whole text.
func TestSimulateEditStyles(t *testing.T) {
	for _, edit := range simEdits {
		t.Run(edit, func(t *testing.T) {
			o := simOptions{treaty: "styles", clauses: 10, rounds: 2, events: 3000, seed: 3, edit: edit}
			evs := simulateEvents(t, o)
			again := simulateEvents(t, o)
			if len(again) != len(evs) {
				t.Fatalf("the same seed gave %d events, then %d", len(evs), len(again))
			}
			for i, r := range evs {
				if r.ID != again[i].ID || r.Type != again[i].Type || !bytes.Equal(r.Data, again[i].Data) {
					t.Fatalf("the same seed gave another event %d: %s %s, then %s %s", r.Number, r.Type, r.Data, again[i].Type, again[i].Data)
				}
			}
			tabled := map[string]domain.ProposalTabled{}
			agreed := map[string]string{}
			amendments, kept, words := 0, 0, 0
			for _, r := range evs {
				switch e := r.Event.(type) {
				case domain.ProposalTabled:
					tabled[e.Proposal] = e
				case domain.ProposalAdopted:
					p := tabled[e.Proposal]
					if before := agreed[p.Clause]; before != "" && p.Text != "" {
						amendments++
						struck, inserted := wordChanges(before, p.Text)
						if edit == simEditWords && (struck > 4 || inserted > 4) {
							t.Errorf("adopted %s struck %d words and inserted %d:\n%s\n%s", p.Proposal, struck, inserted, before, p.Text)
						}
						n := len(strings.Fields(before))
						kept += n - struck
						words += n
					}
					agreed[p.Clause] = p.Text
				}
			}
			if amendments < 100 {
				t.Fatalf("only %d adopted amendments of agreed text", amendments)
			}
			// Random texts share a few common words in order; an
			// amendment of a few words keeps nearly all of them.
			share := float64(kept) / float64(words)
			if edit == simEditWords && share < 0.9 || edit == simEditRewrite && share > 0.5 {
				t.Errorf("%d amendments kept %.0f%% of the words they amend", amendments, 100*share)
			}
			t.Logf("%d amendments kept %.0f%% of the words they amend", amendments, 100*share)
		})
	}
}

// The default style is the simulation as it was before --edit: an empty
// style is it, and its title names no style, so stores simulated before
// carry on.
func TestSimulateEditDefault(t *testing.T) {
	o := simOptions{treaty: "default", clauses: 5, rounds: 1, events: 200, seed: 3}
	unnamed := simulateEvents(t, o)
	o.edit = simEditWords
	named := simulateEvents(t, o)
	for i, r := range unnamed {
		if !bytes.Equal(r.Data, named[i].Data) {
			t.Fatalf("event %d differs: %s, then %s", r.Number, r.Data, named[i].Data)
		}
	}
	if got := unnamed[0].Event.(domain.TreatyOpened).Title; got != "Simulated negotiation (seed 3)" {
		t.Errorf("title %q", got)
	}
	o.edit = simEditRewrite
	if bytes.Equal(simulateEvents(t, o)[0].Data, unnamed[0].Data) {
		t.Error("a rewrite simulation opens as the default one does: resuming one as the other is not refused at once")
	}
}
