package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unsafe"

	"github.com/treaty-engine/treaty/domain"
)

// formatVersion changes whenever the encoding below does. (A change to the
// fold itself changes the build's identity, see build.go.)
const formatVersion = 16

// A checkpoint is two parts. The present part holds everything of a state
// but its closed proposals: parties, rounds, clauses, open proposals, keys,
// the count of closed proposals in the closed part it rests on, the
// proposals closed since (carried), and the shape of the Bloom filter of the
// closed part's IDs (kept in shards of its own, see filter).
// The closed part is the table of closed proposals (see table). The present
// is written field by field, maps in key order so that equal states encode
// alike: it is read by every command, and a hand-written encoding decodes
// several times faster than a reflective one.

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int)     { e.b = binary.AppendVarint(e.b, int64(v)) }
func (e *encoder) str(v string)  { e.uint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) strs(v []string) {
	e.uint(uint64(len(v)))
	for _, x := range v {
		e.str(x)
	}
}

func (e *encoder) optStr(v *string) {
	e.bool(v != nil)
	if v != nil {
		e.str(*v)
	}
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// decoder reads what encoder wrote; the first error sticks and every later
// read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) str() string {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	if n == 0 {
		return ""
	}
	// The string shares the checkpoint's bytes (see decodePresent) rather
	// than copying each of thousands of texts.
	v := unsafe.String(&d.b[0], n)
	d.b = d.b[n:]
	return v
}

func (d *decoder) bool() bool {
	if len(d.b) < 1 || d.b[0] > 1 {
		d.fail()
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.str()
	}
	return v
}

func (d *decoder) optStr() *string {
	if !d.bool() {
		return nil
	}
	v := d.str()
	return &v
}

// count reads a length, refusing one the remaining bytes cannot hold.
func (d *decoder) count() int { return d.countOf(1) }

// countOf reads a number of items each encoded in at least size bytes,
// refusing one the remaining bytes cannot hold, before any is allocated.
func (d *decoder) countOf(size int) int {
	n := d.uint()
	if n > uint64(len(d.b)/size) {
		d.fail()
		return 0
	}
	return int(n)
}

// positionsSorted reports whether ps is sorted by party, each party once, as
// domain.Positions keeps them: the order checkpoints are written in, and the
// only one they are read back in.
func positionsSorted(ps domain.Positions) bool {
	for i := 1; i < len(ps); i++ {
		if ps[i-1].Party >= ps[i].Party {
			return false
		}
	}
	return true
}

// minEncoded is fewer bytes than any clause or proposal is encoded in (11
// and 22 at the least).
const minEncoded = 8

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errTruncated
	}
	d.b = nil
}

// present is a decoded present part.
type present struct {
	state   *domain.State
	baseLen int // closed proposals in the closed part it rests on
	carried []domain.ClosedProposal
	shards  int // the filter's shape: how many shards, of how many words
	words   int
}

// encodePresent writes s's present part. A state awaiting an adoption is
// never worth keeping, and is refused.
func encodePresent(s *domain.State, baseLen int, carried []domain.ClosedProposal, f *filter) ([]byte, error) {
	if p := s.Due(); p != "" {
		return nil, fmt.Errorf("the state awaits the adoption of %s", p)
	}
	e := &encoder{b: make([]byte, 0, 64<<10)}
	e.summary(s)
	e.uint(uint64(len(s.Order)))
	for _, id := range s.Order {
		e.str(id)
	}
	e.uint(uint64(len(s.Clauses)))
	for _, id := range slices.Sorted(maps.Keys(s.Clauses)) {
		c := s.Clauses[id]
		e.str(c.ID)
		e.str(c.Heading)
		e.str(c.Text)
		e.int(c.Revision)
		e.bool(c.Deleted)
		e.strs(c.AdRef)
		e.str(c.AdRefProposal)
		e.int(c.AdRefRevision)
		e.bool(c.Restore != nil)
		if r := c.Restore; r != nil {
			e.str(r.Text)
			e.str(r.Heading)
			e.bool(r.Deleted)
		}
		e.uint(uint64(len(c.Adoptions)))
		for _, party := range slices.Sorted(maps.Keys(c.Adoptions)) {
			e.str(party)
			e.int(c.Adoptions[party])
		}
		e.uint(uint64(len(c.Recent)))
		for _, a := range c.Recent {
			e.str(a.Proposal)
			e.str(a.Party)
			e.int(a.Event)
		}
	}
	e.uint(uint64(len(s.Keys)))
	for _, id := range slices.Sorted(maps.Keys(s.Keys)) {
		k := s.Keys[id]
		e.str(k.ID)
		e.str(k.Party)
		e.str(k.Public)
		e.bool(k.Pinned)
		e.int(k.Registered)
		e.int(k.Since)
		e.int(k.Effective)
		e.str(string(k.Status))
		e.uint(uint64(len(k.Endorsements)))
		for _, en := range k.Endorsements {
			e.str(en.Party)
			e.str(en.By)
			e.int(en.Event)
		}
		e.uint(uint64(len(k.Revocations)))
		for _, p := range k.Revocations {
			e.str(p)
		}
	}
	e.int(s.Tabled)
	e.int(s.Adopted)
	e.int(s.Withdrawn)
	e.bool(s.KeepClosed)
	e.uint(uint64(len(s.Proposals)))
	for _, id := range slices.Sorted(maps.Keys(s.Proposals)) {
		p := s.Proposals[id]
		e.str(p.Proposal)
		e.str(p.Clause)
		e.str(p.Party)
		e.str(string(p.Action))
		e.str(p.Text)
		e.bool(p.Heading != nil)
		if p.Heading != nil {
			e.str(*p.Heading)
		}
		e.str(p.After)
		e.bool(p.First)
		e.int(p.BaseRevision)
		e.str(p.Note)
		e.str(p.Rebases)
		e.str(p.BaseText)
		e.int(p.Tabled)
		e.int(p.Round)
		e.str(string(p.Status))
		e.int(p.Closed)
		e.bool(p.Placed)
		if !positionsSorted(p.Positions) {
			return nil, fmt.Errorf("proposal %s: positions not sorted by party, as domain.Positions keeps them: a checkpoint of them would not load", p.Proposal)
		}
		e.uint(uint64(len(p.Positions)))
		for _, pos := range p.Positions {
			e.str(pos.Party)
			e.str(string(pos.Stance))
			e.str(pos.Reason)
			e.int(pos.Event)
			e.strs(pos.SubjectTo)
			e.bool(pos.AdReferendum)
		}
		e.int(p.Version)
		e.int(p.Revised)
		e.uint(uint64(len(p.Versions)))
		for _, v := range p.Versions {
			e.int(v.Version)
			e.str(v.Text)
			e.optStr(v.Heading)
			e.str(v.Note)
			e.int(v.Event)
		}
		e.uint(uint64(len(p.Comments)))
		for _, c := range p.Comments {
			e.str(c.Party)
			e.str(c.Text)
			e.int(c.Event)
		}
	}
	e.bool(s.Concluded != nil)
	if c := s.Concluded; c != nil {
		e.int(c.Event)
		e.str(c.Head)
	}
	e.strs(s.Reopening)
	e.uint(uint64(len(s.Initials)))
	for _, i := range s.Initials {
		e.str(i.Party)
		e.int(i.Event)
	}
	e.uint(uint64(len(s.Reservations)))
	for _, r := range s.Reservations {
		e.str(r.Party)
		e.str(r.Clause)
		e.str(r.Text)
		e.int(r.Event)
	}
	e.uint(uint64(len(s.Declarations)))
	for _, r := range s.Declarations {
		e.str(r.Party)
		e.str(r.Text)
		e.int(r.Event)
	}
	e.uint(uint64(baseLen))
	e.uint(uint64(len(carried)))
	slices.SortFunc(carried, func(a, b domain.ClosedProposal) int { return strings.Compare(a.ID, b.ID) })
	for _, p := range carried {
		e.str(p.ID)
		e.str(p.Clause)
		e.str(p.Party)
		e.str(string(p.Action))
		e.str(string(p.Status))
		e.int(p.Tabled)
		e.int(p.Round)
		e.int(p.Closed)
	}
	shards, words := f.shape()
	e.uint(uint64(shards))
	e.uint(uint64(words))
	return e.b, nil
}

// summary writes what starts a present part, and the whole of a summary
// (see decodeSummary): the format, the negotiation's name, title and
// parties, its events and its rounds.
func (e *encoder) summary(s *domain.State) {
	e.uint(formatVersion)
	e.str(s.Treaty)
	e.str(s.Title)
	e.uint(uint64(len(s.Parties)))
	for _, p := range s.Parties {
		e.str(p.Code)
		e.str(p.Name)
		e.str(string(p.Role))
	}
	e.int(s.Events)
	e.uint(uint64(len(s.Rounds)))
	for _, r := range s.Rounds {
		e.int(r.Number)
		e.str(r.Name)
		e.int(r.Opened)
		e.int(r.Closed)
	}
}

// decodeSummary reads the start of what encodePresent wrote: the
// negotiation's name, title and parties, its events and its rounds.
func decodeSummary(b []byte) (*domain.State, error) {
	d := &decoder{b: b}
	s, err := d.summary()
	if err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, fmt.Errorf("checkpoint does not decode: %w", d.err)
	}
	return s, nil
}

// summary reads what encoder.summary wrote into a new state.
func (d *decoder) summary() (*domain.State, error) {
	if v := d.uint(); v != formatVersion {
		if d.err != nil {
			return nil, fmt.Errorf("checkpoint does not decode: %w", d.err)
		}
		return nil, fmt.Errorf("checkpoint format %d, this code reads %d", v, formatVersion)
	}
	s := &domain.State{}
	s.Treaty, s.Title = d.str(), d.str()
	s.Parties = make([]domain.Party, d.count())
	for i := range s.Parties {
		s.Parties[i] = domain.Party{Code: d.str(), Name: d.str(), Role: domain.Role(d.str())}
	}
	s.Events = d.int()
	if n := d.count(); n > 0 {
		s.Rounds = make([]domain.Round, n)
		for i := range s.Rounds {
			s.Rounds[i] = domain.Round{Number: d.int(), Name: d.str(), Opened: d.int(), Closed: d.int()}
		}
	}
	return s, nil
}

// take returns n elements from the front of *free, of capacity n, making
// *free anew when it holds fewer: the positions of thousands of open
// proposals come from a few arrays rather than one allocation each. An
// append to what it returns copies it elsewhere: it never reaches the
// elements take returns next.
func take[T any](free *[]T, n int) []T {
	if n > len(*free) {
		*free = make([]T, max(n, takeChunk))
	}
	v := (*free)[:n:n]
	*free = (*free)[n:]
	return v
}

// takeChunk is how many elements take makes at a time.
const takeChunk = 512

// decodePresent reads what encodePresent wrote. The state's Closed is left
// for the caller to fill in. Its strings share b's memory: b must never
// change once decoded.
func decodePresent(b []byte) (present, error) {
	d := &decoder{b: b}
	s, err := d.summary()
	if err != nil {
		return present{}, err
	}
	if n := d.count(); n > 0 {
		s.Order = make([]string, n)
		for i := range s.Order {
			s.Order[i] = d.str()
		}
	}
	n := d.countOf(minEncoded)
	s.Clauses = make(map[string]*domain.Clause, n)
	// One allocation for all the clauses, and one for all the proposals
	// below, rather than one each: a command reading a checkpoint decodes
	// hundreds of each.
	clauses := make([]domain.Clause, n)
	for i := range n {
		c := &clauses[i]
		*c = domain.Clause{ID: d.str(), Heading: d.str(), Text: d.str(), Revision: d.int(), Deleted: d.bool(),
			AdRef: d.strs(), AdRefProposal: d.str(), AdRefRevision: d.int()}
		if d.bool() {
			c.Restore = &domain.Restored{Text: d.str(), Heading: d.str(), Deleted: d.bool()}
		}
		if m := d.count(); m > 0 {
			c.Adoptions = make(map[string]int, m)
			for range m {
				party := d.str()
				c.Adoptions[party] = d.int()
			}
		}
		if m := d.count(); m > 0 {
			c.Recent = make([]domain.Adoption, m)
			for i := range c.Recent {
				c.Recent[i] = domain.Adoption{Proposal: d.str(), Party: d.str(), Event: d.int()}
			}
		}
		s.Clauses[c.ID] = c
	}
	if n := d.count(); n > 0 {
		s.Keys = make(map[string]*domain.Key, n)
		for range n {
			k := &domain.Key{ID: d.str(), Party: d.str(), Public: d.str(), Pinned: d.bool(),
				Registered: d.int(), Since: d.int(), Effective: d.int(), Status: domain.KeyStatus(d.str())}
			if m := d.count(); m > 0 {
				k.Endorsements = make([]domain.Endorsement, m)
				for i := range k.Endorsements {
					k.Endorsements[i] = domain.Endorsement{Party: d.str(), By: d.str(), Event: d.int()}
				}
			}
			if m := d.count(); m > 0 {
				k.Revocations = make([]string, m)
				for i := range k.Revocations {
					k.Revocations[i] = d.str()
				}
			}
			s.Keys[k.ID] = k
		}
	}
	s.Tabled, s.Adopted, s.Withdrawn = d.int(), d.int(), d.int()
	s.KeepClosed = d.bool()
	n = d.countOf(minEncoded)
	s.Proposals = make(map[string]*domain.Proposal, n)
	proposals := make([]domain.Proposal, n)
	var positions []domain.PartyPosition
	for i := range n {
		p := &proposals[i]
		p.Proposal, p.Clause, p.Party, p.Action, p.Text = d.str(), d.str(), d.str(), domain.Action(d.str()), d.str()
		if d.bool() {
			h := d.str()
			p.Heading = &h
		}
		p.After, p.First, p.BaseRevision, p.Note, p.Rebases, p.BaseText = d.str(), d.bool(), d.int(), d.str(), d.str(), d.str()
		p.Tabled, p.Round, p.Status, p.Closed, p.Placed = d.int(), d.int(), domain.Status(d.str()), d.int(), d.bool()
		m := d.count()
		if m > 0 {
			p.Positions = take(&positions, m)
		}
		for i := range m {
			p.Positions[i] = domain.PartyPosition{Party: d.str(), Position: domain.Position{Stance: domain.Stance(d.str()), Reason: d.str(),
				Event: d.int(), SubjectTo: d.strs(), AdReferendum: d.bool()}}
		}
		if !positionsSorted(p.Positions) {
			d.fail()
		}
		p.Version, p.Revised = d.int(), d.int()
		if m := d.count(); m > 0 {
			p.Versions = make([]domain.Version, m)
			for i := range p.Versions {
				p.Versions[i] = domain.Version{Version: d.int(), Text: d.str(), Heading: d.optStr(), Note: d.str(), Event: d.int()}
			}
		}
		if m := d.count(); m > 0 {
			p.Comments = make([]domain.Comment, m)
			for i := range p.Comments {
				p.Comments[i] = domain.Comment{Party: d.str(), Text: d.str(), Event: d.int()}
			}
		}
		s.Proposals[p.Proposal] = p
	}
	if d.bool() {
		s.Concluded = &domain.Conclusion{Event: d.int(), Head: d.str()}
	}
	s.Reopening = d.strs()
	if m := d.count(); m > 0 {
		s.Initials = make([]domain.Initial, m)
		for i := range s.Initials {
			s.Initials[i] = domain.Initial{Party: d.str(), Event: d.int()}
		}
	}
	if m := d.count(); m > 0 {
		s.Reservations = make([]domain.Reservation, m)
		for i := range s.Reservations {
			s.Reservations[i] = domain.Reservation{Party: d.str(), Clause: d.str(), Text: d.str(), Event: d.int()}
		}
	}
	if m := d.count(); m > 0 {
		s.Declarations = make([]domain.Declaration, m)
		for i := range s.Declarations {
			s.Declarations[i] = domain.Declaration{Party: d.str(), Text: d.str(), Event: d.int()}
		}
	}
	pr := present{state: s}
	baseLen := d.uint()
	if n := d.count(); n > 0 {
		pr.carried = make([]domain.ClosedProposal, n)
		for i := range pr.carried {
			pr.carried[i] = domain.ClosedProposal{ID: d.str(), Clause: d.str(), Party: d.str(), Action: domain.Action(d.str()),
				Status: domain.Status(d.str()), Tabled: d.int(), Round: d.int(), Closed: d.int()}
		}
	}
	shards, words := d.uint(), d.uint()
	if d.err != nil || baseLen > 1<<32 || shards > 1<<20 || words > 1<<20 || len(d.b) != 0 {
		return present{}, fmt.Errorf("checkpoint does not decode: %w", errors.Join(d.err, errors.New("malformed")))
	}
	pr.baseLen, pr.shards, pr.words = int(baseLen), int(shards), int(words)
	return pr, nil
}
