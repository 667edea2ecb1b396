package checkpoint

import (
	"encoding/binary"
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
// type 4, as the go command writes it), or returns "". It reads the header,
// the program headers and the note segments alone, not the section table
// debug/elf parses on open: every command that reads a checkpoint asks.
// Executables of other formats have none here (executableID then falls
// back to the file's size and time).
func goBuildID(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var hdr [64]byte
	n, _ := f.ReadAt(hdr[:], 0)
	if n < 52 || string(hdr[:4]) != "\x7fELF" {
		return ""
	}
	var order binary.ByteOrder
	switch hdr[5] {
	case 1:
		order = binary.LittleEndian
	case 2:
		order = binary.BigEndian
	default:
		return ""
	}
	// Where the program headers are, and where in one a segment's type,
	// offset and size are: ELFCLASS64, ELFCLASS32.
	var phoff uint64
	var phentsize, phnum, minEntry int
	var offsetAt, sizeAt func(p []byte) uint64
	switch {
	case hdr[4] == 2 && n == 64:
		phoff, phentsize, phnum, minEntry = order.Uint64(hdr[32:]), int(order.Uint16(hdr[54:])), int(order.Uint16(hdr[56:])), 56
		offsetAt = func(p []byte) uint64 { return order.Uint64(p[8:]) }
		sizeAt = func(p []byte) uint64 { return order.Uint64(p[32:]) }
	case hdr[4] == 1:
		phoff, phentsize, phnum, minEntry = uint64(order.Uint32(hdr[28:])), int(order.Uint16(hdr[42:])), int(order.Uint16(hdr[44:])), 32
		offsetAt = func(p []byte) uint64 { return uint64(order.Uint32(p[4:])) }
		sizeAt = func(p []byte) uint64 { return uint64(order.Uint32(p[16:])) }
	default:
		return ""
	}
	if phentsize < minEntry || phentsize > 256 || phnum == 0 || phnum > 1<<10 || phoff > 1<<32 {
		return ""
	}
	progs := make([]byte, phentsize*phnum)
	if _, err := f.ReadAt(progs, int64(phoff)); err != nil {
		return ""
	}
	const ptNote = 4
	for p := progs; len(p) >= phentsize; p = p[phentsize:] {
		offset, filesz := offsetAt(p), sizeAt(p)
		if order.Uint32(p) != ptNote || filesz > 1<<16 || offset > 1<<40 {
			continue
		}
		data := make([]byte, filesz)
		if _, err := f.ReadAt(data, int64(offset)); err != nil {
			continue
		}
		for len(data) >= 12 {
			nameSize, descSize, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
			if nameSize > 1<<10 || descSize > 1<<10 {
				break
			}
			name, desc := (int(nameSize)+3)&^3, (int(descSize)+3)&^3
			if 12+name+desc > len(data) {
				break
			}
			if typ == 4 && nameSize == 4 && string(data[12:16]) == "Go\x00\x00" {
				return string(data[12+name : 12+name+int(descSize)])
			}
			data = data[12+name+desc:]
		}
	}
	return ""
}
