package projections

import (
	"reflect"
	"strings"

	"github.com/treaty-engine/treaty/domain"
)

// Printable returns a copy of a view in which every string, however deep
// (struct fields, pointers, slices, maps, keys included), is made visible
// line by line (see domain.Visible): no control character, stray byte,
// bidirectional control or invisible character that a log holds reaches
// people, whether on a terminal or in a page. Newlines stay. Raw bytes
// ([]byte, json.RawMessage) are data and stay as they are. The view itself
// is not changed: it may share memory with a negotiation's state.
//
// Every renderer for people starts with it; JSON output does not (it is
// data, and exact).
func Printable[T any](v T) T {
	c, _ := printable(reflect.ValueOf(&v).Elem())
	return c.Interface().(T)
}

// printable returns a visible copy of v, and whether it differs from v: a
// value without anything to make visible is returned as it is, so that
// clean views are not copied.
func printable(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.String:
		s := visibleLines(v.String())
		if s == v.String() {
			return v, false
		}
		c := reflect.New(v.Type()).Elem()
		c.SetString(s)
		return c, true
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		e, changed := printable(v.Elem())
		if !changed {
			return v, false
		}
		if v.Kind() == reflect.Pointer {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(e)
			return c, true
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(e)
		return c, true
	case reflect.Slice, reflect.Array, reflect.Struct:
		if v.Kind() == reflect.Slice && (v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8) {
			return v, false // bytes are data
		}
		var c reflect.Value
		for i := range parts(v) {
			if v.Kind() == reflect.Struct && !v.Type().Field(i).IsExported() {
				continue // copied as it is, with the struct (time.Time's location)
			}
			e, changed := printable(part(v, i))
			if !changed {
				continue
			}
			if !c.IsValid() {
				c = copyOf(v)
			}
			part(c, i).Set(e)
		}
		if !c.IsValid() {
			return v, false
		}
		return c, true
	case reflect.Map:
		if v.IsNil() {
			return v, false
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		changed := false
		for it := v.MapRange(); it.Next(); {
			k, kc := printable(it.Key())
			e, ec := printable(it.Value())
			changed = changed || kc || ec
			c.SetMapIndex(k, e)
		}
		if !changed {
			return v, false
		}
		return c, true
	}
	return v, false
}

// parts counts the elements of a slice or array, or the fields of a struct;
// part returns one.
func parts(v reflect.Value) int {
	if v.Kind() == reflect.Struct {
		return v.NumField()
	}
	return v.Len()
}

func part(v reflect.Value, i int) reflect.Value {
	if v.Kind() == reflect.Struct {
		return v.Field(i)
	}
	return v.Index(i)
}

// copyOf returns a copy of a slice, array or struct that can be changed
// without changing v.
func copyOf(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Slice {
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		return c
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// visibleLines makes each line of s visible, keeping the newlines.
func visibleLines(s string) string {
	if !strings.Contains(s, "\n") {
		return domain.Visible(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = domain.Visible(l)
	}
	return strings.Join(lines, "\n")
}
