package projections

import (
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// The HTML views are single self-contained files: no script, no external
// style sheet or font, printable on paper. html/template escapes every piece
// of negotiated text, after Printable has made visible what would hide in it. The templates are parsed on first use, not at start:
// most commands write no HTML.
var pages = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"point":          describePoint,
		"label":          pointLabel,
		"parties":        partyList,
		"short":          domain.Short,
		"ops":            opsHTML,
		"join":           strings.Join,
		"heading":        clauseHeading,
		"change":         changeLabel,
		"authentication": authenticationLine,
		"describeKey":    describeKey,
		"time": func(t any) string {
			switch t := t.(type) {
			case time.Time:
				return FormatTime(t)
			case *time.Time:
				if t != nil {
					return FormatTime(*t)
				}
			}
			return "-"
		},
		"proposedHeading": func(c DraftClause, p OpenProposal) string {
			h, _ := proposedHeading(c, p)
			return h
		},
		"party": func() domain.Role { return domain.RoleParty },
		"observer": func() domain.Role {
			return domain.RoleObserver
		},
	}).Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>
body { font: 12pt/1.5 Georgia, "Times New Roman", serif; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #111; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.4em; }
.meta, .info { color: #555; font: 0.85em/1.4 system-ui, sans-serif; }
.clause-id { color: #777; font: 0.75em monospace; }
.text { white-space: pre-wrap; }
.bracket { white-space: pre-wrap; background: #fff6d6; border-left: 3px solid #d9a400; padding: 0.3em 0.6em; margin: 0.5em 0 0.2em; }
.bracket.stale { background: #eee; border-color: #999; color: #666; }
ins { background: #d9f5dd; color: #0a4d16; text-decoration: underline; }
del { background: #fbdada; color: #7a0a0a; text-decoration: line-through; }
.standing { font-weight: bold; }
.status { color: #555; font: 0.7em system-ui, sans-serif; margin-left: 0.4em; }
.status.agreed { color: #0a4d16; } .status.agreed-ad-ref { color: #8a6200; }
.change { color: #555; font: italic 0.85em system-ui, sans-serif; }
table { border-collapse: collapse; font: 0.85em/1.4 system-ui, sans-serif; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
.ok { color: #0a4d16; } .bad { color: #7a0a0a; font-weight: bold; }
.run { border-bottom: 2px solid #999; } .who { color: #777; font: 0.6em system-ui, sans-serif; margin-right: 0.2em; }
@media print { body { margin: 0; max-width: none; } .bracket { break-inside: avoid; } ins, del { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
</style>
</head>
<body>
{{end}}

{{define "draft"}}{{template "head" .Title}}<h1>{{.Title}}</h1>
<p class="meta">{{.Treaty}} · as of {{point .AsOf}}<br>
Parties: {{parties .Parties party}}{{with parties .Parties observer}}<br>Observers: {{.}}{{end}}</p>
{{range .Standing}}<p class="standing">{{.}}</p>
{{end}}{{range .Clauses}}{{$c := .}}<section id="clause-{{.ID}}">
<h2>{{.Number}}. {{heading .}} <span class="clause-id">{{.ID}}</span> <span class="status {{.Status}}">{{.StatusLabel}}</span></h2>
{{if .Text}}<div class="text">{{.Text}}</div>{{end}}
{{range .OpenProposals}}<div class="bracket{{if .Stale}} stale{{end}}">[<strong>{{.Label}}:</strong> {{with proposedHeading $c .}}<em>heading “{{.}}”:</em> {{end}}{{ops .Ops}}]</div>
<div class="info">{{join .Facts " · "}}</div>
{{end}}{{range $.ReservationsTo .ID}}<p class="reservation"><em>Reservation by {{.Party}}:</em> {{.Text}}</p>
{{end}}</section>
{{else}}<p>The draft is empty: no clause has been tabled yet.</p>
{{end}}{{with .Declarations}}<section id="declarations"><h2>Declarations</h2>
{{range .}}<p class="declaration"><em>{{.Party}}:</em> {{.Text}}</p>
{{end}}</section>
{{end}}</body>
</html>
{{end}}

{{define "diff"}}{{template "head" (print "Redline of " .Title)}}<h1>Redline of {{.Title}}</h1>
<p class="meta">{{.Treaty}} · from {{label .From}} to {{label .To}}</p>
{{range .Clauses}}<section id="clause-{{.ID}}">
<h2>{{if eq .Change "removed"}}{{.NumberBefore}}. {{if .HeadingBefore}}{{.HeadingBefore}}{{else}}{{.ID}}{{end}}{{else}}{{.NumberAfter}}. {{if .HeadingAfter}}{{.HeadingAfter}}{{else}}{{.ID}}{{end}}{{end}} <span class="clause-id">{{.ID}}</span></h2>
<p class="change">{{change .}}</p>
{{if and (eq .Change "modified") (ne .HeadingBefore .HeadingAfter)}}<p>Heading: {{ops .HeadingOps}}</p>{{end}}
{{if ne .Change "moved"}}<div class="text">{{ops .Ops}}</div>{{end}}
</section>
{{else}}<p>No change to the agreed text.</p>
{{end}}<p class="meta">Proposals: {{.Proposals.Counts.Tabled}} tabled, {{.Proposals.Counts.Adopted}} adopted, {{.Proposals.Counts.Withdrawn}} withdrawn.</p>
</body>
</html>
{{end}}

{{define "blame"}}{{template "head" (print "Provenance of " .Title)}}<h1>Provenance of {{.Title}}</h1>
<p class="meta">{{.Treaty}} · as of {{point .AsOf}} · each run of words is marked with the party whose adopted proposal brought it in; hover for the proposal and round</p>
{{range .Clauses}}<section id="clause-{{.ID}}">
<h2>{{.Number}}. {{if .Heading}}{{.Heading}}{{else}}{{.ID}}{{end}} <span class="clause-id">{{.ID}}</span></h2>
<div class="text">{{range .Runs}}<span class="run party-{{.Party}}" title="{{short .Proposal}} · {{.Party}}{{with .Place}} · {{.}}{{end}} · event {{.Event}}">{{.Text}}</span><sub class="who">{{.Party}}</sub>{{end}}</div>
</section>
{{end}}</body>
</html>
{{end}}

{{define "stretch"}}<tr><td colspan="2">{{.Place}}</td><td>event {{.First}}</td><td>event {{.Last}}</td><td>{{.Tabled}}</td><td>{{.Adopted}}</td><td></td></tr>
{{end}}

{{define "audit"}}{{template "head" (print "Audit of " .Title)}}<h1>Audit of {{.Title}}</h1>
<p class="meta">{{.Treaty}} · as of {{point .AsOf}}</p>
{{with .Verification}}{{if .OK}}<p class="ok">Verified: {{.Events}} events; the hash chain is whole and every event follows the rules.<br>{{authentication .Authentication}}<br>Head: <code>{{.Head}}</code></p>
{{else}}<p class="bad">Not verified: {{.Problem}}</p>{{end}}{{end}}
<h2>Parties and keys</h2>
<table><tr><th>Code</th><th>Name</th><th>Role</th><th>Keys</th></tr>
{{range .Parties}}<tr><td>{{.Code}}</td><td>{{.Name}}</td><td>{{.Role}}</td><td>{{range .Keys}}{{describeKey .}}<br>{{else}}no key: its acts are not authenticated{{end}}</td></tr>
{{end}}</table>
<h2>Rounds</h2>
<table><tr><th>Round</th><th>Name</th><th>Opened</th><th>Closed</th><th>Tabled</th><th>Adopted</th><th>Closing hash</th></tr>
{{range .Rounds}}{{with .Before}}{{template "stretch" .}}{{end}}<tr><td>{{.Number}}</td><td>{{.Name}}</td><td>{{time .OpenedAt}} (event {{.Opened}})</td><td>{{if .ClosedAt}}{{time .ClosedAt}} (event {{.Closed}}){{else}}open{{end}}</td><td>{{.Tabled}}</td><td>{{.Adopted}}</td><td><code>{{.ClosedHash}}</code></td></tr>
{{with .After}}{{template "stretch" .}}{{end}}{{end}}</table>
<h2>Proposals</h2>
<table><tr><th>Proposal</th><th>Clause</th><th>Party</th><th>Action</th><th>Tabled</th><th>Fate</th><th>Accepted by</th><th>Objected to by</th></tr>
{{range .Proposals}}<tr><td><code>{{short .ID}}</code></td><td>{{.Clause}}</td><td>{{.Party}}</td><td>{{.Action}}</td><td>event {{.Tabled}}{{with .Place}}, {{.}}{{end}}</td><td>{{.Status}}{{if .Closed}} (event {{.Closed}}){{end}}</td><td>{{join .AcceptedBy ", "}}</td><td>{{join .ObjectedBy ", "}}</td></tr>
{{end}}</table>
</body>
</html>
{{end}}`))
})

// opsHTML renders a redline with <ins> and <del>, every piece of text escaped.
func opsHTML(ops []redline.Op) template.HTML {
	return template.HTML(tagged(template.HTMLEscapeString).render(ops))
}

// WriteDraftHTML writes the draft as one self-contained, printable HTML page.
func WriteDraftHTML(w io.Writer, d Draft) error {
	return pages().ExecuteTemplate(w, "draft", Printable(d))
}

// WriteDiffHTML writes the redline as one self-contained, printable HTML page.
func WriteDiffHTML(w io.Writer, d Diff) error {
	return pages().ExecuteTemplate(w, "diff", Printable(d))
}
