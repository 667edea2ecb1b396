package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) listCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the negotiations in the store",
		Example: "  treaty list\n  treaty --store sqlite:/srv/talks.db list --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := a.openStore(cmd.Context(), false)
			if err != nil {
				return err
			}
			ts, err := projections.Treaties(cmd.Context(), store)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(ts)
			}
			if len(ts) == 0 {
				a.info("The store %s holds no negotiation yet: start one with `treaty init`, or try `treaty demo`.", a.storeName())
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEVENTS\tTITLE")
			for _, t := range ts {
				// IDs and titles as stored: neither is checked here.
				fmt.Fprintf(tw, "%s\t%d\t%s\n", domain.Visible(t.ID), t.Events, domain.Visible(t.Title))
			}
			return tw.Flush()
		},
	}
}
