package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/domain"
)

func TestKeyring(t *testing.T) {
	kr := keyring{filepath.Join(t.TempDir(), "keys")}
	_, priv, _ := ed25519.GenerateKey(nil)
	id := domain.KeyID(priv.Public().(ed25519.PublicKey))
	path, err := kr.save("berlin", "UA", priv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %v, want 0700", dir.Mode().Perm())
	}
	got, err := kr.load("berlin", "UA", id)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("load: %v", err)
	}
	// The same key again is fine; another under its name is not.
	if _, err := kr.save("berlin", "UA", priv); err != nil {
		t.Fatalf("saving the same key twice: %v", err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	os.WriteFile(mustFile(t, kr, "berlin", "EU", domain.KeyID(other.Public().(ed25519.PublicKey))), []byte("junk"), 0o600)
	if _, err := kr.save("berlin", "EU", other); err == nil {
		t.Fatal("overwrote a different file")
	}
	for name, setup := range map[string]func() string{
		"missing": func() string { return "0000000000000000" },
		"not PEM": func() string {
			os.WriteFile(mustFile(t, kr, "berlin", "US", "1111111111111111"), []byte("hello"), 0o600)
			return "1111111111111111"
		},
		"another key": func() string {
			os.WriteFile(mustFile(t, kr, "berlin", "US", "2222222222222222"), mustRead(t, path), 0o600)
			return "2222222222222222"
		},
		"readable by others": func() string {
			p := mustFile(t, kr, "berlin", "US", "3333333333333333")
			os.WriteFile(p, mustRead(t, path), 0o644)
			os.Chmod(p, 0o644)
			return "3333333333333333"
		},
	} {
		if _, err := kr.load("berlin", "US", setup()); err == nil || !strings.Contains(err.Error(), "key") {
			t.Errorf("%s: load gave %v", name, err)
		}
	}
}

// A negotiation's ID or a party's code never leads a key out of the key
// directory, whatever an imported store says.
func TestKeyringPaths(t *testing.T) {
	kr := keyring{filepath.Join(t.TempDir(), "keys")}
	_, priv, _ := ed25519.GenerateKey(nil)
	for _, tt := range [][2]string{{"../../etc", "UA"}, {"berlin", "../UA"}, {"a/b", "UA"}, {"", "UA"}, {"berlin", ""}} {
		if _, err := kr.save(tt[0], tt[1], priv); err == nil {
			t.Errorf("saved a key for treaty %q, party %q", tt[0], tt[1])
		}
		if _, err := kr.load(tt[0], tt[1], "0123456789abcdef"); err == nil || !strings.Contains(err.Error(), "may hold only") && !strings.Contains(err.Error(), "is empty") {
			t.Errorf("load for treaty %q, party %q: %v", tt[0], tt[1], err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(kr.dir)); len(entries) > 1 {
		t.Fatalf("something was written beside the key directory: %v", entries)
	}
}

func mustFile(t *testing.T, kr keyring, treaty, party, id string) string {
	t.Helper()
	p, err := kr.file(treaty, party, id)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o700)
	return p
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parsePrivateKey reads what save writes as crypto/x509 does, and leaves
// every other form to crypto/x509.
func TestParsePrivateKey(t *testing.T) {
	for range 20 {
		_, priv, _ := ed25519.GenerateKey(nil)
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := parsePrivateKey(der); !ok || !got.Equal(priv) {
			t.Fatalf("parsePrivateKey of what save writes: %x, %v; want %x", got, ok, priv)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	_, priv, _ := ed25519.GenerateKey(nil)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	for name, b := range map[string][]byte{
		"empty":           nil,
		"an ECDSA key":    ecDER,
		"cut short":       der[:len(der)-1],
		"the prefix only": der[:16],
	} {
		if got, ok := parsePrivateKey(b); ok {
			t.Errorf("%s: read as the key %x", name, got)
		}
	}
}
