package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) exportCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "export [--format jsonl|git-fast-import]",
		Short: "Write a negotiation's events as JSON Lines, or its agreed text as a git repository",
		Long: `Write every event of the negotiation, oldest first, as JSON Lines (the
default): its stream, revision, ID, type, data and metadata exactly as stored.
treaty import stores them again, in this store or another (an embedded file or
a server), byte for byte.

--format git-fast-import writes instead the history of the agreed text for
git fast-import: one file per clause, one commit per adoption (authored by the
proposing party, dated by the adoption), a tag round-N at the end of each
round, so that reviewers can use git's tools.`,
		Example: `  treaty export > berlin.jsonl
  treaty --store esdb://localhost:2113?tls=false import berlin.jsonl
  git init -q text && treaty export --format git-fast-import | git -C text fast-import --quiet
  git -C text diff --word-diff round-1 round-2`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			if a.format == "git-fast-import" {
				return r.WriteGitFastImport(cmd.Context(), a.stdout)
			}
			return projections.ExportJSONL(cmd.Context(), a.store, r.Treaty(), a.stdout)
		},
	}
	return withFormats(c, "text", "jsonl", "git-fast-import")
}

func (a *app) importCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Append the events of an export to this store, keeping their IDs",
		Long: `Append the events of a JSON Lines export (see export) to the store, byte for
byte, keeping their IDs. The file must hold one negotiation from its first
event with its hash chain whole; what the store holds already must be the
file's beginning, and only the rest is appended, so importing twice appends
nothing. A file that does not continue the store's log is refused naming the
first mismatch, and nothing is appended. FILE "-" reads standard input.`,
		Example: "  treaty --store copy.db import berlin.jsonl\n  treaty export | treaty --store /backup/treaty.db import -",
		Args:    exactArgs(1, "the export to import (a file, or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			open := func() (io.ReadCloser, error) {
				f, err := os.Open(name)
				if err != nil {
					return nil, fmt.Errorf("cannot read %s: %w", name, err)
				}
				return f, nil
			}
			if name == "-" {
				// Read twice (check, then append): keep a copy.
				tmp, err := os.CreateTemp("", "treaty-import-*.jsonl")
				if err != nil {
					return err
				}
				defer os.Remove(tmp.Name())
				if _, err := io.Copy(tmp, a.stdin); err != nil {
					tmp.Close()
					return fmt.Errorf("reading standard input: %w", err)
				}
				tmp.Close()
				path := tmp.Name()
				open = func() (io.ReadCloser, error) { return os.Open(path) }
				name = "standard input"
			}
			store, err := a.openStore(cmd.Context(), false)
			if err != nil {
				// No store yet: make one only for a file that imports.
				if err := write.CheckExport(open, name); err != nil {
					return err
				}
				if store, err = a.openStore(cmd.Context(), true); err != nil {
					return err
				}
			}
			res, err := write.ImportJSONL(cmd.Context(), store, open, name)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(res)
			}
			if res.Appended == 0 {
				fmt.Fprintf(a.stdout, "Nothing to import: the store already holds all %d events of %s.\n", res.Events, res.Treaty)
			} else {
				fmt.Fprintf(a.stdout, "Imported %s: %d events appended (%d in the file).\n", res.Treaty, res.Appended, res.Events)
			}
			return nil
		},
	}
}
