package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/internal/jsonindent"
	"github.com/treaty-engine/treaty/projections"
	"github.com/treaty-engine/treaty/web"
)

// workspace is a served negotiation for the tests: the sample negotiation
// (with a hostile clause added) in a store of the test's, the web workspace
// on it, and the command line on the same store.
type workspace struct {
	t     *testing.T
	store string
	keys  string
	srv   *web.Server
	http  *httptest.Server
}

func newWorkspace(t *testing.T, config ...func(*web.Config)) *workspace {
	t.Helper()
	return newWorkspaceOn(t, "", config...)
}

// newWorkspaceOn serves a store at uri (empty: an SQLite file of the
// test's), its server's configuration changed by config.
func newWorkspaceOn(t *testing.T, uri string, config ...func(*web.Config)) *workspace {
	t.Helper()
	dir := t.TempDir()
	ws := &workspace{t: t, store: uri, keys: filepath.Join(dir, "keys")}
	if uri == "" {
		ws.store = "sqlite:" + filepath.Join(dir, "treaty.db")
	}
	ws.cli("demo")
	ws.cli("--as", "UA", "propose", "--clause", "hostile", "--heading", `<b>Heading</b>`,
		"--text", `<script>alert("x")</script> & <img src=x onerror=alert(1)> "quoted"`)
	store, err := eventstore.Open(context.Background(), ws.store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a := newApp(nil, io.Discard, io.Discard)
	a.keysDir = ws.keys
	cfg := web.Config{Store: store, Reader: func(id string) *projections.Reader { return a.readerOf(store, id) }, Logf: t.Logf}
	for _, c := range config {
		c(&cfg)
	}
	ws.srv, err = web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws.http = httptest.NewServer(ws.srv)
	t.Cleanup(func() {
		ws.srv.Close()
		ws.http.Close()
	})
	return ws
}

// cli runs the command line on the workspace's store, in this process (a
// store handle of its own), and returns its stdout; it must succeed.
func (ws *workspace) cli(args ...string) string {
	ws.t.Helper()
	out, errOut, code := ws.try(args...)
	if code != 0 {
		ws.t.Fatalf("treaty %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (ws *workspace) try(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(append([]string{"--store", ws.store, "--keys", ws.keys}, args...), strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

// get fetches path and returns the status, the headers and the body.
func (ws *workspace) get(path string) (int, http.Header, string) {
	ws.t.Helper()
	res, err := http.Get(ws.http.URL + path)
	if err != nil {
		ws.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ws.t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

const berlin = "/t/berlin-framework"

// Every page answers ?format=json with exactly the command line's JSON for
// the same question.
func TestServeJSONIsTheCommandLines(t *testing.T) {
	ws := newWorkspace(t)
	ws.cli("--as", "UA", "round", "open")
	ws.cli("--as", "EU", "accept", "30a6")
	for _, tt := range []struct {
		path string
		cli  []string
	}{
		{"/", []string{"list"}},
		{berlin + "/draft", []string{"draft"}},
		{berlin + "/draft?at=round:1&agreed_only=1", []string{"draft", "--at", "round:1", "--agreed-only"}},
		{berlin + "/draft?at=@30", []string{"draft", "--at", "@30"}},
		{berlin + "/draft?at=2026-11-23T12:00:00Z", []string{"draft", "--at", "2026-11-23T12:00:00Z"}},
		{berlin + "/compare", []string{"diff"}},
		{berlin + "/compare?from=round:1&to=round:2", []string{"diff", "--from", "round:1", "--to", "round:2"}},
		{berlin + "/compare?from=round:1:start&whole=1&view=side", []string{"diff", "--from", "round:1:start", "--whole"}},
		{berlin + "/compare?from=round:1:start&every_adoption=1", []string{"diff", "--from", "round:1:start", "--every-adoption"}},
		{berlin + "/positions", []string{"positions"}},
		{berlin + "/positions?at=round:2&all=1", []string{"positions", "--at", "round:2", "--all"}},
		{berlin + "/positions?clause=reconstruction-fund", []string{"positions", "--clause", "reconstruction-fund"}},
		{berlin + "/proposals", []string{"proposals"}},
		{berlin + "/proposals?all=1", []string{"proposals", "--all"}},
		{berlin + "/proposals/ab99364e", []string{"show", "ab99364e"}},
		{berlin + "/proposals/7f2c3a29", []string{"show", "7f2c3a29"}},
		{berlin + "/clauses/reconstruction-fund", []string{"history", "reconstruction-fund"}},
		{berlin + "/blame", []string{"blame"}},
		{berlin + "/blame?clause=preamble", []string{"blame", "preamble"}},
		{berlin + "/rounds", []string{"rounds"}},
		{berlin + "/audit", []string{"audit"}},
		{berlin + "/log", []string{"log"}},
		{berlin + "/log?since=round:1&until=round:2", []string{"log", "--since", "round:1", "--until", "round:2"}},
	} {
		sep := "?"
		if strings.Contains(tt.path, "?") {
			sep = "&"
		}
		status, h, body := ws.get(tt.path + sep + "format=json")
		want := ws.cli(append(tt.cli, "--format", "json")...)
		if status != 200 || body != want {
			t.Errorf("%s?format=json: status %d, %d bytes; the command line's `%s`: %d bytes\n got %.300s\nwant %.300s",
				tt.path, status, len(body), strings.Join(tt.cli, " "), len(want), body, want)
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/") {
			t.Errorf("%s: content type %q", tt.path, ct)
		}
		name := tt.cli[0] // each command's output has the schema of its name
		if err := validate(name, body, name == "log"); err != nil {
			t.Errorf("%s?format=json: %v", tt.path, err)
		}
	}
}

// Every proposal is listed page by page: the pages, in order, are the
// command line's list, in HTML and in JSON, each page's JSON the command
// line's cut to its rows with the paging in its headers; the whole JSON is
// still the command line's.
func TestServeProposalsPaged(t *testing.T) {
	const size = 4
	ws := newWorkspace(t, func(c *web.Config) { c.ProposalsPage = size })
	whole := ws.cli("proposals", "--all", "--format", "json")
	var want []json.RawMessage
	if err := json.Unmarshal([]byte(whole), &want); err != nil {
		t.Fatal(err)
	}
	pages := (len(want) + size - 1) / size
	if pages < 3 {
		t.Fatalf("%d proposals: too few for three pages of %d", len(want), size)
	}
	if status, h, body := ws.get(berlin + "/proposals?all=1&format=json"); status != 200 || body != whole || h.Get("X-Total-Count") != fmt.Sprint(len(want)) {
		t.Fatalf("every proposal in JSON: status %d, %d bytes, %q in all; the command line's %d bytes", status, len(body), h.Get("X-Total-Count"), len(whole))
	}
	page := func(n int) string { return fmt.Sprintf("%s/proposals?all=1&page=%d", berlin, n) }
	for n := 1; n <= pages; n++ {
		rows := want[(n-1)*size : min(n*size, len(want))]
		status, h, body := ws.get(page(n) + "&format=json")
		var b bytes.Buffer
		if err := jsonindent.Encode(&b, rows, "  "); err != nil {
			t.Fatal(err)
		}
		if status != 200 || body != b.String() {
			t.Fatalf("page %d in JSON: status %d\n got %.300s\nwant %.300s", n, status, body, b.String())
		}
		if err := validate("proposals", body, false); err != nil {
			t.Errorf("page %d in JSON: %v", n, err)
		}
		checkPaging(t, h, berlin+"/proposals?format=json&all=1&", n, pages, len(want))

		status, _, html := ws.get(page(n))
		if status != 200 {
			t.Fatalf("page %d: status %d", n, status)
		}
		checkContains(t, fmt.Sprintf("page %d", n), html,
			fmt.Sprintf("%d proposals, adopted and withdrawn included, in the order they were tabled: %d to %d on this page.", len(want), (n-1)*size+1, (n-1)*size+len(rows)),
			fmt.Sprintf("page %d of %d", n, pages), `data-live="true"`)
		if got := strings.Count(html, `<tr><td><a href="/t/berlin-framework/proposals/`); got != len(rows) {
			t.Errorf("page %d has %d rows; want %d", n, got, len(rows))
		}
		for _, row := range rows {
			var p struct{ ID string }
			json.Unmarshal(row, &p)
			if !strings.Contains(html, `/proposals/`+p.ID+`"`) {
				t.Errorf("page %d lacks proposal %s", n, p.ID)
			}
		}
		next := fmt.Sprintf(`<a rel="next" href="%s/proposals?all=1&amp;page=%d">`, berlin, n+1)
		prev := fmt.Sprintf(`<a rel="prev" href="%s/proposals?all=1&amp;page=%d">`, berlin, n-1)
		if strings.Contains(html, next) != (n < pages) || strings.Contains(html, prev) != (n > 1) {
			t.Errorf("page %d of %d links to the next %t, the previous %t", n, pages, strings.Contains(html, next), strings.Contains(html, prev))
		}
	}
	if status, _, body := ws.get(page(pages + 1)); status != 404 || !strings.Contains(body, fmt.Sprintf("no page %d", pages+1)) {
		t.Errorf("the page past the last: status %d", status)
	}
	// A proposal tabled is counted, and on the last page, once the
	// workspace has read it (it polls the store).
	ws.cli("--as", "EU", "propose", "--clause", "paged", "--text", "One more.")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, h, body := ws.get(page(len(want)/size+1) + "&format=json")
		if h.Get("X-Total-Count") == fmt.Sprint(len(want)+1) && strings.Contains(body, `"clause": "paged"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one more proposal, %s in all; the last page: %.300s", h.Get("X-Total-Count"), body)
		}
	}
}

// The audit's proposals are paged as every proposal is, the rest of the
// report on every page: in HTML, and in JSON the command line's report with
// its proposals cut to the page's and the paging in the headers; the JSON
// whole is the command line's, byte for byte.
func TestServeAuditPaged(t *testing.T) {
	const size = 4
	ws := newWorkspace(t, func(c *web.Config) { c.ProposalsPage = size })
	whole := ws.cli("audit", "--format", "json")
	var report map[string]any
	if err := json.Unmarshal([]byte(whole), &report); err != nil {
		t.Fatal(err)
	}
	want := report["proposals"].([]any)
	pages := (len(want) + size - 1) / size
	fates := map[string]int{}
	for _, p := range want {
		fates[p.(map[string]any)["status"].(string)]++
	}
	if pages < 3 || len(fates) < 2 {
		t.Fatalf("%d proposals (%v): too few for three pages of %d", len(want), fates, size)
	}
	status, h, body := ws.get(berlin + "/audit?format=json")
	if status != 200 || body != whole || h.Get("X-Total-Count") != fmt.Sprint(len(want)) {
		t.Fatalf("the audit in JSON: status %d, %d bytes, %q in all; the command line's %d bytes", status, len(body), h.Get("X-Total-Count"), len(whole))
	}
	page := func(n int) string { return fmt.Sprintf("%s/audit?page=%d", berlin, n) }
	for n := 1; n <= pages; n++ {
		rows := want[(n-1)*size : min(n*size, len(want))]
		status, h, body := ws.get(page(n) + "&format=json")
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil {
			t.Fatalf("page %d in JSON: status %d, %v: %.300s", n, status, err, body)
		}
		report["proposals"] = rows
		if !reflect.DeepEqual(got, report) {
			t.Errorf("page %d in JSON is not the report with its rows: %.300s", n, body)
		}
		if err := validate("audit", body, false); err != nil {
			t.Errorf("page %d in JSON: %v", n, err)
		}
		checkPaging(t, h, berlin+"/audit?format=json&", n, pages, len(want))

		status, _, html := ws.get(page(n))
		if status != 200 {
			t.Fatalf("page %d: status %d", n, status)
		}
		checkContains(t, fmt.Sprintf("page %d", n), html,
			"<h1>Audit of", "Verified: 57 events", "<h2>Parties and keys</h2>", "<h2>Rounds</h2>", "Closing hash",
			fmt.Sprintf("%d proposals: %d adopted, %d withdrawn, %d open, %d stale; in the order they were tabled, %d to %d on this page.",
				len(want), fates["adopted"], fates["withdrawn"], fates["open"], fates["stale"], (n-1)*size+1, (n-1)*size+len(rows)),
			fmt.Sprintf("page %d of %d", n, pages), `data-live="true"`)
		if got := strings.Count(html, "<tr><td><code>"); got != len(rows) {
			t.Errorf("page %d has %d rows; want %d", n, got, len(rows))
		}
		for _, row := range rows {
			if id := row.(map[string]any)["id"].(string); !strings.Contains(html, "<tr><td><code>"+id[:8]+"</code>") {
				t.Errorf("page %d lacks proposal %s", n, id)
			}
		}
		next := fmt.Sprintf(`<a rel="next" href="%s/audit?page=%d">`, berlin, n+1)
		prev := fmt.Sprintf(`<a rel="prev" href="%s/audit?page=%d">`, berlin, n-1)
		if strings.Contains(html, next) != (n < pages) || strings.Contains(html, prev) != (n > 1) {
			t.Errorf("page %d of %d links to the next %t, the previous %t", n, pages, strings.Contains(html, next), strings.Contains(html, prev))
		}
	}
	for _, bad := range []struct {
		query  string
		status int
	}{{fmt.Sprintf("page=%d", pages+1), 404}, {fmt.Sprintf("page=%d&format=json", pages+1), 404}, {"page=0", 400}, {"page=-1&format=json", 400}, {"page=two", 400}} {
		if status, _, _ := ws.get(berlin + "/audit?" + bad.query); status != bad.status {
			t.Errorf("audit?%s: status %d; want %d", bad.query, status, bad.status)
		}
	}
}

// The audit and every proposal, at the same head, rest on one replay of
// the log, which the audit's verification adds to: neither repeats the
// other's.
func TestServeAuditSharesTheReplay(t *testing.T) {
	cs := &countingStore{}
	ws := newWorkspace(t, func(c *web.Config) {
		cs.Store = c.Store
		c.Store = cs
		c.Reader = func(id string) *projections.Reader { return projections.NewReader(cs, id, projections.Options{}) }
	})
	if status, _, _ := ws.get(berlin + "/proposals?all=1"); status != 200 {
		t.Fatalf("every proposal: status %d", status)
	}
	before := cs.fromStart.Load()
	for _, path := range []string{"/audit", "/audit?format=json", "/audit?page=1&format=json", "/proposals?all=1&format=json"} {
		if status, _, _ := ws.get(berlin + path); status != 200 {
			t.Fatalf("%s: status %d", path, status)
		}
	}
	if n := cs.fromStart.Load() - before; n != 1 {
		t.Errorf("the audit read the log from its start %d times once every proposal was listed; want 1, to verify it", n)
	}
}

// countingStore counts the reads of a store that begin at the first event:
// each is a replay of a whole log.
type countingStore struct {
	eventstore.Store
	fromStart atomic.Int32
}

func (c *countingStore) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	if from == 0 {
		c.fromStart.Add(1)
	}
	return c.Store.Read(ctx, stream, from)
}

func (c *countingStore) Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return c.Store.(eventstore.Subscriber).Subscribe(ctx, stream, from)
}

// checkContains checks that body, the page what names, holds each of wants.
func checkContains(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// checkPaging checks the paging headers of page n of pages of a JSON
// answer of total rows, whose pages are at route (up to page=).
func checkPaging(t *testing.T, h http.Header, route string, n, pages, total int) {
	t.Helper()
	link := func(rel string, m int) string { return fmt.Sprintf(`<%spage=%d>; rel="%s"`, route, m, rel) }
	want := []string{link("first", 1)}
	if n > 1 {
		want = append(want, link("prev", n-1))
	}
	if n < pages {
		want = append(want, link("next", n+1))
	}
	want = append(want, link("last", pages))
	if got := h.Get("Link"); got != strings.Join(want, ", ") || h.Get("X-Total-Count") != fmt.Sprint(total) {
		t.Errorf("page %d's paging: Link %q, X-Total-Count %q", n, got, h.Get("X-Total-Count"))
	}
}

// Every page reads without JavaScript, carries the security headers, and
// escapes what the parties wrote.
func TestServePages(t *testing.T) {
	ws := newWorkspace(t)
	for _, tt := range []struct {
		path string
		want []string
	}{
		{berlin + "/draft", []string{`<h1>Berlin Framework`, `<a href="/t/berlin-framework/proposals/`, `data-live="true"`, `hx-trigger="sse:message delay:150ms"`}},
		{berlin + "/draft?at=round:1&party=UA", []string{`data-live="false"`, `id="behind"`, `<option value="UA" selected>`}},
		{berlin + "/compare?from=round:1&to=round:2", []string{`<ins>`, `<del>`, `Adopted:`, `class="legend"`, `Nothing is agreed until everything is agreed.`,
			`<link rel="stylesheet" href="/print.css?header=`, `<datalist id="refs">`, `<option value="round:1:start">`, `<option value="2026-11-16T09:30:00Z">`}},
		{berlin + "/compare?from=round:1&to=round:2&view=side", []string{`<table class="side">`, `<body class="wide"`}},
		{berlin + "/positions", []string{`<table class="positions">`, `objects to`}},
		{berlin + "/proposals", []string{`<h1>Open proposals</h1>`, `ab99364e`}},
		{berlin + "/proposals?all=1", []string{`<h1>Every proposal</h1>`, `withdrawn`}},
		{berlin + "/proposals/ab99364e", []string{`Redline against revision 1`, `<ins>jointly </ins>`}},
		{berlin + "/clauses/reconstruction-fund", []string{`<h1>History of clause reconstruction-fund</h1>`, `Revision 2`}},
		{berlin + "/blame", []string{`<h1>Provenance of`, `class="run party-`}},
		{berlin + "/rounds", []string{`<h1>Rounds</h1>`, `Berlin II`}},
		{berlin + "/log?since=round:1", []string{`<h1>Log</h1>`, `ProposalTabled`, `id="e46"`, `data-live="true"`}},
		{berlin + "/audit", []string{`<h1>Audit of`, `Verified: 57 events`}},
		// Negotiating practice: the package, linked positions, an adoption
		// ad referendum, a mediator's comment.
		{berlin + "/draft", []string{`Nothing is agreed until everything is agreed.`, `<span class="status agreed-ad-ref">agreed ad ref (US)</span>`,
			`EU accepts subject to 95768784 (sanctions-review)`}},
		{berlin + "/proposals/1620a0dc", []string{`<h2>Comments</h2>`, `Ninety days matches the time the Congress takes`, `US accepts ad ref (event 52)`}},
		{berlin + "/clauses/binding-force", []string{`ad referendum (US)`, `US accepts ad ref (event 52)`, `Ninety days matches`}},
	} {
		status, h, body := ws.get(tt.path)
		if status != 200 {
			t.Errorf("%s: status %d\n%.500s", tt.path, status, body)
			continue
		}
		checkContains(t, tt.path, body, tt.want...)
		checkHeaders(t, tt.path, h)
		checkEscaped(t, tt.path, body)
		if !strings.Contains(body, "read-only") {
			t.Errorf("%s does not say the workspace is read-only", tt.path)
		}
	}
	// The index goes to the one negotiation there is.
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(ws.http.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != berlin+"/draft" {
		t.Errorf("/: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The static files, and the print style's header quoted as CSS.
	for _, f := range []string{"/static/htmx.min.js", "/static/sse.js", "/static/treaty.js", "/static/treaty.css", "/static/workspace.css"} {
		if status, h, _ := ws.get(f); status != 200 || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d", f, status)
		}
	}
	_, h, css := ws.get("/print.css?header=" + url.QueryEscape(`T"}</style><script>`))
	if !strings.Contains(css, `content: "T\22 }\3c /style\3e \3c script\3e "`) || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
		t.Errorf("print style: %s", css)
	}
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

func checkHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: CSP %q", path, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: headers %v", path, h)
	}
}

// checkEscaped: the hostile clause comes out as text, and the only scripts
// are the workspace's own files.
func checkEscaped(t *testing.T, path, body string) {
	t.Helper()
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !regexp.MustCompile(`^<script src="/static/[a-z.]+\.js" defer>$`).MatchString(tag) {
			t.Errorf("%s: a script that is not the workspace's: %s", path, tag)
		}
	}
	if strings.Contains(body, "<b>Heading</b>") || strings.Contains(body, "<img src=x") || strings.Contains(body, `<script>alert`) {
		t.Errorf("%s lets the parties' markup through", path)
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<style") || strings.Contains(body, " onerror=") && !strings.Contains(body, "&lt;img") {
		t.Errorf("%s carries an inline style or handler", path)
	}
}

// Bad REFs, unknown IDs and malformed questions get a 4xx page with the
// command line's message, never a 500.
func TestServeErrors(t *testing.T) {
	ws := newWorkspace(t)
	for _, tt := range []struct {
		path   string
		status int
		cli    []string // the command line asked the same, whose message the page gives
		msg    string   // or the message, when the question has no command line form
	}{
		{berlin + "/draft?at=round:x", 400, nil, `at: REF "round:x" has no round number (rounds count from 1)`},
		{berlin + "/draft?at=round:9", 404, []string{"draft", "--at", "round:9"}, ""},
		{berlin + "/draft?at=@999", 404, []string{"draft", "--at", "@999"}, ""},
		{berlin + "/draft?at=1999-01-01T00:00:00Z", 404, []string{"draft", "--at", "1999-01-01T00:00:00Z"}, ""},
		{berlin + "/compare?from=round:2&to=round:1", 400, []string{"diff", "--from", "round:2", "--to", "round:1"}, ""},
		{berlin + "/compare?view=top", 400, nil, `view is inline or side, not "top"`},
		{berlin + "/compare?every_adoption=1&format=html", 400, nil, "every_adoption goes with format=json: the page counts each clause's adoptions by party and lists the last few"},
		{berlin + "/compare?every_adoption=all", 400, nil, `every_adoption is 1 or 0, not "all"`},
		{berlin + "/positions?clause=nowhere", 404, []string{"positions", "--clause", "nowhere"}, ""},
		{berlin + "/positions?clause=no/where", 400, nil, `clause: clause ID "no/where"`},
		{berlin + "/proposals?all=1&page=2", 404, nil, "no page 2: the 15 proposals fill one page of 500"},
		{berlin + "/proposals?all=1&page=0", 400, nil, `page is a number from 1, not "0"`},
		{berlin + "/proposals?page=1", 400, nil, "page: only every proposal (all=1) is listed page by page"},
		{berlin + "/audit?page=2", 404, nil, "no page 2: the 15 proposals fill one page of 500"},
		{berlin + "/audit?page=x", 400, nil, `page is a number from 1, not "x"`},
		{berlin + "/proposals/zzzzzzzz", 404, []string{"show", "zzzzzzzz"}, ""},
		{berlin + "/proposals/ab", 400, []string{"show", "ab"}, ""},
		{berlin + "/clauses/nowhere", 404, []string{"history", "nowhere"}, ""},
		{berlin + "/blame?clause=nowhere", 404, []string{"blame", "nowhere"}, ""},
		{berlin + "/log?since=@999", 404, []string{"log", "--since", "@999"}, ""},
		{berlin + "/draft?format=yaml", 400, nil, `format is html or json, not "yaml"`},
		{berlin + "/draft?agreed_only=maybe", 400, nil, `agreed_only is 1 or 0, not "maybe"`},
		{berlin + "/draft?party=XX", 400, nil, `party "XX" is not a participant`},
		{berlin + "/events?after=x", 400, nil, `after is an event number, not "x"`},
		{"/t/nowhere/draft", 404, nil, `no such negotiation "nowhere" in this store`},
		{"/t/no_where/draft", 400, nil, `treaty ID "no_where"`},
		{"/nothing", 404, nil, "no page /nothing"},
	} {
		msg := tt.msg
		if tt.cli != nil {
			_, stderr, code := ws.try(tt.cli...)
			if code == 0 {
				t.Fatalf("treaty %s succeeded", strings.Join(tt.cli, " "))
			}
			// The command line's message, without its name, its hint
			// for the command line, or the usage line.
			msg = strings.TrimPrefix(strings.SplitN(stderr, "\n", 2)[0], "treaty: ")
			msg = strings.SplitN(msg, "; `treaty", 2)[0]
			msg = strings.TrimPrefix(msg, "--at: ")
		}
		status, h, body := ws.get(tt.path)
		if status != tt.status || !strings.Contains(body, htmlEscape(msg)) {
			t.Errorf("%s: status %d (want %d), page lacks %q:\n%.400s", tt.path, status, tt.status, msg, body)
		}
		checkHeaders(t, tt.path, h)
		if strings.Contains(tt.path, "format=") {
			continue
		}
		sep := "?"
		if strings.Contains(tt.path, "?") {
			sep = "&"
		}
		status, _, body = ws.get(tt.path + sep + "format=json")
		var e struct {
			Error  string
			Status int
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != tt.status || e.Status != status || !strings.Contains(e.Error, msg) {
			t.Errorf("%s&format=json: %d %s", tt.path, status, body)
		}
		if err := validate("web-error", body, false); err != nil {
			t.Errorf("%s&format=json: %v", tt.path, err)
		}
	}
	// Read-only: other methods are refused.
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, ws.http.URL+berlin+"/draft", strings.NewReader("x"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(b), "read-only") {
			t.Errorf("%s: %d %s", m, res.StatusCode, b)
		}
	}
}

func htmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// The event stream sends each event appended, by any process, as a line of
// `log --format json`, with its number as the SSE id; a client that
// reconnects with Last-Event-ID misses nothing; pages at the head change.
func TestServeEvents(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testServeEvents(t, newWorkspace(t)) })
	t.Run("esdb", func(t *testing.T) { testServeEvents(t, newWorkspaceOn(t, esdbtest.Start(t).URI())) })
}

func testServeEvents(t *testing.T, ws *workspace) {
	_, _, before := ws.get(berlin + "/draft")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := ws.stream(ctx, berlin+"/events", "")
	// Another process tables a proposal.
	out, err := exec.Command(treatyBin(t), "--store", ws.store, "--keys", ws.keys, "--as", "US", "propose",
		"--clause", "monitoring", "--text", "A Joint Commission shall report monthly.").CombinedOutput()
	if err != nil {
		t.Fatalf("propose: %v\n%s", err, out)
	}
	start := time.Now()
	var got sseEvent
	select {
	case got = <-events:
	case <-ctx.Done():
		t.Fatal("no event within 20 s")
	}
	t.Logf("the event arrived %s after the append", time.Since(start).Round(time.Millisecond))
	logLine := ws.cli("log", "--since", "@57", "--format", "json")
	if got.id != "58" || got.data+"\n" != logLine {
		t.Fatalf("event id %s data %s; the log's line: %s", got.id, got.data, logLine)
	}
	// Reconnecting after event 56 gets 57 and 58 again, in order.
	again := ws.stream(ctx, berlin+"/events", "56")
	for _, want := range []string{"57", "58"} {
		if e := <-again; e.id != want {
			t.Fatalf("after Last-Event-ID 56: event %s, want %s", e.id, want)
		}
	}
	// The draft at the head shows the new proposal; the page asked for
	// before it did not.
	_, _, after := ws.get(berlin + "/draft")
	if strings.Contains(before, "report monthly") || !strings.Contains(after, "report monthly") {
		t.Fatalf("the draft page did not follow the head")
	}
	// Closing the workspace ends its streams.
	ws.srv.Close()
	select {
	case _, open := <-events:
		for open {
			_, open = <-events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the workspace")
	}
}

type sseEvent struct{ id, data string }

// stream reads an event stream into a channel, closed when it ends.
func (ws *workspace) stream(ctx context.Context, path, lastID string) <-chan sseEvent {
	ws.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", ws.http.URL+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ws.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		ws.t.Fatalf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				if e.data != "" {
					panic(fmt.Sprintf("two data lines in event %s", e.id))
				}
				e.data = strings.TrimPrefix(line, "data: ")
			case line == "" && e.data != "":
				ch <- e
				e = sseEvent{}
			}
		}
	}()
	return ch
}

// `treaty serve` as users run it: it says where it serves, on loopback
// unless told otherwise (and warns when it is not), answers, and stops
// cleanly on Ctrl-C with a stream open.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "treaty.db")
	mustRun(t, treatyBin(t), "--store", store, "--keys", filepath.Join(dir, "keys"), "demo")
	for _, addr := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		cmd := exec.Command(treatyBin(t), "--store", store, "--keys", filepath.Join(dir, "keys"), "serve", "--addr", addr)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		var base string
		var said []string
		for base == "" && sc.Scan() {
			said = append(said, sc.Text())
			if m := regexp.MustCompile(`read-only at (http://[^/ ]+)/`).FindStringSubmatch(sc.Text()); m != nil {
				base = m[1]
			}
		}
		if base == "" {
			cmd.Process.Kill()
			t.Fatalf("serve said %q", said)
		}
		if addr == "0.0.0.0:0" {
			sc.Scan()
			if !strings.Contains(sc.Text(), "reachable from other machines") {
				t.Errorf("no warning serving on %s: %q", addr, sc.Text())
			}
			base = strings.Replace(base, "0.0.0.0", "127.0.0.1", 1)
		} else if !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Errorf("serves at %s by default", base)
		}
		res, err := http.Get(base + "/healthz")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("healthz: %v", err)
		}
		res.Body.Close()
		ctx, cancel := context.WithCancel(context.Background())
		stream, err := http.NewRequestWithContext(ctx, "GET", base+berlin+"/events", nil)
		if err != nil {
			t.Fatal(err)
		}
		open, err := http.DefaultClient.Do(stream)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatal("serve did not stop on Ctrl-C with a stream open")
		}
		open.Body.Close()
		cancel()
	}
}
