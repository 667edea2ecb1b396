package esdbtest

import (
	"context"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	features "github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// maxAppendSize is the real server's default limit on the bytes of one
// append (MaxAppendSize, 1 MiB).
const maxAppendSize = 1 << 20

// featuresServer answers the only call the v4 client makes when it connects
// to a single node (impl.go, getSupportedMethods).
type featuresServer struct {
	features.UnimplementedServerFeaturesServer
	s *Server
}

func (f *featuresServer) GetSupportedMethods(context.Context, *shared.Empty) (*features.SupportedMethods, error) {
	if f.s.cfg.noFeatures {
		return nil, status.Error(codes.Unimplemented, "method GetSupportedMethods not implemented")
	}
	const version, svc = "24.10.0", "event_store.client.streams.streams"
	switch f.s.currentFault() {
	case EmptyFeatures:
		return &features.SupportedMethods{}, nil
	case EmptyMethodList:
		return &features.SupportedMethods{EventStoreServerVersion: version}, nil
	}
	return &features.SupportedMethods{
		EventStoreServerVersion: version,
		Methods: []*features.SupportedMethod{
			{MethodName: "read", ServiceName: svc},
			{MethodName: "append", ServiceName: svc},
		},
	}, nil
}

type streamsServer struct {
	api.UnimplementedStreamsServer
	s *Server
}

// hang waits until the client gives up, for the Hang fault.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return status.FromContextError(ctx.Err()).Err()
}

func invalid(msg string) error { return status.Error(codes.InvalidArgument, msg) }

func (h *streamsServer) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return invalid("the first append message must carry the options")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return invalid("empty stream name")
	}
	var exp expectation
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Any:
		exp.kind = expectAny
	case *api.AppendReq_Options_NoStream:
		exp.kind = expectNoStream
	case *api.AppendReq_Options_StreamExists:
		exp.kind = expectStreamExists
	case *api.AppendReq_Options_Revision:
		exp = expectation{kind: expectRevision, revision: e.Revision}
	default:
		return invalid("no expected stream revision")
	}
	var events []proposed
	size, structured := 0, false
	for {
		msg, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return invalid("expected a proposed message")
		}
		id, err := uuidFromProto(pm.GetId())
		if err != nil {
			return invalid("event id: " + err.Error())
		}
		structured = structured || pm.GetId().GetStructured() != nil
		typ, ctype := pm.GetMetadata()["type"], pm.GetMetadata()["content-type"]
		if typ == "" || ctype == "" {
			return invalid("an event needs the type and content-type metadata")
		}
		size += len(pm.GetData()) + len(pm.GetCustomMetadata())
		events = append(events, proposed{id: id, typ: typ, ctype: ctype, meta: pm.GetCustomMetadata(), data: pm.GetData()})
	}
	fault := h.s.currentFault()
	switch fault {
	case Hang:
		return hang(srv.Context())
	case EmptyAppendResult:
		return srv.SendAndClose(&api.AppendResp{})
	case StringUUIDsOnly:
		if structured {
			return invalid(StringUUIDsOnlyMessage)
		}
	case ChangedIDs:
		for i := range events {
			events[i].id = guidOrder(events[i].id)
		}
	}
	if size > maxAppendSize {
		return invalid("Maximum Append Size of " + strconv.Itoa(maxAppendSize) + " Exceeded.")
	}
	var out outcome
	if len(events) == 0 {
		out = outcome{ok: true, current: int64(len(h.s.log.stream(stream))) - 1}
	} else {
		out = h.s.log.appendEvents(stream, exp, events)
	}
	if out.ok {
		success := &api.AppendResp_Success{
			PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: out.pos, PreparePosition: out.pos}},
		}
		if out.current < 0 {
			success.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		} else {
			current := uint64(out.current)
			if fault == WrongAppendRevision {
				current++
			}
			success.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: current}
		}
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: success}})
	}
	return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: wrongVersion(out.current, exp)}})
}

// wrongVersion fills both the current fields of WrongExpectedVersion and the
// ones servers before 21.10 used, as the real server does.
func wrongVersion(current int64, exp expectation) *api.AppendResp_WrongExpectedVersion {
	w := &api.AppendResp_WrongExpectedVersion{}
	if current < 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	switch exp.kind {
	case expectAny:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectNoStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectStreamExists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: exp.revision}
	}
	return w
}

func uuidFromProto(u *shared.UUID) (uuid.UUID, error) {
	if s := u.GetStructured(); s != nil {
		var id uuid.UUID
		most, least := uint64(s.GetMostSignificantBits()), uint64(s.GetLeastSignificantBits())
		for i := range 8 {
			id[i] = byte(most >> (56 - 8*i))
			id[8+i] = byte(least >> (56 - 8*i))
		}
		return id, nil
	}
	if u.GetString_() != "" {
		return uuid.Parse(u.GetString_())
	}
	return uuid.Nil, errors.New("missing")
}

// guidOrder returns id with the byte order of its first three fields
// reversed: its 16 bytes as a .NET Guid reads them little-endian.
func guidOrder(id uuid.UUID) uuid.UUID {
	out := id
	for _, f := range [][2]int{{0, 4}, {4, 6}, {6, 8}} {
		for i, j := f[0], f[1]-1; i < f[1]; i, j = i+1, j-1 {
			out[i] = id[j]
		}
	}
	return out
}

func uuidToProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	var most, least uint64
	for i := range 8 {
		most = most<<8 | uint64(id[i])
		least = least<<8 | uint64(id[8+i])
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits: int64(most), LeastSignificantBits: int64(least),
	}}}
}

// readEvent is a recorded event as the server sends it: with the created,
// type and content-type metadata, unless the NoCreated fault is on.
func (h *streamsServer) readEvent(r *record, asString bool) *api.ReadResp {
	md := map[string]string{"type": r.typ, "content-type": r.ctype}
	if h.s.currentFault() != NoCreated {
		md["created"] = strconv.FormatInt(r.created, 10)
	}
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               uuidToProto(r.id, asString),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.pos,
			CommitPosition:   r.pos,
			Metadata:         md,
			CustomMetadata:   r.meta,
			Data:             r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos},
	}}}
}

func checkpoint(pos uint64) *api.ReadResp {
	return &api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: pos, PreparePosition: pos}}}
}

func (h *streamsServer) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	ctx := srv.Context()
	if h.s.currentFault() == Hang {
		return hang(ctx)
	}
	o := req.GetOptions()
	if o == nil {
		return invalid("no read options")
	}
	f, err := parseFilter(o.GetFilter())
	if err != nil {
		return err
	}
	r := reader{
		h: h, srv: srv, backwards: o.GetReadDirection() == api.ReadReq_Options_Backwards,
		asString: o.GetUuidOption().GetString_() != nil || h.s.currentFault() == StringUUIDsOnly,
	}
	if o.GetSubscription() != nil {
		if r.backwards {
			return invalid("a subscription reads forwards")
		}
		return r.subscribe(o, f)
	}
	if h.s.currentFault() == UnexpectedRead {
		if err := srv.Send(checkpoint(0)); err != nil {
			return err
		}
	}
	switch so := o.GetStreamOption().(type) {
	case *api.ReadReq_Options_Stream:
		return r.readStream(so.Stream, o.GetCount())
	case *api.ReadReq_Options_All:
		return r.readAll(so.All, o.GetCount(), f)
	}
	return invalid("read neither a stream nor $all")
}

func parseFilter(fo *api.ReadReq_Options_FilterOptions) (*filter, error) {
	if fo == nil {
		return nil, nil
	}
	expr, onType := fo.GetStreamIdentifier(), false
	if expr == nil {
		expr, onType = fo.GetEventType(), true
	}
	if expr == nil || (len(expr.GetPrefix()) == 0 && expr.GetRegex() == "") {
		return nil, invalid("a filter needs prefixes or a regex")
	}
	f := &filter{onType: onType, prefixes: expr.GetPrefix()}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, invalid("filter regex: " + err.Error())
		}
		f.match = re.MatchString
	}
	return f, nil
}

type reader struct {
	h         *streamsServer
	srv       api.Streams_ReadServer
	asString  bool
	backwards bool
}

func (r *reader) send(rec *record) error { return r.srv.Send(r.h.readEvent(rec, r.asString)) }

func (r *reader) readStream(o *api.ReadReq_Options_StreamOptions, count uint64) error {
	name := string(o.GetStreamIdentifier().GetStreamName())
	events := r.h.s.log.stream(name)
	if len(events) == 0 {
		return r.srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	n := uint64(len(events))
	var start uint64
	switch v := o.GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Start:
		start = 0
	case *api.ReadReq_Options_StreamOptions_End:
		start = n // forwards: nothing; backwards: from the last
		if r.backwards {
			start = n - 1
		}
	case *api.ReadReq_Options_StreamOptions_Revision:
		start = v.Revision
		if r.backwards && start >= n {
			start = n - 1
		}
	default:
		return invalid("no revision to read from")
	}
	fault := r.h.s.currentFault()
	if fault == FirstStreamPosition {
		if err := r.srv.Send(&api.ReadResp{Content: &api.ReadResp_FirstStreamPosition{FirstStreamPosition: 0}}); err != nil {
			return err
		}
	}
	var sent uint64
	if r.backwards {
		for i := int64(start); i >= 0 && sent < count; i-- {
			if err := r.send(events[i]); err != nil {
				return err
			}
			sent++
		}
		return nil
	}
	i := start
	for ; i < n && sent < count; i++ {
		if err := r.send(events[i]); err != nil {
			return err
		}
		sent++
	}
	if fault == LastStreamPosition && i >= n {
		return r.srv.Send(&api.ReadResp{Content: &api.ReadResp_LastStreamPosition{LastStreamPosition: n - 1}})
	}
	return nil
}

// positionIndex returns the index of the first event at or after pos.
func positionIndex(all []*record, pos uint64) int {
	return sort.Search(len(all), func(i int) bool { return all[i].pos >= pos })
}

func (r *reader) readAll(o *api.ReadReq_Options_AllOptions, count uint64, f *filter) error {
	all, _ := r.h.s.log.snapshot()
	// Forwards from a position includes the event there; backwards from a
	// position starts before it, as the real server reads $all.
	var i int
	switch v := o.GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Start:
		i = 0
		if r.backwards {
			i = -1
		}
	case *api.ReadReq_Options_AllOptions_End:
		i = len(all)
		if r.backwards {
			i = len(all) - 1
		}
	case *api.ReadReq_Options_AllOptions_Position:
		i = positionIndex(all, v.Position.GetCommitPosition())
		if r.backwards {
			i--
		}
	default:
		return invalid("no position to read $all from")
	}
	var sent uint64
	for ; i >= 0 && i < len(all) && sent < count; i = r.step(i) {
		if !f.accepts(all[i]) {
			continue
		}
		if err := r.send(all[i]); err != nil {
			return err
		}
		sent++
	}
	return nil
}

func (r *reader) step(i int) int {
	if r.backwards {
		return i - 1
	}
	return i + 1
}

// subscribe serves a catch-up subscription: Confirmation first, then the
// events after the starting point, then CaughtUp (or, as before 23.10, a
// Checkpoint for a filtered $all subscription), then events as they are
// appended, until the client goes away.
func (r *reader) subscribe(o *api.ReadReq_Options, f *filter) error {
	ctx := r.srv.Context()
	log := r.h.s.log
	if err := r.srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}
	var snap func() ([]*record, <-chan struct{})
	var next int
	switch so := o.GetStreamOption().(type) {
	case *api.ReadReq_Options_Stream:
		name := string(so.Stream.GetStreamIdentifier().GetStreamName())
		snap = func() ([]*record, <-chan struct{}) { return log.streamSnapshot(name) }
		switch v := so.Stream.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_End:
			next = len(log.stream(name))
		case *api.ReadReq_Options_StreamOptions_Revision:
			next = int(min(v.Revision, uint64(1<<31))) + 1 // exclusive, as the server subscribes
		}
		f = nil // filters apply to $all only
	case *api.ReadReq_Options_All:
		snap = log.snapshot
		switch v := so.All.GetAllOption().(type) {
		case *api.ReadReq_Options_AllOptions_End:
			all, _ := log.snapshot()
			next = len(all)
		case *api.ReadReq_Options_AllOptions_Position:
			all, _ := log.snapshot()
			next = positionIndex(all, v.Position.GetCommitPosition()+1)
		}
	default:
		return invalid("subscribe to neither a stream nor $all")
	}

	// A filtered subscription reports progress every window × multiplier
	// events scanned, so that a client can checkpoint through long runs of
	// events the filter drops.
	every := 0
	if f != nil {
		window := int(o.GetFilter().GetMax())
		if window == 0 {
			window = 32
		}
		every = window * int(max(o.GetFilter().GetCheckpointIntervalMultiplier(), 1))
	}
	scanned, live := 0, false
	for {
		events, changed := snap()
		for ; next < len(events); next++ {
			rec := events[next]
			if f.accepts(rec) {
				if err := r.send(rec); err != nil {
					return err
				}
			}
			if scanned++; every > 0 && !live && scanned%every == 0 {
				if err := r.srv.Send(checkpoint(rec.pos)); err != nil {
					return err
				}
			}
		}
		if !live {
			live = true
			var msg *api.ReadResp
			switch {
			case !r.h.s.cfg.legacyCaughtUp:
				msg = &api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}
			case f != nil:
				end := uint64(0)
				if len(events) > 0 {
					end = events[len(events)-1].pos + 1
				}
				msg = checkpoint(end)
			}
			if msg != nil {
				if err := r.srv.Send(msg); err != nil {
					return err
				}
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}
