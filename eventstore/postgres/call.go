package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Advisory lock classes: the first key of pg_advisory_xact_lock(int, int),
// so that treaty's locks keep apart from other applications' in the same
// database ('TRTY' and 'TRTM' in ASCII).
const (
	lockStream  = 0x54525459 // second key: streamKey's
	lockMigrate = 0x5452544D // second key: 0
)

// streamHash identifies a stream of this store across the database: its
// schema and name, hashed. Advisory locks and notifications are
// database-wide, and two stores in two schemas may have streams of one
// name; a collision only costs a wait or a wake-up.
func (s *Store) streamHash(stream string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(s.schema))
	h.Write([]byte{0})
	h.Write([]byte(stream))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// streamKey is the second key of a stream's advisory lock.
func (s *Store) streamKey(stream string) int32 {
	sum := s.streamHash(stream)
	return int32(binary.BigEndian.Uint32(sum[:4]))
}

// streamTag is the payload of a stream's notifications: short, whatever
// the length of the name (a payload must stay under 8000 bytes).
func (s *Store) streamTag(stream string) string {
	sum := s.streamHash(stream)
	return hex.EncodeToString(sum[:8])
}

// bound returns ctx bounded by d and by the store's life, and its cancel.
func (s *Store) bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(ctx, d)
	stop := context.AfterFunc(s.life, cancel)
	return c, func() { stop(); cancel() }
}

// Backoff of the attempts of a call that failed with a transient error.
const (
	firstBackoff = 20 * time.Millisecond
	maxBackoff   = 500 * time.Millisecond
)

// call runs f, the operation op, within the timeout and until Close, again
// while it fails with a transient error (see transient), and explains its
// error. f must be safe to run again after any error: a read, or a write
// that a retry recognises as done (an append, by its event IDs).
func (s *Store) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", op, s.uri, err)
	}
	cctx, cancel := s.bound(ctx, s.timeout)
	defer cancel()
	err := retry(cctx, f)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil && !s.closed.Load() {
		return s.timedOut(op, err)
	}
	return s.explain(ctx, op, err)
}

// retry runs f until it succeeds, fails for good, or ctx ends; it returns
// f's last error, or when ctx cut the last attempt short, the error of the
// one before, which says more (connection refused, say).
func retry(ctx context.Context, f func(ctx context.Context) error) error {
	delay := firstBackoff
	var before error
	for {
		err := f(ctx)
		if ctx.Err() != nil && before != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			return before
		}
		if !transient(err) {
			return err
		}
		retries.Add(1)
		before = err
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, maxBackoff)
	}
}

// retries counts the attempts made again, which tests read.
var retries atomic.Int64

// errLockWait marks an append that was still waiting for another writer's
// lock on its stream when its time ran out.
var errLockWait = errors.New("waiting for another writer")

// timedOut explains a call whose timeout ended it; last is its last error.
func (s *Store) timedOut(op string, last error) error {
	if errors.Is(last, errLockWait) {
		return fmt.Errorf("%s: %s: another writer held the stream for longer than the timeout (%s): retry, or raise the timeout: %w",
			op, s.uri, s.timeout, context.DeadlineExceeded)
	}
	if errors.Is(last, context.DeadlineExceeded) || errors.Is(last, context.Canceled) {
		return fmt.Errorf("%s: %s did not answer within %s: %s: %w", op, s.uri, s.timeout, checkServer, ErrUnreachable)
	}
	if !transient(last) || pgCode(last) == codeTooManyConnections {
		return s.explain(context.Background(), op, last) // it says what to do
	}
	return fmt.Errorf("%s: could not reach %s within %s (%v): %s: %w", op, s.uri, s.timeout, s.scrub(last), checkServer, ErrUnreachable)
}
