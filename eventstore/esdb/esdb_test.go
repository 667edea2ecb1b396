package esdb

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// serverEnv names the environment variable that holds a real server's
// connection string for TestServer.
const serverEnv = "TREATY_TEST_ESDB"

// suiteTimeout is generous: under -race the double answers slowly, and a
// real server may be far away.
const suiteTimeout = 30 * time.Second

// openStore opens a store on uri, closed when t ends.
func openStore(t testing.TB, uri string, cfg eventstore.Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), uri, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// opener returns storetest's open function for stores on uri.
func opener(uri string) func(t *testing.T) eventstore.Store {
	return func(t *testing.T) eventstore.Store {
		return openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	}
}

// reopener returns storetest's Reopen option for stores on uri: the second
// store is another client of the same server.
func reopener(uri string) storetest.Option {
	return storetest.Reopen(func(t *testing.T, _ eventstore.Store) eventstore.Store {
		return openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	})
}

// TestConformance runs the suite against the protocol double, one server
// for all subtests as a real server would be (the suite's prefixes keep
// them apart).
func TestConformance(t *testing.T) {
	uri := esdbtest.Start(t).URI()
	storetest.Run(t, opener(uri), reopener(uri))
}

// TestConformanceUnhelpfulServer runs the suite against a double that helps
// as little as a server can: it never recognises a repeated append with
// expected revision Any (no idempotency window), answers no server
// features, and sends no CaughtUp, as servers before 23.10 do. What the
// contract needs beyond that, the backend must do itself.
func TestConformanceUnhelpfulServer(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithIdempotencyWindow(0), esdbtest.WithoutServerFeatures(), esdbtest.WithoutCaughtUp())
	storetest.Run(t, opener(srv.URI()), reopener(srv.URI()))
}

// TestOpenRegistered opens a store the way the program does, by URI
// through the registry, and uses it.
func TestOpenRegistered(t *testing.T) {
	uri := esdbtest.Start(t).URI()
	s, err := eventstore.Open(context.Background(), uri, eventstore.Timeout(suiteTimeout))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*Store); !ok {
		t.Fatalf("eventstore.Open(%q) returned a %T", uri, s)
	}
	es := storetest.Events("Registered", 2)
	storetest.MustAppend(t, s, "treaty-registered", eventstore.NoStream(), es...)
	if got := ids(t, s, "treaty-registered"); !slices.Equal(got, idsOf(es)) {
		t.Fatalf("read back %v, want %v", got, idsOf(es))
	}
	infos, err := s.Streams(context.Background(), "treaty-")
	if want := []eventstore.StreamInfo{{Name: "treaty-registered", Events: 2}}; err != nil || !slices.Equal(infos, want) {
		t.Fatalf("Streams = %v, %v; want %v", infos, err, want)
	}
}

// TestBackend runs this backend's own checks against the double.
func TestBackend(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithIdempotencyWindow(0))
	runBackendTests(t, srv.URI())
}

// TestServer runs the conformance suite and this backend's own checks
// against the real KurrentDB / EventStoreDB server whose connection string
// TREATY_TEST_ESDB holds. The double only mimics the server; this is the
// test that shows the backend works with the real one.
func TestServer(t *testing.T) {
	uri := os.Getenv(serverEnv)
	if uri == "" {
		t.Skip(serverEnv + " is not set: set it to a server's connection string, e.g. " +
			"TREATY_TEST_ESDB='esdb://localhost:2113?tls=false' for a KurrentDB started with --insecure " +
			"(docker run -p 2113:2113 docker.kurrent.io/kurrent-latest/kurrentdb:latest --insecure), " +
			"to run the conformance suite against a real server")
	}
	t.Run("Conformance", func(t *testing.T) { storetest.Run(t, opener(uri), reopener(uri)) })
	t.Run("Backend", func(t *testing.T) { runBackendTests(t, uri) })
}
