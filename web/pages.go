package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

// view is one page's answer before it is framed: its JSON (the command
// line's) and its body, worked out once per question and head.
type view struct {
	// title names the page; section the navigation entry it belongs to.
	title, section string
	// print is the page's running header on paper: a style sheet of its
	// own (/print.css), since the page's policy allows no inline style.
	print string
	// live: the page shows the negotiation now, and is refreshed as
	// events arrive.
	live bool
	// wide pages (tables of columns) use the whole window.
	wide bool
	// controls renders the page's menus (nil: none).
	controls *controls
	// header is sent with the JSON (nil: none).
	header http.Header
	// json is the command line's JSON for the question; body renders the
	// page's body (called only for HTML).
	json func() ([]byte, error)
	body func() ([]byte, error)
}

// controls are a page's menus: the REFs and options of its question, as a
// form that reads without JavaScript.
type controls struct {
	Action string
	Fields []field
}

// field is one control of a form.
type field struct {
	Name, Label, Value string
	// Kind is ref (text with the REF menu), check, select or text.
	Kind    string
	Options []option
}

type option struct{ Value, Label string }

// serveView answers the question in key with the view make builds: the
// JSON or the framed page, from the cache when the same question was
// answered at the same head.
func (s *Server) serveView(w http.ResponseWriter, r *http.Request, sp *space, version int, make func(ctx context.Context) (*view, error)) {
	f, err := format(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	started := time.Now()
	// One answer per question, replaced when what it rests on changes.
	key := fmt.Sprintf("%s|%s|%s", sp.id, f, canonical(r))
	a, err := s.answers.Get(ctx, key, version, func() (*answer, error) {
		// Worked out for whoever waits for it, not only for ctx's
		// request, which may leave first.
		v, err := make(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		render := v.body
		if f == "json" {
			render = v.json
		}
		b, err := render()
		// The answer keeps the page's frame, not the view's model.
		v.json, v.body = nil, nil
		return &answer{view: v, body: b}, err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serverTiming(w, started)
	if f == "json" {
		for k, v := range a.view.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(a.body)
		return
	}
	s.frame(w, r, sp, a.view, template.HTML(a.body))
}

// answer is a page's answer as it is kept: the body (or JSON) and what its
// frame needs.
type answer struct {
	view *view
	body []byte
}

// serverTiming says how long the answer took to work out (Server-Timing,
// which browsers' developer tools show).
func serverTiming(w http.ResponseWriter, started time.Time) {
	w.Header().Set("Server-Timing", fmt.Sprintf("view;dur=%.1f", float64(time.Since(started).Microseconds())/1000))
}

// canonical is the request's path and query, its parameters sorted, the
// HTML-only ones included: the question an answer is kept by.
func canonical(r *http.Request) string {
	q := r.URL.Query()
	q.Del("format")
	return r.URL.Path + "?" + q.Encode()
}

// page is what the page frame is rendered from.
type page struct {
	Treaty, TreatyTitle string
	Title, Section      string
	Head                projections.Point
	Live                bool
	Wide                bool
	URL                 string
	Print               string
	Controls            *controls
	Refs                []option
	Body                template.HTML
	Sections            []option
}

var sections = []option{
	{"draft", "Draft"}, {"compare", "Compare"}, {"positions", "Positions"}, {"proposals", "Proposals"},
	{"rounds", "Rounds"}, {"log", "Log"}, {"blame", "Provenance"}, {"audit", "Audit"},
}

// frame writes a page: the navigation, the menus, the body, and what makes
// it live.
func (s *Server) frame(w http.ResponseWriter, r *http.Request, sp *space, v *view, body template.HTML) {
	p := page{Treaty: sp.id, Title: v.title, Section: v.section, Live: v.live, Wide: v.wide,
		URL: r.URL.RequestURI(), Controls: v.controls, Body: body, Sections: sections, Head: sp.live.Head()}
	_ = sp.live.Read(r.Context(), nil, func(head projections.Moment, _ []projections.Moment) error {
		p.TreatyTitle = head.State.Title
		return nil
	})
	if v.controls != nil {
		p.Refs = s.refOptions(r.Context(), sp)
	}
	p.Print = v.print
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, "page", p); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}

// refOptions are the moments offered in the REF menus: now, each round's
// start and end (by REF and by time), and the latest events.
func (s *Server) refOptions(ctx context.Context, sp *space) []option {
	head := sp.live.Head()
	opts := []option{{"head", fmt.Sprintf("now (event %d)", head.Event)}}
	rounds, err := s.roundIndex(ctx, sp)
	if err != nil {
		return opts
	}
	for i := len(rounds) - 1; i >= 0; i-- {
		rd := rounds[i]
		name := ""
		if rd.Name != "" {
			name = " — " + rd.Name
		}
		if rd.ClosedAt != nil {
			opts = append(opts, option{fmt.Sprintf("round:%d", rd.Number), fmt.Sprintf("end of round %d%s (event %d)", rd.Number, name, rd.Closed)})
		} else {
			opts = append(opts, option{fmt.Sprintf("round:%d", rd.Number), fmt.Sprintf("round %d%s, open: now", rd.Number, name)})
		}
		opts = append(opts, option{fmt.Sprintf("round:%d:start", rd.Number), fmt.Sprintf("start of round %d%s (event %d)", rd.Number, name, rd.Opened)})
	}
	for _, rd := range rounds {
		opts = append(opts, option{rd.OpenedAt.UTC().Format("2006-01-02T15:04:05Z"), fmt.Sprintf("%s: round %d opened", projections.FormatTime(rd.OpenedAt), rd.Number)})
		if rd.ClosedAt != nil {
			opts = append(opts, option{rd.ClosedAt.UTC().Format("2006-01-02T15:04:05Z"), fmt.Sprintf("%s: round %d closed", projections.FormatTime(*rd.ClosedAt), rd.Number)})
		}
	}
	for n := head.Event; n > 0 && n > head.Event-5; n-- {
		opts = append(opts, option{fmt.Sprintf("@%d", n), fmt.Sprintf("just after event %d", n)})
	}
	return opts
}

// roundIndex is the round index now, kept per head.
func (s *Server) roundIndex(ctx context.Context, sp *space) ([]projections.RoundView, error) {
	v, err := s.replayed(ctx, sp, "rounds", func(ctx context.Context) (any, error) { return sp.live.Rounds(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]projections.RoundView), nil
}

// viewFunc works out the view a request asks for, of negotiation sp.
type viewFunc func(r *http.Request, sp *space) (*view, error)

// moment is a REF parameter of a page, and what it is when absent.
type moment struct {
	name string
	def  projections.Ref
}

// page answers a request with the view f works out, of the negotiation of
// the request's path. A page with moments (REF parameters) is an answer
// about those moments, kept until they name others (a moment at the head
// moves with every event); a page without is about the negotiation now,
// kept until the next event.
func (s *Server) page(f viewFunc, moments ...moment) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sp, err := s.space(r.Context(), r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		version, err := s.version(r, sp, moments)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.serveView(w, r, sp, version, func(ctx context.Context) (*view, error) { return f(r.WithContext(ctx), sp) })
	}
}

// version names what a page's answer rests on: the events its moments
// cover (and whether each follows the head), or with none the head.
func (s *Server) version(r *http.Request, sp *space, moments []moment) (int, error) {
	if len(moments) == 0 {
		return sp.live.Head().Event, nil
	}
	h := fnv.New64a()
	for _, m := range moments {
		ref, err := refParam(r, m.name, m.def)
		if err != nil {
			return 0, err
		}
		n, err := sp.live.Resolve(r.Context(), ref)
		if err != nil {
			return 0, err
		}
		follows := false
		sp.live.Read(r.Context(), nil, func(head projections.Moment, _ []projections.Moment) error {
			follows = ref.FollowsHead(head.State)
			return nil
		})
		fmt.Fprintf(h, "%s=%d/%t;", m.name, n, follows)
	}
	return int(h.Sum64() >> 1), nil
}

// render executes a template of the page set into bytes.
func (s *Server) render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	// For people: what an older log holds of control, bidirectional or
	// invisible characters is shown, as every renderer of the command line
	// shows it (the domain refuses them in new acts).
	err := s.pages.ExecuteTemplate(&b, name, projections.Printable(data))
	return b.Bytes(), err
}

// partyParam is the per-party filter of the HTML pages: a participant's
// code, or empty for all.
func partyParam(r *http.Request, participants []domain.Party) (string, error) {
	code := r.URL.Query().Get("party")
	if code == "" {
		return "", nil
	}
	for _, p := range participants {
		if p.Code == code {
			return code, nil
		}
	}
	return "", &httpError{http.StatusBadRequest, fmt.Sprintf("party %q is not a participant", code)}
}

func partyOptions(participants []domain.Party) []option {
	opts := []option{{"", "every participant"}}
	for _, p := range participants {
		opts = append(opts, option{p.Code, p.Code + " " + p.Name})
	}
	return opts
}

// index lists the negotiations in the store, or goes to the one there is.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	f, err := format(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := projections.Treaties(r.Context(), s.cfg.Store)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, ts)
		return
	}
	switch {
	case s.cfg.Treaty != "":
		http.Redirect(w, r, "/t/"+url.PathEscape(s.cfg.Treaty)+"/draft", http.StatusFound)
		return
	case len(ts) == 1:
		http.Redirect(w, r, "/t/"+url.PathEscape(ts[0].ID)+"/draft", http.StatusFound)
		return
	}
	b, err := s.render("index", ts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// draft: `treaty draft --at REF [--agreed-only]`.
func (s *Server) draftView(r *http.Request, sp *space) (*view, error) {
	ctx := r.Context()
	at, err := refParam(r, "at", projections.Head)
	if err != nil {
		return nil, err
	}
	agreedOnly, err := boolParam(r, "agreed_only")
	if err != nil {
		return nil, err
	}
	var d projections.Draft
	var live bool
	err = sp.live.Read(ctx, []projections.Ref{at}, func(head projections.Moment, m []projections.Moment) error {
		d = projections.BuildDraft(m[0], projections.DraftOptions{AgreedOnly: agreedOnly, Redlines: true})
		live = at.FollowsHead(head.State)
		return nil
	})
	if err != nil {
		return nil, err
	}
	party, err := partyParam(r, d.Parties)
	if err != nil {
		return nil, err
	}
	return &view{title: "Draft of " + d.Title, section: "draft", live: live,
		controls: &controls{Action: "draft", Fields: []field{
			{Name: "at", Label: "as of", Value: at.String(), Kind: "ref"},
			{Name: "agreed_only", Label: "agreed text only", Value: boolValue(agreedOnly), Kind: "check"},
			{Name: "party", Label: "party", Value: party, Kind: "select", Options: partyOptions(d.Parties)},
		}},
		json: func() ([]byte, error) { return jsonBytes(d) },
		body: func() ([]byte, error) { return s.render("draft-body", filterDraft(d, party)) },
	}, nil
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// compare: `treaty diff --from REF --to REF [--whole]`, inline or side by
// side.
func (s *Server) compareView(r *http.Request, sp *space) (*view, error) {
	ctx := r.Context()
	from, err := refParam(r, "from", projections.LastClosedRound)
	if err != nil {
		return nil, err
	}
	to, err := refParam(r, "to", projections.Head)
	if err != nil {
		return nil, err
	}
	whole, err := boolParam(r, "whole")
	if err != nil {
		return nil, err
	}
	layout := r.URL.Query().Get("view")
	switch layout {
	case "":
		layout = projections.CompareInline
	case projections.CompareInline, projections.CompareSide:
	default:
		return nil, &httpError{http.StatusBadRequest, fmt.Sprintf("view is inline or side, not %q", layout)}
	}
	f, err := format(r)
	if err != nil {
		return nil, err
	}
	every, err := boolParam(r, "every_adoption")
	if err != nil {
		return nil, err
	}
	if every && f != "json" {
		// As the command line refuses --every-adoption without --format
		// json: the page lists the last few.
		return nil, &httpError{http.StatusBadRequest, "every_adoption goes with format=json: the page counts each clause's adoptions by party and lists the last few"}
	}
	var d projections.Diff
	var live bool
	err = sp.live.Read(ctx, []projections.Ref{from, to}, func(head projections.Moment, m []projections.Moment) error {
		var err error
		d, err = projections.BuildDiff(m[0], m[1], head.State, projections.CompareOptions{Whole: whole, EveryAdoption: every})
		live = to.FollowsHead(head.State)
		return err
	})
	if err != nil {
		return nil, err
	}
	party, err := partyParam(r, d.Parties)
	if err != nil {
		return nil, err
	}
	fromValue := from.String()
	if from == projections.LastClosedRound {
		fromValue = ""
	}
	return &view{title: "Redline of " + d.Title, section: "compare", live: live, wide: layout == projections.CompareSide,
		print: fmt.Sprintf("%s — redline from %s (event %d) to %s (event %d)", d.Title, d.From.Ref, d.From.Event, d.To.Ref, d.To.Event),
		controls: &controls{Action: "compare", Fields: []field{
			{Name: "from", Label: "from", Value: fromValue, Kind: "ref"},
			{Name: "to", Label: "to", Value: to.String(), Kind: "ref"},
			{Name: "view", Label: "view", Value: layout, Kind: "select", Options: []option{{"inline", "inline"}, {"side", "side by side"}}},
			{Name: "whole", Label: "the whole text", Value: boolValue(whole), Kind: "check"},
			{Name: "party", Label: "party", Value: party, Kind: "select", Options: partyOptions(d.Parties)},
		}},
		json: func() ([]byte, error) { return jsonBytes(d) },
		body: func() ([]byte, error) {
			return s.render("compare-body", projections.CompareHTML{Diff: filterDiff(d, party), View: layout})
		},
	}, nil
}

// positions: `treaty positions --at REF [--clause ID] [--all]`.
func (s *Server) positionsView(r *http.Request, sp *space) (*view, error) {
	ctx := r.Context()
	at, err := refParam(r, "at", projections.Head)
	if err != nil {
		return nil, err
	}
	all, err := boolParam(r, "all")
	if err != nil {
		return nil, err
	}
	clause := r.URL.Query().Get("clause")
	if clause != "" {
		if err := domain.CheckSlug("clause ID", clause); err != nil {
			return nil, &httpError{http.StatusBadRequest, "clause: " + err.Error()}
		}
	}
	var p projections.Positions
	var live bool
	err = sp.live.Read(ctx, []projections.Ref{at}, func(head projections.Moment, m []projections.Moment) error {
		var err error
		p, err = projections.BuildPositions(m[0], projections.PositionsOptions{Clause: clause, All: all})
		live = at.FollowsHead(head.State)
		return err
	})
	if err != nil {
		return nil, err
	}
	party, err := partyParam(r, p.Participants)
	if err != nil {
		return nil, err
	}
	return &view{title: "Positions in " + p.Title, section: "positions", live: live, wide: true,
		print: fmt.Sprintf("%s — positions at %s (event %d)", p.Title, p.At.Ref, p.At.Event),
		controls: &controls{Action: "positions", Fields: []field{
			{Name: "at", Label: "as of", Value: at.String(), Kind: "ref"},
			{Name: "clause", Label: "clause", Value: clause, Kind: "text"},
			{Name: "all", Label: "every clause", Value: boolValue(all), Kind: "check"},
			{Name: "party", Label: "party", Value: party, Kind: "select", Options: partyOptions(p.Participants)},
		}},
		json: func() ([]byte, error) { return jsonBytes(p) },
		body: func() ([]byte, error) { return s.render("positions-body", filterPositions(p, party)) },
	}, nil
}

// proposals: `treaty proposals [--all]`; with all, a page of them (see
// docs/web.md, Every proposal, page by page).
func (s *Server) proposalsView(r *http.Request, sp *space) (*view, error) {
	ctx := r.Context()
	all, err := boolParam(r, "all")
	if err != nil {
		return nil, err
	}
	n, paged, err := pageParam(r)
	if err != nil {
		return nil, err
	}
	if paged && !all {
		return nil, &httpError{http.StatusBadRequest, "page: only every proposal (all=1) is listed page by page"}
	}
	v := &view{title: "Proposals", section: "proposals", live: true,
		controls: &controls{Action: "proposals", Fields: []field{{Name: "all", Label: "adopted and withdrawn too", Value: boolValue(all), Kind: "check"}}}}
	body := proposalsBody{Treaty: sp.id, All: all}
	if all {
		list, err := s.proposalList(ctx, sp)
		if err != nil {
			return nil, err
		}
		pg, err := pageOf(list.Len(), s.cfg.ProposalsPage, n)
		if err != nil {
			return nil, err
		}
		for p, err := range list.Rows(pg.From, pg.To) {
			if err != nil {
				return nil, err
			}
			body.Proposals = append(body.Proposals, p)
		}
		path := "/t/" + url.PathEscape(sp.id) + "/proposals"
		links := pg.links(path, "all=1&", "")
		body.Paging = &links
		v.header = pg.header(path, "all=1&")
		v.json = func() ([]byte, error) {
			var b bytes.Buffer
			err := list.WriteJSONRows(&b, jsonIndent, pg.From, pg.To)
			b.WriteByte('\n')
			return b.Bytes(), err
		}
	} else {
		err = sp.live.Read(ctx, nil, func(head projections.Moment, _ []projections.Moment) error {
			body.Proposals = projections.Proposals(head.State)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if body.Proposals == nil {
			body.Proposals = []projections.ProposalSummary{}
		}
		v.json = func() ([]byte, error) { return jsonBytes(body.Proposals) }
	}
	v.body = func() ([]byte, error) { return s.render("proposals-body", body) }
	return v, nil
}

// proposalsBody is what the proposals page is rendered from: the open
// proposals, or a page of every proposal.
type proposalsBody struct {
	Treaty    string
	All       bool
	Proposals []projections.ProposalSummary
	// Paging is the page's place among the pages of every proposal.
	Paging *pageLinks
}

// everyProposal is every proposal of the negotiation now, as the command
// line lists them, in a list on disk (see projections.ProposalList), with
// the audit's report on the same replay, but its verification.
type everyProposal struct {
	report projections.Audit
	list   *projections.ProposalList
}

// everyProposal is worked out by a replay of the whole log once per head,
// and kept while readers page through it; the proposals pages and the
// audit share it. A list dropped from the cache is closed when it is
// collected, once no page reads it.
func (s *Server) everyProposal(ctx context.Context, sp *space) (everyProposal, error) {
	v, err := s.replayed(ctx, sp, "proposals --all", func(ctx context.Context) (any, error) {
		a, list, err := sp.live.Reader().AuditUnverified(ctx)
		return everyProposal{a, list}, err
	})
	if err != nil {
		return everyProposal{report: projections.Audit{Treaty: sp.id}}, err
	}
	return v.(everyProposal), nil
}

// proposalList is every proposal of the negotiation now (see
// everyProposal).
func (s *Server) proposalList(ctx context.Context, sp *space) (*projections.ProposalList, error) {
	all, err := s.everyProposal(ctx, sp)
	return all.list, err
}

// whole answers a route with page, but its JSON whole (format=json, no
// page) when asked says the request asks for it: write works out how many
// rows it has and writes it as it reads it from disk, not kept.
func (s *Server) whole(page http.HandlerFunc, asked func(r *http.Request) bool, write func(ctx context.Context, sp *space) (int, func(io.Writer) error, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := format(r)
		if err != nil || f != "json" || r.URL.Query().Get("page") != "" || !asked(r) {
			page(w, r)
			return
		}
		sp, err := s.space(r.Context(), r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		started := time.Now()
		total, doc, err := write(r.Context(), sp)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		serverTiming(w, started)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		bw := &flushWriter{w: w}
		if err := doc(bw); err != nil {
			s.cfg.Logf("%s: %v", r.URL.Path, err)
			return
		}
		bw.flush()
	}
}

// everyAsked: the request asks for every proposal (all=1).
func everyAsked(r *http.Request) bool {
	all, err := boolParam(r, "all")
	return err == nil && all
}

// allProposalsJSON is `proposals --all --format json`, every proposal.
func (s *Server) allProposalsJSON(ctx context.Context, sp *space) (int, func(io.Writer) error, error) {
	list, err := s.proposalList(ctx, sp)
	if err != nil {
		return 0, nil, err
	}
	return list.Len(), func(w io.Writer) error {
		if err := list.WriteJSON(w, jsonIndent, 0); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}, nil
}

// proposal: `treaty show P`.
func (s *Server) proposalView(r *http.Request, sp *space) (*view, error) {
	ctx := r.Context()
	d, err := sp.live.Proposal(ctx, r.PathValue("p"))
	if err != nil {
		return nil, err
	}
	return &view{title: "Proposal " + domain.Short(d.ID), section: "proposals", live: true,
		json: func() ([]byte, error) { return jsonBytes(d) },
		body: func() ([]byte, error) {
			return s.render("proposal-body", struct {
				Treaty string
				P      projections.ProposalDetail
			}{sp.id, d})
		},
	}, nil
}

// history: `treaty history CLAUSE`.
func (s *Server) historyView(r *http.Request, sp *space) (*view, error) {
	clause := r.PathValue("clause")
	if err := domain.CheckSlug("clause ID", clause); err != nil {
		return nil, &httpError{http.StatusBadRequest, err.Error()}
	}
	return s.replayedView(r, sp, "history "+clause, &view{title: "History of " + clause, section: "draft", live: true}, "history-body",
		func(ctx context.Context) (any, error) { return sp.live.Reader().ClauseHistory(ctx, clause) })
}

// blame: `treaty blame [CLAUSE]`.
func (s *Server) blameView(r *http.Request, sp *space) (*view, error) {
	clause := r.URL.Query().Get("clause")
	if clause != "" {
		if err := domain.CheckSlug("clause ID", clause); err != nil {
			return nil, &httpError{http.StatusBadRequest, "clause: " + err.Error()}
		}
	}
	return s.replayedView(r, sp, "blame "+clause, &view{title: "Provenance", section: "blame", live: true}, "blame-body",
		func(ctx context.Context) (any, error) { return sp.live.Reader().Blame(ctx, clause) })
}

// audit: `treaty audit`, the report on every page, its proposals a page
// of them (see docs/web.md, Every proposal, page by page).
func (s *Server) auditView(r *http.Request, sp *space) (*view, error) {
	n, _, err := pageParam(r)
	if err != nil {
		return nil, err
	}
	a, err := s.audit(r.Context(), sp)
	if err != nil {
		return nil, err
	}
	total, fates := 0, map[string]int{}
	if a.list != nil {
		total, fates = a.list.Len(), a.list.Fates()
	}
	pg, err := pageOf(total, s.cfg.ProposalsPage, n)
	if err != nil {
		return nil, err
	}
	path := "/t/" + url.PathEscape(sp.id) + "/audit"
	return &view{title: "Audit", section: "audit", live: true, wide: true, header: pg.header(path, ""),
		json: func() ([]byte, error) {
			var b bytes.Buffer
			err := projections.WriteAuditJSONRows(&b, a.report, a.list, jsonIndent, pg.From, pg.To)
			return b.Bytes(), err
		},
		body: func() ([]byte, error) {
			body := auditBody{Audit: a.report, Fates: fates, Paging: pg.links(path, "", "")}
			if a.list != nil {
				for p, err := range a.list.Rows(pg.From, pg.To) {
					if err != nil {
						return nil, err
					}
					body.Proposals = append(body.Proposals, p)
				}
			}
			return s.render("audit-page", body)
		},
	}, nil
}

// auditBody is what a page of the audit is rendered from.
type auditBody struct {
	Audit     projections.Audit
	Fates     map[string]int
	Proposals []projections.ProposalSummary
	Paging    pageLinks
}

// audit is the audit of the negotiation now: its report, verified, and
// its proposals in the list of every proposal (nil when the log did not
// fold), kept per head: a verification of the whole log, and the replay
// the proposals pages share.
func (s *Server) audit(ctx context.Context, sp *space) (everyProposal, error) {
	v, err := s.replayed(ctx, sp, "audit", func(ctx context.Context) (any, error) {
		all, folded := s.everyProposal(ctx, sp)
		// Verified up to the event the report was gathered at, whatever
		// was appended since.
		report, err := sp.live.Reader().VerifyAudit(ctx, all.report, folded)
		if err != nil {
			return nil, err
		}
		all.report = report
		return all, nil
	})
	if err != nil {
		return everyProposal{}, err
	}
	return v.(everyProposal), nil
}

// auditJSON is `audit --format json`, every proposal in it.
func (s *Server) auditJSON(ctx context.Context, sp *space) (int, func(io.Writer) error, error) {
	a, err := s.audit(ctx, sp)
	if err != nil {
		return 0, nil, err
	}
	total := 0
	if a.list != nil {
		total = a.list.Len()
	}
	return total, func(w io.Writer) error { return projections.WriteAuditJSON(w, a.report, a.list, jsonIndent) }, nil
}

// replayedView is v, a view that replays the whole log (see replayed): its
// JSON the replay's, its body the template tmpl of it.
func (s *Server) replayedView(r *http.Request, sp *space, what string, v *view, tmpl string, replay func(ctx context.Context) (any, error)) (*view, error) {
	x, err := s.replayed(r.Context(), sp, what, replay)
	if err != nil {
		return nil, err
	}
	v.json = func() ([]byte, error) { return jsonBytes(x) }
	v.body = func() ([]byte, error) { return s.render(tmpl, x) }
	return v, nil
}

// rounds: `treaty rounds`.
func (s *Server) roundsView(r *http.Request, sp *space) (*view, error) {
	ctx := r.Context()
	rounds, err := s.roundIndex(ctx, sp)
	if err != nil {
		return nil, err
	}
	if rounds == nil {
		rounds = []projections.RoundView{}
	}
	return &view{title: "Rounds", section: "rounds", live: true,
		json: func() ([]byte, error) { return jsonBytes(rounds) },
		body: func() ([]byte, error) {
			return s.render("rounds-body", struct {
				Treaty string
				Rounds []projections.RoundView
			}{sp.id, rounds})
		},
	}, nil
}

// replayed answers a question whose view replays the whole log (history,
// blame, audit, every proposal whole) once per head, however many ask. The
// replay reads for whoever waits for it, not only for the request that
// began it. One replay of a question runs at a time: a head that moves on
// while it runs (events every few seconds, a replay of a long log taking
// half a minute) would otherwise start one more for each event. Those asked
// for meanwhile wait, and the first to go next replays the log as it then
// stands, which answers every head asked for before it began.
func (s *Server) replayed(ctx context.Context, sp *space, what string, replay func(ctx context.Context) (any, error)) (any, error) {
	key := sp.id + "|" + what
	head := sp.live.Head().Event
	return s.values.Get(ctx, key, head, func() (any, error) {
		g, _ := s.replays.LoadOrStore(key, &replayGate{})
		return g.(*replayGate).replay(head, sp.live.Head, func() (any, error) { return replay(context.WithoutCancel(ctx)) })
	})
}

// replayGate is where the replays of one question wait for each other: it
// keeps the last answer and the head the replay that gave it began at.
type replayGate struct {
	mu   sync.Mutex
	from int
	v    any
	ok   bool
}

// replay returns an answer at head or later: the last one, when its
// replay began at head or later, else a new one, begun at headNow.
func (g *replayGate) replay(head int, headNow func() projections.Point, replay func() (any, error)) (any, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ok && g.from >= head {
		return g.v, nil
	}
	from := headNow().Event
	v, err := replay()
	if err == nil {
		g.from, g.v, g.ok = from, v, true
	}
	return v, err
}

// log: `treaty log [--since REF] [--until REF]`, written as it is read.
func (s *Server) log(w http.ResponseWriter, r *http.Request) {
	sp, err := s.space(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	f, err := format(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lo, hi := 0, -1
	for _, b := range []struct {
		name string
		n    *int
	}{{"since", &lo}, {"until", &hi}} {
		if r.URL.Query().Get(b.name) == "" {
			continue
		}
		ref, err := refParam(r, b.name, projections.Head)
		if err == nil {
			*b.n, err = sp.live.Resolve(ctx, ref)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	head := sp.live.Head()
	if hi < 0 {
		hi = head.Event
	}
	if f == "json" {
		w.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		v := &view{title: "Log", section: "log", live: r.URL.Query().Get("until") == "",
			controls: &controls{Action: "log", Fields: []field{
				{Name: "since", Label: "since", Value: r.URL.Query().Get("since"), Kind: "ref"},
				{Name: "until", Label: "until", Value: r.URL.Query().Get("until"), Kind: "ref"},
			}}}
		var top bytes.Buffer
		if err := s.pages.ExecuteTemplate(&top, "log-top", struct {
			Treaty     string
			Since, All bool
			Recent     string
		}{sp.id, lo > 0, lo == 0 && hi == head.Event, fmt.Sprintf("@%d", max(head.Event-50, 1))}); err != nil {
			s.fail(w, r, err)
			return
		}
		// The page is framed around a body that is written as the log is
		// read: the frame's two halves around it.
		var b bytes.Buffer
		s.frameTo(&b, r, sp, v, template.HTML(top.String()+bodyHere))
		before, after, _ := strings.Cut(b.String(), bodyHere)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write([]byte(before))
		defer w.Write([]byte(after))
	}
	bw := &flushWriter{w: w}
	for rec, err := range projections.Events(ctx, s.cfg.Store, sp.id, lo) {
		if err != nil {
			s.cfg.Logf("log of %s: %v", sp.id, err)
			break
		}
		if rec.Number > hi {
			break
		}
		e, err := projections.EntryOf(rec)
		if err != nil {
			s.cfg.Logf("log of %s: %v", sp.id, err)
			break
		}
		if f == "json" {
			line, _ := jsonLine(e)
			bw.Write(line)
			continue
		}
		s.pages.ExecuteTemplate(bw, "log-row", struct {
			Treaty string
			E      projections.Entry
		}{sp.id, e})
	}
	if f != "json" {
		s.pages.ExecuteTemplate(bw, "log-end", nil)
	}
	bw.flush()
}

// bodyHere marks where a streamed body goes in its frame.
const bodyHere = "\x00body\x00"

// frameTo renders the frame of a page into b.
func (s *Server) frameTo(b *bytes.Buffer, r *http.Request, sp *space, v *view, body template.HTML) {
	rec := &bufferWriter{b: b, h: http.Header{}}
	s.frame(rec, r, sp, v, body)
}

// bufferWriter is an http.ResponseWriter into a buffer.
type bufferWriter struct {
	b *bytes.Buffer
	h http.Header
}

func (w *bufferWriter) Header() http.Header         { return w.h }
func (w *bufferWriter) Write(p []byte) (int, error) { return w.b.Write(p) }
func (w *bufferWriter) WriteHeader(int)             {}

// flushWriter buffers a long answer and sends it in pieces as it grows.
type flushWriter struct {
	w http.ResponseWriter
	b bytes.Buffer
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.b.Write(p)
	if f.b.Len() > 64<<10 {
		f.flush()
	}
	return len(p), nil
}

func (f *flushWriter) flush() {
	f.w.Write(f.b.Bytes())
	f.b.Reset()
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
}

// jsonLine is an entry as a line of `log --format json`.
func jsonLine(e projections.Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	return append(b, '\n'), err
}
