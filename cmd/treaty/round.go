package main

import (
	"encoding/json"
	"fmt"
	"os"

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
	var receipt string
	closeCmd := &cobra.Command{
		Use:   "close [--receipt FILE]",
		Short: "Close the open round",
		Long: `Close the open round and print the hash it closed at, for the parties to cite.
--receipt FILE also writes a receipt: a small file naming the negotiation, the
closing event, its hash and time, signed with the closing party's key when this
machine holds one. Each capital keeps a copy; verify --receipt FILE proves
later that the log still holds what it cites.`,
		Example: `  treaty --as DE round close
  treaty --as DE round close --receipt berlin-round-2.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			var file *os.File
			if receipt != "" {
				// Made before the round closes: a receipt that cannot be
				// written is known before anything is appended. Ctrl-C
				// from here on lets it be removed.
				a.listen()
				if file, err = os.OpenFile(receipt, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
					return fmt.Errorf("--receipt: %w", err)
				}
				defer file.Close()
			}
			w, err := a.writer(cmd.Context())
			if err != nil {
				return err
			}
			out, err := w.Do(cmd.Context(), write.Act{Party: party, Author: a.author, Command: func(_ *domain.State, head string) (domain.Command, error) {
				return domain.CloseRound{Party: party, Head: head}, nil
			}})
			if err != nil {
				if file != nil {
					file.Close()
					os.Remove(receipt)
				}
				return err
			}
			if file != nil {
				rc, err := a.receipt(w, out, party)
				if err == nil {
					err = writeReceipt(file, rc)
				}
				if err != nil {
					return fmt.Errorf("the round closed (event %d, hash %s), but the receipt could not be written: %w", out.First, out.Head, err)
				}
			}
			return a.reportRound(out, "closed")
		},
	}
	closeCmd.Flags().StringVar(&receipt, "receipt", "", "also write a receipt of the close to this file (refused if it exists)")
	c.AddCommand(open, closeCmd)
	return c
}

// receipt makes the receipt of an act's last event, signed with the acting
// party's key when this machine holds one (in effect or pending).
func (a *app) receipt(w *write.Writer, out write.Outcome, party string) (domain.Receipt, error) {
	s := out.State
	rc := domain.Receipt{Kind: domain.ReceiptKind, Treaty: s.Treaty, Event: s.Events, Head: out.Head, Time: out.Time, Party: party}
	if c, ok := out.Events[len(out.Events)-1].(domain.RoundClosed); ok {
		rc.What = fmt.Sprintf("the close of round %d", c.Round)
	}
	id := ""
	if _, eff, ok := s.KeyOf(party); ok {
		id = eff
	} else if k, ok := s.PendingKey(party); ok {
		id = k.ID
	}
	if id != "" && w.Keys != nil {
		if priv, err := w.Keys.PrivateKey(s.Treaty, party, id); err == nil {
			return domain.SignReceipt(rc, priv), nil
		}
	}
	return rc, nil
}

func writeReceipt(f *os.File, rc domain.Receipt) error {
	b, err := json.MarshalIndent(rc, "", "  ")
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
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
