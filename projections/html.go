package projections

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// StyleSheet is the style of every HTML view: inlined into the pages the
// command line writes, served as a file by the web workspace. It prints:
// page numbers at the foot of each page, and colours that survive grey
// print as patterns (insertions underlined, deletions struck through, each
// party's brackets and attributions with a border of its own).
const StyleSheet = `body { font: 12pt/1.5 Georgia, "Times New Roman", serif; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #111; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.4em; }
.meta, .info { color: #555; font: 0.85em/1.4 system-ui, sans-serif; }
.clause-id { color: #777; font: 0.75em monospace; }
.text { white-space: pre-wrap; }
.bracket { white-space: pre-wrap; background: #fff6d6; border-left: 3px solid #d9a400; padding: 0.3em 0.6em; margin: 0.5em 0 0.2em; }
.bracket.stale { background: #eee; border-color: #999; color: #666; }
ins { background: #d9f5dd; color: #0a4d16; text-decoration: underline; }
del { background: #fbdada; color: #7a0a0a; text-decoration: line-through; }
.change { color: #555; font: italic 0.85em system-ui, sans-serif; }
table { border-collapse: collapse; font: 0.85em/1.4 system-ui, sans-serif; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
.ok { color: #0a4d16; } .bad { color: #7a0a0a; font-weight: bold; }
.run { border-bottom: 2px solid #999; } .who { color: #777; font: 0.6em system-ui, sans-serif; margin-right: 0.2em; }
.nad { font: italic 0.85em/1.4 system-ui, sans-serif; color: #444; border-top: 1px solid #ccc; border-bottom: 1px solid #ccc; padding: 0.2em 0; }
.legend { font: 0.8em/1.8 system-ui, sans-serif; color: #333; }
.legend > span { margin-right: 1em; white-space: nowrap; }
.adopted { font: 0.85em/1.4 system-ui, sans-serif; color: #333; margin: 0.3em 0; }
.heading-ops { font-weight: bold; }
.num del { background: none; }
section.change-unchanged h2 { font-weight: normal; }
table.side { font: inherit; table-layout: fixed; }
table.side th { font: 0.8em system-ui, sans-serif; color: #555; }
table.side td { width: 50%; white-space: pre-wrap; border-bottom: none; }
table.positions td, table.positions th { border: 1px solid #bbb; }
table.positions td { white-space: pre-wrap; }
table.positions .bracket { margin: 0 0 0.3em; }
.position { display: block; font-size: 0.9em; }
.position.objects { font-weight: bold; }
.position.awaiting { color: #666; font-style: italic; }
.by { font: bold 0.75em system-ui, sans-serif; padding: 0 0.25em; border-bottom: 2px solid; white-space: nowrap; }
.pc0 { --pc: #1d4f91; border-color: var(--pc); border-style: solid; }
.pc1 { --pc: #b35c00; border-color: var(--pc); border-style: dashed; }
.pc2 { --pc: #2e7d32; border-color: var(--pc); border-style: dotted; }
.pc3 { --pc: #6a1b9a; border-color: var(--pc); border-style: double; }
.pc4 { --pc: #00838f; border-color: var(--pc); border-style: solid; border-width: 4px; }
.pc5 { --pc: #ad1457; border-color: var(--pc); border-style: dashed; border-width: 4px; }
.pc6 { --pc: #5d4037; border-color: var(--pc); border-style: dotted; border-width: 4px; }
.pc7 { --pc: #455a64; border-color: var(--pc); border-style: double; border-width: 5px; }
.bracket.pc0, .bracket.pc1, .bracket.pc2, .bracket.pc3, .bracket.pc4, .bracket.pc5, .bracket.pc6, .bracket.pc7 { border-left-width: 5px; border-top: none; border-right: none; border-bottom: none; }
.bracket.pc0 { background: #eef3fb; } .bracket.pc1 { background: #fff3e6; } .bracket.pc2 { background: #f4fbf4; } .bracket.pc3 { background: #f6eefb; }
.bracket.pc4 { background: #e8f7f8; } .bracket.pc5 { background: #fdeef4; } .bracket.pc6 { background: #f5f0ee; } .bracket.pc7 { background: #eef1f3; }
.bracket.stale { background: #eee; color: #666; }
.standing { font-weight: bold; }
.status { color: #555; font: 0.7em system-ui, sans-serif; margin-left: 0.4em; }
.status.agreed { color: #0a4d16; } .status.agreed-ad-ref { color: #8a6200; }
@page { margin: 2cm 1.6cm; @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 9pt system-ui, sans-serif; color: #555; } }
@page wide { size: landscape; }
.landscape { page: wide; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  .bracket, tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  ins, del, .bracket, .by { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .screen-only { display: none; }
}
`

// notAgreed is the reminder every compare document and positions document
// carries, on screen and at the top of every printed page.
const notAgreed = Unconcluded

// cssString quotes s as a CSS string: every character that could end the
// string, the rule or the style element is escaped.
func cssString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '\'':
			fmt.Fprintf(&b, "\\%x ", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// PrintStyle is the style that puts a running header on every printed
// page: the document's title and moments on the left, the reminder that
// nothing is agreed until everything is agreed on the right. It is a style
// of its own because its text is the document's; a page with a content
// security policy lists its hash.
func PrintStyle(header string) string {
	return "@page { @top-left { content: " + cssString(header) + "; font: 9pt system-ui, sans-serif; color: #555; } " +
		"@top-right { content: " + cssString(notAgreed) + "; font: italic 9pt system-ui, sans-serif; color: #555; } }"
}

// docHead is what the head of a page the command line writes holds.
type docHead struct {
	Title string
	// Print is the page's PrintStyle, if it has one.
	Print template.CSS
}

// linked writes text, escaped; the web workspace replaces it with a
// function that links it to the page of the proposal or clause (kind) in
// the negotiation treaty. The pages the command line writes link nowhere.
func linked(kind, treaty, id, text string) template.HTML {
	return template.HTML(template.HTMLEscapeString(text))
}

// partyClass names the style of a participant's brackets and
// attributions: by its place among the participants, so that any code
// gets one.
func partyClass(parties []domain.Party, code string) string {
	for i, p := range parties {
		if p.Code == code {
			return fmt.Sprintf("pc%d", i%8)
		}
	}
	return "pc7"
}

// sideOps renders one side of a side-by-side redline: the text before
// (equal and deleted runs) or after (equal and inserted runs).
func sideOps(ops []redline.Op, after bool) template.HTML {
	var b strings.Builder
	for _, op := range ops {
		t := template.HTMLEscapeString(op.Text)
		switch {
		case op.Kind == redline.Equal:
			b.WriteString(t)
		case op.Kind == redline.Delete && !after:
			b.WriteString("<del>" + t + "</del>")
		case op.Kind == redline.Insert && after:
			b.WriteString("<ins>" + t + "</ins>")
		}
	}
	return template.HTML(b.String())
}

// infoRest is the line under a bracket after the proposal's ID.
func infoRest(p OpenProposal) string {
	return strings.Join(p.Facts()[1:], " · ")
}

// proposalInfo is what is said under a bracket (OpenProposal.Facts), with
// id for the proposal's ID and, when escape is not nil, every other fact
// escaped for the format.
func proposalInfo(p OpenProposal, id string, escape func(string) string) []string {
	facts := p.Facts()
	facts[0] = id
	if escape != nil {
		for i := 1; i < len(facts); i++ {
			facts[i] = escape(facts[i])
		}
	}
	return facts
}

// compareHeader is the running header of a printed compare document.
func compareHeader(d Diff) string {
	return fmt.Sprintf("%s — redline from %s (event %d) to %s (event %d)", d.Title, d.From.Ref, d.From.Event, d.To.Ref, d.To.Event)
}

// positionsHeader is the running header of a printed positions document.
func positionsHeader(p Positions) string {
	return fmt.Sprintf("%s — positions at %s (event %d)", p.Title, p.At.Ref, p.At.Event)
}

// adoptionsHTML is what a compare page says of a clause's adoptions.
type adoptionsHTML struct {
	Listed  []Attribution
	ByParty string
}

// CompareHTML is what a compare page is rendered from: the document and
// the view (CompareInline or CompareSide).
type CompareHTML struct {
	Diff Diff
	View string
}

// The views of an HTML compare document.
const (
	CompareInline = "inline"
	CompareSide   = "side"
)

// withReviewTemplates adds the reviewers' pages (compare, positions) and
// the head and foot every page shares to the template set t.
func withReviewTemplates(t *template.Template) *template.Template {
	t.Funcs(template.FuncMap{
		"styleSheet": func() template.CSS { return template.CSS(StyleSheet) },
		"notAgreed":  func() string { return notAgreed },
		"partyClass": partyClass,
		"side":       sideOps,
		"infoRest":   infoRest,
		"number":     changeNumber,
		"changeHead": changeHeading,
		"printStyle": func(header string) template.CSS { return template.CSS(PrintStyle(header)) },
		"compareHeader": func(d Diff) string {
			return compareHeader(d)
		},
		"positionsHeader": positionsHeader,
		"docHeadPrint": func(title, header string) docHead {
			return docHead{Title: title, Print: template.CSS(PrintStyle(header))}
		},
		"isDelete":      func(a domain.Action) bool { return a == domain.ActionDelete },
		"positionWords": positionWords,
		"labelled":      showLabel,
		"adoptions": func(c ClauseChange, parties []domain.Party) *adoptionsHTML {
			if len(c.Adopted) == 0 {
				return nil
			}
			l, by := adoptionSummary(c, parties)
			return &adoptionsHTML{Listed: l, ByParty: by}
		},
	})
	return template.Must(t.Parse(reviewTemplates))
}

const reviewTemplates = `{{define "doc-head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
{{styleSheet}}</style>
{{with .Print}}<style>{{.}}</style>
{{end}}</head>
<body>
{{end}}

{{define "doc-foot"}}</body>
</html>
{{end}}

{{define "legend"}}<p class="legend"><span><ins>inserted</ins></span><span><del>deleted</del></span><span>[bracketed]: an open proposal, not agreed</span>{{range .}}<span><span class="by {{partyClass $ .Code}}">{{.Code}}</span> {{.Name}}</span>{{end}}</p>
{{end}}

{{define "compare"}}{{template "doc-head" (docHeadPrint (print "Redline of " .Diff.Title) (compareHeader .Diff))}}{{template "compare-body" .}}{{template "doc-foot"}}{{end}}

{{define "compare-body"}}{{$d := .Diff}}{{$side := eq .View "side"}}<h1>Redline of {{$d.Title}}</h1>
<p class="meta">{{$d.Treaty}} · from {{label $d.From}} to {{label $d.To}}{{if $d.Whole}} · the whole text{{end}}</p>
<p class="nad">{{notAgreed}} The agreed text stands provisionally until the whole text is concluded.</p>
{{template "legend" $d.Parties}}
{{range $d.Clauses}}<section id="clause-{{.ID}}" class="change-{{.Change}}">
<h2>{{number .}} {{changeHead .}} <span class="clause-id">{{linked "clause" $d.Treaty .ID .ID}}</span>{{if labelled .}} <span class="change">({{change .}})</span>{{end}}</h2>
{{with .HeadingOps}}<p class="heading-ops">Heading: {{ops .}}</p>
{{end}}{{if and $side (ne .Before .After)}}<table class="side"><tr><th>{{$d.From.Ref}} (event {{$d.From.Event}})</th><th>{{$d.To.Ref}} (event {{$d.To.Event}})</th></tr>
<tr><td>{{side .Ops false}}</td><td>{{side .Ops true}}</td></tr></table>
{{else if .Ops}}<div class="text">{{ops .Ops}}</div>
{{end}}{{with adoptions . $d.Parties}}<p class="adopted">Adopted: {{.ByParty}}{{range $i, $a := .Listed}}{{if $i}}; {{end}}{{linked "proposal" $d.Treaty .ID (short .ID)}} (<span class="by {{partyClass $d.Parties .Party}}">{{.Party}}</span>{{with .Place}}, {{.}}{{end}}, event {{.Event}}){{end}}</p>
{{end}}{{range .OpenProposals}}<div class="bracket {{partyClass $d.Parties .Party}}{{if .Stale}} stale{{end}}">[<strong>{{.Label}}:</strong> {{if isDelete .Action}}<em>delete this clause:</em> {{end}}{{ops .Ops}}]</div>
<div class="info">{{linked "proposal" $d.Treaty .ID (short .ID)}} · {{infoRest .}}</div>
{{end}}</section>
{{else}}<p>No change to the agreed text.</p>
{{end}}<p class="meta">Proposals: {{$d.Proposals.Counts.Tabled}} tabled, {{$d.Proposals.Counts.Adopted}} adopted, {{$d.Proposals.Counts.Withdrawn}} withdrawn.</p>
{{end}}

{{define "positions"}}{{template "doc-head" (docHeadPrint (print "Positions in " .Title) (positionsHeader .))}}{{template "positions-body" .}}{{template "doc-foot"}}{{end}}

{{define "positions-body"}}{{$p := .}}<div class="landscape"><h1>Positions in {{.Title}}</h1>
<p class="meta">{{.Treaty}} · at {{label .At}}</p>
<p class="nad">{{notAgreed}}</p>
{{template "legend" .Participants}}
{{if .Clauses}}<table class="positions"><thead><tr><th>Clause</th><th>Agreed text</th>{{range .Columns}}<th>{{.Code}}{{if .Observer}} (mediator){{end}}</th>{{end}}</tr></thead>
<tbody>{{range .Clauses}}{{$row := .}}<tr id="clause-{{.ID}}"><td>{{.Number}}. {{.Shown}}<br><span class="clause-id">{{linked "clause" $p.Treaty .ID .ID}}</span></td><td>{{if .Agreed}}{{.Agreed}}{{else}}<em>none yet</em>{{end}}</td>
{{range $p.Columns}}{{$col := index $row.Columns .Code}}<td>{{range $col.Proposals}}<div class="bracket {{partyClass $p.Participants .Party}}{{if .Stale}} stale{{end}}">[<strong>{{.Party}}{{if .Stale}}, stale{{end}}:</strong> {{if isDelete .Action}}<em>delete this clause:</em> {{end}}{{ops .Ops}}]<br><span class="info">{{linked "proposal" $p.Treaty .Proposal (short .Proposal)}} · {{.Action}}{{with .Placement.Words}} · {{.}}{{end}}</span></div>{{end}}{{range $col.Positions}}<span class="position {{.Position}}">{{positionWords .}}</span>{{end}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{else}}<p>No clause has an open proposal{{if not .All}}; with all clauses, every clause is listed{{end}}.</p>
{{end}}</div>
{{end}}`

// HTMLTemplates returns a copy of the templates of the HTML views, for a
// program that frames them in pages of its own (the web workspace). Each
// view has a body template ("draft-body", "compare-body" with a
// CompareHTML, "positions-body", "blame-body"; the audit's "audit-report",
// then "audit-table", an "audit-proposal" a row, "audit-end"); the function
// "linked" (kind, treaty, id, text) may be replaced to link proposals
// ("proposal") and clauses ("clause") to pages of their own.
func HTMLTemplates() (*template.Template, error) { return pages().Clone() }
