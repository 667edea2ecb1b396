package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) exportCommand() *cobra.Command {
	var at string
	c := &cobra.Command{
		Use:   "export [--format jsonl|git-fast-import|akn] [--at REF]",
		Short: "Write a negotiation's events as JSON Lines, its agreed text as a git repository, or its draft as Akoma Ntoso",
		Long: `Write every event of the negotiation, oldest first, as JSON Lines (the
default): its stream, revision, ID, type, data and metadata exactly as stored.
treaty import stores them again, in this store or another (an embedded file or
a server), byte for byte.

--format git-fast-import writes instead the history of the agreed text for
git fast-import, on the branch main: one file per clause (its heading, then
its text) and a file ORDER naming them in the order of the agreed text; one
commit per adoption (authored by the proposing party, dated by the adoption;
a move is a commit of ORDER); an annotated tag round-N at the end of each
round, whose message carries the hash of the event that closed it. Reviewers
can then use git's tools.

--format akn writes the draft as of --at REF (now by default) as one Akoma
Ntoso 3.0 document (OASIS LegalDocML), valid against the official schema:
a bill (an act once concluded), each clause an article, each open proposal
an alternative article with its redline as <del> and <ins>.`,
		Example: `  treaty export > berlin.jsonl
  treaty --store esdb://localhost:2113?tls=false import berlin.jsonl   # a build with -tags esdb
  git init -q -b main text && treaty export --format git-fast-import | git -C text fast-import --quiet
  git -C text reset -q --hard                    # check out main: the clause files and ORDER
  git -C text log --oneline round-1..round-2     # the adoptions of round 2
  git -C text diff --word-diff round-1 round-2
  git -C text tag -n9 round-2                    # the hash the round closed at
  treaty export --format akn --at round:2 > berlin-round-2.akn.xml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if cmd.Flags().Changed("at") && a.format != "akn" {
				return usagef("--at goes with --format akn: the other exports are of the whole log")
			}
			ref, err := parseRef("--at", at)
			if err != nil {
				return err
			}
			r, err := a.reader(ctx)
			if err != nil {
				return err
			}
			switch a.format {
			case "git-fast-import":
				return r.WriteGitFastImport(ctx, a.stdout)
			case "akn":
				m, err := r.At(ctx, ref)
				if err != nil {
					return err
				}
				d, err := r.Draft(ctx, m, projections.DraftOptions{Redlines: true})
				if err != nil {
					return err
				}
				opened, err := r.EventTime(ctx, 1)
				if err != nil {
					return err
				}
				return projections.DraftAKN(a.stdout, d, m.State, opened)
			}
			return projections.ExportJSONL(ctx, a.store, r.Treaty(), a.stdout)
		},
	}
	c.Flags().StringVar(&at, "at", "head", "with --format akn: the moment of the draft (REF)")
	_ = c.RegisterFlagCompletionFunc("at", a.completeRefs)
	return withFormats(c, "jsonl", "git-fast-import", "akn")
}

func (a *app) importCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Append the events of an export to this store, keeping their IDs",
		Long: `Append the events of a JSON Lines export (see export) to the store, byte for
byte, keeping their IDs. The whole file is checked first, as verify checks a
log (the hash chain, what is recorded about each event, the signatures, the
rules): a file verify would reject imports nothing. What the store holds
already must be the file's beginning, and only the rest is appended, so
importing twice appends nothing; a file that does not continue the store's
log is refused naming the first mismatch. A file of up to 64 MiB of events
is appended at once; a larger one in batches, each of which leaves the store
holding a verified beginning of the file (import again to complete it after a
failure). FILE "-" reads standard input; a pipe or FIFO is read once, into a
temporary file.`,
		Example: "  treaty --store copy.db import berlin.jsonl\n  treaty export | treaty --store /backup/treaty.db import -",
		Args:    exactArgs(1, "the export to import (a file, or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			x, cleanup, err := a.exportFile(ctx, args[0])
			if err != nil {
				return err
			}
			defer cleanup()
			// The file first: a store is made only for a file that
			// imports, and an unreachable server is tried once.
			if _, _, err := x.Check(ctx); err != nil {
				return err
			}
			store, err := a.openStore(ctx, false)
			if errors.Is(err, eventstore.ErrStoreNotFound) {
				store, err = a.openStore(ctx, true)
			}
			if err != nil {
				return err
			}
			res, err := write.Import(ctx, store, x)
			if err != nil {
				return err
			}
			if res.Appended > 0 {
				r := a.readerOf(store, res.Treaty)
				if m, err := r.Head(ctx); err == nil {
					r.Checkpoint(ctx, m)
				}
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

// exportFile makes the export to import from its name: a regular file is
// read where it is; standard input ("-"), a pipe or a FIFO is read once,
// into a temporary file, since an import reads its file twice. Waiting for a
// FIFO's writer ends with ctx.
func (a *app) exportFile(ctx context.Context, name string) (write.Export, func(), error) {
	none := func() {}
	if name != "-" {
		st, err := os.Stat(name)
		if err != nil {
			return write.Export{}, none, fmt.Errorf("cannot read %s: %w", name, err)
		}
		if st.IsDir() {
			return write.Export{}, none, fmt.Errorf("%s is a directory; give an export file", name)
		}
		if st.Mode().IsRegular() {
			return write.Export{Name: name, Open: func() (io.ReadCloser, error) { return os.Open(name) }}, none, nil
		}
	}
	var src io.Reader = a.stdin
	label := "standard input"
	if name != "-" {
		label = name
		type opened struct {
			f   *os.File
			err error
		}
		ch := make(chan opened, 1)
		go func() { f, err := os.Open(name); ch <- opened{f, err} }()
		select {
		case o := <-ch:
			if o.err != nil {
				return write.Export{}, none, fmt.Errorf("cannot read %s: %w", name, o.err)
			}
			defer o.f.Close()
			src = o.f
		case <-ctx.Done():
			return write.Export{}, none, fmt.Errorf("waiting for something to write to %s: %w", name, ctx.Err())
		}
	}
	// Ctrl-C from here on lets the temporary file be removed.
	a.listen()
	tmp, err := os.CreateTemp("", "treaty-import-*.jsonl")
	if err != nil {
		return write.Export{}, none, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return write.Export{}, none, fmt.Errorf("reading %s: %w", label, err)
	}
	path := tmp.Name()
	return write.Export{Name: label, Open: func() (io.ReadCloser, error) { return os.Open(path) }}, cleanup, nil
}
