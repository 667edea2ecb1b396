package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/internal/testtool"
	"github.com/treaty-engine/treaty/projections"
	"github.com/treaty-engine/treaty/projections/wordml"
	"github.com/treaty-engine/treaty/projections/wordml/wordmltest"
)

// session runs treaty in this process against one store, as a user would
// from a shell.
type session struct {
	t     *testing.T
	dir   string
	store string
}

func newSession(t *testing.T) *session {
	dir := t.TempDir()
	return &session{t: t, dir: dir, store: filepath.Join(dir, "treaty.db")}
}

// run runs a command line and returns its stdout, stderr and exit status.
func (s *session) run(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	args = append([]string{"--store", s.store, "--keys", filepath.Join(s.dir, "keys")}, args...)
	code := run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs a command line that must succeed, and returns its stdout.
func (s *session) ok(args ...string) string {
	s.t.Helper()
	out, errs, code := s.run(args...)
	if code != 0 {
		s.t.Fatalf("treaty %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// refused runs a command line that must exit with status code, and
// returns its stderr.
func (s *session) refused(code int, args ...string) string {
	s.t.Helper()
	out, errs, got := s.run(args...)
	if got != code {
		s.t.Fatalf("treaty %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out, errs)
	}
	return errs
}

func (s *session) path(name string) string { return filepath.Join(s.dir, name) }

func (s *session) read(name string) []byte {
	s.t.Helper()
	b, err := os.ReadFile(s.path(name))
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *session) write(name string, data []byte) string {
	s.t.Helper()
	if err := os.WriteFile(s.path(name), data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	return s.path(name)
}

// edit opens a file treaty wrote for editing as a delegation would.
func (s *session) edit(name string) *wordmltest.Doc {
	s.t.Helper()
	d, err := wordmltest.Open(s.read(name))
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func importPlan(t *testing.T, out string) projections.DocxImport {
	t.Helper()
	var plan projections.DocxImport
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return plan
}

// delegationEdits edits the sample negotiation's draft as Ukraine's
// delegation would: tracked and untracked, a new clause, deleted clauses,
// Cyrillic text.
func delegationEdits(t *testing.T, d *wordmltest.Doc) {
	must(t, d.Untracked("meeting in Berlin", "meeting in Berlin and Kyiv"))
	must(t, d.DeleteClause("3. Binding force", true))
	must(t, d.Replace("while the assurances", "so long as the assurances"))
	must(t, d.AddClause("Ukraine shall not pursue", "Моніторинг води", "Сторони створюють спільну комісію з моніторингу води.", true))
	must(t, d.DeleteClause("6. Reconstruction fund", false))
	must(t, d.Replace("«Берлінська рамкова угода", "«Берлінська угода"))
}

// TestDocxRoundTrip exports the sample negotiation's draft to Word, edits
// it as a delegation would, reads it back, tables what it proposes, and
// exports again.
func TestDocxRoundTrip(t *testing.T) {
	s := newSession(t)
	s.ok("demo")
	s.ok("draft", "--format", "docx", "--output", s.path("draft.docx"))
	again := s.ok("draft", "--format", "docx")
	if !bytes.Equal([]byte(again), s.read("draft.docx")) {
		t.Error("two exports of the same moment differ")
	}
	// Nothing edited, nothing to table.
	plan := importPlan(t, s.ok("--as", "UA", "import-docx", s.path("draft.docx"), "--format", "json"))
	if len(plan.Proposals) != 0 || plan.Treaty != "berlin-framework" || plan.Event != 56 {
		t.Fatalf("an unedited file: %+v", plan)
	}

	d := s.edit("draft.docx")
	delegationEdits(t, d)
	s.write("edited.docx", d.Bytes())
	events := s.ok("log", "--format", "json")
	plan = importPlan(t, s.ok("--as", "UA", "import-docx", s.path("edited.docx"), "--format", "json"))
	if s.ok("log", "--format", "json") != events {
		t.Fatal("a dry run appended")
	}
	type want struct {
		clause, action, text, heading, after string
		untracked                            bool
		tracked                              bool
	}
	wants := []want{
		{clause: "preamble", action: "amend", text: "meeting in Berlin and Kyiv at the invitation", untracked: true},
		{clause: "binding-force", action: "delete", tracked: true},
		{clause: "alliance-membership", action: "amend", text: "so long as the assurances in this Framework", tracked: true},
		{clause: "monitorynh-vody", action: "insert", text: "Сторони створюють спільну комісію з моніторингу води.", heading: "Моніторинг води", after: "alliance-membership", tracked: true},
		{clause: "final-provisions", action: "amend", text: "«Берлінська угода про гарантії безпеки та відбудову»", tracked: true},
		{clause: "reconstruction-fund", action: "delete", untracked: true},
	}
	if len(plan.Proposals) != len(wants) {
		t.Fatalf("%d proposals, want %d: %+v", len(plan.Proposals), len(wants), plan.Proposals)
	}
	for i, w := range wants {
		p := plan.Proposals[i]
		switch {
		case p.Clause != w.clause || string(p.Action) != w.action || !strings.Contains(p.Text, w.text) || p.After != w.after:
			t.Errorf("proposal %d: %+v, want %+v", i+1, p, w)
		case w.heading != "" && (p.Heading == nil || *p.Heading != w.heading):
			t.Errorf("proposal %d: heading %v, want %q", i+1, p.Heading, w.heading)
		case p.Untracked != w.untracked:
			t.Errorf("proposal %d (%s): untracked %v", i+1, p.Clause, p.Untracked)
		case w.tracked && (len(p.TrackedBy) != 1 || p.TrackedBy[0] != "Olena Kovalenko"):
			t.Errorf("proposal %d (%s): tracked by %v", i+1, p.Clause, p.TrackedBy)
		}
	}
	text := s.ok("--as", "UA", "import-docx", s.path("edited.docx"))
	for _, line := range []string{"Would table 6 proposals as UA (a dry run", "3. amend alliance-membership (tracked changes by Olena Kovalenko)",
		"[-while-]{+so long as+} the assurances", "1. amend preamble (changes made with tracking off)"} {
		if !strings.Contains(text, line) {
			t.Errorf("the dry run does not say %q:\n%s", line, text)
		}
	}

	// Tabled, in one append: the six proposals as UA, each noting the file.
	out := s.ok("--as", "UA", "import-docx", s.path("edited.docx"), "--table")
	ids := strings.Fields(out)
	if len(ids) != 6 {
		t.Fatalf("--table printed %q", out)
	}
	var log []struct {
		Type  string `json:"type"`
		Party string `json:"party"`
		Data  struct {
			Proposal, Clause, Action, Note, Text string
		} `json:"data"`
	}
	dec := json.NewDecoder(strings.NewReader(s.ok("log", "--since", "@56", "--format", "json")))
	for dec.More() {
		var e struct {
			Type  string `json:"type"`
			Party string `json:"party"`
			Data  struct {
				Proposal, Clause, Action, Note, Text string
			} `json:"data"`
		}
		must(t, dec.Decode(&e))
		log = append(log, e)
	}
	tabled := 0
	for _, e := range log {
		if e.Type == "ProposalTabled" {
			if e.Party != "UA" || e.Data.Note != "from edited.docx (the draft at event 56)" || e.Data.Proposal != ids[tabled] {
				t.Errorf("tabled: %+v", e)
			}
			tabled++
		}
	}
	if tabled != 6 {
		t.Errorf("%d proposals tabled, want 6", tabled)
	}

	// Exported again: the draft now shows UA's proposals as its tracked
	// insertions, and reads back as it is.
	s.ok("draft", "--format", "docx", "--output", s.path("after.docx"))
	plan = importPlan(t, s.ok("--as", "UA", "import-docx", s.path("after.docx"), "--format", "json"))
	if len(plan.Proposals) != 0 {
		t.Errorf("the new export reads back with proposals: %+v", plan.Proposals)
	}
	seen := map[string]bool{}
	for _, c := range testtool.PandocTracked(t, s.path("after.docx")) {
		if c.Author == "Ukraine (UA)" {
			seen[c.Kind] = true
			if strings.Contains(c.Text, "Сторони створюють спільну комісію") {
				seen["cyrillic"] = true
			}
		}
		if c.Kind == "deletion" && c.Author == "Ukraine (UA)" && strings.Contains(c.Text, "legally binding") {
			seen["binding-force"] = true
		}
	}
	for _, k := range []string{"insertion", "deletion", "cyrillic", "binding-force"} {
		if !seen[k] {
			t.Errorf("pandoc does not see UA's %s in the new export", k)
		}
	}
}

// TestDocxLibreOffice has LibreOffice lay out the draft and the compare
// document (a PDF whose text pdftotext reads), and open and save the draft,
// unedited and edited, as a delegation's word processor would: what it
// saves reads back the same.
func TestDocxLibreOffice(t *testing.T) {
	s := newSession(t)
	s.ok("demo")
	s.ok("draft", "--format", "docx", "--output", s.path("draft.docx"))
	s.ok("diff", "--from", "round:1", "--to", "round:2", "--format", "docx", "--output", s.path("compare.docx"))
	pdf := testtool.PDFText(t, s.path("draft.docx"))
	for _, want := range []string{"Nothing is agreed until everything is agreed.", "2. Security assurances", "[EU deletes this clause]", "Берлінська рамкова угода"} {
		if !strings.Contains(pdf, want) {
			t.Errorf("the draft's PDF does not show %q:\n%s", want, pdf)
		}
	}
	if pdf := testtool.PDFText(t, s.path("compare.docx")); !strings.Contains(pdf, "Compare: Berlin Framework") {
		t.Errorf("the compare document's PDF:\n%s", pdf)
	}
	resaved := testtool.ResaveDocx(t, s.path("draft.docx"))
	plan := importPlan(t, s.ok("--as", "UA", "import-docx", resaved, "--format", "json"))
	if len(plan.Proposals) != 0 {
		t.Errorf("the draft saved by LibreOffice reads back with proposals: %+v", plan.Proposals)
	}
	d := s.edit("draft.docx")
	delegationEdits(t, d)
	s.write("edited.docx", d.Bytes())
	direct := importPlan(t, s.ok("--as", "UA", "import-docx", s.path("edited.docx"), "--format", "json"))
	viaLO := importPlan(t, s.ok("--as", "UA", "import-docx", testtool.ResaveDocx(t, s.path("edited.docx")), "--format", "json"))
	direct.File, viaLO.File = "", ""
	a, _ := json.Marshal(direct)
	b, _ := json.Marshal(viaLO)
	if !bytes.Equal(a, b) {
		t.Errorf("the edited draft reads otherwise once LibreOffice saved it:\n%s\n%s", a, b)
	}
}

// zeros reads as n zero bytes.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestImportDocxStdinTooLarge: a document on standard input larger than a
// .docx may be is refused, without reading all of it, and nothing is
// appended (no store is opened).
func TestImportDocxStdinTooLarge(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "treaty.db")
	var out, errb bytes.Buffer
	code := run([]string{"--store", store, "--as", "UA", "import-docx", "-"}, &zeros{n: wordml.DefaultLimits.File + 1<<20}, &out, &errb)
	want := fmt.Sprintf("treaty: standard input: too large: more than the %d bytes accepted\n", wordml.DefaultLimits.File)
	if code != exitRefused || errb.String() != want || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, out.String(), errb.String(), want)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("a store was made: %v", err)
	}
}
