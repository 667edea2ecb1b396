package storetest

import (
	"testing"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/memstore"
)

// TestMemStore runs the suite against the store in memory, the contract
// written as plainly as possible: the suite must pass it, so that it asks
// nothing a backend's own quirks happen to provide.
func TestMemStore(t *testing.T) {
	Run(t, func(t *testing.T) eventstore.Store {
		s := memstore.New()
		t.Cleanup(func() { s.Close() })
		return s
	}, Reopen(func(t *testing.T, s eventstore.Store) eventstore.Store {
		s2 := s.(*memstore.Store).Reopen()
		t.Cleanup(func() { s2.Close() })
		return s2
	}))
}
