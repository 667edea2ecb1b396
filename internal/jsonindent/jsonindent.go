// Package jsonindent writes JSON indented as encoding/json's Encoder does
// with SetIndent("", indent), byte for byte, in a fraction of its time: the
// Encoder indents by running its full scanner over the output again, which
// for a compare document of tens of megabytes costs more than encoding it.
//
// It never validates: its input must be JSON as encoding/json writes it
// (compact, no white space outside strings).
package jsonindent

import (
	"bufio"
	"encoding/json"
	"io"
)

// Encode writes v to w as an Encoder with SetIndent("", indent) and
// SetEscapeHTML(false) would: indented, followed by a newline. The output
// goes out through a small buffer as it is indented, never whole: a
// document of tens of megabytes would cost a page fault a page.
func Encode(w io.Writer, v any, indent string) error {
	out := &indenter{w: bufio.NewWriterSize(w, flushAt+4096), indent: indent}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	return out.w.Flush()
}

// flushAt is how much indented output is gathered before it is written.
const flushAt = 32 << 10

// indenter indents the compact JSON written to it (a whole value per Write,
// as json.Encoder writes) onto w.
type indenter struct {
	w      *bufio.Writer
	indent string
	buf    []byte
	depth  int
	open   bool // just after '{' or '[': the line break waits for what follows
	err    error
}

func (x *indenter) Write(p []byte) (int, error) {
	x.indentOnto(p, true)
	return len(p), x.err
}

func (x *indenter) flush() error {
	if x.err == nil && len(x.buf) > 0 {
		_, x.err = x.w.Write(x.buf)
	}
	x.buf = x.buf[:0]
	return x.err
}

// Append appends src, compact JSON as encoding/json writes it, to dst
// indented as json.Indent(dst, src, "", indent) would, and returns the
// result.
func Append(dst, src []byte, indent string) []byte {
	x := &indenter{indent: indent, buf: dst}
	x.indentOnto(src, false)
	return x.buf
}

// indentOnto indents src onto x.buf, written out to x.w whenever it holds
// flushAt bytes if stream is set.
func (x *indenter) indentOnto(src []byte, stream bool) {
	newline := func(dst []byte) []byte {
		dst = append(dst, '\n')
		for range x.depth {
			dst = append(dst, x.indent...)
		}
		return dst
	}
	dst := x.buf
	for i := 0; i < len(src); i++ {
		if stream && len(dst) >= flushAt {
			x.buf = dst
			if x.flush() != nil {
				return
			}
			dst = x.buf
		}
		c := src[i]
		if x.open && c != '}' && c != ']' {
			x.open = false
			dst = newline(dst)
		}
		switch c {
		case '"':
			// Copy the string whole: only an unescaped quote ends it.
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			x.depth++
			x.open = true
		case '}', ']':
			x.depth--
			if x.open {
				x.open = false // empty: "{}", "[]"
			} else {
				dst = newline(dst)
			}
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst)
		case ':':
			dst = append(dst, c, ' ')
		default:
			dst = append(dst, c)
		}
	}
	x.buf = dst
}
