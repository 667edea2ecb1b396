// Package testtool finds the programs and data outside this repository that
// some tests check treaty's output with (pandoc, xmllint, LibreOffice, the
// Akoma Ntoso schema). Such a test skips when what it needs is missing on a
// developer's machine, and fails when it is missing in CI (CI=true), where
// .ci/run installs it: a check that silently stops running is no check.
// It also reads how this process's memory is mapped (Mapping), for the
// tests of what is put on huge pages.
package testtool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true, as .ci/run runs them).
func InCI() bool { return os.Getenv("CI") == "true" }

// missing skips the test, or fails it in CI, saying what is missing.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is missing, and CI must have it (%s)", what, install)
	}
	t.Skipf("%s is missing (%s); CI runs this test", what, install)
}

// Need returns the path of program name, or skips (fails in CI) when it is
// not installed; debian names the package that has it.
func Need(t testing.TB, name, debian string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		missing(t, name, "apt-get install "+debian)
	}
	return path
}

// Have reports whether program name is installed, for checks that are
// worth making where it is (LibreOffice) and not worth failing CI for.
func Have(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// AKNSchema returns the path of the Akoma Ntoso 3.0 schema: TREATY_AKN_XSD,
// else akomantoso30.xsd in ../shared/akn beside the repository's root (where
// CI has it); it skips (fails in CI) when there is none.
func AKNSchema(t testing.TB) string {
	t.Helper()
	p, err := FindAKNSchema()
	if err != nil {
		missing(t, err.Error(), "set TREATY_AKN_XSD to akomantoso30.xsd")
	}
	return p
}

// FindAKNSchema finds the Akoma Ntoso schema as AKNSchema does, or says
// why it cannot.
func FindAKNSchema() (string, error) {
	if p := os.Getenv("TREATY_AKN_XSD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("TREATY_AKN_XSD=%s: %v", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "akn", "akomantoso30.xsd")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the Akoma Ntoso schema %s is missing", p)
	}
	return p, nil
}

// CheckAKN validates the Akoma Ntoso documents in files against the schema
// xsd with xmllint (one run: reading the schema is most of its time),
// returning xmllint's complaints.
func CheckAKN(xsd string, files ...string) error {
	args := append([]string{"--noout", "--nonet", "--schema", xsd}, files...)
	out, err := exec.Command("xmllint", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s do not all validate against %s: %v\n%s", strings.Join(files, ", "), xsd, err, out)
	}
	return nil
}

// Tracked is a tracked change as pandoc reads it from a .docx.
type Tracked struct {
	Kind   string // "insertion" or "deletion"
	Author string
	Text   string
}

// PandocTracked reads the .docx at path with pandoc --track-changes=all, a
// reader of Word documents independent of treaty's, and returns every
// tracked insertion and deletion of text it sees, with its author.
func PandocTracked(t testing.TB, path string) []Tracked {
	t.Helper()
	pandoc := Need(t, "pandoc", "pandoc")
	out, err := exec.Command(pandoc, "--track-changes=all", "-f", "docx", "-t", "json", path).Output()
	if err != nil {
		t.Fatalf("pandoc cannot read %s: %v", path, stderrOf(err))
	}
	found, err := trackedIn(out)
	if err != nil {
		t.Fatalf("pandoc's JSON: %v", err)
	}
	return found
}

// trackedIn finds the tracked changes in pandoc's JSON.
func trackedIn(out []byte) ([]Tracked, error) {
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	var found []Tracked
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["t"] == "Span" {
				if c, ok := v["c"].([]any); ok && len(c) == 2 {
					attr, _ := c[0].([]any)
					if len(attr) == 3 {
						classes, _ := attr[1].([]any)
						for _, cl := range classes {
							if cl == "insertion" || cl == "deletion" {
								tr := Tracked{Kind: cl.(string), Text: inlineText(c[1])}
								kvs, _ := attr[2].([]any)
								for _, kv := range kvs {
									if p, ok := kv.([]any); ok && len(p) == 2 && p[0] == "author" {
										tr.Author, _ = p[1].(string)
									}
								}
								found = append(found, tr)
							}
						}
					}
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	return found, nil
}

// inlineText joins the text of pandoc inlines.
func inlineText(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			switch v["t"] {
			case "Str":
				s, _ := v["c"].(string)
				b.WriteString(s)
				return
			case "Space", "SoftBreak", "LineBreak":
				b.WriteString(" ")
				return
			}
			walk(v["c"])
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + string(ee.Stderr)
	}
	return err.Error()
}

// PDFText converts the document at path to PDF with LibreOffice, headless,
// and returns the PDF's text as pdftotext reads it: proof that a word
// processor other than Word opens it and lays it out.
func PDFText(t testing.TB, path string) string {
	t.Helper()
	soffice := Need(t, "soffice", "libreoffice-writer-nogui")
	pdftotext := Need(t, "pdftotext", "poppler-utils")
	dir := t.TempDir()
	cmd := exec.Command(soffice, profile(), "--headless", "--convert-to", "pdf", "--outdir", dir, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to pdf %s: %v\n%s", path, err, out)
	}
	pdf := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".pdf")
	out, err := exec.Command(pdftotext, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", pdf, stderrOf(err))
	}
	return string(out)
}

// profile is LibreOffice's user profile for tests: one of their own, not
// the user's (a LibreOffice the user runs would take the conversion over),
// kept between runs since making one takes LibreOffice ten seconds.
func profile() string {
	return "-env:UserInstallation=file://" + filepath.Join(os.TempDir(), "treaty-test-soffice-profile")
}

// ResaveDocx opens the document at path in LibreOffice, headless, and saves
// it again as .docx in a new directory, as a delegation's word processor
// would: what treaty wrote must survive another program's reading and
// writing. It returns the new file's path.
func ResaveDocx(t testing.TB, path string) string {
	t.Helper()
	soffice := Need(t, "soffice", "libreoffice-writer-nogui")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cmd := exec.Command(soffice, profile(), "--headless", "--convert-to", "docx:MS Word 2007 XML", "--outdir", out, path)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to docx %s: %v\n%s", path, err, b)
	}
	return filepath.Join(out, filepath.Base(path))
}

// ValidateAKN checks Akoma Ntoso documents against the official schema
// with xmllint, failing the test with xmllint's complaints.
func ValidateAKN(t testing.TB, docs ...[]byte) {
	t.Helper()
	xsd := AKNSchema(t)
	Need(t, "xmllint", "libxml2-utils")
	dir := t.TempDir()
	var files []string
	for i, doc := range docs {
		f := filepath.Join(dir, fmt.Sprintf("akn-%d.xml", i+1))
		if err := os.WriteFile(f, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if err := CheckAKN(xsd, files...); err != nil {
		t.Fatal(err)
	}
}

// Available reports whether a script may use a checker: true when it is
// there; false when it is not, outside CI; an error in CI, where it must
// be (see the package comment). what is "akn" (xmllint and the schema),
// "pandoc" or "soffice".
func Available(what string) (bool, error) {
	var why error
	switch what {
	case "akn":
		if _, err := FindAKNSchema(); err != nil {
			why = err
		} else if !Have("xmllint") {
			why = errors.New("xmllint is missing (apt-get install libxml2-utils)")
		}
	case "pandoc", "soffice":
		if !Have(what) {
			why = fmt.Errorf("%s is missing", what)
		}
	default:
		return false, fmt.Errorf("unknown checker %q", what)
	}
	switch {
	case why == nil:
		return true, nil
	case InCI():
		return false, fmt.Errorf("%v, and CI must have it", why)
	}
	return false, nil
}

// PandocLines reads the .docx at path with pandoc (see PandocTracked) and
// returns its tracked changes a line each: kind, author and text, tab
// separated.
func PandocLines(path string) (string, error) {
	out, err := exec.Command("pandoc", "--track-changes=all", "-f", "docx", "-t", "json", path).Output()
	if err != nil {
		return "", fmt.Errorf("pandoc cannot read %s: %s", path, stderrOf(err))
	}
	var b strings.Builder
	found, err := trackedIn(out)
	if err != nil {
		return "", err
	}
	for _, c := range found {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", c.Kind, c.Author, c.Text)
	}
	return b.String(), nil
}
