package httpapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/valyala/fastjson"
)

var fastParsers fastjson.ParserPool

// maxFastDepth is the deepest nesting strictFast takes on: fastjson's validator has no depth limit
// of its own, and builds its error message level by level (quadratic in the depth).
const maxFastDepth = 64

// strictFast is strictDetails for the usual body — valid JSON in valid UTF-8, without escape
// sequences (its keys then read the same to any parser) and nested at most maxFastDepth deep — on
// fastjson's validation and parse instead of encoding/json's (a verify body, mostly one long string,
// costs a fraction). ok is false for any other body, which strictDetails judges with encoding/json's
// own messages. TestStrictFastAgreesWithEncodingJSON and FuzzStrictFastAgrees pin the equivalence.
//
// For a body it passes without duplicate keys, value is the body as encoding/json decodes it into an
// any, but with numbers as json.Number: what the generated handlers' runtime.BindJSONBody binds
// without decoding the body again (see validatedBody).
func strictFast(body []byte, schema *openapi3.Schema) (details map[string]string, value any, ok bool) {
	if !plainAndShallow(body) || !utf8.Valid(body) || fastjson.ValidateBytes(body) != nil {
		return nil, nil, false
	}
	p := fastParsers.Get()
	defer fastParsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, nil, false
	}
	details = map[string]string{}
	checkFast("", schema, v, details)
	if len(details) == 0 {
		if d, whole := decoded(v); whole {
			value = d
		}
	}
	return details, value, true
}

// decoded is v as an any (objects map[string]any, arrays []any, numbers json.Number); ok is false
// when an object repeats a key (encoding/json would merge the repeats into a struct field, not keep
// the last).
func decoded(v *fastjson.Value) (out any, ok bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := make(map[string]any, o.Len())
		ok = true
		o.Visit(func(k []byte, item *fastjson.Value) {
			if ok {
				m[string(k)], ok = decoded(item)
			}
		})
		return m, ok && len(m) == o.Len()
	case fastjson.TypeArray:
		items := v.GetArray()
		a := make([]any, len(items))
		for i, item := range items {
			if a[i], ok = decoded(item); !ok {
				return nil, false
			}
		}
		return a, true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b), true
	case fastjson.TypeNumber:
		return json.Number(v.MarshalTo(nil)), true
	case fastjson.TypeTrue:
		return true, true
	case fastjson.TypeFalse:
		return false, true
	}
	return nil, true
}

// validatedBody is a request body strictBody has read and decoded: runtime.BindJSONBody binds its
// ValidatedValue into the generated request type (matching member names exactly, as strictBody has
// made sure they are) instead of decoding the body again, and falls back to reading it when the
// value does not fit.
type validatedBody struct {
	*bytes.Reader
	value any
}

// ValidatedValue implements the interface runtime.BindJSONBody looks for.
func (b validatedBody) ValidatedValue() any { return b.value }

// Close implements io.ReadCloser.
func (validatedBody) Close() error { return nil }

// checkFast is checkJSON on a fastjson value.
func checkFast(path string, schema *openapi3.Schema, v *fastjson.Value, details map[string]string) {
	if schema == nil || len(details) >= 10 {
		return
	}
	switch v.Type() {
	case fastjson.TypeNull:
		if !schema.Nullable {
			details[fieldName(path)] = "must not be null"
		}
	case fastjson.TypeObject:
		if schema.Type.Is("object") && len(schema.Properties) > 0 {
			o, _ := v.Object()
			checkFastObject(path, schema, o, details)
		}
	case fastjson.TypeArray:
		if schema.Type.Is("array") && schema.Items != nil {
			for i, item := range v.GetArray() {
				checkFast(path+"["+strconv.Itoa(i)+"]", schema.Items.Value, item, details)
			}
		}
	}
}

// checkFastObject is checkObject on a fastjson object: of a key given more than once, only the last
// value counts, as in encoding/json's map.
func checkFastObject(path string, schema *openapi3.Schema, o *fastjson.Object, details map[string]string) {
	keys := make([]string, 0, o.Len())
	values := make([]*fastjson.Value, 0, o.Len())
	o.Visit(func(k []byte, v *fastjson.Value) {
		keys, values = append(keys, string(k)), append(values, v)
	})
	givenAgain := func(i int) bool { return slices.Contains(keys[i+1:], keys[i]) }
	if len(keys) > 8 { // a map, not a quadratic scan, for large objects
		last := make(map[string]int, len(keys))
		for i, k := range keys {
			last[k] = i
		}
		givenAgain = func(i int) bool { return last[keys[i]] != i }
	}
	for i, k := range keys {
		if givenAgain(i) {
			continue
		}
		if p, ok := schema.Properties[k]; ok {
			checkFast(join(path, k), p.Value, values[i], details)
			continue
		}
		for name := range schema.Properties {
			if strings.EqualFold(name, k) {
				details[join(path, truncateMsg(k))] = "unknown field (field names are case-sensitive: " + name + ")"
			}
		}
	}
}

// plainAndShallow reports whether body has no backslash and nests no deeper than maxFastDepth
// (counting brackets outside strings, which without backslashes end at the next quote).
func plainAndShallow(body []byte) bool {
	if bytes.IndexByte(body, '\\') >= 0 {
		return false
	}
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			end := bytes.IndexByte(body[i+1:], '"')
			if end < 0 {
				return true // an unterminated string: the validator refuses the body
			}
			i += end + 1
		case '{', '[':
			if depth++; depth > maxFastDepth {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}
