package esdb

import (
	"context"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// The benchmarks run against the protocol double in this process: they
// measure the backend, the client and gRPC over loopback, not a server's
// disk. Their names and payloads match eventstore/sqlite's, so that the
// figures compare.

// benchAppend appends b.N batches of batch events to one stream (see
// storetest.BenchAppend).
func benchAppend(b *testing.B, batch int) {
	srv := esdbtest.Start(b)
	s := openStore(b, srv.URI(), eventstore.Config{Timeout: time.Minute})
	storetest.BenchAppend(b, s, batch, nil)
}

// BenchmarkAppendSingle appends one event per call: a read of the stream's
// end, a reservation, the append and a read of the event back.
func BenchmarkAppendSingle(b *testing.B) { benchAppend(b, 1) }

// BenchmarkAppendBatch100 appends 100 events per call: a read, 100
// reservations (16 at a time), one append and a read of the batch back.
func BenchmarkAppendBatch100(b *testing.B) { benchAppend(b, 100) }

// BenchmarkReadAll reads a stream of 100,000 events from start to end, again
// and again through one open store. The stream is written through the bare
// client, without reservations, which reads do not look at.
func BenchmarkReadAll(b *testing.B) {
	const total = 100_000
	srv := esdbtest.Start(b)
	fillBench(b, srv.URI(), total)
	storetest.BenchRead(b, openStore(b, srv.URI(), eventstore.Config{Timeout: time.Minute}), total)
}

// fillBench appends total events to treaty-bench in batches of 1,000 (450
// KB, under the server's 1 MiB append limit).
func fillBench(b *testing.B, uri string, total int) {
	conf, err := esdb.ParseConnectionString(uri)
	if err != nil {
		b.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	batch := make([]esdb.EventData, 1000)
	for i := 0; i < total; i += len(batch) {
		for j := range batch {
			batch[j] = esdb.EventData{EventID: uuid.New(), EventType: "ClauseProposed", ContentType: esdb.ContentTypeJson, Data: storetest.BenchData, Metadata: storetest.BenchMeta}
		}
		if _, err := c.AppendToStream(context.Background(), "treaty-bench", esdb.AppendToStreamOptions{}, batch...); err != nil {
			b.Fatal(err)
		}
	}
}
