package esdb

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// closeRole is the child role of TestCloseLeavesNoGoroutines.
const closeRole = "close"

// TestCloseLeavesNoGoroutines: once a store is closed, no goroutine it or
// its client started remains: after calls of every kind (an append, a read
// cut short, a listing, a live subscription), after calls Close cut short,
// and after an Open that failed against a silent server, once the client's
// discovery gives up (it runs on a goroutine of the client, without a
// context: nothing outside the client can stop it sooner). The goroutines
// are counted in a child process, where no other test leaves any.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	code, out := child(t, closeRole)
	if code != 0 {
		t.Fatalf("child %s exited with %d, output:\n%s", closeRole, code, out)
	}
	t.Log(strings.TrimSpace(out))
}

// runCloseChild is the child role of TestCloseLeavesNoGoroutines.
func runCloseChild(string) error {
	healthy, err := esdbtest.Listen()
	if err != nil {
		return err
	}
	defer healthy.Close()
	silent, err := esdbtest.Listen(esdbtest.WithFault(esdbtest.Silent))
	if err != nil {
		return err
	}
	defer silent.Close()
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()
	ctx := context.Background()

	// Calls of every kind, then Close.
	s, err := Open(ctx, healthy.URI(), eventstore.Config{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	if _, err := s.Append(ctx, "close", eventstore.NoStream(), storetest.Events("E", 3)...); err != nil {
		return err
	}
	for _, err := range s.Read(ctx, "close", 0) {
		if err != nil {
			return err
		}
		break
	}
	if _, err := s.Streams(ctx, ""); err != nil {
		return err
	}
	subscribed, ended := make(chan struct{}), make(chan error, 1)
	go func() {
		var once sync.Once
		var last error
		for _, err := range s.Subscribe(ctx, "close", 0) {
			once.Do(func() { close(subscribed) })
			last = err
		}
		ended <- last
	}()
	<-subscribed
	during := runtime.NumGoroutine()
	s.Close()
	if err := <-ended; !errors.Is(err, eventstore.ErrClosed) {
		return fmt.Errorf("the subscription ended with %v, want ErrClosed", err)
	}
	took, err := waitGoroutines(base, 2*time.Second)
	if err != nil {
		return fmt.Errorf("after calls of every kind: %w", err)
	}
	fmt.Printf("calls of every kind: %d goroutines more than before Open during a subscription, none left %s after Close\n", during-base, took.Round(time.Millisecond))

	// Calls in flight when Close comes.
	s, err = Open(ctx, healthy.URI(), eventstore.Config{Timeout: time.Minute})
	if err != nil {
		return err
	}
	healthy.SetFault(esdbtest.Hang)
	calls := make(chan error, 2)
	go func() {
		_, err := s.Append(ctx, "close", eventstore.Any(), storetest.Events("E", 1)...)
		calls <- err
	}()
	go func() {
		var last error
		for _, err := range s.Read(ctx, "close", 0) {
			last = err
		}
		calls <- last
	}()
	time.Sleep(100 * time.Millisecond)
	s.Close()
	for range 2 {
		if err := <-calls; !errors.Is(err, eventstore.ErrClosed) {
			return fmt.Errorf("a call cut short by Close: %v, want ErrClosed", err)
		}
	}
	took, err = waitGoroutines(base, 2*time.Second)
	if err != nil {
		return fmt.Errorf("after calls cut short by Close: %w", err)
	}
	fmt.Printf("calls cut short by Close: none left %s after Close\n", took.Round(time.Millisecond))

	// A failed Open: the client's discovery goes on after Close, for at
	// most maxDiscoverAttempts × (gossipTimeout + discoveryInterval).
	const attempts, gossip = 2, time.Second
	uri := fmt.Sprintf("%s&maxDiscoverAttempts=%d&gossipTimeout=%d", silent.URI(), attempts, gossip/time.Second)
	if _, err := Open(ctx, uri, eventstore.Config{Timeout: 300 * time.Millisecond}); !errors.Is(err, ErrUnreachable) {
		return fmt.Errorf("Open against a silent server: %v, want ErrUnreachable", err)
	}
	left := runtime.NumGoroutine() - base
	took, err = waitGoroutines(base, attempts*(gossip+100*time.Millisecond)+2*time.Second)
	if err != nil {
		return fmt.Errorf("after a failed Open: %w", err)
	}
	fmt.Printf("a failed Open against a silent server: %d goroutines of the client's discovery left, the last gone %s later (%d attempts of %s)\n",
		left, took.Round(time.Millisecond), attempts, gossip)
	return nil
}

// waitGoroutines waits until no more than base goroutines run, at most for
// within, and returns how long that took, or an error showing the stacks of
// those that remain.
func waitGoroutines(base int, within time.Duration) (time.Duration, error) {
	start := time.Now()
	for runtime.NumGoroutine() > base {
		if time.Since(start) > within {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			return 0, fmt.Errorf("%d goroutines remain %s later, %d before:\n%s", runtime.NumGoroutine(), within, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start), nil
}
