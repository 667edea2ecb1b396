// Package migration reads the numbered schema files a backend embeds: the
// one format every backend with a schema of its own uses, so that their
// files are numbered, checked and ordered alike.
package migration

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
)

// File is one schema file: NNNN_name.sql, which brings a store from schema
// version Version-1 to Version.
type File struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the .sql files of directory dir of fsys in order: named
// NNNN_name.sql and numbered 1, 2, 3… without gaps. A file out of line is
// an error: the binary was built wrong.
func Load(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, e := range entries { // ReadDir sorts by name
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(files)+1 || path.Ext(e.Name()) != ".sql" {
			return nil, fmt.Errorf("embedded schema file %s: want %04d_name.sql (numbered in order without gaps)", e.Name(), len(files)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files = append(files, File{Version: v, Name: e.Name(), SQL: string(b)})
	}
	if len(files) == 0 {
		return nil, errors.New("no embedded schema files")
	}
	return files, nil
}

// Embedded returns a function that loads the files of dir in fsys once (see
// Load) and then returns them again: a backend's embedded schema.
func Embedded(fsys fs.FS, dir string) func() ([]File, error) {
	return sync.OnceValues(func() ([]File, error) { return Load(fsys, dir) })
}

// Version is the schema version the files load returns bring a store to,
// or 0 when they do not load (the binary is broken, which opening a store
// reports).
func Version(load func() ([]File, error)) int {
	files, err := load()
	if err != nil {
		return 0
	}
	return len(files)
}
