package jsonindent

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// randomValue builds nested values with the strings that trip a scanner up:
// quotes, backslashes, brackets and commas inside strings, escapes, empty
// objects and arrays.
func randomValue(rng *rand.Rand, depth int) any {
	pieces := []string{`"`, `\`, `{`, `}`, `[`, `]`, `,`, `:`, "\n", "\t", "\x00", "é", "🙂", "<&>", `\"`, "a", " ", "\u2028"}
	switch k := rng.Intn(8); {
	case depth > 4 || k == 0:
		var b strings.Builder
		for range rng.Intn(6) {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		return b.String()
	case k == 1:
		return rng.Intn(2000) - 1000
	case k == 2:
		return rng.Float64()
	case k == 3:
		return []any{nil, true, false}[rng.Intn(3)]
	case k < 6:
		m := map[string]any{}
		for range rng.Intn(4) {
			m[randomValue(rng, 5).(string)] = randomValue(rng, depth+1)
		}
		return m
	default:
		s := []any{}
		for range rng.Intn(4) {
			s = append(s, randomValue(rng, depth+1))
		}
		return s
	}
}

// TestSameAsEncoder holds Encode to encoding/json's indenting Encoder, byte
// for byte, on small values and on ones written out in many pieces.
func TestSameAsEncoder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	// Values far larger than flushAt too, written out in many pieces.
	var large []any
	for range 20000 {
		large = append(large, randomValue(rng, 1))
	}
	for i := range 20003 {
		var v any
		switch i {
		case 0:
			v = large
		case 1:
			v = map[string]any{"a": large, "b": []any{large[:5000], map[string]any{}}}
		default:
			v = randomValue(rng, 0)
		}
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := Encode(&got, v, "  "); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("value %d: got\n%s\nwant\n%s", i, got.Bytes(), want.Bytes())
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add([]byte(`{"a":[1,{},[],"x\"]"],"b":{"c":null}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		compact, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact, "", "\t"); err != nil {
			t.Fatal(err)
		}
		if got := Append(nil, compact, "\t"); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("got\n%s\nwant\n%s", got, want.Bytes())
		}
	})
}

// BenchmarkEncode: a compare document's shape (clauses, each with a long
// list of attributions), encoded indented by this package and by
// encoding/json's Encoder.
func BenchmarkEncode(b *testing.B) {
	type attribution struct {
		ID    string `json:"id"`
		Party string `json:"party"`
		Round int    `json:"round"`
		Event int    `json:"event"`
	}
	type clause struct {
		ID      string        `json:"id"`
		Text    string        `json:"text"`
		Adopted []attribution `json:"adopted"`
	}
	doc := make([]clause, 200)
	for i := range doc {
		doc[i] = clause{ID: "article-" + strings.Repeat("x", i%7), Text: strings.Repeat("The \"Parties\" shall consult. ", 20)}
		for j := range 500 {
			doc[i].Adopted = append(doc[i].Adopted, attribution{ID: "0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b", Party: "UA", Round: j / 10, Event: i*1000 + j})
		}
	}
	b.Run("jsonindent", func(b *testing.B) {
		for b.Loop() {
			if err := Encode(io.Discard, doc, "  "); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			enc := json.NewEncoder(io.Discard)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
