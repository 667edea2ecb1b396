//go:build unix

package sqlite

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// TestUnwritableFile opens a store whose file the user may not write: reads
// work and appends fail with ErrReadOnly. When the directory is not writable
// either, SQLite cannot create the -shm file it wants for a WAL database, and
// the store is read as it stands (immutable), appends refused all the same.
// File permissions do not bind root, so as root the check runs in a child
// process with the uid of nobody.
func TestUnwritableFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dirMode os.FileMode
		expect  string // what childUnwritable checks
		report  string // what it prints then
	}{
		{"directory writable", 0o777, "reads", "read 3 events; append refused"},
		{"directory read-only", 0o755, "reads", "read 3 events; append refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := sharedTempDir(t)
			path := filepath.Join(dir, "treaty.db")
			s, err := Open(context.Background(), path, eventstore.Config{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			mustAppendN(t, s, "treaty-ro", 3)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o444); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.dirMode); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			if os.Geteuid() != 0 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				t.Setenv(childExpect, tc.expect)
				if err := childUnwritable(ctx, path, "treaty-ro"); err != nil {
					t.Fatal(err)
				}
			} else {
				out := runAsNobody(t, path, "treaty-ro", childExpect+"="+tc.expect)
				t.Logf("child as nobody: %s", out)
				if !strings.Contains(out, tc.report) {
					t.Fatalf("child reported %q, want %q", out, tc.report)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(before) != string(after) {
				t.Fatal("the unwritable file changed")
			}
		})
	}
}

// sharedTempDir returns a new directory that other users may enter, removed
// when t ends. t.TempDir's parent is private to its owner.
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "treaty-sqlite-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(dir, 0o755)
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runAsNobody runs the "unwritable" child role as user nobody, from a copy
// of the test binary nobody can execute, and returns its output.
func runAsNobody(t *testing.T, path, stream string, env ...string) string {
	t.Helper()
	bin := filepath.Join(sharedTempDir(t), "sqlite.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := child(ctx, t, "unwritable", append([]string{childPath + "=" + path, childStream + "=" + stream, "HOME=/", "TMPDIR=/tmp"}, env...)...)
	cmd.Path = bin
	cmd.Args[0] = bin
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as nobody: %v: %s", err, out)
	}
	return string(out)
}
