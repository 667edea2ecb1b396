package projections

import (
	"testing"

	"github.com/treaty-engine/treaty/domain"
)

// TestRoundPlace checks the one name every view gives where an event stands
// among the rounds, the events that open and close a round included in it.
func TestRoundPlace(t *testing.T) {
	rounds := []domain.Round{{Number: 1, Opened: 3, Closed: 7}, {Number: 2, Opened: 8, Closed: 9}, {Number: 3, Opened: 12}}
	for _, c := range []struct {
		rounds []domain.Round
		event  int
		want   string
	}{
		{nil, 5, ""},
		{rounds, 1, "before round 1"},
		{rounds, 2, "before round 1"},
		{rounds, 3, "round 1"},
		{rounds, 7, "round 1"},
		{rounds, 8, "round 2"},
		{rounds, 9, "round 2"},
		{rounds, 10, "between rounds 2 and 3"},
		{rounds, 11, "between rounds 2 and 3"},
		{rounds, 12, "round 3"},
		{rounds, 99, "round 3"},
		{rounds[:2], 10, "between rounds 2 and 3"},
	} {
		if got := RoundPlace(c.rounds, c.event); got != c.want {
			t.Errorf("RoundPlace(%d rounds, %d) = %q, want %q", len(c.rounds), c.event, got, c.want)
		}
	}
	for place, want := range map[string]string{"round 2": "2", "": "-", "between rounds 2 and 3": "between rounds 2 and 3"} {
		if got := placeColumn(place); got != want {
			t.Errorf("placeColumn(%q) = %q, want %q", place, got, want)
		}
	}
	for place, want := range map[string]string{"round 2": "in round 2", "": "", "before round 1": "before round 1"} {
		if got := placePhrase(place); got != want {
			t.Errorf("placePhrase(%q) = %q, want %q", place, got, want)
		}
	}
}
