package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// The test binary plays child processes too: TestMain runs the role named in
// childRole instead of the tests, reading its arguments from the environment.
const (
	childRole   = "TREATY_SQLITE_TEST_ROLE"
	childPath   = "TREATY_SQLITE_TEST_PATH"
	childStream = "TREATY_SQLITE_TEST_STREAM"
	childEvents = "TREATY_SQLITE_TEST_EVENTS"
	childName   = "TREATY_SQLITE_TEST_NAME"
	childExpect = "TREATY_SQLITE_TEST_EXPECT"
)

// childTimeout bounds a child's wait for the write lock. SQLite's busy
// handler is not fair: on a loaded machine (or under -race) a process can
// lose the lock to its siblings for longer than the 10s default, which
// would fail the test without any fault of the store.
const childTimeout = time.Minute

func TestMain(m *testing.M) {
	if role := os.Getenv(childRole); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// Subscriptions find other processes' appends sooner, so that the
	// tests that wait for them are quick.
	pollInterval = 20 * time.Millisecond
	os.Exit(m.Run())
}

func runChild(role string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path, stream := os.Getenv(childPath), os.Getenv(childStream)
	switch role {
	case "append":
		n, err := strconv.Atoi(os.Getenv(childEvents))
		if err != nil {
			return err
		}
		return childAppend(ctx, path, stream, os.Getenv(childName), n)
	case "create":
		s, err := Open(ctx, path, eventstore.Config{Create: true, Timeout: childTimeout})
		if err != nil {
			return err
		}
		defer s.Close()
		e := eventstore.EventData{ID: uuid.New(), Type: "Created", Data: []byte(`{}`), Metadata: []byte(`{}`)}
		rev, err := s.Append(ctx, stream, eventstore.Any(), e)
		if err != nil {
			return err
		}
		fmt.Printf("%s %d\n", e.ID, rev)
		return nil
	case "unwritable":
		return childUnwritable(ctx, path, stream)
	case "pagecache":
		return childPageCache(ctx, path, os.Getenv(childExpect) == "true")
	}
	return fmt.Errorf("unknown child role %q", role)
}

// childUnwritable opens a store whose file it may not write, as a user would
// (neither read-only nor create), and checks that reads work and appends fail
// with ErrReadOnly.
func childUnwritable(ctx context.Context, path, stream string) error {
	s, err := Open(ctx, path, eventstore.Config{})
	if err != nil && os.Getenv(childExpect) == "no-shm" {
		// SQLite cannot read a WAL database whose directory refuses the
		// -shm file it needs; the error must say so.
		dir := filepath.Dir(path)
		if !errors.Is(err, eventstore.ErrReadOnly) || !strings.Contains(err.Error(), "directory "+dir+" is not writable") {
			return fmt.Errorf("open error %q does not explain that %s must be writable", err, dir)
		}
		fmt.Printf("open refused: %v\n", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer s.Close()
	infos, err := s.Streams(ctx, "")
	if err != nil || len(infos) != 1 || infos[0].Name != stream {
		return fmt.Errorf("Streams = %v, %v; want %s", infos, err, stream)
	}
	var n uint64
	for e, err := range s.Read(ctx, stream, 0) {
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if e.Revision != n {
			return fmt.Errorf("read revision %d at %d", e.Revision, n)
		}
		n++
	}
	if n != infos[0].Events || n == 0 {
		return fmt.Errorf("read %d events, Streams says %d", n, infos[0].Events)
	}
	e := eventstore.EventData{ID: uuid.New(), Type: "Late", Data: []byte(`{}`), Metadata: []byte(`{}`)}
	_, err = s.Append(ctx, stream, eventstore.Any(), e)
	if !errors.Is(err, eventstore.ErrReadOnly) {
		return fmt.Errorf("append to an unwritable file: error = %v, want ErrReadOnly", err)
	}
	if !strings.Contains(err.Error(), path) {
		return fmt.Errorf("append error %q does not name %s", err, path)
	}
	fmt.Printf("read %d events; append refused: %v\n", n, err)
	return nil
}

// childAppend lands n events on stream, one or two per append, each time with
// the revision it just read, retrying on conflicts; it prints "ID revision"
// for every event that landed.
func childAppend(ctx context.Context, path, stream, name string, n int) error {
	s, err := Open(ctx, path, eventstore.Config{Timeout: childTimeout})
	if err != nil {
		return err
	}
	defer s.Close()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	conflicts := 0
	defer func() { fmt.Fprintf(out, "# conflicts %d\n", conflicts) }()
	for landed := 0; landed < n; {
		infos, err := s.Streams(ctx, stream)
		if err != nil {
			return err
		}
		var head uint64
		for _, info := range infos {
			if info.Name == stream {
				head = info.Events
			}
		}
		exp := eventstore.NoStream()
		if head > 0 {
			exp = eventstore.Exact(head - 1)
		}
		batch := []eventstore.EventData{{ID: uuid.New(), Type: "Raced", Data: fmt.Appendf(nil, `{"by":%q}`, name), Metadata: []byte(`{}`)}}
		if landed%3 == 2 && landed+1 < n {
			batch = append(batch, eventstore.EventData{ID: uuid.New(), Type: "Raced", Data: fmt.Appendf(nil, `{"by":%q}`, name), Metadata: []byte(`{}`)})
		}
		last, err := s.Append(ctx, stream, exp, batch...)
		if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
			conflicts++
			continue
		}
		if err != nil {
			return err
		}
		first := last + 1 - uint64(len(batch))
		if first != head {
			return fmt.Errorf("appended at %d after reading head %d", first, head)
		}
		for i, e := range batch {
			fmt.Fprintf(out, "%s %d\n", e.ID, first+uint64(i))
		}
		landed += len(batch)
	}
	return nil
}

// child starts this test binary in role, with env added, and returns its
// standard output.
func child(ctx context.Context, t *testing.T, role string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{childRole + "=" + role}, env...)...)
	return cmd
}

// landed parses the "ID revision" lines a child printed, skipping the
// comments ("# ...") it adds.
func landed(t *testing.T, out []byte) map[uuid.UUID]uint64 {
	t.Helper()
	m := map[uuid.UUID]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		idText, revText, ok := strings.Cut(line, " ")
		id, err := uuid.Parse(idText)
		rev, err2 := strconv.ParseUint(revText, 10, 64)
		if !ok || err != nil || err2 != nil {
			t.Fatalf("child printed %q", line)
		}
		m[id] = rev
	}
	return m
}

// TestMultiProcess has 8 processes race to append to one stream of one file,
// each with the revision it read, and checks that every event that landed is
// stored once, at the revision its writer was told, with no gap.
func TestMultiProcess(t *testing.T) {
	const procs, perProc = 8, 25
	path := filepath.Join(t.TempDir(), "shared.db")
	s, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const stream = "treaty-race"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	outs := make([][]byte, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := child(ctx, t, "append", childPath+"="+path, childStream+"="+stream,
				childEvents+"="+strconv.Itoa(perProc), childName+"=p"+strconv.Itoa(p))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			outs[p], errs[p] = cmd.Output()
			if errs[p] != nil {
				errs[p] = fmt.Errorf("process %d: %v: %s", p, errs[p], stderr.String())
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	want := map[uuid.UUID]uint64{}
	conflicts := 0
	for p, out := range outs {
		if i := strings.Index(string(out), "# conflicts "); i >= 0 {
			n, _ := strconv.Atoi(strings.TrimSpace(string(out[i+len("# conflicts "):])))
			conflicts += n
		}
		got := landed(t, out)
		if len(got) != perProc {
			t.Fatalf("process %d reports %d events landed, want %d", p, len(got), perProc)
		}
		for id, rev := range got {
			want[id] = rev
		}
	}
	var n uint64
	for e, err := range s.Read(ctx, stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Revision != n {
			t.Fatalf("event %d has revision %d", n, e.Revision)
		}
		rev, ok := want[e.ID]
		if !ok || rev != n {
			t.Fatalf("revision %d holds %s, which its writer reported at %d (reported: %v)", n, e.ID, rev, ok)
		}
		delete(want, e.ID)
		n++
	}
	if n != procs*perProc || len(want) != 0 {
		t.Fatalf("stream holds %d events, want %d; %d reported events missing", n, procs*perProc, len(want))
	}
	t.Logf("%d events landed from %d processes after %d conflicts", n, procs, conflicts)
}

// TestMultiProcessCreate has several processes create the same new store at
// once: one creates the schema, none fails, every append lands.
func TestMultiProcessCreate(t *testing.T) {
	const procs = 6
	path := filepath.Join(t.TempDir(), "new.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := child(ctx, t, "create", childPath+"="+path, childStream+"=treaty-created")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			outs[p], errs[p] = cmd.Output()
			if errs[p] != nil {
				errs[p] = fmt.Errorf("process %d: %v: %s", p, errs[p], stderr.String())
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[uuid.UUID]uint64{}
	for _, out := range outs {
		for id, rev := range landed(t, out) {
			want[id] = rev
		}
	}
	var n uint64
	for e, err := range s.Read(ctx, "treaty-created", 0) {
		if err != nil {
			t.Fatal(err)
		}
		if rev, ok := want[e.ID]; !ok || rev != e.Revision || e.Revision != n {
			t.Fatalf("revision %d holds %s, reported at %d (%v)", e.Revision, e.ID, rev, ok)
		}
		n++
	}
	if n != procs {
		t.Fatalf("stream holds %d events, want %d", n, procs)
	}
}
