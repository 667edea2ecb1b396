package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
)

func (a *app) verifyCommand() *cobra.Command {
	var head string
	var requireSigs bool
	c := &cobra.Command{
		Use:   "verify",
		Short: "Replay the whole history and check it against the rules",
		Long: `Replay every event of the negotiation from the first, without checkpoints, and
check everything an auditor relies on: the hash chain (each event's hash
matches its content and follows the event before it, so an edited, inserted,
deleted or reordered event is found), the signature of every act of a party
that registered a key, the rules of the negotiation, and what is recorded
about each event. Exits 3 naming the first event that breaks them.

It prints the log's head hash; cite it, and --head HASH proves later that the
log still contains it.`,
		Example: "  treaty verify\n  treaty verify --head 3fa9c2e1d0b4 --require-signatures\n  treaty verify --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if head != "" && (len(head) < 8 || len(head) > 64 || strings.Trim(strings.ToLower(head), "0123456789abcdef") != "") {
				return usagef("--head %q is not a hash: give at least 8 hex digits of one", head)
			}
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
			v, err := projections.Verify(ctx, a.store, r.Treaty(), projections.VerifyOptions{
				Head: head, RequireSignatures: requireSigs, Progress: update})
			done()
			if err != nil {
				return err
			}
			if a.format == "json" {
				if err := a.writeJSON(v); err != nil {
					return err
				}
			} else if v.OK {
				fmt.Fprintf(a.stdout, "%s: %d events verified: the hash chain is whole, %d signatures check, and the log folds under the rules (%d rounds, %d clauses in the draft, %d proposals).\n",
					v.Treaty, v.Events, v.Signed, v.Rounds, v.Clauses, v.Proposals)
				fmt.Fprintf(a.stdout, "Head: %s\n", v.Head)
			}
			if !v.OK {
				return &verifyProblem{v.Problem}
			}
			return nil
		},
	}
	c.Flags().StringVar(&head, "head", "", "a hash the log must still contain (a head cited earlier, at least 8 hex digits): proves nothing was truncated or rewritten since")
	c.Flags().BoolVar(&requireSigs, "require-signatures", false, "fail on any act of a party that is not signed")
	return c
}
