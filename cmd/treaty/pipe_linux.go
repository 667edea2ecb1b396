//go:build linux

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is what widenPipe asks a pipe to hold: a compare document or a
// draft whole, within the megabyte Linux lets any user ask for by default.
const pipeSize = 1 << 20

// widenPipe lets the kernel hold up to pipeSize of what is written to f when
// f is a pipe, where it holds 64 KB by default: a command's output is then
// handed over in one go, and the command closes its store and exits while
// the reader drains it, instead of waiting on the reader 64 KB at a time.
// Anything but a pipe, a pipe that holds as much already, or a request the
// system refuses (a lower limit, a user over its quota of pipe memory)
// changes nothing. The descriptor is reached through SyscallConn, which,
// unlike Fd, leaves its blocking mode (shared with whoever else holds it)
// alone.
func widenPipe(f *os.File) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	conn, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = conn.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < pipeSize {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		}
	})
}
