package postgres

import (
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	good := []struct {
		uri      string
		hosts    int
		database string
		maxConns int32
		params   map[string]string
	}{
		{"postgres://treaty:s3cret@db.example.org:5433/negotiations?sslmode=verify-full", 1, "negotiations", defaultConn,
			map[string]string{"application_name": "treaty"}},
		{"POSTGRESQL://u@h1,h2:5432/db?pool_max_conns=3&application_name=kyiv&search_path=treaty", 2, "db", 3,
			map[string]string{"application_name": "kyiv", "search_path": "treaty"}},
		{"postgres:///treaty?host=/run/postgresql", 1, "treaty", defaultConn, nil},
	}
	for _, tc := range good {
		pc, shown, _, err := parseURI(tc.uri, false)
		if err != nil {
			t.Errorf("parseURI(%q): %v", tc.uri, err)
			continue
		}
		hosts := map[string]bool{pc.ConnConfig.Host: true}
		for _, f := range pc.ConnConfig.Fallbacks { // each host, with and without TLS (sslmode=prefer)
			hosts[f.Host] = true
		}
		if got := len(hosts); got != tc.hosts || pc.ConnConfig.Database != tc.database || pc.MaxConns != tc.maxConns {
			t.Errorf("parseURI(%q) = %d hosts, database %q, %d connections; want %d, %q, %d", tc.uri, got, pc.ConnConfig.Database, pc.MaxConns,
				tc.hosts, tc.database, tc.maxConns)
		}
		for k, v := range tc.params {
			if got := pc.ConnConfig.RuntimeParams[k]; got != v {
				t.Errorf("parseURI(%q): setting %s = %q, want %q", tc.uri, k, got, v)
			}
		}
		if strings.Contains(shown, "s3cret") {
			t.Errorf("parseURI(%q) shows %q", tc.uri, shown)
		}
	}
	pc, _, _, err := parseURI("postgres://h/db", true)
	if err != nil || pc.ConnConfig.RuntimeParams["default_transaction_read_only"] != "on" {
		t.Errorf("a read-only store's sessions are not read-only: %v, %v", pc.ConnConfig.RuntimeParams, err)
	}

	bad := []struct{ uri, want string }{
		{"postgres:treaty", "not a PostgreSQL connection URI"},
		{"sqlite:treaty.db", "not a PostgreSQL connection URI"},
		{"postgres://u:hunter2@h/db?sslmode=sometimes", "sslmode"},
		{"postgres://u:hunter2@h:port/db", "invalid port"},
		{"postgres://u:hunter2@h/db?connect_timeout=soon", "connect_timeout"},
		{"postgres://u:hunter2@h/db?pool_max_conns=many", "pool_max_conns"},
		{"postgres://u:hunter2@h/db?password=hunter2&target_session_attrs=whichever", "target_session_attrs"},
	}
	for _, tc := range bad {
		_, _, _, err := parseURI(tc.uri, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseURI(%q) = %v, want an error containing %q", tc.uri, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseURI(%q) error shows the password: %v", tc.uri, err)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		prefix, want string
		ok           bool
	}{
		{"treaty-", "treaty.", true},
		{"a\u007f", "a\u0080", true},
		{"é", "ê", true},
		{"a\ud7ff", "a\ue000", true},
		{"a\U0010ffff", "b", true},
		{"\U0010ffff\U0010ffff", "", false},
		{"", "", false},
	} {
		got, ok := prefixEnd(tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFirstSchema(t *testing.T) {
	for in, want := range map[string]string{
		"treaty":                 "treaty",
		`"$user", public`:        "public",
		`"Treaty Store", public`: "Treaty Store",
		`Treaty`:                 "treaty",
		` "a""b" `:               `a"b`,
		"":                       "",
		`"$user"`:                "",
	} {
		if got := firstSchema(in); got != want {
			t.Errorf("firstSchema(%q) = %q, want %q", in, got, want)
		}
	}
}
