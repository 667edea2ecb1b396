package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/parallel"
	"github.com/treaty-engine/treaty/projections/redline"
	"github.com/treaty-engine/treaty/projections/wordml"
)

// The Word documents: a draft whose open proposals are tracked changes
// attributed to their parties, and a compare document whose redline is. A
// draft comes back through import-docx, so what it writes is what
// ReadDocxDraft reads: the identification in custom properties, each
// clause's ID in a hidden bookmark around its heading and text, and
// treaty's own paragraphs (cover, status lines, proposals) in styles that
// the reader passes over.

// Custom properties of treaty's Word documents, as CLI.md lists them.
const (
	PropKind        = "treaty.kind"
	PropNegotiation = "treaty.negotiation"
	PropRef         = "treaty.ref"
	PropEvent       = "treaty.event"
	PropHash        = "treaty.hash"
	PropTitle       = "treaty.title"
	// PropBookmark prefixes the property naming the clause of a bookmark
	// whose name had to be shortened.
	PropBookmark = "treaty.bookmark."
)

// Kinds of treaty Word document (PropKind).
const (
	DocxDraft   = "draft"
	DocxCompare = "compare"
)

// Paragraph styles of treaty's Word documents: the style IDs, and the
// names Word shows (and the reader sees).
const (
	styleCover  = "TreatyCover"
	styleStatus = "TreatyStatus"
	styleText   = "TreatyText"
	styleOption = "TreatyOption"
	styleTitle  = "Title"
	styleClause = "Heading2"

	StyleNameCover  = "Treaty Cover"
	StyleNameStatus = "Treaty Status"
	StyleNameText   = "Treaty Text"
	StyleNameOption = "Treaty Option"
)

var docxStyles = []wordml.Style{
	{ID: styleCover, Name: StyleNameCover, Size: 20, Color: "444444"},
	{ID: styleStatus, Name: StyleNameStatus, Italic: true, Size: 18, Color: "666666"},
	{ID: styleText, Name: StyleNameText},
	{ID: styleOption, Name: StyleNameOption, Indent: 567},
}

// ClauseBookmark is the hidden bookmark that carries a clause's ID in a
// Word document: "_c_" and the ID with '-' as '_' (IDs hold no '_', so it
// reads back), or, when that is longer than Word's 40 characters, the
// first part of it and a hash, which the document's custom property
// PropBookmark+name maps back to the ID.
func ClauseBookmark(id string) (name string, shortened bool) {
	name = "_c_" + strings.ReplaceAll(id, "-", "_")
	if len(name) <= 40 {
		return name, false
	}
	sum := sha256.Sum256([]byte(id))
	return name[:31] + "_" + hex.EncodeToString(sum[:4]), true
}

// BookmarkClause reads a clause ID back from a bookmark name, given the
// document's properties; "" when the bookmark is not a clause's.
func BookmarkClause(name string, props map[string]string) string {
	if id, ok := props[PropBookmark+name]; ok {
		return id
	}
	rest, ok := strings.CutPrefix(name, "_c_")
	if !ok || len(name) > 40 {
		return ""
	}
	id := strings.ReplaceAll(rest, "_", "-")
	if domain.CheckSlug("clause ID", id) != nil {
		return ""
	}
	return id
}

// partyAuthor is how a tracked change names a party: "United States (US)".
func partyAuthor(parties []domain.Party, code string) string {
	for _, p := range parties {
		if p.Code == code && p.Name != "" && p.Name != code {
			return p.Name + " (" + code + ")"
		}
	}
	return code
}

// docxHeading is a clause's heading paragraph as the draft writes it, and
// as import-docx expects to find it unless the heading was edited.
func docxHeading(c DraftClause) string {
	return strconv.Itoa(c.Number) + ". " + clauseHeading(c)
}

// DocxHeadingText strips the number a clause heading paragraph starts
// with ("3. "), as the draft writes it.
func DocxHeadingText(s string) string {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && s[i] == '.' {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

// ProposalTimes reads the time of the event that tabled, or last revised,
// each open proposal of d (the date of its tracked change) and, with s,
// the state d was built from, of each comment on them. A draft may have
// thousands of open proposals, each a read of one event: they are read on
// every core.
func (r *Reader) ProposalTimes(ctx context.Context, d Draft, s *domain.State) (map[int]time.Time, error) {
	events := []int{d.AsOf.Event}
	for _, c := range d.Clauses {
		for _, p := range c.OpenProposals {
			events = append(events, p.versionEvent())
			for _, cm := range commentsOf(s, p.ID) {
				events = append(events, cm.Event)
			}
		}
	}
	return r.eventTimes(ctx, events)
}

// commentsOf returns the comments on proposal id in s (none without s).
func commentsOf(s *domain.State, id string) []domain.Comment {
	if s == nil {
		return nil
	}
	if p := s.Proposals[id]; p != nil {
		return p.Comments
	}
	return nil
}

// versionEvent is the event that tabled or last revised the proposal.
func (p OpenProposal) versionEvent() int {
	if p.Revised > 0 {
		return p.Revised
	}
	return p.Tabled
}

// cover is the first lines of every treaty Word document: what it is,
// of which negotiation, at which moments and head.
func cover(doc *wordml.Document, title string, lines ...string) {
	doc.Paragraphs = append(doc.Paragraphs, wordml.Paragraph{Style: styleTitle, Runs: []wordml.Run{{Text: title}}})
	for _, l := range lines {
		doc.Paragraphs = append(doc.Paragraphs, wordml.Paragraph{Style: styleCover, Runs: []wordml.Run{{Text: l}}})
	}
}

func identification(kind, treaty, title string, p Point) map[string]string {
	return map[string]string{PropKind: kind, PropNegotiation: treaty, PropTitle: title, PropRef: p.Ref,
		PropEvent: strconv.Itoa(p.Event), PropHash: p.Hash}
}

// DraftDocx is the draft as a Word document: the cover, then each clause's
// heading, status and agreed text, and each open proposal as a tracked
// insertion by its party dated by times (see ProposalTimes), the comments
// on it (from s, the state d was built from; none without) as Word
// comments.
func DraftDocx(d Draft, s *domain.State, times map[int]time.Time) *wordml.Document {
	d = Printable(d)
	doc := &wordml.Document{Title: d.Title, Created: d.AsOf.Time, Styles: docxStyles,
		Props: identification(DocxDraft, d.Treaty, d.Title, d.AsOf)}
	lines := []string{
		fmt.Sprintf("Negotiation %s · draft as of %s", d.Treaty, pointLabel(d.AsOf)),
		"Head: " + d.AsOf.Hash,
	}
	if ps := partyList(d.Parties, domain.RoleParty); ps != "" {
		lines = append(lines, "Parties: "+ps)
	}
	if os := partyList(d.Parties, domain.RoleObserver); os != "" {
		lines = append(lines, "Observers: "+os)
	}
	lines = append(lines, d.Standing()...)
	lines = append(lines, "Open proposals are tracked changes, each attributed to its party; rejecting them all leaves the agreed text. Edit with change tracking on, and read the file back with treaty import-docx.")
	cover(doc, d.Title, lines...)
	if len(d.Clauses) == 0 {
		doc.Paragraphs = append(doc.Paragraphs, wordml.Paragraph{Style: styleCover, Runs: []wordml.Run{{Text: "The draft is empty: no clause has been tabled yet."}}})
	}
	for _, c := range d.Clauses {
		name, short := ClauseBookmark(c.ID)
		if short {
			doc.Props[PropBookmark+name] = c.ID
		}
		ps := []wordml.Paragraph{{Style: styleClause, Bookmarks: []string{name}, Runs: []wordml.Run{{Text: docxHeading(c)}}}}
		status := []string{c.StatusLabel()}
		for _, r := range d.ReservationsTo(c.ID) {
			status = append(status, r.Party+" reserves: "+r.Text)
		}
		for _, s := range status {
			ps = append(ps, wordml.Paragraph{Style: styleStatus, Runs: []wordml.Run{{Text: s}}})
		}
		if c.Text != "" {
			// A proposal to delete the clause is its party's tracked
			// deletion of the agreed text (the first such proposal's:
			// a text is deleted once).
			del := DocxDeletion(d, c, times)
			for _, line := range strings.Split(c.Text, "\n") {
				ps = append(ps, wordml.Paragraph{Style: styleText, Runs: []wordml.Run{{Text: line, Deleted: del}}})
			}
		}
		// The bookmark spans the heading and the agreed text: what the
		// delegation may edit.
		last := len(ps) - 1
		if c.Text == "" {
			last = 0
		}
		ps[last].EndBookmarks = []string{name}
		for _, p := range c.OpenProposals {
			option := optionParagraphs(d, c, p, times)
			option[0].Comments = wordComments(doc, d.Parties, commentsOf(s, p.ID), times)
			ps = append(ps, option...)
		}
		doc.Paragraphs = append(doc.Paragraphs, ps...)
	}
	if len(d.Declarations) > 0 {
		doc.Paragraphs = append(doc.Paragraphs, wordml.Paragraph{Style: styleCover, Runs: []wordml.Run{{Text: "Declarations", Bold: true}}})
		for _, dv := range d.Declarations {
			doc.Paragraphs = append(doc.Paragraphs, wordml.Paragraph{Style: styleStatus, Runs: []wordml.Run{{Text: dv.Party + " declares: " + dv.Text}}})
		}
	}
	return doc
}

// DocxDeletion is the tracked deletion the draft marks clause c's agreed
// text with: the first open proposal to delete it, by its party, dated by
// times; nil when none proposes to.
func DocxDeletion(d Draft, c DraftClause, times map[int]time.Time) *wordml.Change {
	for _, p := range c.OpenProposals {
		if p.Action == domain.ActionDelete {
			return &wordml.Change{Author: partyAuthor(d.Parties, p.Party), Date: times[p.versionEvent()]}
		}
	}
	return nil
}

// optionParagraphs writes one open proposal as its party's tracked
// insertion: the label, its text a paragraph a line, and its facts.
func optionParagraphs(d Draft, c DraftClause, p OpenProposal, times map[int]time.Time) []wordml.Paragraph {
	ch := &wordml.Change{Author: partyAuthor(d.Parties, p.Party), Date: times[p.versionEvent()]}
	label := "[" + p.Label()
	if h, ok := proposedHeading(c, p); ok {
		label += fmt.Sprintf(`, heading "%s"`, h)
	}
	para := func(runs ...wordml.Run) wordml.Paragraph {
		for i := range runs {
			runs[i].Inserted = ch
		}
		return wordml.Paragraph{Style: styleOption, Inserted: ch, Runs: runs}
	}
	var ps []wordml.Paragraph
	if p.Action == domain.ActionDelete {
		ps = append(ps, para(wordml.Run{Text: label + " deletes this clause]", Bold: true}))
	} else {
		lines := strings.Split(p.Text, "\n")
		ps = append(ps, para(wordml.Run{Text: label + "]", Bold: true}, wordml.Run{Text: " " + lines[0]}))
		for _, line := range lines[1:] {
			ps = append(ps, para(wordml.Run{Text: line}))
		}
	}
	ps = append(ps, para(wordml.Run{Text: strings.Join(p.Facts(), " · "), Italic: true}))
	return ps
}

// wordComments adds comments on a proposal to doc as Word comments by
// their parties, made visible as all output for people is, and returns
// their indexes.
func wordComments(doc *wordml.Document, parties []domain.Party, cs []domain.Comment, times map[int]time.Time) []int {
	var idx []int
	for _, c := range cs {
		idx = append(idx, len(doc.Comments))
		doc.Comments = append(doc.Comments, wordml.Comment{Author: partyAuthor(parties, domain.Visible(c.Party)), Initials: domain.Visible(c.Party),
			Date: times[c.Event], Text: strings.Split(domain.VisibleLines(c.Text), "\n")})
	}
	return idx
}

// WriteDraftDocx writes the draft as a Word document (see DraftDocx).
func WriteDraftDocx(w io.Writer, d Draft, s *domain.State, times map[int]time.Time) error {
	return DraftDocx(d, s, times).Write(w)
}

// CompareExtras is what the compare document needs as a Word document
// beyond the Diff: the time of each adoption (the date of its tracked
// changes) and the comments on the proposals it shows (those adopted
// between the two moments and those open at the later one), with their
// times.
type CompareExtras struct {
	Times    map[int]time.Time
	Comments map[string][]domain.Comment
}

// CompareExtras reads what the compare document d needs as a Word document.
// A closed proposal's comments are not kept in a checkpoint: the events
// before the later moment are folded once more, checked as every fold is,
// from the last round's opening or close before the first adoption shown
// (a state holds an open proposal whole, its comments included), each
// adopted proposal's comments taken as it closes and those made on it
// since as they come, so that memory stays bounded by the state.
func (r *Reader) CompareExtras(ctx context.Context, d Diff) (CompareExtras, error) {
	x := CompareExtras{Comments: map[string][]domain.Comment{}}
	var events []int
	adopted, open := map[string]bool{}, map[string]bool{}
	start := d.To.Event
	for _, c := range d.Clauses {
		for _, a := range c.Adopted {
			adopted[a.ID] = true
			start = min(start, a.Event-1)
		}
		if len(c.Adopted) > 0 {
			// A change is dated by its last adoption (compareAuthor).
			events = append(events, c.Adopted[len(c.Adopted)-1].Event)
		}
		for _, p := range c.OpenProposals {
			open[p.ID] = true
		}
	}
	if len(adopted)+len(open) > 0 {
		head, err := r.Head(ctx)
		if err != nil {
			return x, err
		}
		start = actBoundary(head.State, start)
		s, last := &domain.State{}, Point{}
		if start > 0 {
			m, err := r.StateAt(ctx, eventRef(start), start, head.State)
			if err != nil {
				return x, err
			}
			s, last = m.State, m.Point
		}
		s.OnClose = func(p *domain.Proposal) {
			if adopted[p.Proposal] && len(p.Comments) > 0 {
				x.Comments[p.Proposal] = slices.Clone(p.Comments)
			}
		}
		// A proposal may be commented on once closed; the state keeps
		// such a comment nowhere.
		later := func(f Folded, s *domain.State) error {
			if e, ok := f.Rec.Event.(domain.ProposalCommented); ok && adopted[e.Proposal] && s.Proposals[e.Proposal] == nil {
				x.Comments[e.Proposal] = append(x.Comments[e.Proposal], domain.Comment{Party: e.Party, Text: e.Text, Event: s.Events})
			}
			return nil
		}
		if _, err := r.foldVisit(ctx, s, d.To.Event, last, false, false, later); err != nil {
			return x, err
		}
		for id := range open {
			if p := s.Proposals[id]; p != nil && len(p.Comments) > 0 {
				x.Comments[id] = p.Comments
			}
		}
		for _, cs := range x.Comments {
			for _, c := range cs {
				events = append(events, c.Event)
			}
		}
	}
	var err error
	x.Times, err = r.eventTimes(ctx, events)
	return x, err
}

// actBoundary is the latest point up to n at which no act is half folded,
// so that a fold may go on from it: just before a round opened or just
// after one closed (each an act of its own), or the start. (A moment of the
// compare may fall inside an act: between an acceptance and the adoption
// it completes.)
func actBoundary(head *domain.State, n int) int {
	at := 0
	for _, r := range head.Rounds {
		for _, b := range []int{r.Opened - 1, r.Closed} {
			if b > at && b <= n {
				at = b
			}
		}
	}
	return at
}

// eventTimes reads the times of events, on every core: a document may
// date thousands of changes, each a read of one event.
func (r *Reader) eventTimes(ctx context.Context, events []int) (map[int]time.Time, error) {
	times := map[int]time.Time{}
	var todo []int
	for _, n := range events {
		if _, ok := times[n]; !ok && n > 0 {
			times[n] = time.Time{}
			todo = append(todo, n)
		}
	}
	read := make([]time.Time, len(todo))
	errs := make([]error, len(todo))
	parallel.Each(len(todo), func(i int) { read[i], errs[i] = r.eventTime(ctx, todo[i]) })
	for i, n := range todo {
		if errs[i] != nil {
			return nil, errs[i]
		}
		times[n] = read[i]
	}
	return times, nil
}

// compareAuthor attributes a clause's changes between the two moments: to
// the party whose adopted proposal made them, dated by the adoption; to
// every such party when several did (a tracked change has one author),
// dated by the last adoption.
func compareAuthor(d Diff, c ClauseChange, times map[int]time.Time) wordml.Change {
	if len(c.Adopted) == 0 {
		return wordml.Change{Author: "treaty", Date: d.To.Time}
	}
	var who []string
	seen := map[string]bool{}
	for _, a := range c.Adopted {
		if !seen[a.Party] {
			seen[a.Party] = true
			who = append(who, partyAuthor(d.Parties, a.Party))
		}
	}
	return wordml.Change{Author: strings.Join(who, ", "), Date: times[c.Adopted[len(c.Adopted)-1].Event]}
}

// CompareDocx is the compare document as a Word document: each clause with
// its redline as tracked deletions and insertions attributed to the party
// whose adopted proposal made them (see compareAuthor), what happened to
// it (moves included) and who adopted what in its status line, the
// proposals open on it at the later moment shown redlined (not tracked:
// accepting every change gives the agreed text at the later moment), and
// the comments on all of these as Word comments.
func CompareDocx(d Diff, x CompareExtras) *wordml.Document {
	d = Printable(d)
	doc := &wordml.Document{Title: d.Title, Created: d.To.Time, Styles: docxStyles,
		Props: identification(DocxCompare, d.Treaty, d.Title, d.To)}
	doc.Props[PropRef] = d.From.Ref + ".." + d.To.Ref
	a := d.Proposals.Counts
	lines := []string{
		fmt.Sprintf("Negotiation %s · the agreed text from %s to %s", d.Treaty, pointLabel(d.From), pointLabel(d.To)),
		"Head: " + d.To.Hash,
	}
	if ps := partyList(d.Parties, domain.RoleParty); ps != "" {
		lines = append(lines, "Parties: "+ps)
	}
	lines = append(lines, fmt.Sprintf("Proposals in between: %d tabled, %d adopted, %d withdrawn.", a.Tabled, a.Adopted, a.Withdrawn),
		notAgreed,
		"The changes are tracked, each attributed to the party whose adopted proposal made it: accepting them all gives the agreed text at the later moment, rejecting them all the text at the earlier. Proposals still open are shown, not tracked.")
	cover(doc, "Compare: "+d.Title, lines...)
	if len(d.Clauses) == 0 {
		doc.Paragraphs = append(doc.Paragraphs, wordml.Paragraph{Style: styleCover, Runs: []wordml.Run{{Text: "No change to the agreed text."}}})
	}
	for _, c := range d.Clauses {
		ch := compareAuthor(d, c, x.Times)
		num := c.NumberAfter
		if num == 0 {
			num = c.NumberBefore
		}
		name, short := ClauseBookmark(c.ID)
		if short {
			doc.Props[PropBookmark+name] = c.ID
		}
		head := wordml.Paragraph{Style: styleClause, Bookmarks: []string{name}, EndBookmarks: []string{name},
			Runs: []wordml.Run{{Text: strconv.Itoa(num) + ". " + changeHeading(c)}}}
		switch {
		case len(c.HeadingOps) > 0:
			head.Runs = append([]wordml.Run{{Text: strconv.Itoa(num) + ". "}}, opRuns(c.HeadingOps, &ch)...)
		case c.Change == ChangeAdded:
			head.Runs[0].Inserted, head.Inserted = &ch, &ch
		case c.Change == ChangeRemoved:
			head.Runs[0].Deleted = &ch
		}
		status := c.ID
		if showLabel(c) {
			status = changeLabel(c) + " · " + c.ID
		}
		if len(c.Adopted) > 0 {
			status += " · " + attributionText(c, d.Parties)
		}
		ps := []wordml.Paragraph{head, {Style: styleStatus, Runs: []wordml.Run{{Text: status}}}}
		switch {
		case len(c.Ops) > 0:
			text := wordml.Paragraph{Style: styleText, Runs: opRuns(c.Ops, &ch)}
			if c.Change == ChangeAdded {
				text.Inserted = &ch
			}
			ps = append(ps, text)
		case c.After != "":
			ps = append(ps, wordml.Paragraph{Style: styleText, Runs: []wordml.Run{{Text: c.After}}})
		}
		// The comments on the adopted proposals, where the change is.
		var cs []int
		for _, ad := range c.Adopted {
			cs = append(cs, wordComments(doc, d.Parties, x.Comments[ad.ID], x.Times)...)
		}
		ps[len(ps)-1].Comments = cs
		for _, p := range c.OpenProposals {
			label := "[" + p.Label() + "] "
			if p.Action == domain.ActionDelete {
				label = "[" + p.Label() + " deletes this clause] "
			}
			runs := []wordml.Run{{Text: label, Bold: true}}
			for _, op := range p.Ops {
				runs = append(runs, wordml.Run{Text: op.Text, Strike: op.Kind == redline.Delete, Underline: op.Kind == redline.Insert})
			}
			ps = append(ps, wordml.Paragraph{Style: styleOption, Runs: runs, Comments: wordComments(doc, d.Parties, x.Comments[p.ID], x.Times)},
				wordml.Paragraph{Style: styleOption, Runs: []wordml.Run{{Text: strings.Join(p.Facts(), " · "), Italic: true}}})
		}
		doc.Paragraphs = append(doc.Paragraphs, ps...)
	}
	return doc
}

// opRuns writes a redline as runs: deletions and insertions tracked as
// ch's.
func opRuns(ops []redline.Op, ch *wordml.Change) []wordml.Run {
	runs := make([]wordml.Run, 0, len(ops))
	for _, op := range ops {
		r := wordml.Run{Text: op.Text}
		switch op.Kind {
		case redline.Delete:
			r.Deleted = ch
		case redline.Insert:
			r.Inserted = ch
		}
		runs = append(runs, r)
	}
	return runs
}

// WriteDiffDocx writes the compare document as a Word document (see
// CompareDocx).
func WriteDiffDocx(w io.Writer, d Diff, x CompareExtras) error {
	return CompareDocx(d, x).Write(w)
}
