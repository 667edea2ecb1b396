package main

import (
	"fmt"

	"github.com/treaty-engine/treaty/eventstore"
)

// serverTags names, for each server backend's URI schemes, the build tag
// that builds the backend in: -tags postgres, -tags esdb. Without them the
// binary holds the embedded store alone, and every command starts without
// initializing a gRPC client and a PostgreSQL driver it does not use (about
// a millisecond a process).
var serverTags = map[string]string{
	"postgres":      "postgres",
	"postgresql":    "postgres",
	"esdb":          "esdb",
	"esdb+discover": "esdb",
}

// notBuiltIn is a store URI whose backend this build does not hold.
type notBuiltIn struct {
	name, scheme, tag string
}

func (e *notBuiltIn) Error() string {
	return fmt.Sprintf("cannot open %s: this build of treaty opens no %s:// stores, which need a build with -tags %s: in treaty's source, install one with `CGO_ENABLED=0 go install -tags %s ./cmd/treaty`, or run `go run -tags %s ./cmd/treaty …` (`treaty version` lists the stores a build opens)",
		e.name, e.scheme, e.tag, e.tag, e.tag)
}

func (e *notBuiltIn) Unwrap() error { return eventstore.ErrUnknownScheme }
