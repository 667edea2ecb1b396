package postgres

import (
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
	uri := c.Database(t)
	cfg := eventstore.Config{Timeout: 20 * time.Second}
	openStore(t, uri, eventstore.Config{Create: true, Timeout: cfg.Timeout})
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = openStore(t, uri, cfg)
	}
	expect := follow(t, openStore(t, uri, cfg), "restarted")

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
	ids := make([]uuid.UUID, len(stored))
	for i, e := range stored {
		ids[i] = e.ID
	}
	expect(ids)
}
