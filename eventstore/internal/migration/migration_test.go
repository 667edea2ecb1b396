package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	good := fstest.MapFS{
		"m/0001_events.sql": {Data: []byte("CREATE TABLE a (x int);")},
		"m/0002_cache.sql":  {Data: []byte("CREATE TABLE b (y int);")},
	}
	files, err := Load(good, "m")
	if err != nil || len(files) != 2 || files[1] != (File{Version: 2, Name: "0002_cache.sql", SQL: "CREATE TABLE b (y int);"}) {
		t.Fatalf("Load = %+v, %v", files, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":          {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number":      {"m/events.sql": {}},
		"not SQL":        {"m/0001_a.txt": {}},
		"starting at 2":  {"m/0002_b.sql": {}},
		"the same twice": {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil || !strings.Contains(err.Error(), "numbered in order without gaps") {
			t.Errorf("%s: Load = %v, want a refusal", name, err)
		}
	}
	if _, err := Load(fstest.MapFS{"m/README": {}}, "x"); err == nil {
		t.Error("a missing directory loaded")
	}
}
