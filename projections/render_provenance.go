package projections

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/jsonindent"
)

// WriteBlameText writes the provenance table like `git blame`, one run of
// words per line: proposal, party, round, then the words.
func WriteBlameText(w io.Writer, b Blame, st Style) error {
	b = Printable(b)
	var out strings.Builder
	fmt.Fprintf(&out, "%s  (%s)\n", st.Bold("Provenance of "+b.Title), b.Treaty)
	fmt.Fprintf(&out, "As of %s\n", describePoint(b.AsOf))
	for _, c := range b.Clauses {
		heading := c.Heading
		if heading == "" {
			heading = c.ID
		}
		fmt.Fprintf(&out, "\n%d. %s%s\n", c.Number, st.Bold(heading), st.Dim("  ["+c.ID+"]"))
		// The round column is as wide as its widest place, so that the
		// words line up.
		width := 3
		for _, r := range c.Runs {
			width = max(width, len(placeColumn(r.place)))
		}
		for _, r := range c.Runs {
			label := fmt.Sprintf("%s %-4s %-*s", domain.Short(r.Proposal), r.Party, width, placeColumn(r.place))
			out.WriteString(indent + st.Dim(label) + "  " + strings.ReplaceAll(r.Text, "\n", "\n"+indent+strings.Repeat(" ", len(label)+2)) + "\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// WriteBlameHTML writes the provenance table as one self-contained page: the
// agreed text, each run marked with its party and, on hover, its proposal.
func WriteBlameHTML(w io.Writer, b Blame) error {
	return pages().ExecuteTemplate(w, "blame", Printable(b))
}

// WriteHistoryText writes a clause's story: its revisions with their
// redlines, then every proposal made on it and its fate.
func WriteHistoryText(w io.Writer, h ClauseHistory, st Style) error {
	h = Printable(h)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s  (%s)\n", st.Bold("History of clause"), h.Clause, h.Treaty)
	fmt.Fprintf(&b, "As of %s\n", describePoint(h.AsOf))
	if len(h.Revisions) == 0 {
		b.WriteString("\nNo text has been adopted for this clause.\n")
	}
	for _, r := range h.Revisions {
		how := "adopted"
		if r.Restores {
			how = "restored (" + r.Party + "'s capital declined " + domain.Short(r.Proposal) + ")"
		}
		by := fmt.Sprintf(": %s by %s", domain.Short(r.Proposal), r.Party)
		if r.Restores {
			by = ""
		} else if len(r.AdRef) > 0 {
			by += ", ad referendum (" + strings.Join(r.AdRef, ", ") + ")"
		}
		at := fmt.Sprintf("event %d", r.Event)
		if r.place != "" {
			at += ", " + r.place
		}
		b.WriteString("\n" + st.hang(st.Bold(fmt.Sprintf("Revision %d", r.Revision))+"  ", "  ",
			fmt.Sprintf("%s at %s, %s%s", how, at, FormatTime(r.Time), by)) + "\n")
		if r.Deleted {
			b.WriteString(indent + "(the clause was deleted)\n")
		}
		if r.Heading != "" {
			b.WriteString(indent + "Heading: " + r.Heading + "\n")
		}
		b.WriteString(st.block(indent, textOps(r.Ops, st)) + "\n")
	}
	b.WriteString("\n" + st.Bold("Proposals") + "\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROPOSAL\tPARTY\tACTION\tTABLED\tFATE\tPOSITIONS")
	for _, p := range h.Proposals {
		var pos []string
		for _, pe := range p.Positions {
			s := fmt.Sprintf("%s %s @%d", pe.Party, pe.Words(), pe.Event)
			if pe.Reason != "" && pe.Reason != "tabled it" {
				s += fmt.Sprintf(" (%s)", pe.Reason)
			}
			pos = append(pos, s)
		}
		fate := p.Fate
		if p.Closed != 0 {
			fate += fmt.Sprintf(" @%d", p.Closed)
		}
		tabled := fmt.Sprintf("@%d", p.Tabled)
		if p.place != "" {
			tabled += ", " + p.place
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", domain.Short(p.ID), p.Party, p.Action, tabled, fate, strings.Join(pos, "; "))
	}
	tw.Flush()
	for _, p := range h.Proposals {
		if len(p.Versions) < 2 && len(p.Comments) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s\n", st.Bold("Proposal"), domain.Short(p.ID))
		if len(p.Versions) > 1 {
			for _, v := range p.Versions {
				fmt.Fprintf(&b, "%sversion %d @%d", indent, v.Version, v.Event)
				if v.Note != "" {
					fmt.Fprintf(&b, ": %s", v.Note)
				}
				b.WriteString("\n" + st.block(indent+"  ", textOps(v.Ops, st)) + "\n")
			}
		}
		for _, c := range p.Comments {
			fmt.Fprintf(&b, "%scomment by %s @%d:\n%s\n", indent, c.Party, c.Event, st.block(indent+"  ", c.Text))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteAuditText writes the audit's summary for people.
func WriteAuditText(w io.Writer, a Audit, st Style) error {
	fates := map[string]int{}
	for _, p := range a.Proposals {
		fates[p.Status]++
	}
	return WriteAuditFatesText(w, a, fates, st)
}

// WriteAuditJSON writes an audit whose proposals are in list (see
// Reader.AuditList) as jsonindent.Encode(w, a, indent) writes it with them
// in Proposals, byte for byte, streaming them from the list.
func WriteAuditJSON(w io.Writer, a Audit, list *ProposalList, indent string) error {
	if list == nil {
		return jsonindent.Encode(w, a, indent)
	}
	return writeAuditJSON(w, a, list, indent, 0, list.Len())
}

// WriteAuditJSONRows writes the audit as WriteAuditJSON writes it, but with
// only the proposals from the from-th (counting from 0) up to the to-th of
// list: a page of the report. A nil list holds none.
func WriteAuditJSONRows(w io.Writer, a Audit, list *ProposalList, indent string, from, to int) error {
	if list == nil && from == 0 && to == 0 {
		return jsonindent.Encode(w, a, indent)
	}
	if err := list.span(from, to); err != nil {
		return err
	}
	return writeAuditJSON(w, a, list, indent, from, to)
}

func writeAuditJSON(w io.Writer, a Audit, list *ProposalList, indent string, from, to int) error {
	a.Proposals = []ProposalSummary{}
	var doc bytes.Buffer
	if err := jsonindent.Encode(&doc, a, indent); err != nil {
		return err
	}
	// The proposals are a key of the report itself, the only one at this
	// depth: strings in JSON hold no line breaks.
	key := []byte("\n" + indent + `"proposals": `)
	i := bytes.Index(doc.Bytes(), append(key, "[]"...))
	if i < 0 {
		return errors.New("the audit's JSON has no proposals")
	}
	head, tail := doc.Bytes()[:i+len(key)], doc.Bytes()[i+len(key)+2:]
	if _, err := w.Write(head); err != nil {
		return err
	}
	if err := list.writeJSON(w, indent, 1, from, to); err != nil {
		return err
	}
	_, err := w.Write(tail)
	return err
}

// WriteAuditFatesText writes the summary of an audit whose proposals are
// counted by status in fates (see Reader.AuditFates), not listed, as
// WriteAuditText writes it with them in Proposals: it says only how many
// there are of each.
func WriteAuditFatesText(w io.Writer, a Audit, fates map[string]int, st Style) error {
	total := 0
	for _, n := range fates {
		total += n
	}
	a = Printable(a)
	var b strings.Builder
	fmt.Fprintf(&b, "%s  (%s)\n", st.Bold("Audit of "+a.Title), a.Treaty)
	v := a.Verification
	if v.OK {
		fmt.Fprintf(&b, "Verified: %d events, hash chain whole, every event follows the rules.\n", v.Events)
		b.WriteString(authenticationLine(v.Authentication) + "\n")
		fmt.Fprintf(&b, "Head: %s\n", v.Head)
	} else {
		fmt.Fprintf(&b, "%s %v\n", st.Red("NOT VERIFIED:"), v.Problem)
	}
	b.WriteString("\n" + st.Bold("Parties and keys") + "\n")
	for _, p := range a.Parties {
		keys := "no key: its acts are not authenticated"
		if len(p.Keys) > 0 {
			var ks []string
			for _, k := range p.Keys {
				ks = append(ks, describeKey(k))
			}
			keys = strings.Join(ks, " → ")
		}
		fmt.Fprintf(&b, "%s%-6s %-9s %s: %s\n", indent, p.Code, p.Role, p.Name, keys)
	}
	b.WriteString("\n" + st.Bold("Rounds") + "\n")
	stretch := func(st *Stretch) {
		if st != nil {
			fmt.Fprintf(&b, "%s%s: %s %s, %d tabled, %d adopted\n", indent, st.Place, map[bool]string{true: "event", false: "events"}[st.First == st.Last], st.events(), st.Tabled, st.Adopted)
		}
	}
	for _, r := range a.Rounds {
		stretch(r.Before)
		events, closed := fmt.Sprintf("%d-", r.Opened), "open"
		if r.ClosedAt != nil {
			events = fmt.Sprintf("%d-%d", r.Opened, r.Closed)
			closed = fmt.Sprintf("closed %s at %s", FormatTime(*r.ClosedAt), r.ClosedHash)
		}
		fmt.Fprintf(&b, "%s%d %s: events %s, %d tabled, %d adopted; %s\n", indent, r.Number, r.Name, events, r.Tabled, r.Adopted, closed)
		stretch(r.After)
	}
	fmt.Fprintf(&b, "\n%s %d: %d adopted, %d withdrawn, %d open, %d stale\n", st.Bold("Proposals"), total,
		fates[ProposalAdopted], fates[ProposalWithdrawn], fates[ProposalOpen], fates[ProposalStale])
	_, err := io.WriteString(w, b.String())
	return err
}

// authenticationLine says what the signatures of a log prove, in a line.
func authenticationLine(a Authentication) string {
	total := a.Authenticated + a.SignedPending + a.Unsigned
	if a.Authenticated == 0 {
		return fmt.Sprintf("No act is authenticated: no act of the %d was signed with a key in effect (pinned at the opening, or endorsed by every other party).", total)
	}
	return fmt.Sprintf("Authenticated: %d of %d acts signed with a key in effect; %d signed with a key no other party had vouched for; %d unsigned.", a.Authenticated, total, a.SignedPending, a.Unsigned)
}

// describeKey says where one key stands.
func describeKey(k AuditKey) string {
	how := fmt.Sprintf("registered at event %d, %s", k.Event, FormatTime(k.Time))
	if k.Pinned {
		how = "pinned at the opening"
	}
	s := fmt.Sprintf("%s %s (%s", k.ID, k.Status, how)
	if len(k.EndorsedBy) > 0 {
		s += "; endorsed by " + strings.Join(k.EndorsedBy, ", ")
	}
	if k.Status == string(domain.KeyIsPending) && len(k.Missing) > 0 {
		s += "; awaiting " + strings.Join(k.Missing, ", ")
	}
	return s + ")"
}

// WriteAuditHTML writes the audit as one self-contained, printable page.
func WriteAuditHTML(w io.Writer, a Audit) error {
	return pages().ExecuteTemplate(w, "audit", Printable(a))
}

// WriteAuditListHTML writes the audit with its proposals in list (see
// Reader.AuditList) as WriteAuditHTML writes it with them in Proposals,
// byte for byte, a row at a time: only one proposal is in memory at once.
// A nil list (a log that did not fold) lists the report's own.
func WriteAuditListHTML(w io.Writer, a Audit, list *ProposalList) error {
	if list == nil {
		return WriteAuditHTML(w, a)
	}
	t := pages()
	bw := bufio.NewWriterSize(w, 64<<10)
	a.Proposals = nil
	if err := t.ExecuteTemplate(bw, "audit-open", Printable(a)); err != nil {
		return err
	}
	for sum, err := range list.Rows(0, list.Len()) {
		if err == nil {
			err = t.ExecuteTemplate(bw, "audit-proposal", Printable(sum))
		}
		if err != nil {
			return err
		}
	}
	if err := t.ExecuteTemplate(bw, "audit-close", nil); err != nil {
		return err
	}
	return bw.Flush()
}
