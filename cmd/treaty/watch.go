package main

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

func (a *app) watchCommand() *cobra.Command {
	var since string
	var all bool
	c := &cobra.Command{
		Use:   "watch [--since REF | --all] [--format text|json]",
		Short: "Follow a negotiation live, printing each event as it lands",
		Long: `Print each event of the negotiation as it is appended, from any process or
machine writing to the store, in the columns of log (--format json: one JSON
object per line). From now on by default; --since REF prints what came after
that moment first, --all the whole log. Ctrl-C ends it. On a server it is a catch-up
subscription; on the embedded store it checks one row for new events a few
times a second.`,
		Example: `  treaty watch
  treaty watch --since round:2:start --format json | jq -r .summary
  treaty watch --all`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a.listen()
			ctx := cmd.Context()
			r, head, err := a.head(ctx)
			if err != nil {
				return err
			}
			from := head.State.Events
			switch {
			case all && since != "":
				return usagef("--since and --all are alternatives; give one")
			case all:
				from = 0
			case since != "":
				ref, err := parseRef("--since", since)
				if err != nil {
					return err
				}
				if from, err = r.Resolve(ctx, ref, head.State); err != nil {
					return err
				}
			}
			if a.format != "json" {
				a.info("Watching %s from event %d; Ctrl-C ends.", r.Treaty(), from+1)
			}
			st := a.style()
			for ev, err := range follow(ctx, a.store, projections.Stream(r.Treaty()), uint64(from)) {
				if err != nil {
					if ctx.Err() != nil {
						return nil // Ctrl-C: the end a watch is meant to have
					}
					return err
				}
				rec, err := projections.DecodeEvent(ev)
				if err != nil {
					return err
				}
				if err := a.writeEntry(a.stdout, rec, st); err != nil {
					return err
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&since, "since", "", "first print what came after this moment (REF)")
	_ = c.RegisterFlagCompletionFunc("since", a.completeRefs)
	c.Flags().BoolVar(&all, "all", false, "first print the whole log")
	return c
}

// pollEvery is how often follow looks for new events on a store that cannot
// be subscribed to.
var pollEvery = 250 * time.Millisecond

// follow subscribes to a stream where the store can, and polls it where it
// cannot; either way it ends without an error when ctx does.
func follow(ctx context.Context, store eventstore.Store, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	if sub, ok := store.(eventstore.Subscriber); ok {
		return sub.Subscribe(ctx, stream, from)
	}
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		next := from
		for {
			for ev, err := range store.Read(ctx, stream, next) {
				if errors.Is(err, eventstore.ErrStreamNotFound) {
					break
				}
				if err != nil || !yield(ev, nil) {
					if err != nil && ctx.Err() == nil {
						yield(ev, err)
					}
					return
				}
				next = ev.Revision + 1
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(pollEvery):
			}
		}
	}
}
