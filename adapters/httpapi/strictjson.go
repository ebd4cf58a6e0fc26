package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tooken/tooken/ports"
)

// bodySchemas maps each route pattern ("POST /v1/tokens") to the schema of its JSON request body.
func bodySchemas() map[string]*openapi3.Schema {
	doc, err := GetSpec()
	if err != nil {
		panic("httpapi: the embedded openapi.yaml does not load: " + err.Error())
	}
	out := map[string]*openapi3.Schema{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				out[method+" "+path] = mt.Schema.Value
			}
		}
	}
	return out
}

// strictBody refuses, with 400, a JSON body the generated decoder would read differently from the
// spec (schema, the body's schema): data after the JSON value, a key that matches a field only
// case-insensitively (Go's decoder would take "NAME" for "name") and null for a field that is not
// nullable (Go's decoder would take it for "omitted"). It reports whether the request may go on, with
// the body it read put back.
func (s *Server) strictBody(w http.ResponseWriter, r *http.Request, schema *openapi3.Schema) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.errs.requestError(w, r, err)
		return false
	}
	var value any
	if len(bytes.TrimSpace(body)) > 0 {
		details, v, ok := strictFast(body, schema)
		if !ok {
			if details, err = strictDetails(body, schema); err != nil {
				s.errs.write(w, r, decodeError(err))
				return false
			}
		}
		if len(details) > 0 {
			s.errs.write(w, r, strictError(details))
			return false
		}
		value = v
	}
	if value != nil {
		r.Body = validatedBody{bytes.NewReader(body), value}
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return true
}

// strictDetails is what strictBody refuses in a non-empty body, by encoding/json's reading of it; a
// *json.SyntaxError when it is not JSON.
func strictDetails(body []byte, schema *openapi3.Schema) (map[string]string, error) {
	// One parse both validates the body and, for the usual object, gives checkObject its fields.
	var obj map[string]json.RawMessage
	err := json.Unmarshal(body, &obj)
	if _, syntax := err.(*json.SyntaxError); syntax {
		return nil, err
	}
	details := map[string]string{}
	if err == nil && obj != nil {
		checkObject("", schema, obj, details)
	} else {
		checkJSON("", schema, body, details)
	}
	return details, nil
}

func strictError(details map[string]string) error {
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &ports.Error{Code: ports.EINVALID, Details: details, Message: keys[0] + ": " + details[keys[0]]}
}

// checkJSON walks raw along schema, recording in details every key that differs from a property
// only by case and every null where the schema does not allow one.
func checkJSON(path string, schema *openapi3.Schema, raw json.RawMessage, details map[string]string) {
	if schema == nil || len(details) >= 10 {
		return
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		if !schema.Nullable {
			details[fieldName(path)] = "must not be null"
		}
		return
	}
	switch {
	case schema.Type.Is("object"):
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil {
			checkObject(path, schema, obj, details)
		}
	case schema.Type.Is("array") && schema.Items != nil:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return
		}
		for i, v := range items {
			checkJSON(path+"["+strconv.Itoa(i)+"]", schema.Items.Value, v, details)
		}
	}
}

// checkObject is checkJSON for the fields of an object (schema, the object's schema).
func checkObject(path string, schema *openapi3.Schema, obj map[string]json.RawMessage, details map[string]string) {
	if schema == nil || !schema.Type.Is("object") || len(schema.Properties) == 0 {
		return
	}
	for k, v := range obj {
		if p, ok := schema.Properties[k]; ok {
			checkJSON(join(path, k), p.Value, v, details)
			continue
		}
		for name := range schema.Properties {
			if strings.EqualFold(name, k) {
				details[join(path, truncateMsg(k))] = fmt.Sprintf("unknown field (field names are case-sensitive: %s)", name)
			}
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}
