package web

import (
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/projections"
)

// A page shows the hidden characters an older log may hold as escapes,
// never raw: a right-to-left override must not reorder what a reader sees.
func TestPagesShowHiddenCharacters(t *testing.T) {
	pages, err := templates()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{pages: pages}
	body, err := s.render("proposals-body", proposalsBody{Treaty: "berlin", Proposals: []projections.ProposalSummary{
		{ID: "3f2a91c0-0000-4000-8000-000000000000", Clause: "fund\u202eemos", Party: "UA", Action: "amend", Status: "open"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	if strings.Contains(page, "\u202e") {
		t.Fatalf("the page holds a raw right-to-left override:\n%s", page)
	}
	if !strings.Contains(page, `fund\u202eemos`) {
		t.Fatalf("the page does not show the override as an escape:\n%s", page)
	}
}
