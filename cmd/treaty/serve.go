package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/projections"
	"github.com/treaty-engine/treaty/web"
)

func (a *app) serveCommand() *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Serve a read-only web workspace for reviewers, live as the negotiation goes on",
		Long: `Serve the negotiations in the store to browsers, read-only: the draft, the
compare document (inline or side by side), the positions document, the
proposals, each clause's history, the provenance of the agreed text, the rounds,
the log and the audit, with menus to pick moments (rounds, events, times) and a
filter per party. Every page also answers ?format=json with the JSON of the
command that asks the same question, and reads without JavaScript; with it,
open pages follow the negotiation as events are appended, from any process
writing to the store (/t/ID/events streams them as Server-Sent Events). The
routes are listed in docs/web.md.

It listens on the loopback interface unless --addr says otherwise: the
workspace has no login, so give another address only on a network you trust
(or behind a proxy that authenticates). Nothing is ever appended; parties act
with the other commands. Ctrl-C stops it.`,
		Example: `  treaty serve                          # http://127.0.0.1:8080/
  treaty --store 'esdb://localhost:2113?tls=false' serve --addr 127.0.0.1:9000   # a build with -tags esdb
  curl -s 'http://127.0.0.1:8080/t/berlin-framework/compare?from=round:1&to=round:2&format=json'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.listen()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM)
			defer stop()
			store, err := a.openStore(ctx, false)
			if err != nil {
				return err
			}
			srv, err := web.New(web.Config{Store: store, Treaty: a.treaty,
				Reader: func(id string) *projections.Reader { return a.readerOf(store, id) },
				Logf:   func(format string, args ...any) { a.info("treaty serve: "+format, args...) }})
			if err != nil {
				return err
			}
			defer srv.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("cannot listen on %s: %w", addr, err)
			}
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			served := make(chan error, 1)
			go func() { served <- hs.Serve(ln) }()
			a.info("Serving %s read-only at http://%s/ (Ctrl-C stops).", a.storeName(), ln.Addr())
			if !loopback(ln.Addr()) {
				a.info("Warning: %s is reachable from other machines, and the workspace has no login.", ln.Addr())
			}
			select {
			case err := <-served:
				return err
			case <-ctx.Done():
			}
			// Streams end first: a shutdown waits for every answer.
			srv.Close()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			a.info("Stopped.")
			return nil
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on (host:port; port 0 picks a free one)")
	return withFormats(c, "text")
}

// loopback reports whether addr is on the loopback interface only.
func loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
