package write

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
)

// The write path records no author that is not one line of text, whoever
// calls it: nothing is appended for such an act.
func TestAuthorIsOneLine(t *testing.T) {
	ctx := context.Background()
	store, w := memWriter()
	b := w.NewBatch("t")
	open := act("", opening)
	open.Author = "Mallory\x1b[2J"
	if _, err := b.Do(open, time.Now(), nil); domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(err.Error(), "author holds the control character U+001B") {
		t.Fatalf("a batch act by author %q: %v", open.Author, err)
	}
	if _, err := b.Do(act("", opening), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, author := range []string{"Eve\n     9  forged", "\u202eyrollaM"} {
		a := act("UA", domain.Table{Proposal: "p1", Clause: "c", Party: "UA", Text: "Text."})
		a.Author = author
		if _, err := w.Do(ctx, a); domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(err.Error(), "author holds") {
			t.Fatalf("an act by author %q: %v", author, err)
		}
	}
	if n := len(storedTimes(t, store)); n != 1 {
		t.Fatalf("the store holds %d events; only the opening was to be appended", n)
	}
}
