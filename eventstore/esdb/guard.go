package esdb

import (
	"fmt"
	"strconv"
	"sync/atomic"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// The guard keeps a bad server answer from reaching the one place in the v4
// client that ends the process: decoding a recorded event whose "created"
// system metadata is missing or not a number calls log.Fatalf
// (esdb/protobuf_utils.go, createdFromProto; the same for persistent
// subscriptions in createdFromPersistentProto). No recover can catch that.
//
// The client builds its gRPC connections itself and takes no dial options
// (esdb/impl.go, createGrpcConnection), so no interceptor can be slipped in.
// What gRPC does let a program replace is the codec registered for the
// "proto" content-subtype, which every connection looks up per call. The
// guard wraps the default codec: it decodes exactly as before and then, for
// the two read responses that carry recorded events, checks the fields the
// client would trip over (created, and the stream identifiers it
// dereferences without a nil check). A response that fails the check becomes
// a decoding error, which gRPC reports as an Internal status on that call
// alone; the client turns it into an ordinary error. Every other message, in
// every other gRPC client or server of the process, passes through
// untouched.
//
// The codec is registered at init, as gRPC requires (encoding.RegisterCodecV2
// is not safe to call later), so importing this package installs it.

// guardMarker starts every error the guard returns; once gRPC has turned the
// error into a status message, it is how the backend recognises it.
const guardMarker = "esdb guard: refused a server answer"

// guardOff turns the check off. Only a test sets it, in a child process that
// shows what the client does without the guard.
var guardOff atomic.Bool

type guardCodec struct{ encoding.CodecV2 }

func init() {
	if base := encoding.GetCodecV2(grpcproto.Name); base != nil {
		encoding.RegisterCodecV2(guardCodec{base})
	}
}

func (g guardCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if err := g.CodecV2.Unmarshal(data, v); err != nil {
		return err
	}
	if guardOff.Load() {
		return nil
	}
	switch m := v.(type) {
	case *api.ReadResp:
		return checkReadResp(m)
	case *persistent.ReadResp:
		if ev := m.GetEvent(); ev != nil {
			for _, r := range []*persistent.ReadResp_ReadEvent_RecordedEvent{ev.GetEvent(), ev.GetLink()} {
				if r != nil {
					if err := checkRecorded(r.GetStreamIdentifier(), r.GetStreamRevision(), r.GetMetadata()); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// checkReadResp refuses a read response the client would crash on.
func checkReadResp(m *api.ReadResp) error {
	switch c := m.GetContent().(type) {
	case *api.ReadResp_Event:
		for _, r := range []*api.ReadResp_ReadEvent_RecordedEvent{c.Event.GetEvent(), c.Event.GetLink()} {
			if r != nil {
				if err := checkRecorded(r.GetStreamIdentifier(), r.GetStreamRevision(), r.GetMetadata()); err != nil {
					return err
				}
			}
		}
	case *api.ReadResp_StreamNotFound_:
		// esdb/reads.go (Recv) reads StreamNotFound.StreamIdentifier.StreamName.
		if c.StreamNotFound.GetStreamIdentifier() == nil {
			return fmt.Errorf("%s: a stream-not-found answer names no stream", guardMarker)
		}
	}
	return nil
}

func checkRecorded(stream *shared.StreamIdentifier, revision uint64, md map[string]string) error {
	if stream == nil {
		return fmt.Errorf("%s: a recorded event names no stream", guardMarker)
	}
	if _, err := strconv.ParseInt(md["created"], 10, 64); err != nil {
		created, ok := md["created"]
		what := fmt.Sprintf("an unreadable created timestamp %q", created)
		if !ok {
			what = "no created timestamp"
		}
		return fmt.Errorf("%s: the event at revision %d of stream %q has %s, on which the EventStore client would have ended the process",
			guardMarker, revision, stream.GetStreamName(), what)
	}
	return nil
}
