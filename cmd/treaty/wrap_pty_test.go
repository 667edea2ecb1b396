//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal cols columns wide: its controlling side
// and the terminal a program writes to.
func openPTY(t *testing.T, cols uint16) (control, tty *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(control.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return control, tty
}

// On a terminal, the draft is wrapped to its width at word boundaries;
// piped, the same draft keeps its lines whole (issue 15, item 8). The
// scripts cover the layout of wrapped text; this is the terminal itself.
func TestDraftWrapsOnATerminal(t *testing.T) {
	bin := treatyBin(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "wrap.db")
	env := append(os.Environ(), "TREATY_KEYS="+filepath.Join(dir, "keys"), "NO_COLOR=1", "TREATY_TEST_WIDTH=")
	demo := exec.Command(bin, "--store", store, "demo")
	demo.Env = env
	if out, err := demo.CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}

	const cols = 70
	control, tty := openPTY(t, cols)
	defer control.Close()
	draft := exec.Command(bin, "--store", store, "draft")
	draft.Env, draft.Stdout = env, tty
	var stderr bytes.Buffer
	draft.Stderr = &stderr
	if err := draft.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the program holds it now; its end ends the reading
	var out bytes.Buffer
	if _, err := io.Copy(&out, control); err != nil && !errors.Is(err, unix.EIO) {
		t.Fatal(err)
	}
	if err := draft.Wait(); err != nil {
		t.Fatalf("draft on a terminal: %v\n%s", err, stderr.String())
	}
	wrapped := strings.ReplaceAll(out.String(), "\r\n", "\n") // the terminal's line discipline
	heading := regexp.MustCompile(`^\d+\. `)                  // a heading stays one line
	for _, l := range strings.Split(wrapped, "\n") {
		if n := utf8.RuneCountInString(l); n > cols && !heading.MatchString(l) {
			t.Errorf("on a terminal %d columns wide, a line of %d: %q", cols, n, l)
		}
	}
	if !strings.Contains(wrapped, "\n |       ") {
		t.Errorf("no bracket went on under its opening:\n%s", wrapped)
	}

	piped := exec.Command(bin, "--store", store, "draft")
	piped.Env = env
	whole, err := piped.Output()
	if err != nil {
		t.Fatal(err)
	}
	longest := 0
	for _, l := range strings.Split(string(whole), "\n") {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	if longest <= cols {
		t.Errorf("piped, the draft's longest line is %d columns: it was wrapped", longest)
	}
	// Wrapping cuts no word and loses none: the words are the same, but
	// for the margins that start the lines it adds.
	if a, b := words(wrapped), words(string(whole)); a != b {
		t.Errorf("the words differ, wrapped and piped:\n%s\n%s", a, b)
	}
}

// words is the text's words, one space between, without the margins of
// bracket and reservation lines.
func words(s string) string {
	var ws []string
	for _, w := range strings.Fields(s) {
		if w != "|" && w != "*" {
			ws = append(ws, w)
		}
	}
	return strings.Join(ws, " ")
}
