package fuzzhttp

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf16"
)

// jsonContentTypes are the media types the API takes as JSON.
var jsonContentTypes = []string{"application/json", "application/json; charset=utf-8", "application/merge-patch+json"}

// oddContentTypes are media types it must refuse, or parse with care.
var oddContentTypes = []string{
	"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
	"application/problem+json", "application/vnd.api+json", "application/json; charset=utf-16", "application/json;;",
	";", "json", "APPLICATION/JSON", "application/json, text/plain", "application/json; charset=" + strings.Repeat("x", 1000),
	"application/octet-stream", "*/*", "application/", "/json",
}

// body adds a body, its Content-Type and Content-Encoding.
func (b *builder) body(rt Route) {
	m := b.req.Method
	sends := m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
	if !(sends && b.pct(85)) && !b.pct(10) {
		return
	}
	var body []byte
	switch p := b.rng.IntN(100); {
	case p < 25 && rt.Body != nil:
		body = marshal(b.valid(rt.Body, true))
		b.note("body:valid")
	case p < 50 && rt.Body != nil:
		body = b.mutated(rt.Body)
	case p < 65:
		body = marshal(b.randomValue(0))
		b.note("body:random-json")
	case p < 72:
		body = b.deep()
	case p < 78:
		body = b.large(rt)
	case p < 83:
		body = marshal(object{{pick(b.rng, b.propNames(rt)), rawJSON(pick(b.rng, hugeNumbers))}})
		b.note("body:huge-number")
	case p < 88:
		body = marshal(object{{pick(b.rng, b.propNames(rt)), rawJSON(pick(b.rng, brokenStrings))}})
		b.note("body:broken-utf8")
	default:
		body = b.notJSON()
	}
	if len(body) > b.g.cfg.MaxBody {
		body = body[:b.g.cfg.MaxBody]
	}
	b.req.Body = body
	switch p := b.rng.IntN(100); {
	case p < 80:
		b.req.Header.Set("Content-Type", pick(b.rng, jsonContentTypes))
	default:
		ct := pick(b.rng, oddContentTypes)
		if ct != "" {
			b.req.Header.Set("Content-Type", ct)
		}
		b.note("content-type:%q", trimForNote(ct))
	}
	b.req.Chunked = b.pct(10)
	if b.req.Chunked {
		b.note("chunked")
	}
}

func trimForNote(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// valid builds an instance of s: the required properties and, when all is
// false, only some of the optional ones.
func (b *builder) valid(s *Schema, top bool) any {
	switch {
	case len(s.Enum) > 0:
		return pick(b.rng, s.Enum)
	case s.Is("object") || s.Properties != nil:
		var o object
		for _, n := range s.PropertyNames() {
			if contains(s.Required, n) || b.pct(40) {
				o = append(o, member{n, b.validValue(s.Properties[n], top)})
			}
		}
		return o
	case s.Is("array"):
		var a []any
		if s.Items != nil {
			for range b.rng.IntN(3) {
				a = append(a, b.valid(s.Items, false))
			}
		}
		return a
	case s.Is("integer") || s.Is("number"):
		lo, hi := 0, 100
		if s.Minimum != nil {
			lo = int(*s.Minimum)
		}
		if s.Maximum != nil {
			hi = int(*s.Maximum)
		}
		if hi < lo {
			hi = lo
		}
		return lo + b.rng.IntN(hi-lo+1)
	case s.Is("boolean"):
		return b.pct(50)
	case s.Format == "email":
		return b.word(6) + "@example.com"
	case s.Pattern != "":
		return b.patterned(s)
	default:
		n := 1 + b.rng.IntN(20)
		if s.MaxLength != nil && *s.MaxLength < n {
			n = *s.MaxLength
		}
		return b.word(n)
	}
}

// validValue is valid for a property of s; at the top of a body, a
// patterned string that the token's tenant's create names match takes one
// of them, so that a well-formed create can only make one of those.
func (b *builder) validValue(s *Schema, top bool) any {
	if top && s.Pattern != "" {
		re := b.g.patterns[s.Pattern]
		var names []string
		for _, n := range b.g.cfg.CreateNames[b.req.Tenant] {
			if re.MatchString(n) {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			return pick(b.rng, names)
		}
	}
	return b.valid(s, false)
}

// patterned is a fresh string matching s.Pattern, if one of a few tries
// does.
func (b *builder) patterned(s *Schema) string {
	re := b.g.patterns[s.Pattern]
	for range 20 {
		w := b.word(3 + b.rng.IntN(20))
		if re == nil || re.MatchString(w) {
			return "fz-" + w[:len(w)-1] + "z"
		}
	}
	return "fz-" + b.word(8)
}

func contains(xs []string, x string) bool {
	for _, e := range xs {
		if e == x {
			return true
		}
	}
	return false
}

// hugeNumbers are JSON numbers that no Go integer or float holds, or that
// hold surprises (-0, exponents).
var hugeNumbers = []string{
	"1e400", "-1e400", "123456789012345678901234567890123456789", "-9223372036854775809", "9223372036854775808",
	"18446744073709551616", "1.5", "-0", "0.0000000000000000000000000000001", "1E+2", "2147483648", "-2147483649",
	"1" + strings.Repeat("0", 5000), "0." + strings.Repeat("9", 5000),
}

// brokenStrings are JSON strings with bytes or escapes that are not
// UTF-8, or characters that often break parsers and logs.
var brokenStrings = []string{
	"\"\xff\xfe\xfd\"", "\"a\xc0\xaeb\"", "\"\xed\xa0\x80\"", `"\ud800"`, `"\udfff\ud800"`, `"\u0000"`, "\"\x80\"",
	`"\u202e"`, `"a\nb\r\nc"`, `"\"` + strings.Repeat(`\\`, 100) + `"`, "\"\xf4\x90\x80\x80\"", "\"\xf0\x9f\x92\"",
}

// propNames are the body's property names plus made-up ones.
func (b *builder) propNames(rt Route) []string {
	names := []string{"x", "", "__proto__", "$where", "constructor"}
	if rt.Body != nil {
		names = append(names, rt.Body.PropertyNames()...)
	}
	return names
}

// mutated is a valid body broken in one to three ways.
func (b *builder) mutated(s *Schema) []byte {
	o, ok := b.valid(s, true).(object)
	if !ok {
		b.note("body:mutated-scalar")
		return marshal([]any{b.valid(s, true)})
	}
	props := s.PropertyNames()
	for range 1 + b.rng.IntN(3) {
		switch p := b.rng.IntN(12); {
		case p == 0 && len(o) > 0:
			i := b.rng.IntN(len(o))
			b.note("body:drop-%s", o[i].key)
			o = append(o[:i:i], o[i+1:]...)
		case p == 1:
			b.note("body:unknown-field")
			o = append(o, member{"x-" + b.word(5), b.randomValue(2)})
		case p == 2 && len(props) > 0:
			n := pick(b.rng, props)
			b.note("body:wrong-type-%s", n)
			o = setMember(o, n, pick(b.rng, []any{nil, true, 12, []any{"a"}, object{{"a", 1}}, rawJSON("1e400"), "x"}))
		case p == 3 && len(props) > 0:
			n := pick(b.rng, props)
			b.note("body:huge-number-%s", n)
			o = setMember(o, n, rawJSON(pick(b.rng, hugeNumbers)))
		case p == 4 && len(props) > 0:
			n := pick(b.rng, props)
			l := pick(b.rng, []int{201, 1000, 10000, 70000, 1 << 20})
			b.note("body:long-%s-%d", n, l)
			o = setMember(o, n, strings.Repeat("l", l))
		case p == 5 && len(props) > 0:
			n := pick(b.rng, props)
			b.note("body:broken-utf8-%s", n)
			o = setMember(o, n, rawJSON(pick(b.rng, brokenStrings)))
		case p == 6 && len(props) > 0:
			// The key twice: Go keeps the last, other parsers the first.
			n := pick(b.rng, props)
			b.note("body:duplicate-%s", n)
			o = append(o, member{n, pick(b.rng, []any{nil, 7, "", "NOT VALID"})})
		case p == 7 && len(props) > 0:
			n := pick(b.rng, props)
			b.note("body:case-%s", n)
			o = append(o, member{strings.ToUpper(n), b.validValue(s.Properties[n], true)})
		case p == 8 && len(b.g.cfg.Names) > 0 && len(props) > 0:
			// Another tenant's store name where a name goes.
			n := pick(b.rng, props)
			b.note("body:known-name-%s", n)
			o = setMember(o, n, pick(b.rng, b.g.cfg.Names))
		case p == 9:
			b.note("body:trailing-data")
			return append(marshal(o), pick(b.rng, []string{"{}", "x", ",", "\x00", "]", " {\"name\":\"a\"}"})...)
		case p == 10:
			b.note("body:in-array")
			return marshal([]any{o})
		default:
			b.note("body:null-field")
			if len(props) > 0 {
				o = setMember(o, pick(b.rng, props), nil)
			}
		}
	}
	return marshal(o)
}

func setMember(o object, key string, v any) object {
	for i := range o {
		if o[i].key == key {
			o[i].value = v
			return o
		}
	}
	return append(o, member{key, v})
}

var fieldWords = []string{"name", "engine", "title", "size", "host", "revision", "force", "chartVersion", "selector", "a", "", "$set", "__proto__"}

// randomValue is a JSON value of random shape.
func (b *builder) randomValue(depth int) any {
	p := b.rng.IntN(100)
	if depth >= 5 && p >= 60 {
		p = b.rng.IntN(60)
	}
	switch {
	case p < 8:
		return nil
	case p < 16:
		return b.pct(50)
	case p < 28:
		return b.rng.IntN(2000) - 1000
	case p < 34:
		return rawJSON(pick(b.rng, hugeNumbers))
	case p < 48:
		return b.word(1 + b.rng.IntN(40))
	case p < 54:
		return pick(b.rng, []any{"", "é", "💥", "\u202e", strings.Repeat("ß", 300), "kube-system", "<script>"})
	case p < 60:
		return rawJSON(pick(b.rng, brokenStrings))
	case p < 80:
		var a []any
		for range b.rng.IntN(8) {
			a = append(a, b.randomValue(depth+1))
		}
		return a
	default:
		var o object
		for range b.rng.IntN(8) {
			o = append(o, member{pick(b.rng, fieldWords), b.randomValue(depth + 1)})
		}
		return o
	}
}

// deep nests arrays or objects, from a little to far more than a parser's
// depth limit.
func (b *builder) deep() []byte {
	d := pick(b.rng, []int{100, 1000, 10000, 10001, 100000, 1 << 20})
	if 2*d+16 > b.g.cfg.MaxBody {
		d = b.g.cfg.MaxBody/2 - 16
	}
	b.note("body:deep-%d", d)
	var buf bytes.Buffer
	if b.pct(50) {
		buf.WriteString(strings.Repeat("[", d))
		buf.WriteString(strings.Repeat("]", d))
		return buf.Bytes()
	}
	buf.WriteString(strings.Repeat(`{"a":`, d))
	buf.WriteString("1")
	buf.WriteString(strings.Repeat("}", d))
	return buf.Bytes()
}

// large is a body of a size around the usual limits, up to MaxBody.
func (b *builder) large(rt Route) []byte {
	n := pick(b.rng, []int{64<<10 - 1, 64 << 10, 64<<10 + 1, 1 << 20, b.g.cfg.MaxBody})
	if n > b.g.cfg.MaxBody {
		n = b.g.cfg.MaxBody
	}
	b.note("body:large-%d", n)
	var buf bytes.Buffer
	switch b.rng.IntN(3) {
	case 0:
		fmt.Fprintf(&buf, `{%q:"`, pick(b.rng, b.propNames(rt)))
		pad := n - buf.Len() - 2
		if pad > 0 {
			buf.WriteString(strings.Repeat("a", pad))
		}
		buf.WriteString(`"}`)
	case 1:
		buf.WriteByte('[')
		buf.Write(bytes.Repeat([]byte("1,"), max(0, n-3)/2))
		buf.WriteString("1]")
	default:
		buf.Write(bytes.Repeat([]byte{' '}, max(0, n-2)))
		buf.WriteString("{}")
	}
	return buf.Bytes()
}

// notJSON is a body that is not one JSON object.
func (b *builder) notJSON() []byte {
	b.note("body:not-json")
	utf16le := func(s string) []byte {
		var out []byte
		for _, u := range utf16.Encode([]rune(s)) {
			out = append(out, byte(u), byte(u>>8))
		}
		return out
	}
	raw := make([]byte, 1+b.rng.IntN(200))
	for i := range raw {
		raw[i] = byte(b.rng.IntN(256))
	}
	return pick(b.rng, [][]byte{
		{}, []byte(" "), []byte("\n\t "), []byte("nul"), []byte("null"), []byte("[]"), []byte("{}{}"), []byte(`"string"`),
		[]byte("1"), []byte("{"), []byte(`{"name":`), []byte("name=a&engine=woocommerce"), []byte("<store><name>a</name></store>"),
		[]byte("--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\r\n--x--\r\n"), utf16le(`{"name":"utf-sixteen"}`),
		append([]byte("\xef\xbb\xbf"), `{"name":"bom"}`...), []byte("{'name':'single'}"), []byte(`{"name":"a",}`),
		[]byte("\x00\x00\x00"), raw,
	})
}
