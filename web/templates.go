package web

import (
	"html/template"
	"net/url"
	"strings"

	"github.com/treaty-engine/treaty/projections"
)

// templates are the views' own templates (the bodies the command line's
// HTML pages hold) with the workspace's frame and pages around them, and
// proposals and clauses linked to their pages.
func templates() (*template.Template, error) {
	t, err := projections.HTMLTemplates()
	if err != nil {
		return nil, err
	}
	t.Funcs(template.FuncMap{
		"linked": func(kind, treaty, id, text string) template.HTML {
			var path string
			switch kind {
			case "proposal":
				path = "/t/" + url.PathEscape(treaty) + "/proposals/" + url.PathEscape(id)
			case "clause":
				path = "/t/" + url.PathEscape(treaty) + "/clauses/" + url.PathEscape(id)
			default:
				return template.HTML(template.HTMLEscapeString(text))
			}
			return template.HTML(`<a href="` + template.HTMLEscapeString(path) + `">` + template.HTMLEscapeString(text) + `</a>`)
		},
		"printHref": func(header string) string { return "/print.css?header=" + url.QueryEscape(header) },
		"lower":     strings.ToLower,
	})
	return t.Parse(webTemplates)
}

const webTemplates = `{{define "page"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0}'>
<title>{{.Title}} · {{.Treaty}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/treaty.css">
<link rel="stylesheet" href="/static/workspace.css">
<script src="/static/htmx.min.js" defer></script>
<script src="/static/sse.js" defer></script>
<script src="/static/treaty.js" defer></script>
</head>
<body{{if .Wide}} class="wide"{{end}} hx-boost="true" hx-ext="sse" sse-connect="/t/{{.Treaty}}/events?after={{.Head.Event}}">
<header class="bar screen-only">
<span class="treaty"><a href="/t/{{.Treaty}}/draft">{{if .TreatyTitle}}{{.TreatyTitle}}{{else}}{{.Treaty}}{{end}}</a></span>
<nav>{{range .Sections}}<a href="/t/{{$.Treaty}}/{{.Value}}"{{if eq .Value $.Section}} aria-current="page"{{end}}>{{.Label}}</a>{{end}}</nav>
<p class="status"><span class="readonly">read-only</span> This workspace shows the negotiation; parties act with the treaty command line. ·
<span id="live-status" data-state="off">live updates need JavaScript</span> ·
<span id="head-note" hx-trigger="sse:message" data-event="{{.Head.Event}}">at event {{.Head.Event}}</span></p>
</header>
{{with .Controls}}<form class="controls screen-only" method="get" action="/t/{{$.Treaty}}/{{.Action}}">
{{range .Fields}}<label>{{.Label}} {{if eq .Kind "ref"}}<input name="{{.Name}}" value="{{.Value}}" list="refs" placeholder="REF" size="14">{{else if eq .Kind "check"}}<input type="checkbox" name="{{.Name}}" value="1"{{if .Value}} checked{{end}}>{{else if eq .Kind "select"}}<select name="{{.Name}}">{{$v := .Value}}{{range .Options}}<option value="{{.Value}}"{{if eq .Value $v}} selected{{end}}>{{.Label}}</option>{{end}}</select>{{else}}<input name="{{.Name}}" value="{{.Value}}" size="14">{{end}}</label>
{{end}}<button type="submit">Show</button>
</form>
{{end}}{{with .Refs}}<datalist id="refs">{{range .}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</datalist>
{{end}}<main id="content" data-live="{{.Live}}"{{if .Live}} hx-get="{{.URL}}" hx-trigger="sse:message delay:150ms" hx-select="#content" hx-target="this" hx-swap="outerHTML"{{end}}>
{{if not .Live}}<p id="behind" class="behind screen-only" hidden>The negotiation has moved on since the moment shown. <a href="/t/{{.Treaty}}/{{.Section}}">See it now</a>.</p>
{{end}}{{with .Print}}<link rel="stylesheet" href="{{printHref .}}">
{{end}}{{.Body}}
</main>
</body>
</html>
{{end}}

{{define "simple-head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · treaty</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/treaty.css">
<link rel="stylesheet" href="/static/workspace.css">
</head>
<body>
{{end}}

{{define "index"}}{{template "simple-head" "Negotiations"}}<h1>Negotiations</h1>
<p class="status"><span class="readonly">read-only</span> This workspace shows negotiations; parties act with the treaty command line.</p>
{{if .}}<table class="list"><tr><th>Negotiation</th><th>Title</th><th>Events</th></tr>
{{range .}}<tr><td><a href="/t/{{.ID}}/draft">{{.ID}}</a></td><td>{{.Title}}</td><td>{{.Events}}</td></tr>
{{end}}</table>
{{else}}<p>The store holds no negotiation yet: start one with <code>treaty init</code>, or try <code>treaty demo</code>.</p>
{{end}}</body>
</html>
{{end}}

{{define "error"}}{{template "simple-head" .Text}}<div class="error-page">
<h1>{{.Status}} {{.Text}}</h1>
<p>{{.Message}}</p>
<p><a href="/">The negotiations</a></p>
</div>
</body>
</html>
{{end}}

{{define "proposals-body"}}<h1>{{if .All}}Every proposal{{else}}Open proposals{{end}}</h1>
{{with .Paging}}<p class="meta">{{.Total}} proposals, adopted and withdrawn included{{if gt .Pages 1}}, in the order they were tabled: {{.FirstRow}} to {{.LastRow}} on this page{{end}}.</p>
{{template "pages" .}}{{else}}<p class="meta">{{len .Proposals}} open, stale ones included.</p>
{{end}}{{if .Proposals}}<table class="list"><thead><tr><th>Proposal</th><th>Clause</th><th>Action</th><th>Party</th><th>Status</th><th>Accepted by</th><th>Objected to by</th><th>Awaiting</th><th>Round</th><th>Place</th></tr></thead>
<tbody>{{range .Proposals}}<tr><td>{{linked "proposal" $.Treaty .ID (short .ID)}}</td><td>{{linked "clause" $.Treaty .Clause .Clause}}</td><td>{{.Action}}</td><td>{{.Party}}</td><td>{{.Status}}</td><td>{{join .AcceptedBy ", "}}</td><td>{{join .ObjectedBy ", "}}</td><td>{{join .Awaiting ", "}}</td><td>{{.Place}}</td><td>{{.Placement.Words}}</td></tr>
{{end}}</tbody></table>
{{with .Paging}}{{template "pages" .}}{{end}}{{else}}<p>{{if .All}}No proposals.{{else}}No open proposals.{{end}}</p>
{{end}}{{end}}

{{define "audit-page"}}{{template "audit-report" .Audit}}<h2>Proposals</h2>
<p class="meta">{{.Paging.Total}} proposals: {{index .Fates "adopted"}} adopted, {{index .Fates "withdrawn"}} withdrawn, {{index .Fates "open"}} open, {{index .Fates "stale"}} stale{{if gt .Paging.Pages 1}}; in the order they were tabled, {{.Paging.FirstRow}} to {{.Paging.LastRow}} on this page{{end}}.</p>
{{template "pages" .Paging}}{{template "audit-table"}}{{range .Proposals}}{{template "audit-proposal" .}}{{end}}{{template "audit-end"}}{{template "pages" .Paging}}{{end}}

{{define "pages"}}{{if gt .Pages 1}}<nav class="pages" aria-label="pages">{{if .Prev}}<a href="{{.First}}">first</a> · <a rel="prev" href="{{.Prev}}">previous</a>{{else}}first · previous{{end}} · page {{.Page}} of {{.Pages}} · {{if .Next}}<a rel="next" href="{{.Next}}">next</a> · <a href="{{.Last}}">last</a>{{else}}next · last{{end}}</nav>
{{end}}{{end}}

{{define "proposal-body"}}{{$p := .P}}<h1>Proposal {{short $p.ID}}</h1>
<p class="meta"><code>{{$p.ID}}</code><br>{{$p.Action}} of clause {{linked "clause" .Treaty $p.Clause $p.Clause}} by {{$p.Party}}, tabled at event {{$p.Tabled}}{{with $p.Place}} ({{.}}){{end}}, against revision {{$p.BaseRevision}}</p>
<p>Status: <strong>{{$p.Status}}</strong>{{if $p.Closed}} at event {{$p.Closed}}{{end}}{{if eq $p.Status "stale"}}: the clause is at revision {{$p.CurrentRevision}} now; this proposal can no longer be accepted{{end}}</p>
{{if gt $p.Version 1}}<p>Version {{$p.Version}}</p>{{end}}
{{with $p.Rebases}}<p>Rebases {{linked "proposal" $.Treaty . (short .)}} onto the clause's current text</p>{{end}}
{{with $p.Positions}}<ul>{{range .}}<li>{{.Party}} {{.Words}} (event {{.Event}}){{with .Reason}}: {{.}}{{end}}</li>{{end}}</ul>{{end}}
{{with $p.Awaiting}}<p>Awaiting: {{join . ", "}}</p>{{end}}
{{with $p.Heading}}<p>Heading: “{{.}}”</p>{{end}}
{{with $p.Note}}<p>Note: {{.}}</p>{{end}}
{{with $p.Placement.Words}}<p>Place: {{.}}</p>{{end}}
<h2>{{if eq $p.Action "delete"}}Deletes the clause{{else if $p.Base}}Redline against revision {{$p.BaseRevision}}{{else}}Text{{end}}</h2>
<div class="text">{{ops $p.Ops}}</div>
{{if and $p.Base (ne $p.Current $p.Base)}}<h2>The clause now (revision {{$p.CurrentRevision}})</h2>
<div class="text">{{$p.Current}}</div>{{end}}
{{if gt (len $p.Versions) 1}}<h2>Versions</h2>
{{range $p.Versions}}<section class="version"><h3>Version {{.Version}} (event {{.Event}}){{with .Note}}: {{.}}{{end}}</h3>
<div class="text">{{ops .Ops}}</div></section>
{{end}}{{end}}{{with $p.Comments}}<h2>Comments</h2>
{{range .}}<div class="comment"><p class="meta">{{.Party}} · event {{.Event}}</p><div class="text">{{.Text}}</div></div>
{{end}}{{end}}
{{end}}

{{define "history-body"}}<h1>History of clause {{.Clause}}</h1>
<p class="meta">{{.Treaty}} · as of {{point .AsOf}}</p>
<h2>Revisions</h2>
{{range .Revisions}}<section><h3>Revision {{.Revision}}{{with .Heading}}: {{.}}{{end}}</h3>
<p class="meta">{{if .Restores}}restored: {{.Party}}'s capital declined {{linked "proposal" $.Treaty .Proposal (short .Proposal)}}{{else}}{{linked "proposal" $.Treaty .Proposal (short .Proposal)}} by {{.Party}}{{with .AdRef}}, ad referendum ({{join . ", "}}){{end}}{{end}} · event {{.Event}}{{with .Place}} · {{.}}{{end}} · {{time .Time}}{{if .Deleted}} · deleted the clause{{end}}</p>
<div class="text">{{ops .Ops}}</div></section>
{{else}}<p>No revision adopted yet.</p>
{{end}}<h2>Proposals</h2>
<table class="list"><thead><tr><th>Proposal</th><th>Party</th><th>Action</th><th>Tabled</th><th>Positions</th><th>Fate</th></tr></thead>
<tbody>{{range .Proposals}}<tr><td>{{linked "proposal" $.Treaty .ID (short .ID)}}</td><td>{{.Party}}</td><td>{{.Action}}</td><td>event {{.Tabled}}{{with .Place}}, {{.}}{{end}}</td><td>{{range .Positions}}{{.Party}} {{.Words}} (event {{.Event}}){{with .Reason}}: {{.}}{{end}}<br>{{end}}</td><td>{{.Fate}}{{with .Closed}} (event {{.}}){{end}}</td></tr>
{{end}}</tbody></table>
{{range .Proposals}}{{if or (gt (len .Versions) 1) .Comments}}<section><h3>Proposal {{linked "proposal" $.Treaty .ID (short .ID)}}</h3>
{{if gt (len .Versions) 1}}{{range .Versions}}<p class="meta">Version {{.Version}} · event {{.Event}}{{with .Note}}: {{.}}{{end}}</p><div class="text">{{ops .Ops}}</div>
{{end}}{{end}}{{range .Comments}}<div class="comment"><p class="meta">{{.Party}} · event {{.Event}}</p><div class="text">{{.Text}}</div></div>
{{end}}</section>
{{end}}{{end}}{{end}}

{{define "rounds-body"}}<h1>Rounds</h1>
{{if .Rounds}}<table class="list"><thead><tr><th>Round</th><th>Name</th><th>Opened</th><th>Closed</th><th>Events</th><th>Tabled</th><th>Adopted</th><th>Compare</th></tr></thead>
<tbody>{{range .Rounds}}<tr><td>{{.Number}}</td><td>{{.Name}}</td><td>{{time .OpenedAt}}</td><td>{{if .ClosedAt}}{{time .ClosedAt}}{{else}}open{{end}}</td><td>{{.Opened}}–{{if .Closed}}{{.Closed}}{{end}}</td><td>{{.Tabled}}</td><td>{{.Adopted}}</td><td><a href="/t/{{$.Treaty}}/compare?from=round:{{.Number}}:start&amp;to=round:{{.Number}}">what it changed</a> · <a href="/t/{{$.Treaty}}/draft?at=round:{{.Number}}">draft at its end</a></td></tr>
{{end}}</tbody></table>
{{else}}<p>No round has been opened yet.</p>
{{end}}{{end}}

{{define "log-top"}}<h1>Log</h1>
<p class="meta">{{if .All}}Every event, oldest first. <a href="/t/{{.Treaty}}/log?since={{.Recent}}">The latest only</a>.{{else}}The events asked for, oldest first. <a href="/t/{{.Treaty}}/log">Every event</a>.{{end}}</p>
<table class="list log"><thead><tr><th>Event</th><th>Time</th><th>Round</th><th>Party</th><th>Author</th><th>Type</th><th>Summary</th></tr></thead>
<tbody>
{{end}}

{{define "log-row"}}<tr id="e{{.E.Event}}"><td>{{.E.Event}}</td><td>{{time .E.Time}}</td><td>{{if .E.Round}}{{.E.Round}}{{end}}</td><td>{{.E.Party}}</td><td>{{.E.Author}}</td><td>{{.E.Type}}</td><td>{{.E.Summary}}</td></tr>
{{end}}

{{define "log-end"}}</tbody></table>
{{end}}`
