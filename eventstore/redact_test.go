package eventstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"esdb://admin:changeit@localhost:2113?tls=false", "esdb://admin:xxxxx@localhost:2113?tls=false"},
		{"esdb://admin:changeit@h1:2113,h2:2113,h3:2113", "esdb://admin:xxxxx@h1:2113,h2:2113,h3:2113"},
		{"esdb+discover://u:p%40ss@cluster.example.org", "esdb+discover://u:xxxxx@cluster.example.org"},
		{"esdb://u:a@b@host", "esdb://u:xxxxx@host"}, // the last @ ends the user information
		{"esdb://admin@localhost", "esdb://admin@localhost"},
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false"},
		{"esdb://host/?tlsCAFile=/a@b:c", "esdb://host/?tlsCAFile=/a@b:c"}, // an @ after the host is no user information
		{"postgres://treaty:s3cret@db.example.org:5432/treaty?sslmode=verify-full", "postgres://treaty:xxxxx@db.example.org:5432/treaty?sslmode=verify-full"},
		{"postgresql://u:pw@h1,h2:5433/db", "postgresql://u:xxxxx@h1,h2:5433/db"},
		{"postgres://u@host/db?password=s3cret&sslmode=require", "postgres://u@host/db?password=xxxxx&sslmode=require"},
		{"postgres://host/db?sslmode=require&PassWord=s3cret", "postgres://host/db?sslmode=require&PassWord=xxxxx"},
		{"postgres://host/db?sslpassword=key%26pw#frag", "postgres://host/db?sslpassword=xxxxx#frag"},
		{"postgres://host/db?pass%77ord=s3cret", "postgres://host/db?pass%77ord=xxxxx"},
		{"postgres:///treaty?host=/run/postgresql", "postgres:///treaty?host=/run/postgresql"},
		{"treaty.db", "treaty.db"},
		{"sqlite:///abs/user:pw@x.db", "sqlite:///abs/user:pw@x.db"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	shown, secrets := RedactSecrets("postgres://u:p%40ss@host/db?password=two")
	if want := []string{"p%40ss", "p@ss", "two"}; !slices.Equal(secrets, want) {
		t.Fatalf("secrets %q, want %q", secrets, want)
	}
	msg := Scrub("failed for p@ss and two at "+shown, secrets)
	if strings.Contains(msg, "p@ss") || strings.Contains(msg, "two") {
		t.Fatalf("Scrub left a secret: %s", msg)
	}
}

// A URI no backend opens is refused naming its scheme, its password hidden.
func TestOpenUnknownSchemeHidesPassword(t *testing.T) {
	_, err := Open(context.Background(), "foo://drafter:s3cret@host/berlin")
	if !errors.Is(err, ErrUnknownScheme) || !strings.Contains(err.Error(), `"foo"`) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("got %v", err)
	}
}
