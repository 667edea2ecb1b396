package projections

import (
	"reflect"
	"strings"
	"sync"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/parallel"
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

// printableParts is Printable(v) for a view of many parts (its clauses,
// where parts points): the parts are made visible side by side on every
// core, most of a long document's work once it is worked out.
func printableParts[V, P any](v V, parts func(*V) *[]P) V {
	all := *parts(&v)
	*parts(&v) = nil
	v = Printable(v)
	visible := make([]P, len(all))
	parallel.Each(len(all), func(i int) { visible[i] = Printable(all[i]) })
	*parts(&v) = visible
	return v
}

// renderParts renders each of parts side by side on every core, and
// returns the renderings in order.
func renderParts[P, B any](parts []P, render func(P) B) []B {
	out := make([]B, len(parts))
	parallel.Each(len(parts), func(i int) { out[i] = render(parts[i]) })
	return out
}

// printable returns a visible copy of v, and whether it differs from v: a
// value without anything to make visible is returned as it is, so that
// clean views are not copied.
func printable(v reflect.Value) (reflect.Value, bool) {
	if v.Kind() == reflect.String {
		// Most values a view holds: no need to look the type up.
		s := visibleLines(v.String())
		if s == v.String() {
			return v, false
		}
		c := reflect.New(v.Type()).Elem()
		c.SetString(s)
		return c, true
	}
	t := textOf(v.Type())
	if !t.holds {
		return v, false
	}
	switch v.Kind() {
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
		visit := func(i int) {
			e, changed := printable(part(v, i))
			if !changed {
				return
			}
			if !c.IsValid() {
				c = copyOf(v)
			}
			part(c, i).Set(e)
		}
		if v.Kind() == reflect.Struct {
			for _, i := range t.fields {
				visit(i)
			}
		} else {
			for i := range v.Len() {
				visit(i)
			}
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

// typeText says of a type whether its values can hold a string that people
// see, and for a struct which fields can: exported ones (unexported fields
// are copied with the struct as they are, time.Time's location say). Worked
// out once per type: a draft has hundreds of structs of a handful of types.
type typeText struct {
	holds  bool
	fields []int
}

var (
	typeTexts   sync.Map // reflect.Type → *typeText, each stored once worked out
	typeTextsMu sync.Mutex
)

func textOf(t reflect.Type) *typeText {
	if tt, ok := typeTexts.Load(t); ok {
		return tt.(*typeText)
	}
	// Worked out under a lock, and stored only whole: views are made
	// visible on several goroutines at once, and one that found a struct's
	// typeText before its fields were listed would show none of them.
	typeTextsMu.Lock()
	defer typeTextsMu.Unlock()
	return workOutText(t, map[reflect.Type]*typeText{})
}

// workOutText is textOf's work, under typeTextsMu; working holds the types
// being worked out, for those that hold themselves.
func workOutText(t reflect.Type, working map[reflect.Type]*typeText) *typeText {
	if tt, ok := typeTexts.Load(t); ok {
		return tt.(*typeText)
	}
	if tt, ok := working[t]; ok {
		return tt // a type that holds itself: it holds text if anything does
	}
	tt := &typeText{holds: true}
	working[t] = tt
	switch t.Kind() {
	case reflect.String, reflect.Interface:
	case reflect.Pointer, reflect.Array:
		tt.holds = workOutText(t.Elem(), working).holds
	case reflect.Slice:
		tt.holds = t.Elem().Kind() != reflect.Uint8 && workOutText(t.Elem(), working).holds // bytes are data
	case reflect.Map:
		tt.holds = workOutText(t.Key(), working).holds || workOutText(t.Elem(), working).holds
	case reflect.Struct:
		var fields []int
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && workOutText(f.Type, working).holds {
				fields = append(fields, i)
			}
		}
		tt.fields, tt.holds = fields, len(fields) > 0
	default:
		tt.holds = false
	}
	typeTexts.Store(t, tt)
	return tt
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
	clean := true
	for l := range strings.SplitSeq(s, "\n") {
		if domain.Visible(l) != l {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = domain.Visible(l)
	}
	return strings.Join(lines, "\n")
}
