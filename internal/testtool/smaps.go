package testtool

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mapping returns the fields of the mapping of this process that holds
// addr, as /proc/self/smaps lists them (Linux only; elsewhere the file is
// missing and Mapping fails): "Rss", "AnonHugePages", "FilePmdMapped",
// "VmFlags", …, each value as written after its colon, spaces trimmed
// ("2048 kB", "rd wr mr mw me ac hg"). For tests of how memory is backed.
func Mapping(addr uintptr) (map[string]string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var fields map[string]string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		// A mapping starts with its range: "7f0c8a000000-7f0c8a200000 rw-p …".
		if lo, hi, ok := strings.Cut(strings.SplitN(line, " ", 2)[0], "-"); ok && !strings.HasSuffix(hi, ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				if fields != nil {
					break
				}
				if uint64(addr) >= l && uint64(addr) < h {
					fields = map[string]string{}
				}
				continue
			}
		}
		if name, value, ok := strings.Cut(line, ":"); ok && fields != nil {
			fields[name] = strings.TrimSpace(value)
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, fmt.Errorf("no mapping of this process holds %#x", addr)
	}
	return fields, nil
}

// KB is a size field of Mapping in kB ("2048 kB" is 2048), or -1 when it is
// missing or not one.
func KB(value string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(value, " kB"))
	if err != nil {
		return -1
	}
	return n
}
