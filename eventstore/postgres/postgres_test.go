package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// suiteTimeout is generous: under -race, and on a loaded machine, a server
// on the same cores answers slowly.
const suiteTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	pollInterval = 100 * time.Millisecond // the suite's quiet periods are short
	m.Run()
}

// openStore opens a store on uri, closed when t ends.
func openStore(t testing.TB, uri string, cfg eventstore.Config) *Store {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = suiteTimeout
	}
	s, err := Open(context.Background(), uri, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openReads counts the connections a store of the suite has taken from its
// pool and not given back: none once every read and subscription has
// ended, however it ended.
var openReads = storetest.OpenReads(func(s eventstore.Store) int {
	return int(s.(*Store).pool.Stat().AcquiredConns())
})

// TestConformance runs the suite on one fresh database, as a shared server
// would be (the suite's prefixes keep the subtests apart), each subtest
// with stores of its own.
func TestConformance(t *testing.T) {
	t.Parallel()
	uri := pgtest.Database(t)
	openStore(t, uri, eventstore.Config{Create: true}) // makes the schema once
	open := func(t *testing.T) eventstore.Store { return openStore(t, uri, eventstore.Config{}) }
	storetest.Run(t, open, openReads, storetest.Reopen(func(t *testing.T, _ eventstore.Store) eventstore.Store { return open(t) }))
}

// TestConformanceRegistered runs the suite on stores opened the way the
// program opens them, by URI through the registry (postgresql:// here), in
// a schema of their own that the first open makes.
func TestConformanceRegistered(t *testing.T) {
	t.Parallel()
	uri := pgtest.With(pgtest.Database(t), "search_path", `"Treaty Store"`)
	uri = "postgresql" + uri[len("postgres"):]
	open := func(t *testing.T) eventstore.Store {
		s, err := eventstore.Open(context.Background(), uri, eventstore.Create(), eventstore.Timeout(suiteTimeout))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if got := s.(*Store).Schema(); got != "Treaty Store" {
			t.Fatalf("the store is in schema %q, want the search_path's %q", got, "Treaty Store")
		}
		return s
	}
	storetest.Run(t, open, openReads, storetest.Reopen(func(t *testing.T, _ eventstore.Store) eventstore.Store { return open(t) }))
}
