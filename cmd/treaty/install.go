package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// afterChunk, when set by a test, runs after each chunk is written.
var afterChunk func()

// installChunk is how much of the binary install writes at a time, each
// write at a multiple of it: 2 MiB, a huge page where pages are 4 KiB
// (x86-64, most arm64). Written so, the file's page cache can be held in
// folios of a huge page each, which Linux maps into a process a huge page
// at a time where the mapping is aligned to them, as a Go executable's code
// and read-only data are: a process starting then takes a page fault for
// every 2 MiB of the binary it runs, not one for every 64 KiB. The go
// command's linker writes its output through a memory mapping, and go
// install renames it into place: its page cache is in small pieces.
const installChunk = 2 << 20

// installBuild is the build the README installs (and the benchmarks
// measure): static, as nothing in treaty needs cgo, which costs every
// process the dynamic loader and libc's start; its segments on 2 MiB
// boundaries (-R), so that all its read-only data can be mapped a huge
// page at a time; its heap where Go put it before 1.26 (the experiment
// norandomizedheapbase64), at the start of the first span, which
// heapstart puts on huge pages whole, rather than at a random page of it,
// where the heap often outgrew the span before anything put the next on
// huge pages.
const installBuild = "CGO_ENABLED=0 GOEXPERIMENT=norandomizedheapbase64 go build -ldflags=-R=0x200000 -o /tmp/treaty ./cmd/treaty"

// installed is what install did, for --format json.
type installed struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

func (a *app) installCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "install [--dir DIR]",
		Short: "Copy this binary into DIR so that it starts fast (by default where go install puts it)",
		Long: `Copy the running binary to DIR/treaty: by default where go install puts
binaries ($GOBIN, else the first entry of $GOPATH followed by /bin, else
~/go/bin, as the environment says; settings made with go env -w are not
read). The copy is written 2 MiB at a time, synced to disk and renamed
into place, so that a treaty running from there goes on running, and
nothing half-written is ever left under the name.

Written so, on Linux, where the file system keeps a file's page cache in
large pieces (ext4 does on Linux 6.18, where this was measured), the
kernel maps the binary's code and read-only data 2 MiB at a time while the
page cache holds them: on a virtual machine where page faults are dear,
every command starts in two thirds to five sixths of the time (a binary as
go build or go install left it is mapped 64 KiB at a time). All of the
read-only data is mapped so only where the binary was linked with
-ldflags=-R=0x200000, which starts each of its segments on a 2 MiB
boundary; otherwise its first and last 2 MiB are mapped 64 KiB at a time.
Read back from disk after the page cache let it go (a reboot), it is in
small pieces again until it is installed again. Built with
GOEXPERIMENT=norandomizedheapbase64, its heap starts where Go put it before
1.26, at the start of its first 4 MiB span, which a command puts on huge
pages whole as it starts (see the README's Speed).

It needs no store and opens none.`,
		Example: "  " + installBuild + " && /tmp/treaty install   # build, then install into ~/go/bin\n" +
			`  treaty install --dir /usr/local/bin
  treaty install --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				d, err := goBinDir()
				if err != nil {
					return err
				}
				dir = d
			}
			src, err := runningBinary()
			if err != nil {
				return err
			}
			// Ctrl-C from here on lets the temporary file be removed.
			a.listen()
			done, err := installBinary(cmd.Context(), src, dir)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(done)
			}
			_, err = fmt.Fprintf(a.stdout, "Installed %s (%d bytes, written %d MiB at a time).\n", done.Path, done.Bytes, installChunk>>20)
			return err
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "the directory to install into, made if missing (default: $GOBIN, else the first $GOPATH entry's bin, else ~/go/bin)")
	return c
}

// runningBinary names the file of the running binary: on Linux
// /proc/self/exe, which is that file even when another has since been
// installed under its name, elsewhere the path it was started from.
func runningBinary() (string, error) {
	const self = "/proc/self/exe"
	if _, err := os.Stat(self); err == nil {
		return self, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the running binary to copy: %w", err)
	}
	return exe, nil
}

// goBinDir is where go install puts binaries, as the environment says:
// $GOBIN, else the first entry of $GOPATH followed by bin, else go/bin in
// the home directory.
func goBinDir() (string, error) {
	if d := os.Getenv("GOBIN"); d != "" {
		return d, nil
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			return filepath.Join(p, "bin"), nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usagef("no GOBIN, GOPATH or home directory says where to install; give --dir")
	}
	return filepath.Join(home, "go", "bin"), nil
}

// installBinary copies the executable src to dir/treaty (see installChunk),
// making dir if it is missing: written beside its final name, synced, and
// renamed into place, the directory synced after. On any failure, or ctx
// ending, it leaves nothing behind but the directories it made.
func installBinary(ctx context.Context, src, dir string) (installed, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return installed{}, fmt.Errorf("--dir %s: %w", dir, err)
	}
	dir = abs
	path := filepath.Join(dir, "treaty")
	in, err := os.Open(src)
	if err != nil {
		return installed{}, fmt.Errorf("cannot read the running binary %s: %w", src, err)
	}
	defer in.Close()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return installed{}, fmt.Errorf("cannot install into %s: %s is a directory", dir, path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return installed{}, fmt.Errorf("cannot install into %s: %w", dir, pathErr(err))
	}
	tmp, err := os.CreateTemp(dir, ".treaty.*.tmp")
	if err != nil {
		return installed{}, fmt.Errorf("cannot install into %s: %w", dir, pathErr(err))
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	fail := func(err error) (installed, error) {
		tmp.Close()
		return installed{}, fmt.Errorf("cannot install %s: %w", path, pathErr(err))
	}
	buf := make([]byte, installChunk)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		// Whole chunks, so that every write starts at a multiple of
		// installChunk.
		k, err := io.ReadFull(in, buf)
		if k > 0 {
			if _, err := tmp.Write(buf[:k]); err != nil {
				return fail(err)
			}
			n += int64(k)
			if afterChunk != nil {
				afterChunk()
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			tmp.Close()
			return installed{}, fmt.Errorf("cannot read the running binary %s: %w", src, err)
		}
	}
	if err := tmp.Chmod(0o755); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return installed{}, fmt.Errorf("cannot install %s: %w", path, pathErr(err))
	}
	// Interrupted while the copy was synced: nothing is put in place.
	if err := ctx.Err(); err != nil {
		return installed{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return installed{}, fmt.Errorf("cannot install %s: %w", path, pathErr(err))
	}
	// The rename lands on the disk with the directory. It is made either
	// way: a system that cannot sync a directory (some file systems refuse
	// to) still has the binary in place, as a plain copy would.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return installed{Path: path, Bytes: n}, nil
}
