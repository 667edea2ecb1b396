package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) verifyCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "verify",
		Short: "Replay the whole history and check it against the rules",
		Long: `Replay every event of the negotiation from the first, without checkpoints,
through the rules of the negotiation, and check what is recorded about each:
no gap in the log, metadata that reads, the round and acting party recorded.
Exits 3 naming the first event that breaks them.`,
		Example: "  treaty verify\n  treaty verify --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := a.reader(ctx)
			if err != nil {
				return err
			}
			total := 0
			if streams, err := a.store.Streams(ctx, projections.Stream(r.Treaty())); err == nil {
				for _, s := range streams {
					if s.Name == projections.Stream(r.Treaty()) {
						total = int(s.Events)
					}
				}
			}
			update, done := a.progress(total, "verifying")
			v, err := projections.Verify(ctx, a.store, r.Treaty(), update)
			done()
			if err != nil {
				return err
			}
			if a.format == "json" {
				if err := a.writeJSON(v); err != nil {
					return err
				}
			} else if v.OK {
				fmt.Fprintf(a.stdout, "%s: %d events verified; the log folds under the rules (%d rounds, %d clauses in the draft, %d proposals).\n",
					v.Treaty, v.Events, v.Rounds, v.Clauses, v.Proposals)
			}
			if !v.OK {
				return &verifyProblem{v.Problem}
			}
			return nil
		},
	}
	return c
}
