package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) verifyCommand() *cobra.Command {
	var heads, receipts []string
	var requireSigs bool
	c := &cobra.Command{
		Use:   "verify [--head HASH[@N]]... [--receipt FILE]... [--require-signatures]",
		Short: "Replay the whole history and check it against the rules",
		Long: `Replay every event of the negotiation from the first, without checkpoints, and
check everything an auditor relies on. Exits 3 naming the first event that
breaks them. What each check proves:

  - the hash chain: every event's hash matches its content and names the event
    before it, so a change, insertion, deletion or reordering of stored events
    is found. A log rewritten consistently from its first event has a whole
    chain too: only a hash cited from before (--head, or a receipt) proves
    the log still holds what was agreed then;
  - the signatures: who acted. An act is authenticated when it is signed with
    the acting party's key in effect: one pinned at the opening (init --key)
    or endorsed by every other party. --require-signatures fails any act that
    is not, and an unsigned opening;
  - the rules of the negotiation, and what is recorded about each event (its
    round, its acting party).

--head HASH: a head cited earlier (round close and verify print it), the full
64 hex digits; HASH@N also says it was event N, which proves a loss. --receipt
FILE: a receipt written by round close --receipt; it names its event, so a log
truncated or rewritten since is caught there. Both may be given many times.`,
		Example: "  treaty verify\n  treaty verify --receipt round-1.json --receipt round-2.json --require-signatures\n  treaty verify --head 3fa9c2e1…@45 --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var cited []projections.Cited
			for _, h := range heads {
				c := projections.Cited{Hash: h, From: "--head"}
				if hash, n, ok := strings.Cut(h, "@"); ok {
					event, err := strconv.Atoi(n)
					if err != nil || event < 1 {
						return usagef("--head %q: after @ comes the number of the event the hash was cited as", h)
					}
					c.Hash, c.Event = hash, event
				}
				if err := projections.CheckCited(c); err != nil {
					return &usageError{err}
				}
				cited = append(cited, c)
			}
			r, err := a.reader(ctx)
			if err != nil {
				return err
			}
			for _, path := range receipts {
				c, err := readReceipt(path, r.Treaty())
				if err != nil {
					return err
				}
				cited = append(cited, c)
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
				Cited: cited, RequireSignatures: requireSigs, Progress: update, Checkpoints: r})
			done()
			if err != nil {
				return err
			}
			if a.format == "json" {
				if err := a.writeJSON(v); err != nil {
					return err
				}
			} else if v.OK {
				a.writeVerification(v)
			}
			if !v.OK {
				return &verifyProblem{v.Problem}
			}
			return nil
		},
	}
	c.Flags().StringArrayVar(&heads, "head", nil, "a hash cited earlier that the log must hold: 64 hex digits, optionally @N, the event it was")
	c.Flags().StringArrayVar(&receipts, "receipt", nil, "a receipt (written by round close --receipt) whose event the log must still hold")
	c.Flags().BoolVar(&requireSigs, "require-signatures", false, "fail on any act not signed with a key in effect, and on an unsigned opening")
	return c
}

// readReceipt reads a receipt file and checks its form and signature.
func readReceipt(path, treaty string) (projections.Cited, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return projections.Cited{}, fmt.Errorf("--receipt: %w", err)
	}
	var rc domain.Receipt
	if err := json.Unmarshal(raw, &rc); err != nil {
		return projections.Cited{}, fmt.Errorf("receipt %s is not a treaty receipt: %v", path, err)
	}
	if err := domain.CheckReceipt(rc); err != nil {
		return projections.Cited{}, fmt.Errorf("receipt %s: %v", path, err)
	}
	if rc.Treaty != treaty {
		return projections.Cited{}, fmt.Errorf("receipt %s is of negotiation %s, not %s", path, rc.Treaty, treaty)
	}
	return projections.Cited{Hash: rc.Head, Event: rc.Event, From: "receipt " + path, Party: rc.Party, Key: rc.Key}, nil
}

// writeVerification says, in words, what a passed verification proves.
func (a *app) writeVerification(v projections.Verification) {
	v = projections.Printable(v)
	w := a.stdout
	au := v.Authentication
	fmt.Fprintf(w, "%s: %d events verified.\n", v.Treaty, v.Events)
	fmt.Fprintln(w, "  Hash chain: whole. No stored event was changed, inserted, deleted or moved since it was written")
	if len(v.Cited) == 0 {
		fmt.Fprintln(w, "    (a log rewritten consistently from its first event would pass too: a cited head or a receipt proves it was not).")
	} else {
		fmt.Fprintln(w, "    and the log still holds what was cited:")
		for _, c := range v.Cited {
			fmt.Fprintf(w, "    %s is event %d, %s (%s).\n", domain.ShortHash(c.Hash), c.Event, c.What, c.From)
		}
	}
	fmt.Fprintf(w, "  Signatures: %d of %d acts authenticated (signed with a key in effect); %d signed with a key no other party has vouched for; %d unsigned.\n",
		au.Authenticated, au.Authenticated+au.SignedPending+au.Unsigned, au.SignedPending, au.Unsigned)
	for _, k := range v.Keys {
		fmt.Fprintf(w, "    %s: %s\n", k.Party, keySummary(k))
	}
	fmt.Fprintf(w, "  Rules: every event follows the negotiation's rules (%s, %s in the draft, %s).\n", plural(v.Rounds, "round"), plural(v.Clauses, "clause"), plural(v.Proposals, "proposal"))
	if len(v.Warnings) > 0 {
		fmt.Fprintln(w, "  Warnings (the log holds together, but):")
		for _, wn := range v.Warnings {
			fmt.Fprintf(w, "    event %d (%s): %s.\n", wn.Event, wn.Type, wn.What)
		}
		if v.WarningsOmitted > 0 {
			fmt.Fprintf(w, "    and %s more.\n", plural(v.WarningsOmitted, "warning"))
		}
	}
	fmt.Fprintf(w, "Head: %s\n", v.Head)
}

// plural counts things in words: "1 round", "3 rounds".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// keySummary says where a participant's keys stand, in a line.
func keySummary(k projections.PartyKeys) string {
	var parts []string
	if k.Effective != "" {
		parts = append(parts, "key "+k.Effective+" in effect")
	} else {
		parts = append(parts, "no key in effect: its acts are not authenticated")
	}
	for _, p := range k.Pending {
		parts = append(parts, fmt.Sprintf("key %s awaiting the endorsement of %s", p.Key, strings.Join(p.Missing, ", ")))
	}
	if len(k.Revoked) > 0 {
		parts = append(parts, "revoked "+strings.Join(k.Revoked, ", "))
	}
	return strings.Join(parts, "; ")
}
