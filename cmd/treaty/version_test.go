package main

import (
	"slices"
	"testing"
	"time"
)

// TestBuildVersionString checks the line --version prints, with and
// without what a build records of its revision.
func TestBuildVersionString(t *testing.T) {
	rev, at, dirty, clean := "1f78da7c0ffee", time.Date(2026, 11, 30, 7, 2, 0, 0, time.UTC), true, false
	for _, c := range []struct {
		v    buildVersion
		want string
	}{
		{buildVersion{Version: "(devel)", Go: "go1.26.8", Stores: []string{"sqlite"}},
			"treaty (devel), revision unknown (the build recorded none), go1.26.8; stores: sqlite"},
		{buildVersion{Version: "v1.2.0", Revision: &rev, Time: &at, Modified: &clean, Go: "go1.26.8", Stores: []string{"postgres", "postgresql", "sqlite"}},
			"treaty v1.2.0, revision 1f78da7c0ffee of 2026-11-30 07:02 UTC, go1.26.8; stores: postgres, postgresql, sqlite"},
		{buildVersion{Version: "v1.2.1-0.20261130070200-1f78da7c0ffe+dirty", Revision: &rev, Time: &at, Modified: &dirty, Go: "go1.26.8", Stores: []string{"sqlite"}},
			"treaty v1.2.1-0.20261130070200-1f78da7c0ffe+dirty, revision 1f78da7c0ffee of 2026-11-30 07:02 UTC (modified: uncommitted changes), go1.26.8; stores: sqlite"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if v := readBuildVersion(); v.Module == "" || v.Go == "" || !slices.Contains(v.Stores, "sqlite") {
		t.Errorf("readBuildVersion() = %+v", v)
	}
}
