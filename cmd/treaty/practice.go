package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// The commands of negotiating practice beyond tabling and positions: the
// capitals' answers to adoptions ad referendum, comments, rebasing a stale
// proposal, and the package (conclude, reopen, initial, reserve, declare).

func (a *app) confirmCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "confirm P",
		Short: "Confirm, for your capital, an adoption you accepted ad referendum",
		Long: `Record that the acting party's capital confirms its acceptance ad referendum of
proposal P, which was adopted with it: the clause's text is agreed without
reservation once every capital it awaited has confirmed.`,
		Example:           "  treaty --as UA confirm 3f2a91c0",
		Args:              exactArgs(1, "the adopted proposal (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeAdRef,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.capital(cmd, args[0], false)
		},
	}
}

func (a *app) declineCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "decline P",
		Short: "Decline, for your capital, an adoption you accepted ad referendum",
		Long: `Record that the acting party's capital declines its acceptance ad referendum of
proposal P: the clause gets a new revision restoring the text it had before P
was adopted. Proposals that P's adoption made stale stay stale; their
proposers can carry them over with ` + "`treaty rebase`" + `.`,
		Example:           "  treaty --as UA decline 3f2a91c0",
		Args:              exactArgs(1, "the adopted proposal (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeAdRef,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.capital(cmd, args[0], true)
		},
	}
}

// capital runs confirm or decline.
func (a *app) capital(cmd *cobra.Command, ref string, decline bool) error {
	party, err := a.needParty()
	if err != nil {
		return err
	}
	out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
		p, err := s.FindProposal(ref)
		if err != nil {
			return nil, err
		}
		if decline {
			return domain.Decline{Proposal: p.Proposal, Party: party}, nil
		}
		return domain.Confirm{Proposal: p.Proposal, Party: party}, nil
	})
	if err != nil {
		return err
	}
	s := out.State
	var id, clause string
	var revision int
	switch e := out.Events[0].(type) {
	case domain.AdoptionConfirmed:
		id = e.Proposal
		if p, _, err := s.LookupProposal(id); err == nil && p != nil {
			clause = p.Clause
		}
	case domain.AdoptionDeclined:
		id, clause, revision = e.Proposal, e.Clause, e.Revision
	}
	c := s.Clauses[clause]
	var awaiting []string
	if c != nil && c.AdRefProposal == id {
		awaiting = c.AdRef
	}
	if a.format == "json" {
		return a.writeJSON(map[string]any{"proposal": id, "party": party, "type": out.Events[0].EventType(),
			"clause": clause, "revision": revision, "ad_ref": nonNil(awaiting), "event": out.First})
	}
	if decline {
		fmt.Fprintf(a.stdout, "%s's capital declines %s. Clause %s is restored at revision %d.\n", party, domain.Short(id), clause, revision)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s's capital confirms %s (clause %s).\n", party, domain.Short(id), clause)
	if len(awaiting) > 0 {
		fmt.Fprintf(a.stdout, "Still ad referendum: awaiting the capital of %s.\n", strings.Join(awaiting, ", "))
	} else {
		fmt.Fprintf(a.stdout, "Clause %s is agreed.\n", clause)
	}
	return nil
}

func (a *app) commentCommand() *cobra.Command {
	var text string
	c := &cobra.Command{
		Use:   "comment P --text T",
		Short: "Comment on a proposal",
		Long: `Add the acting participant's comment to the thread under proposal P. A comment
is no position: it neither accepts nor objects. show and history list the
thread.`,
		Example:           `  treaty --as DE comment 3f2a91c0 --text "Could 24 hours read 48?"`,
		Args:              exactArgs(1, "the proposal to comment on (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeOpenProposals,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("text") {
				return usagef("comment needs --text T")
			}
			out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
				p, err := s.FindProposal(args[0])
				if err != nil {
					return nil, err
				}
				return domain.CommentOn{Proposal: p.Proposal, Party: party, Text: text}, nil
			})
			if err != nil {
				return err
			}
			e := out.Events[0].(domain.ProposalCommented)
			if a.format == "json" {
				return a.writeJSON(map[string]any{"proposal": e.Proposal, "party": party, "type": e.EventType(), "event": out.First})
			}
			fmt.Fprintf(a.stdout, "%s commented on %s (event %d).\n", party, domain.Short(e.Proposal), out.First)
			return nil
		},
	}
	c.Flags().StringVar(&text, "text", "", "the comment")
	return c
}

func (a *app) rebaseCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "rebase P",
		Short: "Carry your stale proposal over to the clause's current text",
		Long: `Carry stale proposal P over to its clause's current text: its change (from the
text it was drafted against to its own) is merged, word by word, into the text
adopted since. When the two changes touch different words, the result is
tabled as a new proposal that says it rebases P, and P is withdrawn, in one
step. When both changed the same words differently, nothing is tabled: each
conflicting run is printed with both sides, for a proposal by hand with
` + "`treaty propose --clause ID --text T`" + ` (exit status 1).`,
		Example:           "  treaty --as EU rebase 3f2a91c0",
		Args:              exactArgs(1, "the stale proposal to rebase (its ID or a unique prefix)"),
		ValidArgsFunction: a.completeStale,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			var conflicts []redline.Conflict
			var old *domain.Proposal
			var current string
			out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
				p, err := s.FindOpenProposal(args[0])
				if err != nil {
					return nil, err
				}
				old, conflicts = p, nil
				t := domain.Table{Proposal: uuid.NewString(), Clause: p.Clause, Party: party, Heading: p.Heading,
					After: p.After, First: p.First, Note: p.Note, Rebases: p.Proposal, MaxText: a.maxText}
				if p.Action == domain.ActionDelete {
					t.Delete, t.Heading = true, nil
					return t, nil
				}
				if c := s.Clauses[p.Clause]; c != nil && c.Agreed() {
					current = c.Text
				}
				if !s.Stale(p) || p.Party != party {
					// The rules say why this is no rebase.
					t.Text = p.Text
					return t, nil
				}
				merged, cs := redline.Merge3(p.BaseText, p.Text, current)
				if len(cs) > 0 {
					conflicts = cs
					return nil, domain.Errorf(domain.ECONFLICT, "proposal %s cannot be rebased: %s changed by it and by the text adopted since", domain.Short(p.Proposal), plural(len(cs), "run"))
				}
				if c := s.Clauses[p.Clause]; merged == current && (p.Heading == nil || c == nil || *p.Heading == c.Heading) {
					return nil, domain.Errorf(domain.ECONFLICT, "the current text of clause %s already holds the change of proposal %s; withdraw it", p.Clause, domain.Short(p.Proposal))
				}
				t.Text = merged
				return t, nil
			})
			if len(conflicts) > 0 {
				if a.format == "json" {
					if werr := a.writeJSON(map[string]any{"proposal": old.Proposal, "clause": old.Clause, "conflicts": conflicts}); werr != nil {
						return werr
					}
				} else {
					writeConflicts(a.stdout, old, current, conflicts)
				}
			}
			if err != nil {
				return err
			}
			tabled := out.Events[0].(domain.ProposalTabled)
			if a.format == "json" {
				return a.writeJSON(map[string]any{"proposal": tabled.Proposal, "rebases": tabled.Rebases, "clause": tabled.Clause,
					"party": party, "text": tabled.Text, "event": out.First, "adoptions": adoptionsJSON(out)})
			}
			fmt.Fprintln(a.stdout, tabled.Proposal)
			a.info("Rebased %s onto revision %d of %s as %s; %s is withdrawn.", domain.Short(tabled.Rebases), tabled.BaseRevision, tabled.Clause, domain.Short(tabled.Proposal), domain.Short(tabled.Rebases))
			for _, line := range adoptionLines(out) {
				a.info("%s", line)
			}
			a.betweenRounds(out.State)
			return nil
		},
	}
	return c
}

// writeConflicts prints each run a rebase could not merge, both sides.
func writeConflicts(w io.Writer, p *domain.Proposal, current string, cs []redline.Conflict) {
	fmt.Fprintf(w, "Proposal %s (clause %s) and the text adopted since both change these runs:\n", domain.Short(p.Proposal), p.Clause)
	for i, c := range cs {
		fmt.Fprintf(w, "\n%d. the text it was drafted against: %q\n   proposal %s makes it:          %q\n   the clause's current text has: %q\n",
			i+1, c.Base, domain.Short(p.Proposal), c.Ours, c.Theirs)
	}
	fmt.Fprintf(w, "\nThe clause's current text:\n%s\nProposal %s's text:\n%s\n", indentText(current), domain.Short(p.Proposal), indentText(p.Text))
}

func indentText(s string) string { return "   " + strings.ReplaceAll(s, "\n", "\n   ") }

func (a *app) concludeCommand() *cobra.Command {
	var receipt string
	c := &cobra.Command{
		Use:   "conclude [--receipt FILE]",
		Short: "Record that the whole text is agreed",
		Long: `Record that the whole text is agreed: nothing is agreed until everything is
agreed, and this is the moment everything is. Refused, with what stands in the
way, while a proposal is open, an adoption awaits a capital, or a round is
open. After it nothing is tabled until every party agrees to ` + "`treaty reopen`" + `;
each party initials the text with ` + "`treaty initial`" + `. Prints the head the parties
initial; --receipt FILE also writes a receipt of it (see round close).`,
		Example: `  treaty --as DE conclude
  treaty --as DE conclude --receipt berlin-concluded.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			out, err := a.actWithReceipt(cmd, party, receipt, func(_ *domain.State, head string) (domain.Command, error) {
				return domain.Conclude{Party: party, Head: head}, nil
			})
			if err != nil {
				return err
			}
			e := out.Events[0].(domain.TextConcluded)
			if a.format == "json" {
				return a.writeJSON(map[string]any{"type": e.EventType(), "party": party, "event": out.First, "head": e.Head})
			}
			fmt.Fprintf(a.stdout, "Concluded at event %d: the whole text is agreed.\nThe text the parties initial: %s\n", out.First, e.Head)
			a.info("Each party initials it with `treaty --as CODE initial`.")
			return nil
		},
	}
	c.Flags().StringVar(&receipt, "receipt", "", "also write a receipt of the conclusion to this file (refused if it exists)")
	return c
}

func (a *app) reopenCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reopen",
		Short: "Agree to reopen the concluded text",
		Long: `Record the acting party's agreement to reopen the concluded text. Once every
party has agreed, proposals may be tabled again, and the text is concluded
and initialled afresh.`,
		Example: "  treaty --as UA reopen",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			out, err := a.act(cmd.Context(), func(*domain.State, string) (domain.Command, error) {
				return domain.Reopen{Party: party}, nil
			})
			if err != nil {
				return err
			}
			s := out.State
			awaiting := []string{}
			if s.Concluded != nil {
				awaiting = nonNil(s.AwaitingReopening())
			}
			if a.format == "json" {
				return a.writeJSON(map[string]any{"type": domain.TypeReopeningAgreed, "party": party, "event": out.First,
					"reopened": s.Concluded == nil, "awaiting": awaiting})
			}
			if s.Concluded == nil {
				fmt.Fprintf(a.stdout, "%s agrees to reopen the text. Every party has: the text is open again.\n", party)
			} else {
				fmt.Fprintf(a.stdout, "%s agrees to reopen the text. Awaiting %s.\n", party, strings.Join(awaiting, ", "))
			}
			return nil
		},
	}
}

func (a *app) initialCommand() *cobra.Command {
	var head string
	c := &cobra.Command{
		Use:   "initial [--head HASH]",
		Short: "Initial the concluded text",
		Long: `Record the acting party's initials on the concluded text (Vienna Convention on
the Law of Treaties, art. 10), citing the head it was concluded at. --head
names the hash the party reviewed (all 64 hex digits, or the first 8 or more);
it is refused if it is not the concluded text's.`,
		Example: `  treaty --as UA initial
  treaty --as US initial --head 9c1e4f0a`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			head = strings.ToLower(strings.TrimSpace(head))
			if cmd.Flags().Changed("head") && (len(head) < 8 || strings.Trim(head, "0123456789abcdef") != "") {
				return usagef("--head %q is not a hash: give the 64 hex digits of the head, or the first 8 or more", head)
			}
			out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
				cite := head
				if c := s.Concluded; c != nil && (cite == "" || strings.HasPrefix(c.Head, cite)) {
					cite = c.Head
				}
				return domain.InitialText{Party: party, Head: cite}, nil
			})
			if err != nil {
				return err
			}
			e := out.Events[0].(domain.TextInitialled)
			s := out.State
			var awaiting []string
			for _, p := range s.Parties {
				if p.Role == domain.RoleParty && !initialled(s, p.Code) {
					awaiting = append(awaiting, p.Code)
				}
			}
			if a.format == "json" {
				return a.writeJSON(map[string]any{"type": e.EventType(), "party": party, "head": e.Head, "event": out.First, "awaiting": nonNil(awaiting)})
			}
			fmt.Fprintf(a.stdout, "%s initials the text concluded at %s.\n", party, e.Head)
			if len(awaiting) > 0 {
				fmt.Fprintf(a.stdout, "Awaiting the initials of %s.\n", strings.Join(awaiting, ", "))
			} else {
				fmt.Fprintln(a.stdout, "Every party has initialled the text.")
			}
			return nil
		},
	}
	c.Flags().StringVar(&head, "head", "", "the hash of the concluded text the party reviewed")
	return c
}

func initialled(s *domain.State, party string) bool {
	for _, i := range s.Initials {
		if i.Party == party {
			return true
		}
	}
	return false
}

func (a *app) reserveCommand() *cobra.Command {
	var clause, text string
	c := &cobra.Command{
		Use:   "reserve --clause ID --text T",
		Short: "Make a reservation to a clause",
		Long: `Record the acting party's reservation to an agreed clause (Vienna Convention on
the Law of Treaties, arts. 2(1)(d), 19-23): it is kept with the text and shown
under the clause. A party makes its reservations before it initials.`,
		Example: `  treaty --as UA reserve --clause territory --text "Ukraine does not consider itself bound by paragraph 2."`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			switch {
			case clause == "":
				return usagef("reserve needs --clause ID")
			case !cmd.Flags().Changed("text"):
				return usagef("reserve needs --text T")
			}
			out, err := a.act(cmd.Context(), func(*domain.State, string) (domain.Command, error) {
				return domain.Reserve{Party: party, Clause: clause, Text: text}, nil
			})
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(map[string]any{"type": domain.TypeReservationMade, "party": party, "clause": clause, "event": out.First})
			}
			fmt.Fprintf(a.stdout, "%s makes a reservation to clause %s (event %d).\n", party, clause, out.First)
			return nil
		},
	}
	c.Flags().StringVar(&clause, "clause", "", "the clause the reservation is to")
	c.Flags().StringVar(&text, "text", "", "the reservation")
	_ = c.RegisterFlagCompletionFunc("clause", a.completeClauses)
	return c
}

func (a *app) declareCommand() *cobra.Command {
	var text string
	c := &cobra.Command{
		Use:   "declare --text T",
		Short: "Make a declaration on the text",
		Long: `Record the acting party's declaration on the text as a whole: how it
understands it, kept with the text. A party makes its declarations before it
initials.`,
		Example: `  treaty --as EU declare --text "The Union understands 'guarantees' as in Article 42(7) TEU."`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("text") {
				return usagef("declare needs --text T")
			}
			out, err := a.act(cmd.Context(), func(*domain.State, string) (domain.Command, error) {
				return domain.Declare{Party: party, Text: text}, nil
			})
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(map[string]any{"type": domain.TypeDeclarationMade, "party": party, "event": out.First})
			}
			fmt.Fprintf(a.stdout, "%s makes a declaration (event %d).\n", party, out.First)
			return nil
		},
	}
	c.Flags().StringVar(&text, "text", "", "the declaration")
	return c
}

// actWithReceipt carries out an act and, when path is not empty, writes a
// receipt of its last event there: the file is made before the act, so
// that a receipt that cannot be written is known before anything is
// appended.
func (a *app) actWithReceipt(cmd *cobra.Command, party, path string, command func(*domain.State, string) (domain.Command, error)) (write.Outcome, error) {
	var file *os.File
	if path != "" {
		a.listen() // Ctrl-C from here on lets the receipt be removed
		var err error
		if file, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			return write.Outcome{}, fmt.Errorf("--receipt: %w", err)
		}
		defer file.Close()
	}
	w, err := a.writer(cmd.Context())
	if err != nil {
		if file != nil {
			file.Close()
			os.Remove(path)
		}
		return write.Outcome{}, err
	}
	out, err := w.Do(cmd.Context(), write.Act{Party: party, Author: a.author, Command: command})
	if err != nil {
		if file != nil {
			file.Close()
			os.Remove(path)
		}
		return out, err
	}
	if file != nil {
		rc, err := a.receipt(w, out, party)
		if err == nil {
			err = writeReceipt(file, rc)
		}
		if err != nil {
			return out, fmt.Errorf("%s was recorded (event %d, hash %s), but the receipt could not be written: %w", out.Events[len(out.Events)-1].EventType(), out.First, out.Head, err)
		}
	}
	return out, nil
}

// adoptionLines says what the adoptions of an act did, a line each: a
// package adopts several proposals in one append.
func adoptionLines(out write.Outcome) []string {
	var lines []string
	s := out.State
	var adopted []domain.ProposalAdopted
	for _, e := range out.Events {
		if ad, ok := e.(domain.ProposalAdopted); ok {
			adopted = append(adopted, ad)
		}
	}
	if len(adopted) > 1 {
		ids := make([]string, len(adopted))
		for i, ad := range adopted {
			ids[i] = fmt.Sprintf("%s (%s)", domain.Short(ad.Proposal), ad.Clause)
		}
		lines = append(lines, fmt.Sprintf("Adopted together, as a package: %s.", strings.Join(ids, ", ")))
	}
	for _, ad := range adopted {
		c := s.Clauses[ad.Clause]
		what := fmt.Sprintf("Clause %s is at revision %d", ad.Clause, ad.Revision)
		if c != nil && c.Deleted {
			what = fmt.Sprintf("Clause %s is deleted (revision %d)", ad.Clause, ad.Revision)
		}
		if c != nil && c.AdRefProposal == ad.Proposal && len(c.AdRef) > 0 {
			what += fmt.Sprintf(", agreed ad referendum: awaiting the capital of %s (treaty confirm or treaty decline)", strings.Join(c.AdRef, ", "))
		}
		if len(adopted) > 1 {
			lines = append(lines, fmt.Sprintf("  %s: %s.", domain.Short(ad.Proposal), what))
		} else {
			lines = append(lines, fmt.Sprintf("Adopted: every party accepts. %s.", what))
		}
	}
	for _, ad := range adopted {
		if n := newlyStale(s, ad); n > 0 {
			lines = append(lines, fmt.Sprintf("%s on %s went stale.", upperFirst(plural(n, "other proposal")), ad.Clause))
		}
	}
	return lines
}

// newlyStale counts the open proposals on an adopted proposal's clause that
// its adoption made stale: those drafted against the revision before.
func newlyStale(s *domain.State, ad domain.ProposalAdopted) int {
	n := 0
	for _, p := range s.OpenProposals(ad.Clause) {
		if p.BaseRevision == ad.Revision-1 {
			n++
		}
	}
	return n
}

// adoptionsJSON lists the adoptions of an act for JSON output.
func adoptionsJSON(out write.Outcome) []map[string]any {
	list := []map[string]any{}
	for _, e := range out.Events {
		ad, ok := e.(domain.ProposalAdopted)
		if !ok {
			continue
		}
		c := out.State.Clauses[ad.Clause]
		adRef := []string{}
		if c != nil && c.AdRefProposal == ad.Proposal {
			adRef = nonNil(c.AdRef)
		}
		list = append(list, map[string]any{"proposal": ad.Proposal, "clause": ad.Clause, "revision": ad.Revision,
			"deleted": c != nil && c.Deleted, "ad_ref": adRef})
	}
	return list
}
