package projections

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
	"github.com/treaty-engine/treaty/projections/wordml"
)

// DocxIdent is the identification a treaty Word document carries: what it
// is, of which negotiation, and the event and head hash it was written at.
type DocxIdent struct {
	Kind, Negotiation, Ref, Hash, Title string
	Event                               int
}

// MaxDocxClauses is the most clauses import-docx reads from a file, new
// ones included (CLI.md's limit): more is refused as too large.
const MaxDocxClauses = 10_000

// ErrNotTreatyDocx is a Word document without treaty's identification.
var ErrNotTreatyDocx = errors.New("not made by treaty")

// ReadDocx reads a Word document treaty wrote (see DraftDocx), within
// wordml's default limits, and its identification.
func ReadDocx(r io.ReaderAt, size int64) (*wordml.File, DocxIdent, error) {
	f, err := wordml.Read(r, size, wordml.DefaultLimits)
	if err != nil {
		return nil, DocxIdent{}, err
	}
	p := f.Props
	id := DocxIdent{Kind: p[PropKind], Negotiation: p[PropNegotiation], Ref: p[PropRef], Hash: p[PropHash], Title: p[PropTitle]}
	n, err := strconv.Atoi(p[PropEvent])
	if id.Kind == "" || id.Negotiation == "" || err != nil || n < 1 || len(id.Hash) != 64 || strings.Trim(id.Hash, "0123456789abcdef") != "" {
		return nil, DocxIdent{}, fmt.Errorf("%w: it carries no treaty identification (the custom properties %s, %s and %s); export a draft with `treaty draft --format docx --output FILE`",
			ErrNotTreatyDocx, PropNegotiation, PropEvent, PropHash)
	}
	id.Event = n
	if id.Kind != DocxDraft {
		return nil, id, fmt.Errorf("it is a %s document of %s, which is not read back; export the draft with `treaty draft --format docx --output FILE`", id.Kind, id.Negotiation)
	}
	return f, id, nil
}

// DocxImport is what import-docx tables, or would table, from a Word file.
// Its JSON form is CLI.md's.
type DocxImport struct {
	File      string             `json:"file"`
	Treaty    string             `json:"treaty"`
	Event     int                `json:"event"`
	Hash      string             `json:"hash"`
	Tabled    bool               `json:"tabled"`
	Proposals []ImportedProposal `json:"proposals"`
	Skipped   []ImportSkip       `json:"skipped"`
}

// ImportedProposal is one proposal read from a file: what to table.
type ImportedProposal struct {
	Clause string        `json:"clause"`
	Action domain.Action `json:"action"`
	// Heading is the new heading, when the file changed it or names a new
	// clause.
	Heading *string `json:"heading,omitempty"`
	Text    string  `json:"text"`
	// After and First place a new clause, or move a clause the file
	// moved.
	After string `json:"after,omitempty"`
	First bool   `json:"first,omitempty"`
	// Ops is the redline from the clause's text at the file's event (or,
	// rebased, now) to Text.
	Ops []redline.Op `json:"ops"`
	// TrackedBy names the authors of the tracked changes the file has in
	// the clause; Untracked says that its text was changed with tracking
	// off as well.
	TrackedBy []string `json:"tracked_by"`
	Untracked bool     `json:"untracked"`
	// Moved says the file moves the clause (to After, or First).
	Moved bool `json:"moved,omitempty"`
	// Rebased says the change was carried onto the clause's current text.
	Rebased bool `json:"rebased,omitempty"`
	// BaseRevision is the clause's revision the proposal is drafted
	// against (0: a clause with no agreed text).
	BaseRevision int `json:"base_revision"`
	// Proposal is the ID it was tabled with.
	Proposal string `json:"proposal,omitempty"`
}

// ImportSkip is something the file holds that is not tabled, and why.
type ImportSkip struct {
	Clause string `json:"clause"`
	Reason string `json:"reason"`
}

// ChangedMeanwhile reports the first proposal of plan whose clause is no
// longer at the revision the plan was worked out against in s: another
// writer changed it between the reading and the append.
func (plan DocxImport) ChangedMeanwhile(s *domain.State) error {
	for _, p := range plan.Proposals {
		if rev := revisionOf(s.Clauses[p.Clause]); rev != p.BaseRevision {
			return fmt.Errorf("clause %s changed while the file was being read (revision %d, now %d); import it again", p.Clause, p.BaseRevision, rev)
		}
	}
	return nil
}

// StaleImportError refuses a file whose clauses changed in the log since
// the event it was exported at: what it would table would be stale.
type StaleImportError struct {
	Event   int
	Clauses []StaleClause
}

// StaleClause is a clause that changed since a file's event.
type StaleClause struct {
	Clause       string
	Then, Now    int // revisions
	Deleted      bool
	WouldBeStale domain.Action
}

func (e *StaleImportError) Error() string {
	var parts []string
	for _, c := range e.Clauses {
		switch {
		case c.Deleted:
			parts = append(parts, fmt.Sprintf("%s (deleted since)", c.Clause))
		default:
			parts = append(parts, fmt.Sprintf("%s (revision %d then, %d now)", c.Clause, c.Then, c.Now))
		}
	}
	return fmt.Sprintf("the file is the draft at event %d, and the text it changes has changed since: %s; the proposals it would table on them would be stale",
		e.Event, strings.Join(parts, ", "))
}

// ConflictImportError is a rebase of a file's change that conflicts with
// the clause's current text.
type ConflictImportError struct {
	Clause    string
	Conflicts []redline.Conflict
}

func (e *ConflictImportError) Error() string {
	var parts []string
	for _, c := range e.Conflicts {
		parts = append(parts, fmt.Sprintf("at byte %d the file has %q, the clause now %q (was %q)", c.At, c.Ours, c.Theirs, c.Base))
	}
	return fmt.Sprintf("the file's change of clause %s conflicts with its current text: %s", e.Clause, strings.Join(parts, "; "))
}

// readClause is a clause as the file has it.
type readClause struct {
	id      string // "" for a new clause
	heading string
	seen    bool // a heading paragraph was read for it
	lines   []string
	orig    []string // its text with every tracked change rejected
	authors []string
	byName  map[string]bool // authors, to look them up
	after   string          // for a new clause: the clause before it ("" first)
}

func (c *readClause) text() string     { return strings.TrimSpace(strings.Join(c.lines, "\n")) }
func (c *readClause) original() string { return strings.TrimSpace(strings.Join(c.orig, "\n")) }

func (c *readClause) author(a string) {
	if c.byName[a] {
		return
	}
	if c.byName == nil {
		c.byName = map[string]bool{}
	}
	c.byName[a] = true
	c.authors = append(c.authors, a)
}

// isHeading reports whether a paragraph read is a heading, which starts a
// clause.
func isHeading(p wordml.Para) bool {
	st := strings.ToLower(p.Style)
	return p.Outline > 0 || strings.HasPrefix(st, "heading") || strings.HasPrefix(st, "заголовок")
}

// ownStyles are treaty's own paragraphs, which import passes over.
var ownStyles = map[string]bool{StyleNameCover: true, StyleNameStatus: true, StyleNameOption: true, "Title": true,
	styleCover: true, styleStatus: true, styleOption: true}

// PlanDocxImport works out what party would table from file f, a draft
// exported at moment then (whose draft, with its proposals' times, was
// what the file showed) against the negotiation now. With rebase, a
// change to a clause changed since is carried onto its current text;
// without, it is refused (a *StaleImportError).
func PlanDocxImport(f *wordml.File, then Draft, times map[int]time.Time, now *domain.State, party string, rebase bool) (DocxImport, error) {
	plan := DocxImport{Treaty: then.Treaty, Event: then.AsOf.Event, Hash: then.AsOf.Hash,
		Proposals: []ImportedProposal{}, Skipped: []ImportSkip{}}
	known := map[string]DraftClause{}
	for _, c := range then.Clauses {
		known[c.ID] = c
	}
	// The file's clauses, in its order.
	var read []*readClause
	byID := map[string]*readClause{}
	var cur *readClause
	// A paragraph whose mark the delegation deleted joins the next one
	// (its text is carried over), unless that deletion is rejected; one
	// whose mark it inserted joins the next when that insertion is. The
	// text carried grows in place (a run of such paragraphs is not copied
	// again at each), and carryBlank says it is all white space.
	var carry, carryOrig strings.Builder
	carryBlank := true
	last := ""
	for _, p := range f.Paragraphs {
		if ownStyles[p.Style] {
			continue
		}
		id := ""
		for _, b := range p.Bookmarks {
			if c := BookmarkClause(b, f.Props); c != "" && byID[c] == nil {
				if _, ok := known[c]; ok {
					id = c
					break
				}
			}
		}
		var exported map[string]bool
		if id != "" || cur != nil && cur.id != "" {
			cid := id
			if cid == "" {
				cid = cur.id
			}
			if del := DocxDeletion(then, known[cid], times); del != nil {
				exported = map[string]bool{del.Author + "\x00" + del.Date.UTC().Format("2006-01-02T15:04:05Z"): true}
			}
		}
		keep := func(c wordml.TrackedChange) bool { return !exported[c.Author+"\x00"+c.Date] }
		pt := p.Text(keep)
		carry.WriteString(pt)
		carryOrig.WriteString(p.Original)
		text, orig := carry.String(), carryOrig.String()
		blank := carryBlank && strings.TrimSpace(pt) == "" // strings.TrimSpace(text) == ""
		if id != "" || isHeading(p) && !blank {
			if len(read) >= MaxDocxClauses {
				return DocxImport{}, fmt.Errorf("%w: more than %d clauses", wordml.ErrTooLarge, MaxDocxClauses)
			}
		}
		switch {
		case id != "":
			cur = &readClause{id: id}
			byID[id] = cur
			read = append(read, cur)
			last = id
			if isHeading(p) {
				cur.heading, cur.seen = DocxHeadingText(text), true
				text, orig = "", ""
			}
		case isHeading(p) && !blank:
			cur = &readClause{heading: DocxHeadingText(text), seen: true, after: last}
			read = append(read, cur)
			text, orig = "", ""
		}
		for _, c := range p.Changes {
			if keep(c) && cur != nil {
				cur.author(c.Author)
			}
		}
		joinsNext := p.MarkDeleted && pt != ""
		// What is carried on is left in its builder; anything else is
		// dropped from it.
		if !p.MarkInserted || orig == "" {
			carryOrig.Reset()
		}
		if p.MarkInserted {
			orig = ""
		}
		if joinsNext && text != "" {
			carryBlank = blank
		} else {
			carry.Reset()
			carryBlank = true
		}
		if joinsNext {
			text = ""
		}
		if cur == nil {
			if strings.TrimSpace(text) != "" {
				plan.Skipped = append(plan.Skipped, ImportSkip{Reason: fmt.Sprintf("text before the first clause is not read: %q", short(text))})
			}
			continue
		}
		if !joinsNext && (text != "" || len(cur.lines) > 0) {
			cur.lines = append(cur.lines, text)
		}
		if !p.MarkInserted && (orig != "" || len(cur.orig) > 0) {
			cur.orig = append(cur.orig, orig)
		}
	}
	taken := map[string]bool{}
	for id := range now.Clauses {
		taken[id] = true
	}
	var stale []StaleClause
	// A new clause placed after a new clause follows its new ID.
	newIDs := map[*readClause]string{}
	suffixes := map[string]int{}
	place := make(map[*readClause]int, len(read))
	for i, r := range read {
		place[r] = i
	}
	prevID := func(c *readClause) string {
		if i, ok := place[c]; ok && i > 0 {
			if read[i-1].id != "" {
				return read[i-1].id
			}
			return newIDs[read[i-1]]
		}
		return ""
	}
	// Clauses the file moved: those out of the longest run of the draft's
	// order that the file keeps (so that one clause moved does not move
	// every clause it jumped over).
	var was, is []listedClause
	for _, k := range then.Clauses {
		if k.Text != "" && byID[k.ID] != nil {
			was = append(was, listedClause{id: k.ID, agreed: true})
		}
	}
	for _, c := range read {
		if c.id != "" && known[c.id].Text != "" {
			is = append(is, listedClause{id: c.id, agreed: true})
		}
	}
	moved := movedClauses(was, is)
	for _, c := range read {
		if c.id == "" {
			text := c.text()
			if text == "" {
				plan.Skipped = append(plan.Skipped, ImportSkip{Reason: fmt.Sprintf("the new heading %q has no text under it: nothing to table", short(c.heading))})
				continue
			}
			id := clauseSlug(c.heading, len(then.Clauses)+len(newIDs)+1, taken, suffixes)
			taken[id] = true
			newIDs[c] = id
			h := c.heading
			p := ImportedProposal{Clause: id, Action: domain.ActionInsert, Heading: &h, Text: text, Ops: nonNilOps(redline.Words("", text)),
				TrackedBy: nonNil(c.authors), Untracked: c.original() != ""}
			if after := prevID(c); after != "" {
				p.After = after
			} else {
				p.First = true
			}
			plan.Proposals = append(plan.Proposals, p)
			continue
		}
		k := known[c.id]
		base := strings.TrimSpace(k.Text)
		text := c.text()
		var heading *string
		if c.seen && c.heading != clauseHeading(k) && c.heading != "" {
			h := strings.TrimSuffix(strings.TrimPrefix(c.heading, "["), "]")
			if h != k.Heading {
				heading = &h
			}
		}
		p := ImportedProposal{Clause: c.id, TrackedBy: nonNil(c.authors), Untracked: c.original() != base, BaseRevision: k.Revision}
		switch {
		case base == "" && text == "":
			continue
		case base == "":
			p.Action, p.Text = domain.ActionInsert, text
			if heading == nil && len(k.OpenProposals) > 0 && k.OpenProposals[0].Heading != nil {
				h := *k.OpenProposals[0].Heading
				heading = &h
			}
		case text == "":
			p.Action, heading = domain.ActionDelete, nil
		case text == base && heading == nil && !moved[c.id]:
			continue
		default:
			p.Action, p.Text = domain.ActionAmend, text
			if text == base && !moved[c.id] {
				p.Text = "" // a heading alone: the clause keeps its text
			}
		}
		if moved[c.id] && p.Action == domain.ActionAmend {
			// A move is an amendment that places the clause anew.
			p.Moved = true
			if p.After = prevID(c); p.After == "" {
				p.First = true
			}
		}
		p.Heading = heading
		p.Ops = nonNilOps(redline.Words(base, map[bool]string{true: p.Text, false: base}[p.Text != ""]))
		if p.Action == domain.ActionDelete {
			p.Ops = nonNilOps(redline.Words(base, ""))
		}
		// Has the clause changed in the log since the file's event?
		nc := now.Clauses[c.id]
		nowRev := 0
		if nc != nil {
			nowRev = nc.Revision
		}
		if nowRev != k.Revision {
			sc := StaleClause{Clause: c.id, Then: k.Revision, Now: nowRev, Deleted: nc != nil && nc.Deleted, WouldBeStale: p.Action}
			if !rebase {
				stale = append(stale, sc)
				continue
			}
			if sc.Deleted {
				plan.Skipped = append(plan.Skipped, ImportSkip{Clause: c.id, Reason: "deleted since the file's event: nothing to carry the change onto"})
				continue
			}
			current := strings.TrimSpace(nc.Text)
			if p.Action != domain.ActionDelete && p.Text != "" {
				merged, conflicts := redline.Merge3(base, p.Text, current)
				if len(conflicts) > 0 {
					return DocxImport{}, &ConflictImportError{Clause: c.id, Conflicts: conflicts}
				}
				if merged == current && (heading == nil || *heading == nc.Heading) {
					plan.Skipped = append(plan.Skipped, ImportSkip{Clause: c.id, Reason: "the clause already reads as the file has it"})
					continue
				}
				p.Text, p.Action = merged, domain.ActionAmend
				if base == "" && nowRev == 0 {
					p.Action = domain.ActionInsert
				}
			}
			p.Rebased, p.BaseRevision = true, nowRev
			after := current
			switch {
			case p.Action == domain.ActionDelete:
				after = ""
			case p.Text != "":
				after = p.Text
			}
			p.Ops = nonNilOps(redline.Words(current, after))
		}
		plan.Proposals = append(plan.Proposals, p)
	}
	// A clause of the draft that the file no longer has: deleted, tracking
	// off, with its heading.
	for _, k := range then.Clauses {
		if byID[k.ID] != nil {
			continue
		}
		if k.Text == "" {
			plan.Skipped = append(plan.Skipped, ImportSkip{Clause: k.ID, Reason: "not in the file, and it has no agreed text to delete"})
			continue
		}
		nc := now.Clauses[k.ID]
		if nc == nil || nc.Revision != k.Revision {
			if !rebase {
				stale = append(stale, StaleClause{Clause: k.ID, Then: k.Revision, Now: revisionOf(nc), Deleted: nc != nil && nc.Deleted, WouldBeStale: domain.ActionDelete})
				continue
			}
			if nc == nil || nc.Deleted {
				continue
			}
		}
		plan.Proposals = append(plan.Proposals, ImportedProposal{Clause: k.ID, Action: domain.ActionDelete,
			Ops: nonNilOps(redline.Words(k.Text, "")), TrackedBy: []string{}, Untracked: true, BaseRevision: revisionOf(nc)})
	}
	if len(stale) > 0 {
		return DocxImport{}, &StaleImportError{Event: then.AsOf.Event, Clauses: stale}
	}
	// What the party has tabled already (the same file read back twice)
	// is not tabled again.
	var mine []*domain.Proposal
	for _, q := range now.Proposals {
		if q.Party == party && q.Status == domain.StatusOpen {
			mine = append(mine, q)
		}
	}
	kept := plan.Proposals[:0]
	for _, p := range plan.Proposals {
		if q := tabledAlready(mine, p, known); q != nil {
			plan.Skipped = append(plan.Skipped, ImportSkip{Clause: q.Clause,
				Reason: fmt.Sprintf("%s has tabled this already: %s", party, domain.Short(q.Proposal))})
			continue
		}
		kept = append(kept, p)
	}
	plan.Proposals = kept
	return plan, nil
}

// tabledAlready returns the earliest of the open proposals ps that makes
// the change p makes: the same action, text, heading and place, on the
// same clause or, for a new clause, on a clause the file's draft (known)
// did not have.
func tabledAlready(ps []*domain.Proposal, p ImportedProposal, known map[string]DraftClause) *domain.Proposal {
	_, wasP := known[p.Clause]
	var found *domain.Proposal
	for _, q := range ps {
		_, wasQ := known[q.Clause]
		if q.Action != p.Action || q.Text != p.Text || q.After != p.After || q.First != p.First ||
			(q.Heading == nil) != (p.Heading == nil) || q.Heading != nil && *q.Heading != *p.Heading ||
			q.Clause != p.Clause && (wasP || wasQ) {
			continue
		}
		if found == nil || q.Tabled < found.Tabled {
			found = q
		}
	}
	return found
}

func revisionOf(c *domain.Clause) int {
	if c == nil {
		return 0
	}
	return c.Revision
}

func nonNilOps(ops []redline.Op) []redline.Op {
	if ops == nil {
		return []redline.Op{}
	}
	return ops
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// cyrillic transliterates Ukrainian and Russian letters for clause IDs
// (the Ukrainian national system, simplified).
var cyrillic = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "h", 'ґ': "g", 'д': "d", 'е': "e", 'є': "ie", 'ж': "zh", 'з': "z",
	'и': "y", 'і': "i", 'ї': "i", 'й': "i", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p",
	'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch",
	'ь': "", 'ю': "iu", 'я': "ia", 'ы': "y", 'э': "e", 'ё': "io", 'ъ': "",
}

// clauseSlug makes a new clause's ID from its heading: ASCII letters and
// digits, Cyrillic transliterated, '-' between words, at most 48
// characters; "clause-N" when nothing is left; a numeric suffix when the
// ID is taken. next, when not nil, keeps the suffix to try next for each
// ID, so that many clauses of one heading do not try every suffix taken.
func clauseSlug(heading string, n int, taken map[string]bool, next map[string]int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(heading) {
		s := ""
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			s = string(r)
		default:
			s = cyrillic[r]
		}
		if s == "" {
			if unicode.IsSpace(r) || unicode.IsPunct(r) {
				dash = b.Len() > 0
			}
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(s)
		if b.Len() >= 48 {
			break
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > 48 {
		id = strings.Trim(id[:48], "-")
	}
	if id == "" {
		id = fmt.Sprintf("clause-%d", n)
	}
	unique := id
	i := max(next[id], 2)
	for ; taken[unique]; i++ {
		unique = fmt.Sprintf("%s-%d", id, i)
	}
	if next != nil {
		next[id] = i
	}
	return unique
}

// WriteDocxImportText writes for people what an import tables, or would
// table (a dry run), for party: each proposal with its redline.
func WriteDocxImportText(w io.Writer, plan DocxImport, party string, st Style) error {
	plan = Printable(plan)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the draft of %s at event %d (head %s)\n", plan.File, plan.Treaty, plan.Event, domain.ShortHash(plan.Hash))
	n := len(plan.Proposals)
	switch {
	case n == 0 && len(plan.Skipped) > 0:
		b.WriteString("Nothing to table.\n")
	case n == 0:
		b.WriteString("Nothing to table: the file's text is the draft's.\n")
	case plan.Tabled:
		fmt.Fprintf(&b, "Tabled %s as %s, in one append:\n", plural(n, "proposal"), party)
	default:
		fmt.Fprintf(&b, "Would table %s as %s (a dry run: nothing is appended; --table tables them in one append):\n", plural(n, "proposal"), party)
	}
	for i, p := range plan.Proposals {
		b.WriteString("\n")
		line := fmt.Sprintf("%d. %s %s", i+1, p.Action, p.Clause)
		where := ""
		switch {
		case p.After != "":
			where = ", after " + p.After
		case p.First:
			where = ", first"
		}
		if p.Moved {
			where = ", moved" + where
		}
		line += where
		if p.Heading != nil {
			line += fmt.Sprintf(", heading %q", *p.Heading)
		}
		var how []string
		if len(p.TrackedBy) > 0 {
			how = append(how, "tracked changes by "+strings.Join(p.TrackedBy, ", "))
		}
		if p.Untracked {
			how = append(how, "changes made with tracking off")
		}
		if p.Rebased {
			how = append(how, "rebased onto the current text")
		}
		if len(how) > 0 {
			line += " (" + strings.Join(how, "; ") + ")"
		}
		if p.Proposal != "" {
			line += ": " + st.Bold(domain.Short(p.Proposal))
		}
		b.WriteString(line + "\n")
		if p.Text == "" && p.Action == domain.ActionAmend {
			b.WriteString(indent + "(the heading alone; the text stays)\n")
			continue
		}
		b.WriteString(st.block(indent, textOps(p.Ops, st)) + "\n")
	}
	if len(plan.Skipped) > 0 {
		b.WriteString("\nNot tabled:\n")
		for _, s := range plan.Skipped {
			if s.Clause != "" {
				fmt.Fprintf(&b, "%s%s: %s\n", indent, s.Clause, s.Reason)
			} else {
				fmt.Fprintf(&b, "%s%s\n", indent, s.Reason)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
