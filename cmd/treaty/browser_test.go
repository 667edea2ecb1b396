package main

// Browser tests of the web workspace, in a real headless Chromium driven by
// chromedp. Outside CI they skip, saying so, when no browser is installed
// (Debian: apt-get install chromium); with CI=true they fail instead. A
// screenshot of every page visited is kept when a test fails, in
// $TREATY_ARTEFACTS (default: a directory under the system's temporary
// directory, named in the log).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/treaty-engine/treaty/web"
)

// browserPath finds Chromium: $TREATY_BROWSER, else the usual names.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TREATY_BROWSER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found, and CI=true: the browser tests must run in CI (.ci/run installs Debian's chromium)")
	}
	t.Skip("no Chromium found (looked for chromium, chromium-browser, google-chrome, headless-shell; or set TREATY_BROWSER): skipping the browser tests; install Debian's chromium to run them")
	return ""
}

// browser is a headless Chromium tab, with what the page logged and a
// screenshot of each page seen.
type browser struct {
	t      *testing.T
	ctx    context.Context
	mu     sync.Mutex
	errors []string
	shots  map[string][]byte
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := browserPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		// This machine's network is closed: a browser that tries to reach
		// out hangs on it.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, shots: map[string][]byte{}}
	t.Cleanup(func() {
		if t.Failed() {
			b.keepShots()
		}
		cancelTab()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs actions within timeout, failing the test (with the page's
// screenshot kept) when one fails.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.shot("failed-" + what)
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// shot keeps a screenshot of the page as it is, named name.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		b.mu.Lock()
		b.shots[name] = png
		b.mu.Unlock()
	}
}

func (b *browser) keepShots() {
	dir := os.Getenv("TREATY_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "treaty-browser-artefacts")
	}
	dir = filepath.Join(dir, strings.ReplaceAll(b.t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("cannot keep the screenshots: %v", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, png := range b.shots {
		os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if len(b.errors) > 0 {
		os.WriteFile(filepath.Join(dir, "console.txt"), []byte(strings.Join(b.errors, "\n")+"\n"), 0o644)
	}
	b.t.Logf("screenshots of the pages seen are in %s", dir)
}

// noErrors fails on anything the pages logged as an error: a script that
// threw, a style or script the content security policy refused.
func (b *browser) noErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("the browser logged: %s", e)
	}
}

// TestBrowserWorkspace opens the draft, goes to the compare document with
// the navigation and the REF menus, sees insertions and deletions, and
// then sees a proposal tabled by another process appear without a reload.
func TestBrowserWorkspace(t *testing.T) {
	b := newBrowser(t)
	ws := newWorkspace(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	b.do("open the draft",
		chromedp.Navigate(ws.http.URL+"/"),
		chromedp.WaitVisible(css(`#clause-preamble`)),
		chromedp.WaitVisible(css(`#live-status[data-state="open"]`)),
	)
	b.shot("draft")
	if h := get(b, "heading", chromedp.Text(css(`h1`))); !strings.HasPrefix(h, "Berlin Framework") {
		t.Fatalf("the draft's heading: %q", h)
	}

	b.do("go to compare",
		chromedp.Click(css(`nav a[href$="/compare"]`)),
		chromedp.WaitVisible(css(`form.controls input[name="from"]`)),
		chromedp.SetValue(css(`form.controls input[name="from"]`), "round:1"),
		chromedp.Submit(css(`form.controls`)),
		chromedp.WaitVisible(css(`#clause-reconstruction-fund`)),
	)
	b.shot("compare")
	if n := get(b, "insertions", chromedp.Nodes(chromedp.CSSAll(`#content ins`), chromedp.AtLeast(1))); len(n) == 0 {
		t.Error("no <ins> on the compare page")
	}
	if n := get(b, "deletions", chromedp.Nodes(chromedp.CSSAll(`#content del`), chromedp.AtLeast(1))); len(n) == 0 {
		t.Error("no <del> on the compare page")
	}
	if loc := get(b, "address", chromedp.Location()); !strings.Contains(loc, "/compare?from=round%3A1") {
		t.Errorf("the compare page's address: %s", loc)
	}

	// A mark that a reload would wipe out.
	get(b, "mark the page", chromedp.Evaluate[int](`window.treatyMark = 42`))
	before := len(get(b, "count the brackets", chromedp.Nodes(chromedp.CSSAll(`#clause-reconstruction-fund .bracket`), chromedp.AtLeast(0))))

	// Another process tables a proposal on a clause the compare lists.
	out, err := exec.Command(treatyBin(t), "--store", ws.store, "--keys", ws.keys, "--as", "EU", "propose",
		"--clause", "reconstruction-fund", "--text", "The Fund is administered by the EIB, audited yearly.").CombinedOutput()
	if err != nil {
		t.Fatalf("propose: %v\n%s", err, out)
	}
	tabled := time.Now()
	b.do("see the proposal appear", chromedp.WaitVisible(`//div[contains(@class,"bracket")][contains(., "audited yearly")]`))
	seen := time.Since(tabled)
	b.shot("compare-updated")
	if mark := get(b, "the mark", chromedp.Evaluate[int](`window.treatyMark || 0`)); mark != 42 {
		t.Error("the page was reloaded to show the proposal")
	}
	if after := len(get(b, "count the brackets", chromedp.Nodes(chromedp.CSSAll(`#clause-reconstruction-fund .bracket`), chromedp.AtLeast(1)))); after != before+1 {
		t.Errorf("%d brackets on the clause, %d before", after, before)
	}
	if note := get(b, "head note", chromedp.Text(css(`#head-note`))); !strings.Contains(note, "EU tabled") {
		t.Errorf("the head note says %q", note)
	}
	t.Logf("the proposal appeared %s after it was tabled", seen.Round(time.Millisecond))
	if seen > time.Second {
		t.Errorf("the proposal appeared %s after it was tabled; want within a second", seen)
	}

	// Side by side; positions; a page pinned to the past says it is behind
	// when the negotiation moves on.
	b.do("side by side",
		chromedp.Navigate(ws.http.URL+berlin+"/compare?from=round:1&to=round:2&view=side"),
		chromedp.WaitVisible(css(`table.side ins`)),
	)
	b.shot("compare-side")
	b.do("positions", chromedp.Navigate(ws.http.URL+berlin+"/positions"), chromedp.WaitVisible(css(`table.positions`)))
	b.shot("positions")
	b.do("pinned draft",
		chromedp.Navigate(ws.http.URL+berlin+"/draft?at=round:1"),
		chromedp.WaitVisible(css(`#live-status[data-state="open"]`)),
	)
	b.shot("draft-pinned")
	if _, errOut, code := ws.try("--as", "EU", "withdraw", mustPrefix(t, ws, "audited yearly")); code != 0 {
		t.Fatalf("withdraw: %s", errOut)
	}
	b.do("the pinned page says it is behind", chromedp.WaitVisible(css(`#behind`)))
	b.shot("draft-behind")
	b.noErrors()
	if os.Getenv("TREATY_KEEP_SHOTS") != "" {
		b.keepShots()
	}
}

// TestBrowserProposalsPaged pages through every proposal with the links,
// without a reload, and sees the page it is on count a proposal tabled by
// another process, live. Then it pages through the audit's proposals
// alike.
func TestBrowserProposalsPaged(t *testing.T) {
	b := newBrowser(t)
	ws := newWorkspace(t, func(c *web.Config) { c.ProposalsPage = 4 })
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	b.do("open every proposal",
		chromedp.Navigate(ws.http.URL+berlin+"/proposals?all=1"),
		chromedp.WaitVisible(css(`nav.pages a[rel="next"]`)),
		chromedp.WaitVisible(css(`#live-status[data-state="open"]`)),
	)
	b.shot("proposals-page-1")
	if nav := get(b, "the pages", chromedp.Text(css(`nav.pages`))); !strings.Contains(nav, "page 1 of 4") {
		t.Fatalf("the first page's navigation says %q", nav)
	}
	get(b, "mark the page", chromedp.Evaluate[int](`window.treatyMark = 42`))
	b.do("go to the next page",
		chromedp.Click(css(`nav.pages a[rel="next"]`)),
		chromedp.WaitVisible(`//nav[contains(@class,"pages")][contains(., "page 2 of 4")]`),
	)
	b.shot("proposals-page-2")
	if loc := get(b, "address", chromedp.Location()); !strings.Contains(loc, "page=2") {
		t.Errorf("the second page's address: %s", loc)
	}
	if n := len(get(b, "rows", chromedp.Nodes(chromedp.CSSAll(`#content table.list tbody tr`), chromedp.AtLeast(1)))); n != 4 {
		t.Errorf("%d rows on the second page; want 4", n)
	}
	if mark := get(b, "the mark", chromedp.Evaluate[int](`window.treatyMark || 0`)); mark != 42 {
		t.Error("the next page was a reload, not a swap")
	}
	out, err := exec.Command(treatyBin(t), "--store", ws.store, "--keys", ws.keys, "--as", "EU", "propose",
		"--clause", "paged", "--text", "One more.").CombinedOutput()
	if err != nil {
		t.Fatalf("propose: %v\n%s", err, out)
	}
	b.do("see the count grow", chromedp.WaitVisible(`//p[contains(@class,"meta")][contains(., "16 proposals")]`))
	if nav := get(b, "the pages", chromedp.Text(css(`nav.pages`))); !strings.Contains(nav, "page 2 of 4") {
		t.Errorf("after the update the navigation says %q", nav)
	}
	b.do("go to the last page",
		chromedp.Click(css(`nav.pages a[href$="page=4"]`)),
		chromedp.WaitVisible(`//td[contains(., "paged")]`),
	)
	b.shot("proposals-last")
	// The audit pages its proposals alike, the report on every page.
	b.do("open the audit",
		chromedp.Navigate(ws.http.URL+berlin+"/audit"),
		chromedp.WaitVisible(`//nav[contains(@class,"pages")][contains(., "page 1 of 4")]`),
		chromedp.WaitVisible(`//p[contains(@class,"meta")][contains(., "16 proposals:")]`),
		chromedp.WaitVisible(css(`#live-status[data-state="open"]`)),
	)
	b.shot("audit-page-1")
	get(b, "mark the page", chromedp.Evaluate[int](`window.treatyMark = 43`))
	b.do("go to the audit's next page",
		chromedp.Click(css(`nav.pages a[rel="next"]`)),
		chromedp.WaitVisible(`//nav[contains(@class,"pages")][contains(., "page 2 of 4")]`),
	)
	b.shot("audit-page-2")
	if loc := get(b, "address", chromedp.Location()); !strings.Contains(loc, "/audit?page=2") {
		t.Errorf("the audit's second page's address: %s", loc)
	}
	if n := len(get(b, "rows", chromedp.Nodes(`//main//tr[td[1]/code]`, chromedp.AtLeast(1)))); n != 4 {
		t.Errorf("%d proposals on the audit's second page; want 4", n)
	}
	if get(b, "the report", chromedp.Text(`//main//h2[.="Rounds"]`)) != "Rounds" {
		t.Error("the audit's second page lacks its rounds")
	}
	if mark := get(b, "the mark", chromedp.Evaluate[int](`window.treatyMark || 0`)); mark != 43 {
		t.Error("the audit's next page was a reload, not a swap")
	}
	b.noErrors()
}

// mustPrefix returns the ID of the open proposal whose text contains s.
func mustPrefix(t *testing.T, ws *workspace, s string) string {
	t.Helper()
	for _, line := range strings.Split(ws.cli("log", "--format", "json"), "\n") {
		if strings.Contains(line, s) && strings.Contains(line, `"ProposalTabled"`) {
			i := strings.Index(line, `"proposal":"`)
			return line[i+len(`"proposal":"`) : i+len(`"proposal":"`)+36]
		}
	}
	t.Fatalf("no proposal with %q", s)
	return ""
}
