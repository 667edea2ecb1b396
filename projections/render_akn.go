package projections

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
	"github.com/treaty-engine/treaty/projections/wordml"
)

// Akoma Ntoso 3.0 (OASIS LegalDocML) documents: the draft as a bill (an act
// once concluded) and a proposal as an amendment, each valid against the
// official schema akomantoso30.xsd. They are data, like JSON: the text is
// kept exactly, but for what XML 1.0 cannot hold (see wordml.Escape).

const aknNS = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"

// treatyNS is the namespace of treaty's own identification in an Akoma
// Ntoso document's proprietary metadata.
const treatyNS = "https://github.com/treaty-engine/treaty/ns/1"

var esc = wordml.Escape

// EventTime reads the writer's time of event number n of the negotiation.
func (r *Reader) EventTime(ctx context.Context, n int) (time.Time, error) {
	return r.eventTime(ctx, n)
}

// aknDoc builds one Akoma Ntoso document.
type aknDoc struct {
	b     strings.Builder
	notes []string
}

func (x *aknDoc) w(s ...string) {
	for _, p := range s {
		x.b.WriteString(p)
	}
}

// note adds a note to the document's notes and returns a reference to it.
func (x *aknDoc) note(text string) string {
	x.notes = append(x.notes, text)
	return `<noteRef href="#n_` + strconv.Itoa(len(x.notes)) + `"/>`
}

func aknDate(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02")
}

// aknMeta is the identification every document carries: FRBR Work,
// Expression and Manifestation, each with FRBRthis, FRBRuri, FRBRdate and
// FRBRauthor in that order (the schema wants all four), the Work its
// country and the Expression its language.
type aknMeta struct {
	work         string // "/akn/un/bill/treaty/DATE/ID"
	workDate     time.Time
	workDateName string // what workDate is: "opening", "tabled"
	version      string // the Expression's: "round-2"
	at           Point
	author       string // the Work's and Expression's author: "#conference"
	treaty       string
	parties      []domain.Party
}

func (x *aknDoc) meta(m aknMeta) {
	expr := m.work + "/eng@" + m.version
	date, atDate := aknDate(m.workDate), aknDate(m.at.Time)
	x.w(`<meta><identification source="#treaty">`,
		`<FRBRWork><FRBRthis value="`, esc(m.work), `/!main"/><FRBRuri value="`, esc(m.work), `"/>`,
		`<FRBRdate date="`, date, `" name="`, m.workDateName, `"/><FRBRauthor href="`, m.author, `"/><FRBRcountry value="un"/></FRBRWork>`,
		`<FRBRExpression><FRBRthis value="`, esc(expr), `/!main"/><FRBRuri value="`, esc(expr), `"/>`,
		`<FRBRdate date="`, atDate, `" name="`, esc(m.version), `"/><FRBRauthor href="`, m.author, `"/><FRBRlanguage language="eng"/></FRBRExpression>`,
		`<FRBRManifestation><FRBRthis value="`, esc(expr), `/!main.xml"/><FRBRuri value="`, esc(expr), `/!main.xml"/>`,
		`<FRBRdate date="`, atDate, `" name="generation"/><FRBRauthor href="#treaty"/></FRBRManifestation>`,
		`</identification>`)
	x.w(`<lifecycle source="#treaty"><eventRef eId="evt_`, strconv.Itoa(m.at.Event), `" date="`, atDate, `" source="#conference" type="generation"/></lifecycle>`)
	x.w(`<references source="#treaty"><TLCOrganization eId="conference" href="/ontology/organization/treaty/`, esc(m.treaty), `" showAs="the negotiation `, esc(m.treaty), `"/>`)
	for _, p := range m.parties {
		name := p.Name
		if name == "" {
			name = p.Code
		}
		x.w(`<TLCOrganization eId="party-`, esc(p.Code), `" href="/ontology/organization/`, string(p.Role), `/`, esc(p.Code), `" showAs="`, esc(name), `"/>`)
	}
	x.w(`<TLCOrganization eId="treaty" href="/ontology/organization/treaty-tool" showAs="treaty"/></references>`)
	if len(x.notes) > 0 {
		x.w(`<notes source="#treaty">`)
		for i, n := range x.notes {
			x.w(`<note eId="n_`, strconv.Itoa(i+1), `">`)
			x.lines(n)
			x.w(`</note>`)
		}
		x.w(`</notes>`)
	}
	x.w(`<proprietary source="#treaty"><t:moment xmlns:t="`, treatyNS, `" negotiation="`, esc(m.treaty), `" ref="`, esc(m.at.Ref),
		`" event="`, strconv.Itoa(m.at.Event), `" hash="`, esc(m.at.Hash), `" time="`, m.at.Time.UTC().Format(time.RFC3339), `"/></proprietary></meta>`)
}

// lines writes text as paragraphs, a line each.
func (x *aknDoc) lines(text string) {
	for _, l := range strings.Split(text, "\n") {
		x.w(`<p>`, esc(l), `</p>`)
	}
}

// ops writes a redline as paragraphs with inline <del> and <ins>, a line
// each; suffix goes at the end of the last.
func (x *aknDoc) ops(ops []redline.Op, suffix string) {
	x.w(`<p>`)
	for _, op := range ops {
		open, close := "", ""
		switch op.Kind {
		case redline.Delete:
			open, close = "<del>", "</del>"
		case redline.Insert:
			open, close = "<ins>", "</ins>"
		}
		for i, part := range strings.Split(op.Text, "\n") {
			if i > 0 {
				x.w(`</p><p>`)
			}
			if part != "" {
				x.w(open, esc(part), close)
			}
		}
	}
	x.w(suffix, `</p>`)
}

// DraftAKN writes the draft as an Akoma Ntoso bill (an act once concluded):
// each clause an article, each open proposal an alternative article after
// it with its redline; reservations and the open proposals' comments as
// notes. s is the state the draft was built from (for the comments' text);
// opened the time the negotiation was opened, the Work's date.
func DraftAKN(w io.Writer, d Draft, s *domain.State, opened time.Time) error {
	docType := "bill"
	if d.Concluded != nil {
		docType = "act"
	}
	version := "draft"
	if d.AsOf.Round > 0 {
		version = "round-" + strconv.Itoa(d.AsOf.Round)
	}
	x := &aknDoc{}
	// The body first: it gathers the notes the meta lists.
	var body aknDoc
	body.w(`<body>`)
	for _, c := range d.Clauses {
		art := "art_" + c.ID
		body.w(`<article eId="`, esc(art), `">`, `<num>Article `, strconv.Itoa(c.Number), `</num><heading>`, esc(clauseHeading(c)), `</heading><content>`)
		suffix := ""
		for _, r := range d.ReservationsTo(c.ID) {
			suffix += body.note(partyName(d.Parties, r.Party) + " reserves: " + r.Text)
		}
		if c.Text == "" {
			body.w(`<p>`, suffix, `</p>`)
		} else {
			lines := strings.Split(c.Text, "\n")
			for i, l := range lines {
				body.w(`<p>`, esc(l))
				if i == len(lines)-1 {
					body.w(suffix)
				}
				body.w(`</p>`)
			}
		}
		body.w(`</content></article>`)
		for i, p := range c.OpenProposals {
			heading := clauseHeading(c)
			if p.Heading != nil && *p.Heading != "" {
				heading = *p.Heading
			}
			label := p.Label()
			if p.Option == 0 {
				label = "proposal of " + label
			}
			body.w(`<article eId="`, esc(art), `-alt_`, strconv.Itoa(i+1), `" alternativeTo="`, esc(art), `" refersTo="#party-`, esc(p.Party), `">`,
				`<num>Article `, strconv.Itoa(c.Number), `</num><heading>`, esc(heading+" ("+label+")"), `</heading><content>`)
			notes := body.note(strings.Join(p.Facts(), " · "))
			if wp := s.Proposals[p.ID]; wp != nil {
				for _, cm := range wp.Comments {
					notes += body.note(partyName(d.Parties, cm.Party) + " comments: " + cm.Text)
				}
			}
			body.ops(p.Ops, notes)
			body.w(`</content></article>`)
		}
	}
	if len(d.Clauses) == 0 {
		body.w(`<article eId="art_empty"><num>-</num><heading>The draft is empty</heading><content><p>No clause has been tabled yet.</p></content></article>`)
	}
	body.w(`</body>`)
	x.notes = body.notes
	for _, dv := range d.Declarations {
		x.notes = append(x.notes, partyName(d.Parties, dv.Party)+" declares: "+dv.Text)
	}

	x.w(`<?xml version="1.0" encoding="UTF-8"?>`+"\n", `<akomaNtoso xmlns="`, aknNS, `"><`, docType, ` name="treaty">`)
	x.meta(aknMeta{work: "/akn/un/" + docType + "/treaty/" + aknDate(opened) + "/" + d.Treaty, workDate: opened, workDateName: "opening",
		version: version, at: d.AsOf, author: "#conference", treaty: d.Treaty, parties: d.Parties})
	x.w(`<preface><p><docTitle>`, esc(d.Title), `</docTitle></p>`)
	for _, line := range d.Standing() {
		x.w(`<p>`, esc(line), `</p>`)
	}
	x.w(`</preface>`, body.b.String(), `</`, docType, `></akomaNtoso>`, "\n")
	_, err := io.WriteString(w, x.b.String())
	return err
}

func partyName(parties []domain.Party, code string) string {
	return partyAuthor(parties, code)
}

// ProposalAKN writes one proposal as an Akoma Ntoso amendment: its party
// the author, its redline against the text it was drafted against in the
// amendment's content, its note as the justification, its comments as
// notes. s is the negotiation now; at the head's point; tabled the time
// the proposal was tabled.
func ProposalAKN(w io.Writer, p ProposalDetail, s *domain.State, at Point, tabled time.Time) error {
	x := &aknDoc{}
	for _, c := range p.Comments {
		x.notes = append(x.notes, partyName(s.Parties, c.Party)+" comments: "+c.Text)
	}
	version := "version-" + strconv.Itoa(max(p.Version, 1))
	x.w(`<?xml version="1.0" encoding="UTF-8"?>`+"\n", `<akomaNtoso xmlns="`, aknNS, `"><amendment name="proposal">`)
	x.meta(aknMeta{work: "/akn/un/amendment/treaty/" + aknDate(tabled) + "/" + s.Treaty + "-" + p.ID,
		workDate: tabled, workDateName: "tabled", version: version, at: at, author: "#party-" + p.Party, treaty: s.Treaty, parties: s.Parties})
	what := map[domain.Action]string{domain.ActionInsert: "inserts clause", domain.ActionAmend: "amends clause", domain.ActionDelete: "deletes clause"}[p.Action]
	x.w(`<preface><p><docTitle>`, esc(fmt.Sprintf("Proposal %s: %s %s %s", domain.Short(p.ID), partyName(s.Parties, p.Party), what, p.Clause)), `</docTitle></p>`,
		`<p>`, esc(fmt.Sprintf("Status: %s. Tabled at event %d against revision %d of the clause.", p.Status, p.Tabled, p.BaseRevision)), `</p></preface>`)
	x.w(`<amendmentBody><amendmentHeading><p>`, esc(fmt.Sprintf("%s of clause %s by %s", p.Action, p.Clause, partyName(s.Parties, p.Party))), `</p>`)
	if p.Heading != nil {
		x.w(`<p>`, esc(`Heading: "`+*p.Heading+`"`), `</p>`)
	}
	x.w(`</amendmentHeading><amendmentContent>`)
	refs := ""
	for i := range p.Comments {
		refs += `<noteRef href="#n_` + strconv.Itoa(i+1) + `"/>`
	}
	x.ops(p.Ops, refs)
	x.w(`</amendmentContent>`)
	if p.Note != "" {
		x.w(`<amendmentJustification>`)
		x.lines(p.Note)
		x.w(`</amendmentJustification>`)
	}
	x.w(`</amendmentBody></amendment></akomaNtoso>`, "\n")
	_, err := io.WriteString(w, x.b.String())
	return err
}
