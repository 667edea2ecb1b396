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
// of negotiated text, after Printable has made visible what would hide in
// it. The templates are parsed on first use, not at start: most commands
// write no HTML.
var pages = sync.OnceValue(func() *template.Template {
	return withReviewTemplates(template.Must(template.New("page").Funcs(template.FuncMap{
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
		"linked":   linked,
		"infoRest": infoRest,
		"docHead":  func(title string) docHead { return docHead{Title: title} },
		"party":    func() domain.Role { return domain.RoleParty },
		"observer": func() domain.Role {
			return domain.RoleObserver
		},
	}).Parse(`{{define "head"}}{{template "doc-head" (docHead .)}}{{end}}

{{define "draft"}}{{template "head" .Title}}{{template "draft-body" .}}{{template "doc-foot"}}{{end}}

{{define "draft-body"}}<h1>{{.Title}}</h1>
<p class="meta">{{.Treaty}} · as of {{point .AsOf}}<br>
Parties: {{parties .Parties party}}{{with parties .Parties observer}}<br>Observers: {{.}}{{end}}</p>
{{range .Standing}}<p class="standing">{{.}}</p>
{{end}}{{range .Clauses}}{{$c := .}}<section id="clause-{{.ID}}">
<h2>{{.Number}}. {{heading .}} <span class="clause-id">{{linked "clause" $.Treaty .ID .ID}}</span> <span class="status {{.Status}}">{{.StatusLabel}}</span></h2>
{{if .Text}}<div class="text">{{.Text}}</div>{{end}}
{{range .OpenProposals}}<div class="bracket{{if .Stale}} stale{{end}}">[<strong>{{.Label}}:</strong> {{with proposedHeading $c .}}<em>heading “{{.}}”:</em> {{end}}{{ops .Ops}}]</div>
<div class="info">{{linked "proposal" $.Treaty .ID (short .ID)}} · {{infoRest .}}</div>
{{end}}{{range $.ReservationsTo .ID}}<p class="reservation"><em>Reservation by {{.Party}}:</em> {{.Text}}</p>
{{end}}</section>
{{else}}<p>The draft is empty: no clause has been tabled yet.</p>
{{end}}{{with .Declarations}}<section id="declarations"><h2>Declarations</h2>
{{range .}}<p class="declaration"><em>{{.Party}}:</em> {{.Text}}</p>
{{end}}</section>
{{end}}{{end}}

{{define "blame"}}{{template "head" (print "Provenance of " .Title)}}{{template "blame-body" .}}{{template "doc-foot"}}{{end}}

{{define "blame-body"}}<h1>Provenance of {{.Title}}</h1>
<p class="meta">{{.Treaty}} · as of {{point .AsOf}} · each run of words is marked with the party whose adopted proposal brought it in; hover for the proposal and round</p>
{{range .Clauses}}<section id="clause-{{.ID}}">
<h2>{{.Number}}. {{if .Heading}}{{.Heading}}{{else}}{{.ID}}{{end}} <span class="clause-id">{{.ID}}</span></h2>
<div class="text">{{range .Runs}}<span class="run party-{{.Party}}" title="{{short .Proposal}} · {{.Party}}{{with .Place}} · {{.}}{{end}} · event {{.Event}}">{{.Text}}</span><sub class="who">{{.Party}}</sub>{{end}}</div>
</section>
{{end}}{{end}}

{{define "stretch"}}<tr><td colspan="2">{{.Place}}</td><td>event {{.First}}</td><td>event {{.Last}}</td><td>{{.Tabled}}</td><td>{{.Adopted}}</td><td></td></tr>
{{end}}

{{define "audit"}}{{template "audit-open" .}}{{range .Proposals}}{{template "audit-proposal" .}}{{end}}{{template "audit-close"}}{{end}}

{{define "audit-open"}}{{template "head" (print "Audit of " .Title)}}{{template "audit-top" .}}{{end}}

{{define "audit-close"}}{{template "audit-end"}}{{template "doc-foot"}}{{end}}

{{define "audit-top"}}{{template "audit-report" .}}<h2>Proposals</h2>
{{template "audit-table"}}{{end}}

{{define "audit-report"}}<h1>Audit of {{.Title}}</h1>
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
{{end}}

{{define "audit-table"}}<table><tr><th>Proposal</th><th>Clause</th><th>Party</th><th>Action</th><th>Tabled</th><th>Fate</th><th>Accepted by</th><th>Objected to by</th></tr>
{{end}}

{{define "audit-proposal"}}<tr><td><code>{{short .ID}}</code></td><td>{{.Clause}}</td><td>{{.Party}}</td><td>{{.Action}}</td><td>event {{.Tabled}}{{with .Place}}, {{.}}{{end}}</td><td>{{.Status}}{{if .Closed}} (event {{.Closed}}){{end}}</td><td>{{join .AcceptedBy ", "}}</td><td>{{join .ObjectedBy ", "}}</td></tr>
{{end}}

{{define "audit-end"}}</table>
{{end}}`)))
})

// opsHTML renders a redline with <ins> and <del>, every piece of text escaped.
func opsHTML(ops []redline.Op) template.HTML {
	return template.HTML(tagged(template.HTMLEscapeString).render(ops))
}

// WriteDraftHTML writes the draft as one self-contained, printable HTML page.
func WriteDraftHTML(w io.Writer, d Draft) error {
	return pages().ExecuteTemplate(w, "draft", Printable(d))
}
