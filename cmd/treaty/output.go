package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// binaryFormats are the formats that are not text: they go to a file, or
// to standard output only when it is not a terminal.
var binaryFormats = map[string]bool{"docx": true}

// outputFlag adds --output F to a command.
func outputFlag(c *cobra.Command, path *string) {
	c.Flags().StringVarP(path, "output", "o", "", "write to this file instead of standard output (written whole or not at all)")
}

// checkOutput refuses, before any work, to write a binary format to a
// terminal.
func (a *app) checkOutput(path string) error {
	if path == "" && binaryFormats[a.format] && isTerminal(a.stdout) {
		return usagef("--format %s is a binary file, not for a terminal: give --output FILE, or redirect standard output (> FILE)", a.format)
	}
	return nil
}

// emit writes what write produces to --output (path) or standard output.
// A file is written beside its final name and renamed into place once
// complete, so that a failed command leaves no half-written file and an
// earlier one intact.
func (a *app) emit(path string, write func(w io.Writer) error) error {
	if path == "" {
		if binaryFormats[a.format] {
			// Whole or not at all on standard output too: nothing of a
			// document that failed half-way.
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				return err
			}
			_, err := a.stdout.Write(buf.Bytes())
			return err
		}
		return write(a.stdout)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--output %s is a directory; give a file name", path)
	}
	dir := filepath.Dir(path)
	// Ctrl-C from here on lets the temporary file be removed.
	a.listen()
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		// Named by the directory, not by the temporary file the user
		// never asked for.
		return fmt.Errorf("--output %s: cannot write a file in %s: %w", path, dir, pathErr(err))
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	return nil
}

// pathErr is err without the path of an fs.PathError, which names a file
// the message names already or the temporary file nobody asked for.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
