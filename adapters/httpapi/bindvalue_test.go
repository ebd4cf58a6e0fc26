package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/oapi-codegen/runtime"
)

// bodyTypes maps each route with a JSON body ("POST /v1/tokens") to the type the generated handler
// decodes it into, found from the spec's operationId and the generated StrictServerInterface (so a
// new operation is covered without being listed here).
var bodyTypes = sync.OnceValue(func() map[string]reflect.Type {
	doc, err := GetSpec()
	if err != nil {
		panic(err)
	}
	iface := reflect.TypeFor[StrictServerInterface]()
	out := map[string]reflect.Type{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if _, ok := testSchemas()[method+" "+path]; !ok {
				continue
			}
			m, ok := iface.MethodByName(strings.ToUpper(op.OperationID[:1]) + op.OperationID[1:])
			if !ok {
				panic("no method for operation " + op.OperationID)
			}
			body, ok := m.Type.In(1).FieldByName("Body")
			if !ok {
				panic("no Body in the request of " + op.OperationID)
			}
			out[method+" "+path] = body.Type.Elem()
		}
	}
	return out
})

// checkBindingAgrees fails when binding value (strictFast's decoding of body) into the route's body
// type, as runtime.BindJSONBody does, succeeds with a result other than encoding/json's decoding of
// body — or where encoding/json refuses the body. (A binding that fails is no disagreement: the
// generated handler then decodes the body itself.)
func checkBindingAgrees(t *testing.T, route string, body []byte, value any) {
	t.Helper()
	typ, ok := bodyTypes()[route]
	if !ok {
		t.Fatalf("no body type for %s", route)
	}
	bound := reflect.New(typ)
	if runtime.BindJSONValue(value, bound.Interface()) != nil {
		return
	}
	decoded := reflect.New(typ)
	if err := json.Unmarshal(body, decoded.Interface()); err != nil {
		t.Fatalf("%s, body %q: bound, but encoding/json refuses it: %v", route, body, err)
	}
	if !reflect.DeepEqual(bound.Interface(), decoded.Interface()) {
		t.Fatalf("%s, body %q:\nbound   %#v\ndecoded %#v", route, body, bound.Elem().Interface(), decoded.Elem().Interface())
	}
}

// bindSeeds are bodies of every route, valid and not, that bind: strings, numbers in every form,
// times, enums, booleans, nested arrays and free-form metadata.
var bindSeeds = []string{
	`{"name":"svc","scopes":["tokens:read"],"expires_at":"2030-01-02T03:04:05.123456789+02:00","rotation_period":86400,"audience":["a","b"],"metadata":{"n":1e3,"m":-0.5,"big":12345678901234567890,"deep":{"x":[1,"s",true,false,null,{}]}}}`,
	`{"name":"svc","scopes":["tokens:read"],"rotation_period":1e2}`, `{"name":"svc","scopes":["tokens:read"],"rotation_period":1.0}`,
	`{"name":"svc","scopes":["tokens:read"],"rotation_period":99999999999999999999}`, `{"name":"svc","scopes":["tokens:read"],"rotation_period":-1}`,
	`{"name":"svc","scopes":["tokens:read"],"expires_at":"not a time"}`, `{"name":"svc","scopes":"tokens:read"}`, `{"name":5}`,
	`{"token":"v","scopes":["tokens:read"]}`, `{"token":"v","extra":{"ignored":[1,2]}}`, `{"grace_period":300}`, `{"grace_period":3.5}`,
	`{"default_lifetime":3600,"max_lifetime":null,"max_rotation_period":7200,"require_expiry":true}`,
	`{"custom":[{"name":"reports:read","description":"Read reports"}]}`, `{"custom":[]}`, `{"role":"admin"}`, `{"role":"emperor"}`,
	`{"name":"ci","role":"member"}`, `{"email":"a@example.com","role":"viewer"}`, `{"name":"Acme","default_audience":"api"}`,
	`{"url":"https://example.com/h","events":["token.created","token.revoked"],"description":"d","enabled":false}`,
	`{"enabled":true,"events":[]}`, `{"name":"svc","scopes":["tokens:read"],"metadata":{"a":1},"metadata":{"b":2}}`, `[]`, `"s"`, `3`, `true`,
}

// TestBoundBodiesAreWhatEncodingJSONDecodes: for every route, a body strictBody passes with a decoded
// value binds, where it binds, to exactly what encoding/json would have decoded.
func TestBoundBodiesAreWhatEncodingJSONDecodes(t *testing.T) {
	if len(bodyTypes()) != len(testSchemas()) {
		t.Fatalf("body types for %d routes, body schemas for %d", len(bodyTypes()), len(testSchemas()))
	}
	bound := 0
	for _, b := range append(bindSeeds, strictSeeds...) {
		for route, schema := range testSchemas() {
			if _, value, _ := strictFast([]byte(b), schema); value != nil {
				checkBindingAgrees(t, route, []byte(b), value)
				bound++
			}
		}
	}
	if bound == 0 {
		t.Fatal("no body was bound")
	}
}
