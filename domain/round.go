package domain

import "sort"

// Round is one numbered round of talks. Opened and Closed are the event
// numbers of its RoundOpened and RoundClosed events (Closed is 0 while the
// round is open).
type Round struct {
	Number int
	Name   string
	Opened int
	Closed int
}

// Contains reports whether event number n happened during the round: from
// its opening to its close, both included (to now while it is open).
func (r Round) Contains(n int) bool {
	return n >= r.Opened && (r.Closed == 0 || n <= r.Closed)
}

// OpenRound returns the number of the open round, or 0 when none is open.
func (s *State) OpenRound() int {
	if n := len(s.Rounds); n > 0 && s.Rounds[n-1].Closed == 0 {
		return s.Rounds[n-1].Number
	}
	return 0
}

// RoundOf returns the round an event belongs to when it is appended to s: the
// round it opens, else the open round (a RoundClosed belongs to the round it
// closes), else 0.
func (s *State) RoundOf(e Event) int {
	if r, ok := e.(RoundOpened); ok {
		return r.Round
	}
	return s.OpenRound()
}

// RoundIndex returns the index in Rounds of the round event number n
// happened in, or -1 when it happened outside every round.
func (s *State) RoundIndex(n int) int {
	// Rounds follow one another: the last opened at or before n.
	i := sort.Search(len(s.Rounds), func(i int) bool { return s.Rounds[i].Opened > n }) - 1
	if i >= 0 && s.Rounds[i].Contains(n) {
		return i
	}
	return -1
}

func (s *State) checkOpenRound(e RoundOpened) error {
	if s.Concluded != nil {
		return Errorf(ECONFLICT, "the text was concluded at event %d: no round opens until every party agrees to reopen it", s.Concluded.Event).because(ReasonConcluded, "")
	}
	if n := s.OpenRound(); n != 0 {
		return Errorf(ECONFLICT, "round %d is still open; it must close before round %d opens", n, n+1).because(ReasonRoundOpen, "")
	}
	if want := len(s.Rounds) + 1; e.Round != want {
		return Errorf(ECONFLICT, "round %d opened where round %d was next", e.Round, want)
	}
	return checkLine("round name", e.Name)
}

func (s *State) openRound(e RoundOpened) error {
	if err := s.checkOpenRound(e); err != nil {
		return err
	}
	s.Rounds = append(s.Rounds, Round{Number: e.Round, Name: e.Name, Opened: s.Events + 1})
	return nil
}

func (s *State) checkCloseRound(e RoundClosed) error {
	n := s.OpenRound()
	if n == 0 {
		return Errorf(ECONFLICT, "no round is open").because(ReasonNoRound, "")
	}
	if e.Round != n {
		return Errorf(ECONFLICT, "round %d closed while round %d was open", e.Round, n)
	}
	return nil
}

func (s *State) closeRound(e RoundClosed) error {
	if err := s.checkCloseRound(e); err != nil {
		return err
	}
	s.Rounds[len(s.Rounds)-1].Closed = s.Events + 1
	return nil
}
