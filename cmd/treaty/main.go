// Command treaty drafts negotiated texts as an append-only log of events:
// parties table clause edits and take positions on them, and the draft, the
// redline between rounds and the log are projections of that history.
//
// This package is the only place where the domain, the projections and the
// event store meet: flags, opening the store, the write path, output. The
// command-line contract is docs/cli.md (and docs/web.md for serve).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"

	// The server backends are built in with their tags (stores.go).
	_ "github.com/treaty-engine/treaty/eventstore/sqlite"
	// Before the packages above initialize, the start of the heap goes
	// on huge pages: a command's start touches hundreds of its pages.
	_ "github.com/treaty-engine/treaty/internal/hugepages/heapstart"
)

// Exit statuses, as docs/cli.md sets them.
const (
	exitOK      = 0
	exitRefused = 1
	exitUsage   = 2
	exitProblem = 3
	// exitInterrupted is 128 + SIGINT, what shells report for a program
	// that Ctrl-C stopped.
	exitInterrupted = 130
)

// Memory profiling, on in any program that links runtime/pprof (here for
// --cpuprofile), samples an allocation every 512 KiB or so: each sample
// walks the stack and touches memory of its own, in a process that lives
// tens of milliseconds. Nothing here reads a memory profile.
func init() { runtime.MemProfileRate = 0 }

func main() {
	// Most commands read a checkpoint, act and exit within tens of
	// milliseconds: collecting garbage as often as a long-running program
	// should costs them a tenth of their time (propose at a million
	// events: 52 ms with GOGC=100, 47 with 400). A command still running
	// after that is replaying history, and goes back to the default, which
	// keeps its memory near the size of the state (verify at a million
	// events: 93 MB, against 157 to 212 MB with 400). GOGC, when set,
	// decides alone.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
		time.AfterFunc(250*time.Millisecond, func() { debug.SetGCPercent(100) })
	}
	widenPipe(os.Stdout)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns its exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := &interrupts{cancel: cancel}
	defer in.close()
	in.listenIn(listenAfter)
	a := newApp(&interruptibleStdin{ctx: ctx, r: stdin, listen: in.listen}, stdout, stderr)
	a.listen = in.listen
	root := a.rootFor(args)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	a.close()
	if cmd != nil && !a.ran {
		a.commandPath = cmd.CommandPath()
	}
	if err == nil {
		return exitOK
	}
	// Messages quote what the store holds (event types, IDs, titles, a
	// crafted file's contents): made visible, they cannot act on the
	// terminal or pass for another line.
	stderr = visibleWriter{stderr}
	var problem *verifyProblem
	var broken *projections.Problem
	var usage *usageError
	switch {
	case errors.As(err, &problem):
		fmt.Fprintf(stderr, "treaty: %v\n", err)
		return exitProblem
	case errors.As(err, &broken):
		// A read found the log broken where it folded: nothing is
		// shown from it, nothing appended to it.
		fmt.Fprintf(stderr, "treaty: the log of this negotiation does not hold together: %v; `treaty verify` gives the full report\n", err)
		return exitProblem
	case errors.As(err, &usage) || !a.ran:
		// Errors before a command runs are cobra's: an unknown command
		// or flag, a missing argument.
		fmt.Fprintf(stderr, "treaty: %v\n", err)
		if !strings.Contains(err.Error(), "--help") {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", a.commandPath)
		}
		return exitUsage
	case errors.Is(err, context.Canceled):
		// Interrupted (Ctrl-C): 128 + SIGINT, as shells expect, with what
		// the command leaves behind when it can say.
		msg := "interrupted"
		var in *interrupted
		if errors.As(err, &in) {
			msg = in.Error()
		}
		fmt.Fprintf(stderr, "treaty: %s\n", msg)
		return exitInterrupted
	}
	if h := hint(err); h != "" {
		fmt.Fprintf(stderr, "treaty: %v; %s\n", err, h)
		return exitRefused
	}
	fmt.Fprintf(stderr, "treaty: %v\n", err)
	return exitRefused
}

// hint is the command line's advice for a refusal by the negotiation's
// rules, by its reason: the domain says what is wrong, the command line
// which of its commands would help.
func hint(err error) string {
	var e *domain.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Reason {
	case domain.ReasonNotOpened:
		return "start it with `treaty init --treaty ID --title T --party CODE=NAME`"
	case domain.ReasonNoActor:
		return "say who acts with --as CODE (or TREATY_PARTY)"
	case domain.ReasonRoundOpen:
		return "close it with `treaty round close`"
	case domain.ReasonNoRound:
		return "open one with `treaty round open`"
	case domain.ReasonEmptyText:
		return fmt.Sprintf("to remove the clause, propose its deletion: treaty propose --clause %s --delete", e.Clause)
	case domain.ReasonNoProposal:
		return "`treaty proposals --all` lists them"
	case domain.ReasonStale:
		return fmt.Sprintf("its proposer can carry it over to the current text with `treaty rebase`, or table a new one: treaty propose --clause %s", e.Clause)
	case domain.ReasonConcluded:
		return "every party must agree to reopen it first: `treaty reopen`"
	case domain.ReasonNotConcluded:
		return "`treaty conclude` concludes it once nothing is open"
	}
	return ""
}

// visibleWriter writes each message made visible (see domain.Visible), but
// for its final newline.
type visibleWriter struct{ w io.Writer }

func (v visibleWriter) Write(p []byte) (int, error) {
	line, nl := strings.CutSuffix(string(p), "\n")
	out := domain.Visible(line)
	if nl {
		out += "\n"
	}
	if _, err := io.WriteString(v.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// usageError is a command line that does not say what to do: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// verifyProblem is a log that verify found broken: exit status 3.
type verifyProblem struct{ err error }

func (e *verifyProblem) Error() string { return e.err.Error() }
func (e *verifyProblem) Unwrap() error { return e.err }

// exactArgs is cobra.ExactArgs with a message that says what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return usagef("%s needs %s", cmd.CommandPath(), what)
		case len(args) > n:
			return usagef("%s takes %s, not %q", cmd.CommandPath(), what, strings.Join(args[n:], " "))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
