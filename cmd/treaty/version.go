package main

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/eventstore"
)

// buildVersion is what the binary knows of its own build, from the build
// information Go records in it: an auditor records which build verified a
// log. Fields the build did not record are nil (a build from a copy
// without its git history, or with -buildvcs=false, records no revision).
type buildVersion struct {
	Module   string     `json:"module"`
	Version  string     `json:"version"`
	Revision *string    `json:"revision"`
	Time     *time.Time `json:"time"`
	Modified *bool      `json:"modified"`
	Go       string     `json:"go"`
	// Stores are the store URI schemes the build opens: the server
	// backends are built in only with their tags (see stores.go).
	Stores []string `json:"stores"`
}

// readBuildVersion reads the build information of the running binary.
func readBuildVersion() buildVersion {
	v := buildVersion{Module: "github.com/treaty-engine/treaty", Version: "(unknown)", Go: "(unknown)", Stores: eventstore.Schemes()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = info.GoVersion
	if info.Main.Path != "" {
		v.Module = info.Main.Path
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev := s.Value
			v.Revision = &rev
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				v.Time = &t
			}
		case "vcs.modified":
			if m, err := strconv.ParseBool(s.Value); err == nil {
				v.Modified = &m
			}
		}
	}
	return v
}

// String is the version in a line: "treaty (devel), revision 1f78da7…
// of 2026-11-30 07:02 UTC (modified), go1.26.8".
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "treaty %s", v.Version)
	if v.Revision == nil {
		b.WriteString(", revision unknown (the build recorded none)")
	} else {
		fmt.Fprintf(&b, ", revision %s", *v.Revision)
		if v.Time != nil {
			fmt.Fprintf(&b, " of %s", v.Time.UTC().Format("2006-01-02 15:04 UTC"))
		}
		if v.Modified != nil && *v.Modified {
			b.WriteString(" (modified: uncommitted changes)")
		}
	}
	fmt.Fprintf(&b, ", %s; stores: %s", v.Go, strings.Join(v.Stores, ", "))
	return b.String()
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version [--format text|json]",
		Short: "Say which build this is: its version, revision and Go version",
		Long: `Print the version of this build of treaty, from the build information Go
records in the binary: the module version, the revision and time of the commit
it was built from and whether the tree had uncommitted changes, the Go
version, and the stores it opens (the server backends are built in with
-tags postgres and -tags esdb). An auditor records it with a log's
verification. treaty --version prints the same line.`,
		Example: "  treaty version\n  treaty version --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := readBuildVersion()
			if a.format == "json" {
				return a.writeJSON(v)
			}
			_, err := fmt.Fprintln(a.stdout, v)
			return err
		},
	}
}
