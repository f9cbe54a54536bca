package fuzzhttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The generator builds bodies as trees of these values rather than Go maps:
// keys keep their order (so a seed gives the same bytes), a key may repeat,
// and rawJSON lets a body carry what encoding/json would never write
// (broken UTF-8, numbers out of every range, lone surrogates).
type (
	// object is a JSON object whose members keep their order.
	object []member
	member struct {
		key   string
		value any
	}
	// rawJSON is written as it is.
	rawJSON string
)

// encodeJSON writes v: nil, bool, int, float64, string, rawJSON, []any or
// object.
func encodeJSON(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case int:
		buf.WriteString(strconv.Itoa(v))
	case float64:
		buf.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		b, _ := json.Marshal(v)
		buf.Write(b)
	case rawJSON:
		buf.WriteString(string(v))
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeJSON(buf, e)
		}
		buf.WriteByte(']')
	case object:
		buf.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(m.key)
			buf.Write(k)
			buf.WriteByte(':')
			encodeJSON(buf, m.value)
		}
		buf.WriteByte('}')
	default:
		panic(fmt.Sprintf("fuzzhttp: cannot encode a %T", v))
	}
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	encodeJSON(&buf, v)
	return buf.Bytes()
}
