package projections

import (
	"bufio"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/hugepages"
	"github.com/treaty-engine/treaty/internal/parallel"
	"github.com/treaty-engine/treaty/projections/redline"
)

// Printable returns a copy of a view in which every string, however deep
// (struct fields, pointers, slices, maps, keys included), is made visible
// line by line (see domain.Visible): no control character, stray byte,
// bidirectional control or invisible character that a log holds reaches
// people, whether on a terminal or in a page. Newlines stay. Raw bytes
// ([]byte, json.RawMessage) are data and stay as they are. The view itself
// is not changed: it may share memory with a negotiation's state.
//
// Every renderer for people starts with it, or, in text without styling,
// ends with reading back what it rendered (see visibleText); JSON output
// does not (it is data, and exact).
func Printable[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	c, _ := printable(rv, textOf(rv.Type()))
	return c.Interface().(T)
}

// printableBut is Printable(v) but for its parts (where parts points),
// left as they are, to be made visible one by one as they are rendered
// (see visibleText): walking them is most of what making a long document
// visible costs.
func printableBut[V, P any](v V, parts func(*V) *[]P) V {
	all := *parts(&v)
	*parts(&v) = nil
	v = Printable(v)
	*parts(&v) = all
	return v
}

// visibleText is render(v) made visible (see Printable). Without styling, v
// is rendered as it is first: a rendering that holds nothing to make
// visible printed nothing that had any, and making v visible first would
// give the same text. Walking v to make it visible costs more than reading
// the text back, and it is seldom needed. render must print what it makes
// of v's strings as they are (a string it quotes, it makes visible first),
// and may look v's map keys up with the rest of the view made visible:
// the keys it looks up (party codes, clause IDs) are slugs, which hold
// nothing to make visible.
func visibleText[V any](v V, st Style, render func(V) string) string {
	if !st.Color {
		if b := render(v); domain.VisibleLines(b) == b {
			return b
		}
	}
	return render(Printable(v))
}

// renderParts renders each of parts side by side on every core, and
// returns the renderings in order.
func renderParts[P, B any](parts []P, render func(P) B) []B {
	out := make([]B, len(parts))
	parallel.Each(len(parts), func(i int) { out[i] = render(parts[i]) })
	return out
}

// joinBuffer is how much of a document writeJoined holds before it writes.
const joinBuffer = 64 << 10

// writeJoined writes the strings of each of parts to w one after another,
// through a buffer of joinBuffer bytes: a document of hundreds of kilobytes
// rendered in parts is not copied whole into fresh memory first, whose
// pages some virtual machines make dear to touch, and still reaches a pipe
// or a file in a few writes. A keeper that will hold the whole document
// is told its size first and given the strings as they are.
func writeJoined(w io.Writer, parts ...[]string) error {
	if k, ok := w.(*keeper); ok && k.Hold(joinedLen(parts...)) {
		for _, p := range parts {
			for _, s := range p {
				k.WriteString(s)
			}
		}
		return nil
	}
	bw := bufio.NewWriterSize(w, joinBuffer)
	for _, p := range parts {
		for _, s := range p {
			if _, err := bw.WriteString(s); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// joined is strings.Join(parts, ""), joined where a command has readied
// buffers on huge pages (hugepages.UseForBuffers): beside the checkpoints
// it read, mostly faulted in already, rather than in fresh heap. A buffer
// carved so is never written again once joined, nor freed, nor handed out
// again (see hugepages.Bytes).
func joined(parts []string) string {
	b := hugepages.Carved(joinedLen(parts))
	if b == nil {
		return strings.Join(parts, "")
	}
	b = b[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// joinedLen is the length of the strings of parts joined.
func joinedLen(parts ...[]string) int {
	n := 0
	for _, p := range parts {
		for _, s := range p {
			n += len(s)
		}
	}
	return n
}

// printable returns a visible copy of v, whose type t describes, and
// whether it differs from v: a value without anything to make visible is
// returned as it is, so that clean views are not copied.
func printable(v reflect.Value, t *typeText) (reflect.Value, bool) {
	if v.Kind() == reflect.String {
		// Most values a view holds.
		s := domain.VisibleLines(v.String())
		if s == v.String() {
			return v, false
		}
		c := reflect.New(v.Type()).Elem()
		c.SetString(s)
		return c, true
	}
	if !t.holds {
		return v, false
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		e, changed := printable(v.Elem(), textOf(v.Elem().Type()))
		if !changed {
			return v, false
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(e)
		return c, true
	case reflect.Pointer:
		if v.IsNil() {
			return v, false
		}
		e, changed := printable(v.Elem(), t.elem)
		if !changed {
			return v, false
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(e)
		return c, true
	case reflect.Slice, reflect.Array, reflect.Struct:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return v, false
		}
		if v.Type() == opsType {
			return printableOps(v)
		}
		var c reflect.Value
		visit := func(i int, t *typeText) {
			e, changed := printable(part(v, i), t)
			if !changed {
				return
			}
			if !c.IsValid() {
				c = copyOf(v)
			}
			part(c, i).Set(e)
		}
		if v.Kind() == reflect.Struct {
			for _, f := range t.fields {
				visit(f.index, f.text)
			}
		} else {
			for i := range v.Len() {
				visit(i, t.elem)
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
		// Looked through first, and copied only if something changes:
		// most maps (a clause's adoptions by party, say) hold nothing to
		// make visible.
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		changed := false
		for it := v.MapRange(); it.Next() && !changed; {
			k.SetIterKey(it)
			e.SetIterValue(it)
			_, kc := printable(k, t.key)
			_, ec := printable(e, t.elem)
			changed = kc || ec
		}
		if !changed {
			return v, false
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k, _ := printable(it.Key(), t.key)
			e, _ := printable(it.Value(), t.elem)
			c.SetMapIndex(k, e)
		}
		return c, true
	}
	return v, false
}

// opsType is the type of a redline, most of the values a compare or a
// positions document holds: printableOps walks them without reflection.
var opsType = reflect.TypeFor[[]redline.Op]()

// printableOps is printable for a redline, v of opsType: an op's only text
// is its Text.
func printableOps(v reflect.Value) (reflect.Value, bool) {
	ops := v.Interface().([]redline.Op)
	var c []redline.Op
	for i, op := range ops {
		if s := domain.VisibleLines(op.Text); s != op.Text {
			if c == nil {
				c = slices.Clone(ops)
			}
			c[i].Text = s
		}
	}
	if c == nil {
		return v, false
	}
	return reflect.ValueOf(c), true
}

// typeText says of a type whether its values can hold a string that people
// see, and for a struct which fields can: exported ones (unexported fields
// are copied with the struct as they are, time.Time's location say). Worked
// out once per type: a draft has hundreds of structs of a handful of types.
type typeText struct {
	holds bool
	// elem describes a pointer's, array's, slice's or map's elements, key
	// a map's keys, fields a struct's fields that hold text: a value is
	// walked without looking its parts' types up.
	elem, key *typeText
	fields    []fieldText
}

// fieldText is a struct's field that can hold text: its index and type.
type fieldText struct {
	index int
	text  *typeText
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
		tt.elem = workOutText(t.Elem(), working)
		tt.holds = tt.elem.holds
	case reflect.Slice:
		tt.elem = workOutText(t.Elem(), working)
		tt.holds = t.Elem().Kind() != reflect.Uint8 && tt.elem.holds // bytes are data
	case reflect.Map:
		tt.key, tt.elem = workOutText(t.Key(), working), workOutText(t.Elem(), working)
		tt.holds = tt.key.holds || tt.elem.holds
	case reflect.Struct:
		var fields []fieldText
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				if ft := workOutText(f.Type, working); ft.holds {
					fields = append(fields, fieldText{i, ft})
				}
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
