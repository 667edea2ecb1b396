// Package faulttest has what the server backends' fault tests share:
// servers that misbehave on loopback, and the check that a failure came in
// time and says where.
package faulttest

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// Slack is how much later than its timeout a call may end.
const Slack = 2 * time.Second

// FreePort returns a loopback address nothing listens on.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Listen returns the address of a loopback listener, closed when t ends,
// whose connections conn handles, each on a goroutine of its own.
func Listen(t testing.TB, conn func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go conn(c)
		}
	}()
	return l.Addr().String()
}

// WantBounded checks that err came within timeout (plus Slack) of start,
// wraps want, and names uri, the URI the store was opened with, with its
// password hidden (eventstore.Redact) and shown nowhere.
func WantBounded(t testing.TB, what string, start time.Time, timeout time.Duration, err error, uri string, want error) {
	t.Helper()
	took := time.Since(start)
	shown, secrets := eventstore.RedactSecrets(uri)
	switch {
	case err == nil:
		t.Fatalf("%s: no error", what)
	case took > timeout+Slack:
		t.Fatalf("%s took %s, more than the timeout %s: %v", what, took, timeout, err)
	case !errors.Is(err, want):
		t.Fatalf("%s: %v, want %v", what, err, want)
	case !strings.Contains(err.Error(), shown):
		t.Fatalf("%s: error %q does not name %s", what, err, shown)
	case eventstore.Scrub(err.Error(), secrets) != err.Error():
		t.Fatalf("%s: error %q shows the password", what, err)
	}
	t.Logf("%s after %s: %v", what, took.Round(time.Millisecond), err)
}
