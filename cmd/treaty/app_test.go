package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// The table of commands is the command line: every command, by the name
// its Use begins with, in its help group, and nothing else.
func TestSubcommands(t *testing.T) {
	a := newApp(strings.NewReader(""), io.Discard, io.Discard)
	root := a.rootCommand()
	var got, want []string
	for _, c := range root.Commands() {
		got = append(got, c.Name()+"/"+c.GroupID)
	}
	for _, c := range a.subcommands() {
		want = append(want, c.name+"/"+c.group)
	}
	slices.Sort(got) // cobra sorts its commands by name
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the command line holds\n%v\nthe table says\n%v", got, want)
	}
}

// commandNamed finds the command past the global flags as cobra does, and
// leaves every other command line to all the commands.
func TestCommandNamed(t *testing.T) {
	a := newApp(strings.NewReader(""), io.Discard, io.Discard)
	flags := a.rootFor([]string{"version"}).PersistentFlags()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"propose", "--clause", "x"}, "propose"},
		{[]string{"--store", "draft", "diff"}, "diff"}, // a value that is a command's name
		{[]string{"--store=x.db", "--as", "UA", "accept", "P"}, "accept"},
		{[]string{"--no-checkpoints", "draft"}, "draft"},
		{[]string{"--timeout", "5s", "--max-text", "9", "log"}, "log"},
		{[]string{"round", "open"}, "round"},
		{[]string{"import-docx", "f.docx"}, "import-docx"},
		{nil, ""},
		{[]string{"--store", "x.db"}, ""},
		{[]string{"help", "propose"}, ""},
		{[]string{"propse"}, ""},
		{[]string{"--bogus", "draft"}, ""},
		{[]string{"--help"}, ""},
		{[]string{"--version"}, ""},
		{[]string{"-h", "draft"}, ""},
		{[]string{"--", "draft"}, ""},
		{[]string{"-", "draft"}, ""},
		{[]string{"__complete", "pro"}, ""},
	} {
		if got := commandNamed(flags, c.args, a.subcommands()); got != c.want {
			t.Errorf("commandNamed(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// A command line that names its command makes that command alone, and
// runs as the whole command line would.
func TestRootForOneCommand(t *testing.T) {
	a := newApp(strings.NewReader(""), io.Discard, io.Discard)
	root := a.rootFor([]string{"--as", "UA", "propose", "--clause", "x"})
	if names := len(root.Commands()); names != 1 || root.Commands()[0].Name() != "propose" || root.Commands()[0].GroupID != "write" {
		t.Fatalf("made %d commands: %v", names, root.Commands())
	}
	var whole, one strings.Builder
	for out, args := range map[*strings.Builder][]string{&whole: nil, &one: {"propose", "--help"}} {
		r := newApp(strings.NewReader(""), out, out).rootFor(args)
		r.SetArgs([]string{"propose", "--help"})
		r.SetOut(out)
		r.SetErr(out)
		if err := r.Execute(); err != nil {
			t.Fatal(err)
		}
	}
	if one.String() != whole.String() || !strings.Contains(one.String(), "--clause") {
		t.Fatalf("propose --help made alone:\n%s\nwith every command:\n%s", one.String(), whole.String())
	}
}
