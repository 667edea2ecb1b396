package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/treaty-engine/treaty/projections"
)

// keepAlive is how often a quiet event stream sends a comment, so that
// proxies and load balancers do not close it as idle.
var keepAlive = 25 * time.Second

// events streams the negotiation's events as Server-Sent Events: for each
// event appended, an "id:" line (its number, so that a client that
// reconnects says where it was with Last-Event-ID) and one "data:" line,
// the event as a line of `treaty log --format json`. It starts after the
// event the client names (Last-Event-ID, else ?after=N), else at the head.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	sp, err := s.space(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, errors.New("this server cannot stream"))
		return
	}
	after := sp.live.Head().Event
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, r, &httpError{http.StatusBadRequest, fmt.Sprintf("after is an event number, not %q", v)})
			return
		}
		after = min(n, after)
		break
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 1000\n\n")
	flusher.Flush()

	// The stream ends with the request, or when the server closes.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	entries := make(chan []projections.Entry)
	failed := make(chan error, 1)
	go func() {
		for {
			es, err := sp.live.Watch(ctx, after)
			if err != nil {
				failed <- err
				return
			}
			select {
			case entries <- es:
				after = es[len(es)-1].Event
			case <-ctx.Done():
				return
			}
		}
	}()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case es := <-entries:
			for _, e := range es {
				line, err := jsonLine(e)
				if err != nil {
					return
				}
				if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n", e.Event, line); err != nil {
					return
				}
			}
			flusher.Flush()
		case <-tick.C:
			if _, err := fmt.Fprintf(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case err := <-failed:
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				s.cfg.Logf("event stream of %s: %v", sp.id, err)
			}
			return
		case <-ctx.Done():
			return
		}
	}
}
