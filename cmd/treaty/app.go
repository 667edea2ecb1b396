package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/internal/filecache"
	"github.com/treaty-engine/treaty/internal/hugepages"
	"github.com/treaty-engine/treaty/internal/jsonindent"
	"github.com/treaty-engine/treaty/projections"
)

// app is one run of the program: global options, I/O and the open store.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	storeURI      string
	treaty        string
	as            string
	author        string
	format        string
	maxText       int
	noCheckpoints bool
	keysDir       string
	timeout       time.Duration
	// appending is set by the commands that act, before the store is
	// opened: it lets the store ready its write path while the command
	// reads.
	appending bool
	// readers is how many reads the command makes side by side once the
	// store is open (a compare's two moments), set before it is opened.
	readers int
	// working readies the process for working a document out, which a
	// kept one does not need (projections.Options.Working).
	working func()
	// listen makes Ctrl-C cancel the command's context from now on, where
	// the command would otherwise listen only once it has run for
	// listenAfter: called by the commands that run until stopped or long
	// by nature, and before writing a file that a Ctrl-C ending the
	// process would leave half made (see interrupts).
	listen func()
	// cpuProfile names the file a CPU profile of the run goes to.
	cpuProfile  string
	stopProfile func()

	// formats lists the --format values the running command accepts.
	formats []string
	// ran is set once a command's own code starts: errors before that are
	// usage errors.
	ran         bool
	commandPath string

	store eventstore.Store
	now   func() time.Time
	// secret authenticates checkpoints (see checkpointSecret); empty when
	// there is none.
	secret []byte
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, commandPath: "treaty",
		now: func() time.Time { return time.Now().UTC() }, listen: func() {}}
}

func (a *app) close() {
	if a.store != nil {
		a.store.Close()
	}
	if a.stopProfile != nil {
		a.stopProfile()
	}
}

// env variables that stand in for global flags, as CLI.md lists them.
var flagEnv = map[string]string{
	"store":   "TREATY_STORE",
	"treaty":  "TREATY",
	"as":      "TREATY_PARTY",
	"author":  "TREATY_AUTHOR",
	"keys":    "TREATY_KEYS",
	"timeout": "TREATY_TIMEOUT",
}

// rootCommand returns the command line with every command.
func (a *app) rootCommand() *cobra.Command { return a.rootFor(nil) }

// rootFor returns the command line that runs args: with only the command
// args name, when that can be told past the global flags (making each
// command, its flags and their completions, is time every other command
// would pay at its start), and with every command otherwise (help,
// completion, a name that is no command's, which cobra then answers as it
// would).
func (a *app) rootFor(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "treaty",
		Short: "Draft a negotiated text as an append-only log of proposals and positions",
		Long: `treaty keeps a negotiation as events that are never changed: rounds opened
and closed, proposals tabled, accepted, objected to, withdrawn and adopted.
The draft, the redline between rounds and the log are views of that history.

A proposal is adopted when every party (not observer) accepts it; until then
it stands in the draft in square brackets, attributed to its party.`,
		Example: `  treaty demo                       # a sample negotiation in ./treaty.db
  treaty draft                      # the draft now
  treaty diff --from round:1 --to round:2
  treaty --as US propose --clause security --text "The Parties shall consult."`,
		Version:           readBuildVersion().String(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			a.ran = true
			a.commandPath = cmd.CommandPath()
			return a.setup(cmd)
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&a.storeURI, "store", "treaty.db", "where events live: a file path, sqlite:PATH, postgres://… or esdb://… (the last two in builds with -tags postgres, esdb; env TREATY_STORE)")
	pf.StringVar(&a.treaty, "treaty", "", "which negotiation; may be left out when the store holds one (env TREATY)")
	pf.StringVar(&a.as, "as", "", "the party acting, by code (env TREATY_PARTY)")
	pf.StringVar(&a.author, "author", "", "the person acting, recorded with the event (env TREATY_AUTHOR)")
	pf.StringVar(&a.format, "format", "text", "output format: text or json, and where a command lists them markdown or html")
	pf.IntVar(&a.maxText, "max-text", domain.DefaultMaxText, "largest clause text accepted, in bytes (env TREATY_MAX_TEXT)")
	pf.DurationVar(&a.timeout, "timeout", 10*time.Second, "how long to wait for a server or a locked store before giving up (env TREATY_TIMEOUT)")
	pf.StringVar(&a.keysDir, "keys", "", "the directory of this machine's private signing keys (env TREATY_KEYS; default treaty/keys in the user's configuration directory)")
	pf.StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file")
	_ = pf.MarkHidden("cpuprofile") // for measuring treaty, not for using it
	pf.BoolVar(&a.noCheckpoints, "no-checkpoints", false, "fold every read from the first event instead of from checkpoints (env TREATY_NO_CHECKPOINTS=1)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err}
	})
	_ = root.RegisterFlagCompletionFunc("treaty", a.completeTreaties)
	_ = root.RegisterFlagCompletionFunc("as", a.completeParties)
	_ = root.RegisterFlagCompletionFunc("format", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return formatsOf(cmd), cobra.ShellCompDirectiveNoFileComp
	})

	root.AddGroup(&cobra.Group{ID: "write", Title: "Acting in a negotiation:"},
		&cobra.Group{ID: "read", Title: "Reading a negotiation:"},
		&cobra.Group{ID: "audit", Title: "Auditing a negotiation:"},
		&cobra.Group{ID: "store", Title: "Stores and samples:"})
	all := a.subcommands()
	only := commandNamed(root.PersistentFlags(), args, all)
	for _, c := range all {
		if only != "" && c.name != only {
			continue
		}
		cmd := c.make()
		cmd.GroupID = c.group
		root.AddCommand(cmd)
	}
	return root
}

// subcommand is one of treaty's commands: its name (as its Use begins), its
// help group ("" for none), and what makes it.
type subcommand struct {
	name, group string
	make        func() *cobra.Command
}

// subcommands lists the commands by help group.
func (a *app) subcommands() []subcommand {
	return []subcommand{
		{"init", "write", a.initCommand}, {"round", "write", a.roundCommand}, {"propose", "write", a.proposeCommand},
		{"accept", "write", a.acceptCommand}, {"reject", "write", a.rejectCommand}, {"withdraw", "write", a.withdrawCommand},
		{"comment", "write", a.commentCommand}, {"rebase", "write", a.rebaseCommand}, {"confirm", "write", a.confirmCommand},
		{"decline", "write", a.declineCommand}, {"conclude", "write", a.concludeCommand}, {"reopen", "write", a.reopenCommand},
		{"initial", "write", a.initialCommand}, {"reserve", "write", a.reserveCommand}, {"declare", "write", a.declareCommand},
		{"import-docx", "write", a.importDocxCommand}, {"keys", "write", a.keysCommand},
		{"draft", "read", a.draftCommand}, {"diff", "read", a.diffCommand}, {"proposals", "read", a.proposalsCommand},
		{"show", "read", a.showCommand}, {"positions", "read", a.positionsCommand}, {"rounds", "read", a.roundsCommand},
		{"log", "read", a.logCommand}, {"watch", "read", a.watchCommand}, {"serve", "read", a.serveCommand},
		{"verify", "audit", a.verifyCommand}, {"blame", "audit", a.blameCommand}, {"history", "audit", a.historyCommand},
		{"audit", "audit", a.auditCommand},
		{"version", "", a.versionCommand}, {"install", "", a.installCommand},
		{"list", "store", a.listCommand}, {"export", "store", a.exportCommand}, {"import", "store", a.importCommand},
		{"demo", "store", a.demoCommand}, {"simulate", "store", a.simulateCommand},
	}
}

// commandNamed returns the command of all that args name once the global
// flags before it (flags) are set aside, as cobra finds it; "" when args
// name none, or when it cannot be told without every command: a flag flags
// do not hold (--help, --version, a mistyped one), a shorthand, or "--".
func commandNamed(flags *pflag.FlagSet, args []string, all []subcommand) string {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case strings.HasPrefix(arg, "--") && len(arg) > 2:
			name, _, valued := strings.Cut(arg[2:], "=")
			f := flags.Lookup(name)
			if f == nil {
				return ""
			}
			if !valued && f.NoOptDefVal == "" {
				i++ // its value
			}
		case strings.HasPrefix(arg, "-"):
			return ""
		default:
			if slices.ContainsFunc(all, func(c subcommand) bool { return c.name == arg }) {
				return arg
			}
			return ""
		}
	}
	return ""
}

// formatAnnotation names the --format values a command accepts.
const formatAnnotation = "treaty.formats"

func withFormats(c *cobra.Command, formats ...string) *cobra.Command {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[formatAnnotation] = strings.Join(formats, ",")
	return c
}

func formatsOf(cmd *cobra.Command) []string {
	if f, ok := cmd.Annotations[formatAnnotation]; ok {
		return strings.Split(f, ",")
	}
	return []string{"text", "json"}
}

// setup applies environment defaults and checks the global flags.
func (a *app) setup(cmd *cobra.Command) error {
	flags := cmd.Flags()
	for name, env := range flagEnv {
		if v, ok := os.LookupEnv(env); ok && v != "" && !changed(flags, name) {
			if err := flags.Set(name, v); err != nil {
				return usagef("%s=%q: %v", env, v, err)
			}
		}
	}
	if v, ok := os.LookupEnv("TREATY_MAX_TEXT"); ok && v != "" && !changed(flags, "max-text") {
		if err := flags.Set("max-text", v); err != nil {
			return usagef("TREATY_MAX_TEXT=%q is not a number of bytes", v)
		}
	}
	if v := os.Getenv("TREATY_NO_CHECKPOINTS"); v != "" && v != "0" && !changed(flags, "no-checkpoints") {
		a.noCheckpoints = true
	}
	switch {
	case a.maxText < 1:
		return usagef("--max-text must be a positive number of bytes")
	case a.maxText > domain.MaxText:
		return usagef("--max-text %d is above %d bytes (%d MiB), the largest clause text the rules accept", a.maxText, domain.MaxText, domain.MaxText>>20)
	}
	if a.timeout <= 0 {
		return usagef("--timeout must be a positive duration, such as 10s")
	}
	a.formats = formatsOf(cmd)
	if !changed(flags, "format") && !slices.Contains(a.formats, a.format) {
		// A command that writes no text (export) writes its first format
		// unless told otherwise.
		a.format = a.formats[0]
	}
	if !slices.Contains(a.formats, a.format) {
		return usagef("%s does not write --format %q; it writes %s", cmd.CommandPath(), a.format, strings.Join(a.formats, ", "))
	}
	if a.treaty != "" {
		if err := domain.CheckSlug("treaty ID", a.treaty); err != nil {
			return &usageError{fmt.Errorf("--treaty: %w", err)}
		}
	}
	if a.as != "" {
		if err := domain.CheckSlug("party code", a.as); err != nil {
			return &usageError{fmt.Errorf("--as: %w", err)}
		}
	}
	if err := domain.CheckAuthor(a.author); err != nil {
		return &usageError{fmt.Errorf("--author: %w", err)}
	}
	if a.storeURI == "" {
		return usagef("--store is empty; give a file path or a store URI")
	}
	if a.cpuProfile != "" {
		f, err := os.Create(a.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		a.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	return nil
}

func changed(flags *pflag.FlagSet, name string) bool {
	f := flags.Lookup(name)
	return f != nil && f.Changed
}

// openStore opens the store; create lets it create an embedded store file
// that does not exist yet.
func (a *app) openStore(ctx context.Context, create bool) (eventstore.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	opts := []eventstore.Option{eventstore.Timeout(a.timeout)}
	if create {
		opts = append(opts, eventstore.Create())
	}
	if a.appending {
		opts = append(opts, eventstore.Appending())
	}
	if a.readers > 1 {
		opts = append(opts, eventstore.Readers(a.readers))
	}
	s, err := eventstore.Open(ctx, a.storeURI, opts...)
	if errors.Is(err, eventstore.ErrStoreNotFound) {
		return nil, &noStore{a.storeName()}
	}
	if scheme := eventstore.Scheme(a.storeURI); errors.Is(err, eventstore.ErrUnknownScheme) && serverTags[scheme] != "" {
		return nil, &notBuiltIn{name: a.storeName(), scheme: scheme, tag: serverTags[scheme]}
	}
	if err != nil {
		return nil, err
	}
	a.store = s
	return s, nil
}

// noStore is a store that does not exist (and was not to be made).
type noStore struct{ name string }

func (e *noStore) Error() string {
	return fmt.Sprintf("no store at %s: start a negotiation there with `treaty init` or `treaty demo`, or point --store (TREATY_STORE) at an existing one", e.name)
}

func (e *noStore) Unwrap() error { return eventstore.ErrStoreNotFound }

// storeName is the store as messages name it: its URI with any password
// hidden, whichever the backend (esdb://user:password@…,
// postgres://user:password@…/db?sslpassword=…).
func (a *app) storeName() string { return eventstore.Redact(a.storeURI) }

// treatyID returns the negotiation to act on: --treaty, or the only one in
// the store.
func (a *app) treatyID(ctx context.Context, store eventstore.Store) (string, error) {
	if a.treaty != "" {
		return a.treaty, nil
	}
	streams, err := store.Streams(ctx, projections.StreamPrefix)
	if err != nil {
		return "", err
	}
	switch len(streams) {
	case 0:
		return "", fmt.Errorf("the store %s holds no negotiation: start one with `treaty init --treaty ID --title T --party CODE=NAME`, or try `treaty demo`", a.storeName())
	case 1:
		return strings.TrimPrefix(streams[0].Name, projections.StreamPrefix), nil
	}
	var ids []string
	for _, s := range streams {
		ids = append(ids, strings.TrimPrefix(s.Name, projections.StreamPrefix))
	}
	return "", fmt.Errorf("the store %s holds %d negotiations (%s); choose one with --treaty ID or TREATY", a.storeName(), len(ids), strings.Join(ids, ", "))
}

// reader opens the store and returns a reader of the chosen negotiation.
// Reads leave checkpoints (see projections.Options.Save) so that the next
// command folds little even when nobody writes for a while; --no-checkpoints
// neither reads nor writes them. The checkpoints are read, and the document
// a command keeps rendered, into buffers on huge pages
// (hugepages.UseForBuffers), for a command that reads a few once (watch
// reads one, and holds its buffers while it runs): serve, which reads them
// all its life, opens its store without reader.
func (a *app) reader(ctx context.Context) (*projections.Reader, error) {
	hugepages.UseForBuffers()
	store, err := a.openStore(ctx, false)
	if err != nil {
		return nil, err
	}
	id, err := a.treatyID(ctx, store)
	if err != nil {
		return nil, err
	}
	return a.readerOf(store, id), nil
}

func (a *app) readerOf(store eventstore.Store, id string) *projections.Reader {
	opts := projections.Options{Working: a.working}
	if !a.noCheckpoints {
		opts.Secret, opts.Save, opts.Memos = a.checkpointSecret(), true, memoCache()
	}
	return projections.NewReader(store, id, opts)
}

// memoCache is where this machine keeps what readers work out to read
// again (compare and positions documents, redlines): under the user's cache directory,
// so that keeping them writes nothing to the store. Nil, which keeps them
// in the store, when there is no such directory.
func memoCache() eventstore.Cache {
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return filecache.New(filepath.Join(dir, "treaty", "memos"))
}

// documentHeap is how much heap documentReader puts on huge pages: more
// than a compare of distant rounds or a Word draft allocates (6 to 10 MiB
// at a million events).
const documentHeap = 12 << 20

// documentReader is reader for a command that renders a document from
// whole states (the draft). In the formats other than text
// (Markdown, JSON, HTML, Word) such a document allocates megabytes, each
// touched once, and prepareDocument puts them on huge pages first: their
// first touches then take a fraction of the page faults, which some
// virtual machines make dear. As text it allocates much less, as an act,
// the log, a proposal and a kept compare do: the start of the heap, on
// huge pages already (heapstart), holds most of it, and prepareDocument
// was found to gain these nothing. diff and positions call
// prepareDocument only when they work a document out (Options.Working).
func (a *app) documentReader(ctx context.Context) (*projections.Reader, error) {
	if a.format != "text" {
		prepareDocument()
	}
	return a.reader(ctx)
}

// prepareDocument readies the process for rendering a document from whole
// states (see documentReader).
func prepareDocument() { hugepages.Reserve(documentHeap) }

// head opens the store and returns a reader of the chosen negotiation and
// the negotiation now.
func (a *app) head(ctx context.Context) (*projections.Reader, projections.Moment, error) {
	r, err := a.reader(ctx)
	if err != nil {
		return nil, projections.Moment{}, err
	}
	m, err := r.Head(ctx)
	return r, m, err
}

// writer opens the store and returns the write path to the chosen
// negotiation.
func (a *app) writer(ctx context.Context) (*write.Writer, error) {
	a.appending = true
	r, err := a.reader(ctx)
	if err != nil {
		return nil, err
	}
	return a.writerOf(r)
}

func (a *app) writerOf(r *projections.Reader) (*write.Writer, error) {
	w := a.batchWriter()
	w.Store, w.Reader = r.Store(), r
	return w, nil
}

// batchWriter returns a write path with this machine's keys and clock, for
// batches whose store is given before they are flushed.
func (a *app) batchWriter() *write.Writer {
	w := &write.Writer{Now: a.now}
	if kr, err := a.keyring(); err == nil {
		w.Keys = kr
	}
	return w
}

// act carries out one act of the acting party (--as) through the write
// path.
func (a *app) act(ctx context.Context, command func(s *domain.State, head string) (domain.Command, error)) (write.Outcome, error) {
	w, err := a.writer(ctx)
	if err != nil {
		return write.Outcome{}, err
	}
	return w.Do(ctx, write.Act{Party: a.as, Author: a.author, Command: command})
}

// needParty returns the acting party, or a usage error saying how to give it.
func (a *app) needParty() (string, error) {
	if a.as == "" {
		return "", usagef("say which party acts with --as CODE (or TREATY_PARTY)")
	}
	return a.as, nil
}

// color reports whether text output to w may be coloured: a terminal, and
// NO_COLOR unset.
func (a *app) color(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) style() projections.Style { return a.styleFor(a.stdout) }

// styleFor is the style of text output to w.
func (a *app) styleFor(w io.Writer) projections.Style {
	return projections.Style{Color: a.color(w), Width: a.width(w)}
}

// testWidth, when not 0, is the terminal width text output is wrapped to,
// terminal or not: the end-to-end scripts, whose output is never a
// terminal, set it (see TestMain).
var testWidth int

// width is the width of the terminal w is, in columns, to wrap text to;
// 0 when w is not a terminal (a pipe, a file), whose reader wants each
// line whole.
func (a *app) width(w io.Writer) int {
	if testWidth != 0 {
		return testWidth
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// writeJSON writes v as indented JSON on stdout.
func (a *app) writeJSON(v any) error { return a.writeJSONTo(a.stdout, v) }

// writeJSONTo writes v as indented JSON to w.
func (a *app) writeJSONTo(w io.Writer, v any) error { return jsonindent.Encode(w, v, jsonIndent) }

// jsonIndent is the indentation of every JSON document written.
const jsonIndent = "  "

// writeJSONList writes the proposals in list as writeJSON writes them in a
// slice.
func (a *app) writeJSONList(list *projections.ProposalList) error {
	if err := list.WriteJSON(a.stdout, jsonIndent, 0); err != nil {
		return err
	}
	_, err := io.WriteString(a.stdout, "\n")
	return err
}

// info writes a message for people on stderr, every string it quotes made
// visible (see domain.Visible).
func (a *app) info(format string, args ...any) {
	for i, arg := range args {
		if s, ok := arg.(string); ok {
			args[i] = domain.Visible(s)
		}
	}
	fmt.Fprintf(a.stderr, format+"\n", args...)
}

func (a *app) completeTreaties(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	_ = a.setup(cmd)
	store, err := a.openStore(cmd.Context(), false)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ts, err := projections.Treaties(cmd.Context(), store)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, t := range ts {
		out = append(out, domain.Visible(t.ID)+"\t"+domain.Visible(t.Title))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// headForCompletion loads the negotiation for shell completion, quietly.
func (a *app) headForCompletion(cmd *cobra.Command) *domain.State {
	_ = a.setup(cmd)
	_, m, err := a.head(cmd.Context())
	if err != nil {
		return nil
	}
	return m.State
}

func (a *app) completeParties(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if s := a.headForCompletion(cmd); s != nil {
		for _, p := range s.Parties {
			out = append(out, p.Code+"\t"+domain.Visible(p.Name))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func (a *app) completeClauses(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if s := a.headForCompletion(cmd); s != nil {
		for _, c := range s.Draft() {
			out = append(out, c.ID+"\t"+domain.Visible(c.Heading))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeEveryClause completes a clause argument with every clause the
// negotiation has known, deleted ones too: their history is still there.
func (a *app) completeEveryClause(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	if s := a.headForCompletion(cmd); s != nil {
		for _, id := range s.Order {
			c := s.Clauses[id]
			what := domain.Visible(c.Heading)
			switch {
			case c.Deleted:
				what = strings.TrimSpace(what + " (deleted)")
			case !c.Agreed():
				what = strings.TrimSpace(what + " (no agreed text)")
			}
			out = append(out, id+"\t"+what)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// openProposals completes a proposal argument with the open proposals that
// keep says may be acted on.
func (a *app) openProposals(cmd *cobra.Command, args []string, keep func(*domain.State, *domain.Proposal) bool) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	if s := a.headForCompletion(cmd); s != nil {
		for _, c := range s.Draft() {
			for _, p := range s.OpenProposals(c.ID) {
				if keep(s, p) {
					what := p.Party + " " + string(p.Action) + " " + p.Clause
					if s.Stale(p) {
						what += ", stale"
					}
					out = append(out, domain.Short(p.Proposal)+"\t"+what)
				}
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeOpenProposals completes a proposal argument with the open ones.
func (a *app) completeOpenProposals(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.openProposals(cmd, args, func(*domain.State, *domain.Proposal) bool { return true })
}

// completePosition completes accept's or reject's argument with the open
// proposals a position can be taken on: not stale (accepting one is
// refused), and, with --as, neither the party's own nor those it already
// holds the position on, unconditionally; none for an observer, which
// takes no position.
func (a *app) completePosition(stance domain.Stance) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.openProposals(cmd, args, func(s *domain.State, p *domain.Proposal) bool {
			if a.as == "" {
				return !s.Stale(p)
			}
			party, known := s.Party(a.as)
			pos, ok := p.Positions.Lookup(a.as)
			held := ok && pos.Stance == stance && len(pos.SubjectTo) == 0 && !pos.AdReferendum
			return !s.Stale(p) && !held && p.Party != a.as && !(known && party.Role == domain.RoleObserver)
		})
	}
}

// completeOwnProposals completes withdraw's argument with the open
// proposals of the party acting (all open ones without --as).
func (a *app) completeOwnProposals(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.openProposals(cmd, args, func(_ *domain.State, p *domain.Proposal) bool { return a.as == "" || p.Party == a.as })
}

// completeStale completes rebase's argument with the stale proposals (of
// the party acting, with --as).
func (a *app) completeStale(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.openProposals(cmd, args, func(s *domain.State, p *domain.Proposal) bool {
		return s.Stale(p) && (a.as == "" || p.Party == a.as)
	})
}

// completeProposalIDs offers the open proposals that are not stale as a
// flag's values (--subject-to, --revise).
func (a *app) completeProposalIDs(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return a.openProposals(cmd, nil, func(s *domain.State, p *domain.Proposal) bool { return !s.Stale(p) })
}

// recentRefs is how many of the last events completeRefs offers as @N.
const recentRefs = 5

// completeRefs offers the moments a REF names (see docs/cli.md): head, each
// round's end and start, and the last few events, in that order.
func (a *app) completeRefs(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	const directive = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	out := []string{"head\tnow"}
	_ = a.setup(cmd)
	r, m, err := a.head(cmd.Context())
	if err != nil {
		return out, directive
	}
	s := m.State
	for _, rd := range s.Rounds {
		name := ""
		if rd.Name != "" {
			name = " (" + domain.Visible(rd.Name) + ")"
		}
		end := fmt.Sprintf("the end of round %d%s, event %d", rd.Number, name, rd.Closed)
		if rd.Closed == 0 {
			end = fmt.Sprintf("round %d%s, open: now", rd.Number, name)
		}
		out = append(out, fmt.Sprintf("round:%d\t%s", rd.Number, end),
			fmt.Sprintf("round:%d:start\tthe opening of round %d%s, event %d", rd.Number, rd.Number, name, rd.Opened))
	}
	for rec, err := range projections.Events(cmd.Context(), r.Store(), r.Treaty(), max(0, s.Events-recentRefs)) {
		if err != nil {
			break
		}
		what := domain.Visible(rec.Type)
		if e, err := projections.EntryOf(rec); err == nil {
			what = domain.Visible(e.Summary)
		}
		out = append(out, fmt.Sprintf("@%d\tjust after event %d: %s", rec.Number, rec.Number, what))
	}
	return out, directive
}

// completeAdRef offers the adoptions ad referendum that await a capital.
func (a *app) completeAdRef(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	if s := a.headForCompletion(cmd); s != nil {
		for _, c := range s.Draft() {
			if len(c.AdRef) > 0 && (a.as == "" || slices.Contains(c.AdRef, a.as)) {
				out = append(out, domain.Short(c.AdRefProposal)+"\t"+c.ID+", awaiting "+strings.Join(c.AdRef, ", "))
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
