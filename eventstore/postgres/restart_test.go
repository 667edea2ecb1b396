package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
)

// TestRestart restarts a server of the test's own twice while writers
// append and a subscription follows: once shutting down cleanly (pg_ctl
// restart -m fast) and once as a crash (-m immediate). Every append
// acknowledged is kept, once; the appends in flight are made again and
// land once, or fail saying so; the subscription yields every event once,
// in order.
func TestRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("restarts a server: run without -short")
	}
	c := pgtest.StartCluster(t)
	uri, drop, err := pgtest.CreateDatabase(context.Background(), c.URI)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	cfg := eventstore.Config{Timeout: 20 * time.Second}
	openStore(t, uri, eventstore.Config{Create: true, Timeout: cfg.Timeout})
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = openStore(t, uri, cfg)
	}
	follower := openStore(t, uri, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	followed := make(chan eventstore.RecordedEvent, 10000)
	failed := make(chan error, 1)
	go func() {
		for e, err := range follower.Subscribe(ctx, "restarted", 0) {
			if err != nil {
				failed <- err
				return
			}
			followed <- e
		}
	}()

	ticks := 0
	acked, errs := writeWhile(t, stores, "restarted", 60, func() {
		ticks++
		mode := map[int]string{3: "fast", 12: "immediate"}[ticks]
		if mode == "" {
			return
		}
		start := time.Now()
		if err := c.Restart(mode); err != nil {
			t.Error(err)
		}
		t.Logf("restarted (%s) in %s", mode, time.Since(start).Round(time.Millisecond))
	})
	for _, err := range errs {
		t.Errorf("an append failed across a restart: %v", err)
	}
	checkAcked(t, stores[0], "restarted", acked)

	stored, err := readErr(stores[0], "restarted")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uuid.UUID]bool{}
	for i := range stored {
		select {
		case e := <-followed:
			if e.Revision != uint64(i) || e.ID != stored[i].ID || seen[e.ID] {
				t.Fatalf("the subscription yielded revision %d (%s) where %d (%s) was due", e.Revision, e.ID, i, stored[i].ID)
			}
			seen[e.ID] = true
		case err := <-failed:
			t.Fatalf("the subscription failed after %d events: %v", i, err)
		case <-time.After(20 * time.Second):
			t.Fatalf("the subscription yielded nothing for 20 s where revision %d was due", i)
		}
	}
}
