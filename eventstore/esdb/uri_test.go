package esdb

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// TestRedact: the backend's Redact is eventstore's (whose test has the
// cases).
func TestRedact(t *testing.T) {
	if uri := "esdb://admin:changeit@h1:2113,h2:2113"; Redact(uri) != eventstore.Redact(uri) {
		t.Fatalf("Redact(%q) = %q", uri, Redact(uri))
	}
}

func TestParseURI(t *testing.T) {
	good := []struct {
		uri     string
		address string
		seeds   int
		tls     bool
		user    string
	}{
		{"esdb://localhost:2113?tls=false", "localhost:2113", 0, false, ""},
		{"esdb://localhost", "localhost:2113", 0, true, ""},
		{"ESDB://admin:changeit@db.example.org:2113?TLS=true&tlsVerifyCert=false", "db.example.org:2113", 0, true, "admin"},
		{"esdb://h1:2113,h2:2113,h3:2113?tls=false&nodePreference=leader", "", 3, false, ""},
		{"esdb+discover://cluster.example.org:2113?keepAliveTimeout=10000&defaultDeadline=5000", "cluster.example.org:2113", 0, true, ""},
	}
	for _, tc := range good {
		conf, shown, err := parseURI(tc.uri)
		if err != nil {
			t.Errorf("parseURI(%q): %v", tc.uri, err)
			continue
		}
		if conf.Address != tc.address || len(conf.GossipSeeds) != tc.seeds || conf.DisableTLS == tc.tls || conf.Username != tc.user {
			t.Errorf("parseURI(%q) = address %q, %d seeds, TLS %v, user %q; want %q, %d, %v, %q",
				tc.uri, conf.Address, len(conf.GossipSeeds), !conf.DisableTLS, conf.Username, tc.address, tc.seeds, tc.tls, tc.user)
		}
		if shown != Redact(tc.uri) {
			t.Errorf("parseURI(%q) shows %q", tc.uri, shown)
		}
	}

	bad := []struct{ uri, want string }{
		{"sqlite:treaty.db", "not an EventStoreDB connection string"},
		{"esdb:localhost", "not an EventStoreDB connection string"},
		{"esdb://", "no host"},
		{"esdb://admin:hunter2@", "no host"},
		{"esdb://localhost?tlsVerifyCerts=false", `unknown setting "tlsVerifyCerts"`},
		{"esdb://admin:hunter2@localhost?tsl=false", `unknown setting "tsl"`},
		{"esdb://localhost?tls=maybe", "must be either true or false"},
		{"esdb://localhost:port", "invalid port"},
		{"esdb://localhost/path", "unsupported URL path"},
		{"esdb://localhost?userCertFile=/c.pem", "both userCertFile and userKeyFile"},
		{"esdb://admin:hunter2@localhost:x?tls=false", "esdb://admin:xxxxx@localhost:x"},
	}
	for _, tc := range bad {
		_, _, err := parseURI(tc.uri)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseURI(%q) = %v, want an error containing %q", tc.uri, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseURI(%q) error shows the password: %v", tc.uri, err)
		}
	}
}

// TestRegistered: both schemes reach this backend through eventstore.Open,
// and a bad URI fails there without connecting.
func TestRegistered(t *testing.T) {
	schemes := eventstore.Schemes()
	for _, s := range []string{"esdb", "esdb+discover"} {
		if !slices.Contains(schemes, s) {
			t.Errorf("scheme %q is not registered (have %v)", s, schemes)
		}
	}
	start := time.Now()
	_, err := eventstore.Open(context.Background(), "esdb+discover://u:hunter2@cluster.invalid?tsl=false")
	if err == nil || errors.Is(err, eventstore.ErrUnknownScheme) || !strings.Contains(err.Error(), "unknown setting") ||
		strings.Contains(err.Error(), "hunter2") || time.Since(start) > time.Second {
		t.Fatalf("Open of a misspelt URI: %v", err)
	}
}
