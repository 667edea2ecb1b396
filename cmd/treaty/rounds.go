package main

import (
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) roundsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rounds",
		Short: "List the rounds: when each opened and closed, and what it produced",
		Long: `List the negotiation's rounds with the events and times that opened and closed
them, and how many proposals were tabled and adopted in each: the index that
round:N REFs refer to.`,
		Example: "  treaty rounds\n  treaty rounds --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			rounds, err := r.Rounds(cmd.Context())
			if err != nil {
				return err
			}
			if a.format == "json" {
				if rounds == nil {
					rounds = []projections.RoundView{}
				}
				return a.writeJSON(rounds)
			}
			if len(rounds) == 0 {
				a.info("No round has been opened in %s yet: `treaty round open` opens the first.", r.Treaty())
				return nil
			}
			return projections.WriteRoundsText(a.stdout, rounds)
		},
	}
}
