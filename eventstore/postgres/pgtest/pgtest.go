// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// one on the server TREATY_TEST_POSTGRES names, dropped when the test ends,
// or a throw-away server of the test's own (for tests that restart it).
//
// Without TREATY_TEST_POSTGRES those tests skip, saying so, unless CI is
// set (CI=true, as .ci/run runs): there they fail, since CI must run them.
package pgtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the environment variable that holds the URI of a server on
// which the tests may create and drop databases.
const Env = "TREATY_TEST_POSTGRES"

// ServerURI returns the server URI in TREATY_TEST_POSTGRES. Without it, t
// is skipped with a message saying how to run it, or failed when CI is set.
func ServerURI(t testing.TB) string {
	t.Helper()
	uri := os.Getenv(Env)
	if uri == "" {
		missing(t, Env+" is not set")
	}
	return uri
}

// missing skips t for why, or fails it in CI.
func missing(t testing.TB, why string) {
	t.Helper()
	const how = "to run the tests against PostgreSQL, set " + Env + " to a server URI whose user may create databases " +
		"(eval \"$(.ci/postgres start)\" starts a throw-away server and sets it)"
	if os.Getenv("CI") != "" {
		t.Fatalf("%s, and CI must run the PostgreSQL tests: %s", why, how)
	}
	t.Skipf("%s: %s", why, how)
}

// Database creates a fresh, empty database on the server of
// TREATY_TEST_POSTGRES and returns its URI; it is dropped when t ends.
func Database(t testing.TB) string {
	t.Helper()
	return database(t, ServerURI(t))
}

// database creates a fresh database on the server at server, dropped when t
// ends.
func database(t testing.TB, server string) string {
	t.Helper()
	uri, drop, err := CreateDatabase(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
	})
	return uri
}

// CreateDatabase creates a fresh, empty database (UTF-8, named
// treaty_test_<random>) on the server at serverURI and returns its URI,
// the server's with the database changed, and a function that drops it.
func CreateDatabase(ctx context.Context, serverURI string) (uri string, drop func() error, err error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	name := "treaty_test_" + hex.EncodeToString(b)
	u, err := url.Parse(serverURI)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", Env, err)
	}
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURI)
		if err != nil {
			return fmt.Errorf("connect to the test server (%s): %w", Env, err)
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + name + " TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return "", nil, fmt.Errorf("create a test database: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() error { return admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") }, nil
}

// With returns uri with the setting key set to value.
func With(uri, key, value string) string {
	u, err := url.Parse(uri)
	if err != nil {
		panic(err) // a test's URI
	}
	q := u.Query()
	q.Set(key, value)
	// libpq reads a + as itself, not as a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// Cluster is a throw-away PostgreSQL server of one test's own, started by
// the repository's .ci/postgres (initdb as the postgres user, a loopback
// port, a temporary directory), for tests that stop or restart it.
type Cluster struct {
	// URI is a superuser's URI of the cluster's postgres database.
	URI string
	// Dir is the cluster's directory.
	Dir    string
	script string
}

// StartCluster starts a cluster, stopped and removed when t ends. Without
// TREATY_TEST_POSTGRES the test is skipped, and so it is where no
// PostgreSQL can be started, unless CI is set.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	ServerURI(t)
	script, err := ciScript()
	if err != nil {
		missing(t, err.Error())
	}
	cmd := exec.Command(script, "start")
	cmd.Env = append(os.Environ(), "TREATY_PG_NO_INSTALL=1") // a test installs nothing
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		missing(t, fmt.Sprintf("cannot start a PostgreSQL server of the test's own (%v): %s", err, stderr))
	}
	c := &Cluster{script: script}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		name, value, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		value = strings.Trim(value, "'")
		switch name {
		case "TREATY_TEST_POSTGRES":
			c.URI = value
		case "TREATY_PG_DIR":
			c.Dir = value
		}
	}
	if c.URI == "" || c.Dir == "" {
		t.Fatalf("%s start said %q", script, out)
	}
	t.Cleanup(func() { exec.Command(script, "stop", c.Dir).Run() })
	return c
}

// Database creates a fresh database on the cluster and returns its URI; it
// is dropped when t ends.
func (c *Cluster) Database(t testing.TB) string {
	t.Helper()
	return database(t, c.URI)
}

// Restart restarts the server, shutting it down in mode ("fast": its
// sessions are ended and it checkpoints; "immediate": as if it crashed).
func (c *Cluster) Restart(mode string) error {
	out, err := exec.Command(c.script, "restart", c.Dir, mode).CombinedOutput()
	if err != nil {
		return fmt.Errorf("restart PostgreSQL (%s): %v: %s", mode, err, out)
	}
	return nil
}

// ciScript finds the repository's .ci/postgres above the working directory.
func ciScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".ci", "postgres")
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory, so no .ci/postgres")
		}
		dir = parent
	}
}
