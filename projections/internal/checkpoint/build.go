package checkpoint

import (
	"debug/elf"
	"fmt"
	"os"
	"strings"
	"sync"
)

// build keeps the checkpoints of one build of treaty from being read by
// another, whose fold may differ: it is the format version and the
// executable's Go build ID, which changes whenever any of the code it was
// built from does (where the executable has none, its size and time).
var build = sync.OnceValue(func() string {
	return fmt.Sprintf("v%d-%s", formatVersion, executableID())
})

// executableID identifies the running executable's build.
func executableID() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	if id := goBuildID(exe); id != "" {
		// Only the content part is needed: it changes with the code.
		if _, content, ok := strings.Cut(id, "/"); ok {
			id = content
		}
		return strings.NewReplacer("/", ".").Replace(id)
	}
	if st, err := os.Stat(exe); err == nil {
		return fmt.Sprintf("%d.%d", st.Size(), st.ModTime().UnixNano())
	}
	return "unknown"
}

// goBuildID reads the Go build ID from an ELF executable's notes (name "Go",
// type 4, as the go command writes it), or returns "".
func goBuildID(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz > 1<<16 {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			continue
		}
		for len(data) >= 12 {
			nameSize, descSize, typ := f.ByteOrder.Uint32(data), f.ByteOrder.Uint32(data[4:]), f.ByteOrder.Uint32(data[8:])
			name := (int(nameSize) + 3) &^ 3
			desc := (int(descSize) + 3) &^ 3
			if nameSize > 1<<10 || descSize > 1<<10 || 12+name+desc > len(data) {
				break
			}
			if typ == 4 && string(data[12:12+nameSize]) == "Go\x00\x00"[:nameSize] {
				return string(data[12+name : 12+name+int(descSize)])
			}
			data = data[12+name+desc:]
		}
	}
	return ""
}
