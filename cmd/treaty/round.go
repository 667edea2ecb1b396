package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
)

func (a *app) roundCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "round",
		Short: "Open or close a numbered round of talks",
		Long:  "Rounds are numbered 1, 2, … and one is open at a time. `diff` compares the agreed text between them.",
		Example: `  treaty --as DE round open --name "Berlin II"
  treaty --as DE round close`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q: it has open and close", args[0], cmd.CommandPath())
			}
			return usagef("%s needs a subcommand: open or close", cmd.CommandPath())
		},
	}
	var name string
	open := &cobra.Command{
		Use:     "open [--name N]",
		Short:   "Open the next numbered round",
		Example: `  treaty --as DE round open --name "Berlin I"`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			out, err := a.act(cmd.Context(), func(*domain.State, string) (domain.Command, error) {
				return domain.OpenRound{Party: party, Name: name}, nil
			})
			if err != nil {
				return err
			}
			return a.reportRound(out, "opened")
		},
	}
	open.Flags().StringVar(&name, "name", "", "a name for the round, e.g. the venue")
	closeCmd := &cobra.Command{
		Use:     "close",
		Short:   "Close the open round",
		Example: `  treaty --as DE round close`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			out, err := a.act(cmd.Context(), func(_ *domain.State, head string) (domain.Command, error) {
				return domain.CloseRound{Party: party, Head: head}, nil
			})
			if err != nil {
				return err
			}
			return a.reportRound(out, "closed")
		},
	}
	c.AddCommand(open, closeCmd)
	return c
}

func (a *app) reportRound(out write.Outcome, verb string) error {
	var number int
	var name string
	switch e := out.Events[0].(type) {
	case domain.RoundOpened:
		number, name = e.Round, e.Name
	case domain.RoundClosed:
		number = e.Round
	}
	if a.format == "json" {
		return a.writeJSON(map[string]any{"round": number, "name": name, "status": verb, "event": out.First, "head": out.Head})
	}
	switch {
	case verb == "closed":
		// The hash parties cite: the closing event's own, which covers
		// every event of the round before it.
		fmt.Fprintf(a.stdout, "Round %d closed at %s (event %d)\n", number, out.Head, out.First)
	case name != "":
		fmt.Fprintf(a.stdout, "Round %d %s: %s (event %d)\n", number, verb, name, out.First)
	default:
		fmt.Fprintf(a.stdout, "Round %d %s (event %d)\n", number, verb, out.First)
	}
	return nil
}
