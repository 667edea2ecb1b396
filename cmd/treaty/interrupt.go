package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"
)

// listenAfter is how long a command runs before Ctrl-C (SIGINT) cancels its
// context rather than ending the process at once; most commands end
// sooner. Listening costs a process two threads of the runtime's signal
// handling (one to wait for signals, one to keep the threads' signal
// masks), which a command ending in tens of milliseconds pays for in its
// start and again at its exit.
const listenAfter = 100 * time.Millisecond

// interrupts turns Ctrl-C into the cancellation of a command's context from
// the first call of listen on, until close. Before listen, an interrupt ends
// the process as it ends any program that does not catch it: an append
// lands whole or not at all, and the next command folds a store's
// write-ahead log back. Commands that leave files behind when killed (one
// written under a temporary name) listen before they create them.
type interrupts struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	timer  *time.Timer
	sig    chan os.Signal // nil until listen
	closed bool
}

// listenIn makes listen run once the command has run d.
func (in *interrupts) listenIn(d time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.closed {
		in.timer = time.AfterFunc(d, in.listen)
	}
}

// listen starts turning Ctrl-C into cancel, once; it does nothing after
// close.
func (in *interrupts) listen() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.sig != nil || in.closed {
		return
	}
	in.sig = make(chan os.Signal, 1)
	signal.Notify(in.sig, os.Interrupt)
	go func(sig <-chan os.Signal, cancel context.CancelFunc) {
		if _, ok := <-sig; ok {
			cancel()
		}
	}(in.sig, in.cancel)
}

// close stops listening, and the timer of listenIn: an interrupt after it
// ends the process at once.
func (in *interrupts) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.closed = true
	if in.timer != nil {
		in.timer.Stop()
	}
	if in.sig != nil {
		// No signal is sent on sig once Stop returns.
		signal.Stop(in.sig)
		close(in.sig)
	}
}

// interruptibleStdin is standard input read until ctx ends, when a read
// still waiting (on a terminal, on a pipe whose writer stays open) returns
// ctx's error: Ctrl-C then ends a command reading it, where the read would
// wait on. Its first Read calls listen, as waiting for input may take any
// time. A regular file, which never keeps a read waiting, is read as it
// is; anything else through a pipe, from a goroutine that starts with the
// first Read (a read of it still waiting when ctx ends is left to the
// process's exit).
type interruptibleStdin struct {
	ctx    context.Context
	r      io.Reader
	listen func()
	once   sync.Once
	from   io.Reader // what Read reads, set by the first
	piped  bool      // from is the pipe, which ctx's end closes
}

func (s *interruptibleStdin) Read(p []byte) (int, error) {
	s.once.Do(func() {
		s.from = s.r
		if f, ok := s.r.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				return
			}
		}
		if s.r == nil || s.ctx.Err() != nil {
			return
		}
		s.listen()
		pr, pw := io.Pipe()
		s.from, s.piped = pr, true
		go func() {
			_, err := io.Copy(pw, s.r)
			pw.CloseWithError(err)
		}()
		// The first error a pipe is closed with stands: an input read
		// to its end is not made an interruption by the end of the run.
		context.AfterFunc(s.ctx, func() { pw.CloseWithError(s.ctx.Err()) })
	})
	if s.from == nil {
		return 0, io.EOF
	}
	if !s.piped {
		if err := s.ctx.Err(); err != nil {
			return 0, err
		}
	}
	return s.from.Read(p)
}

// stdinFile returns the file standard input r reads, if it reads one.
func stdinFile(r io.Reader) (*os.File, bool) {
	if s, ok := r.(*interruptibleStdin); ok {
		r = s.r
	}
	f, ok := r.(*os.File)
	return f, ok
}
