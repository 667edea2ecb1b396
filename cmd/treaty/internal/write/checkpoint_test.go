package write

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore/memstore"
	"github.com/treaty-engine/treaty/projections"
)

// A head checkpoint due when an act reads the negotiation is worked out
// while the act's append waits, and saved before the state changes: acts
// one at a time, several in one append, and refused ones leave checkpoints
// that change no answer (run with -race, this also shows the working out
// shares nothing with the append).
func TestHeadCheckpointBesideAppend(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	opts := projections.Options{Secret: []byte("a secret of this machine"), Save: true}
	w := &Writer{Store: store, Reader: projections.NewReader(store, "t", opts)}
	b := w.NewBatch("t")
	if _, err := b.Do(act("", opening), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	head := func() []byte {
		keys, err := store.CacheKeys(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/head") {
				v, _ := store.CacheGet(ctx, k)
				return v
			}
		}
		return nil
	}
	table := func(i int, clause string) domain.Command {
		return domain.Table{Proposal: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Clause: clause, Party: "UA", Text: fmt.Sprintf("Text %d.", i)}
	}
	saves, refused, last := 0, 0, head()
	for i := 1; i <= 60; i++ {
		var err error
		switch i % 10 {
		case 9:
			_, err = w.DoAll(ctx, Acts{Party: "UA", Commands: func(*domain.State, string) ([]domain.Command, error) {
				return []domain.Command{table(1000+i, fmt.Sprintf("a%d", i)), table(2000+i, fmt.Sprintf("b%d", i))}, nil
			}})
		case 4:
			// The ID of a proposal tabled before: refused.
			if _, err := w.Do(ctx, act("UA", table(i-1, fmt.Sprintf("again%d", i)))); err == nil {
				t.Fatalf("act %d: a proposal ID tabled before was accepted", i)
			}
			refused++
		default:
			_, err = w.Do(ctx, act("UA", table(i, fmt.Sprintf("c%d", i))))
		}
		if err != nil {
			t.Fatalf("act %d: %v", i, err)
		}
		if v := head(); !bytes.Equal(v, last) {
			saves, last = saves+1, v
		}
	}
	if saves < 4 || refused == 0 {
		t.Fatalf("%d head checkpoints saved over 60 acts (%d refused): the test tests too little", saves, refused)
	}
	got, err := projections.NewReader(store, "t", opts).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := projections.NewReader(store, "t", projections.Options{}).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(projections.BuildDraft(got, projections.DraftOptions{}))
	jb, _ := json.Marshal(projections.BuildDraft(want, projections.DraftOptions{}))
	if !bytes.Equal(ja, jb) || got.Point != want.Point || len(got.State.Proposals) != len(want.State.Proposals) {
		t.Fatalf("from the checkpoints: %+v\n%s\nfrom the log: %+v\n%s", got.Point, ja, want.Point, jb)
	}
}
