package web

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// The vendored scripts are the ones VENDORED.md names: a change is
// deliberate.
func TestVendoredScripts(t *testing.T) {
	doc, err := staticFiles.ReadFile("static/VENDORED.md")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"htmx.min.js": "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717",
		"sse.js":      "3b5992a541619babefc4c169505af474df5c3039da51e59b96ccf9241ecd61d2",
	} {
		b, err := staticFiles.ReadFile("static/" + file)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want || !strings.Contains(string(doc), want) {
			t.Errorf("%s has SHA-256 %s; VENDORED.md and this test say %s", file, got, want)
		}
	}
	for _, licence := range []string{"htmx.LICENSE", "sse.LICENSE"} {
		if _, err := staticFiles.ReadFile("static/" + licence); err != nil {
			t.Errorf("the licence %s is not beside its script: %v", licence, err)
		}
	}
	htmx, _ := staticFiles.ReadFile("static/htmx.min.js")
	if !strings.Contains(string(htmx), `version:"2.0.11"`) {
		t.Error("htmx.min.js is not htmx 2.0.11")
	}
}
