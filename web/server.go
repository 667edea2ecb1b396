// Package web is treaty's read-only web workspace for reviewers (`treaty
// serve`): the draft, the compare document, the positions document, the
// proposals, each clause's history, the provenance of the agreed text, the
// rounds, the log and the audit, as pages rendered on the server that read
// without JavaScript, each also answering ?format=json with exactly the
// command line's JSON for the same question; and a stream of the log's
// events (Server-Sent Events) that keeps open pages current.
//
// The state of each negotiation is kept in memory and current through the
// store's subscription (projections.Live); answers are kept by the head they
// were worked out at. Nothing here appends to the log. The routes are the
// public contract of docs/web.md.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/internal/flight"
	"github.com/treaty-engine/treaty/internal/jsonindent"
	"github.com/treaty-engine/treaty/projections"
)

//go:embed static
var staticFiles embed.FS

// Config is what a Server serves, and how.
type Config struct {
	// Store holds the negotiations. It must be an eventstore.Subscriber
	// for pages to follow the log live.
	Store eventstore.Store
	// Treaty, when set, is the negotiation / goes to.
	Treaty string
	// Reader returns a Reader of negotiation id, with this machine's
	// checkpoints.
	Reader func(id string) *projections.Reader
	// CacheBytes bounds the answers kept in memory (default 64 MiB).
	CacheBytes int
	// ProposalsPage is how many proposals a page of every proposal lists,
	// and a page of the audit (default 500).
	ProposalsPage int
	// Logf reports what the operator should know (nil: nothing).
	Logf func(format string, args ...any)
}

// Server is the web workspace: an http.Handler.
type Server struct {
	cfg     Config
	ctx     context.Context
	stop    context.CancelFunc
	mux     *http.ServeMux
	pages   *template.Template
	answers *flight.Cache[string, *answer]
	values  *flight.Cache[string, any]
	// replays serialises the replays of one question (see replayed).
	replays sync.Map // key → *replayGate

	mu     sync.Mutex
	spaces map[string]*space
}

// space is one negotiation followed live.
type space struct {
	id   string
	live *projections.Live
	stop context.CancelFunc
}

// New returns a Server of cfg.Store.
func New(cfg Config) (*Server, error) {
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = 64 << 20
	}
	if cfg.ProposalsPage <= 0 {
		cfg.ProposalsPage = 500
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	t, err := templates()
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, ctx: ctx, stop: stop, pages: t, answers: newAnswers(cfg.CacheBytes), values: newValues(64), spaces: map[string]*space{}}
	s.routes()
	return s, nil
}

// Close stops following every negotiation and ends the event streams, so
// that an http.Server's Shutdown is not held up by them.
func (s *Server) Close() {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range s.spaces {
		sp.stop()
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	files := http.FileServerFS(static)
	m.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, files)))
	m.HandleFunc("GET /static/treaty.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		io.WriteString(w, projections.StyleSheet)
	})
	m.HandleFunc("GET /healthz", s.health)
	m.HandleFunc("GET /print.css", printStyle)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.HandleFunc("GET /{$}", s.index)
	m.HandleFunc("GET /t/{id}/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/t/"+url.PathEscape(r.PathValue("id"))+"/draft", http.StatusFound)
	})
	m.HandleFunc("GET /t/{id}/draft", s.page(s.draftView, moment{"at", projections.Head}))
	m.HandleFunc("GET /t/{id}/compare", s.page(s.compareView, moment{"from", projections.LastClosedRound}, moment{"to", projections.Head}))
	m.HandleFunc("GET /t/{id}/positions", s.page(s.positionsView, moment{"at", projections.Head}))
	m.HandleFunc("GET /t/{id}/proposals", s.whole(s.page(s.proposalsView), everyAsked, s.allProposalsJSON))
	m.HandleFunc("GET /t/{id}/proposals/{p}", s.page(s.proposalView))
	m.HandleFunc("GET /t/{id}/clauses/{clause}", s.page(s.historyView))
	m.HandleFunc("GET /t/{id}/blame", s.page(s.blameView))
	m.HandleFunc("GET /t/{id}/rounds", s.page(s.roundsView))
	m.HandleFunc("GET /t/{id}/log", s.log)
	m.HandleFunc("GET /t/{id}/audit", s.whole(s.page(s.auditView), func(*http.Request) bool { return true }, s.auditJSON))
	m.HandleFunc("GET /t/{id}/events", s.events)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.fail(w, r, &httpError{http.StatusMethodNotAllowed, "this workspace is read-only: it answers GET; parties act with the treaty command line"})
			return
		}
		s.fail(w, r, &httpError{http.StatusNotFound, fmt.Sprintf("no page %s; the pages are listed in docs/web.md", r.URL.Path)})
	})
	s.mux = m
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP answers a request, with the headers every answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", contentPolicy)
	s.mux.ServeHTTP(w, r)
}

// contentPolicy is the content security policy of every answer: scripts
// and styles only from the workspace itself, never inline; connections
// (the event stream) only to it; no frames, plugins or foreign forms.
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// printStyle is the style sheet that puts a page's running header on every
// printed page: the header text (query parameter header), quoted as a CSS
// string, and the reminder that nothing is agreed until everything is.
func printStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	io.WriteString(w, projections.PrintStyle(r.URL.Query().Get("header")))
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, "ok\n")
}

// space returns the negotiation id, followed live: read on first use and
// kept current through the store's subscription. A follow that stopped
// (the store failed, or the server is closing) is begun again; one that
// found the log broken answers with the problem.
func (s *Server) space(ctx context.Context, id string) (*space, error) {
	if err := domain.CheckSlug("treaty ID", id); err != nil {
		return nil, &httpError{http.StatusBadRequest, err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := s.spaces[id]; ok {
		err := sp.live.Err()
		var problem *projections.Problem
		if err == nil || errors.As(err, &problem) {
			return sp, nil
		}
		s.cfg.Logf("following %s stopped (%v); reading it again", id, err)
		sp.stop()
		delete(s.spaces, id)
	}
	if s.ctx.Err() != nil {
		return nil, &httpError{http.StatusServiceUnavailable, "the workspace is shutting down"}
	}
	fctx, stop := context.WithCancel(s.ctx)
	live, err := projections.Follow(fctx, s.cfg.Reader(id))
	if err != nil {
		stop()
		return nil, err
	}
	sp := &space{id: id, live: live, stop: stop}
	s.spaces[id] = sp
	return sp, nil
}

// httpError is an answer other than 200 with a message for people.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// statusOf maps a failure to the status that says whose it is: a question
// that does not parse (400), a moment, negotiation or proposal the log does
// not hold (404), a log that does not hold together or a store that failed
// (500, 503).
func statusOf(err error) int {
	var he *httpError
	var syntax *projections.RefSyntaxError
	var ref *projections.RefError
	var rev *projections.ReversedError
	var de *domain.Error
	var problem *projections.Problem
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &syntax), errors.As(err, &rev):
		return http.StatusBadRequest
	case errors.As(err, &ref), errors.Is(err, projections.ErrNoTreaty):
		return http.StatusNotFound
	case errors.As(err, &de):
		switch de.Code {
		case domain.ENOTFOUND:
			return http.StatusNotFound
		case domain.EINVALID:
			return http.StatusBadRequest
		}
		return http.StatusConflict
	case errors.As(err, &problem):
		return http.StatusInternalServerError
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers with err: a page saying what is wrong, the message the
// command line gives for the same question, or with ?format=json
// {"error": "…", "status": N}.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := err.Error()
	var problem *projections.Problem
	if errors.As(err, &problem) {
		msg = "the log of this negotiation does not hold together: " + msg + "; `treaty verify` gives the full report"
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.cfg.Logf("%s %s: %v", r.Method, r.URL, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		writeJSON(w, map[string]any{"error": msg, "status": status})
		return
	}
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, "error", errorPage{Status: status, Text: http.StatusText(status), Message: msg}); err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

type errorPage struct {
	Status  int
	Text    string
	Message string
}

// writeJSON writes v as the command line does: indented by two spaces,
// HTML characters as they are, a newline at the end.
func writeJSON(w io.Writer, v any) error { return jsonindent.Encode(w, v, jsonIndent) }

// jsonIndent is the command line's indent.
const jsonIndent = "  "

func jsonBytes(v any) ([]byte, error) {
	var b bytes.Buffer
	err := writeJSON(&b, v)
	return b.Bytes(), err
}

// format is the form of the answer asked for: html (the default) or json.
func format(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "html":
		return "html", nil
	case "json":
		return "json", nil
	default:
		return "", &httpError{http.StatusBadRequest, fmt.Sprintf("format is html or json, not %q", f)}
	}
}

// refParam parses the REF in query parameter name (def when absent), with
// the command line's message when it does not parse.
func refParam(r *http.Request, name string, def projections.Ref) (projections.Ref, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	ref, err := projections.ParseRef(v)
	if err != nil {
		return ref, &httpError{http.StatusBadRequest, name + ": " + err.Error()}
	}
	return ref, nil
}

// boolParam reads a checkbox or flag: absent, "", "0", "false" or "off" is
// false; "1", "true" or "on" true.
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); strings.ToLower(v) {
	case "", "0", "false", "off":
		return false, nil
	case "1", "true", "on":
		return true, nil
	default:
		return false, &httpError{http.StatusBadRequest, fmt.Sprintf("%s is 1 or 0, not %q", name, v)}
	}
}

func mustRef(s string) projections.Ref {
	r, err := projections.ParseRef(s)
	if err != nil {
		panic(err)
	}
	return r
}
