package fuzzhttp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// apiRoutes parses the API's own description, as the integration test
// reads it from /openapi.json.
func apiRoutes(t *testing.T) []Route {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ParseOpenAPI(doc)
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

func findRoute(t *testing.T, routes []Route, op string) Route {
	t.Helper()
	for _, r := range routes {
		if r.Method+" "+r.Template == op {
			return r
		}
	}
	t.Fatalf("no operation %s", op)
	return Route{}
}

func TestParseOpenAPIReadsEveryOperationOfTheAPI(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, item := range raw.Paths {
		for m := range item {
			if httpMethods[m] {
				want++
			}
		}
	}
	routes := apiRoutes(t)
	if len(routes) != want {
		t.Fatalf("%d routes, the description has %d operations", len(routes), want)
	}
	for i := 1; i < len(routes); i++ {
		a, b := routes[i-1], routes[i]
		if a.Template > b.Template || a.Template == b.Template && a.Method >= b.Method {
			t.Fatalf("not sorted: %s %s before %s %s", a.Method, a.Template, b.Method, b.Template)
		}
	}
}

func TestParseOpenAPIResolvesWhatTheGeneratorUses(t *testing.T) {
	routes := apiRoutes(t)
	tests := []struct {
		op    string
		check func(t *testing.T, r Route)
	}{
		{"POST /api/stores", func(t *testing.T, r Route) {
			if r.Body == nil || strings.Join(r.Body.Required, ",") != "name,engine" || r.Body.Properties["name"].Pattern == "" {
				t.Fatalf("body %+v", r.Body)
			}
			if r.Public {
				t.Fatal("public")
			}
		}},
		{"GET /api/stores/{name}", func(t *testing.T, r Route) {
			if len(r.PathParams) != 1 || r.PathParams[0].Name != "name" || r.PathParams[0].Schema.Pattern == "" {
				t.Fatalf("path params %+v", r.PathParams)
			}
		}},
		{"GET /api/stores", func(t *testing.T, r Route) {
			var names []string
			for _, q := range r.Query {
				names = append(names, q.Name)
			}
			if strings.Join(names, ",") != "limit,cursor,status,engine,name,owner" {
				t.Fatalf("query %v", names)
			}
		}},
		{"POST /api/rollouts", func(t *testing.T, r Route) {
			sel := r.Body.Properties["selector"]
			if sel == nil || sel.Properties["engine"] == nil || len(sel.Properties["engine"].Enum) != 2 {
				t.Fatalf("selector not resolved: %+v", sel)
			}
		}},
		{"GET /health", func(t *testing.T, r Route) {
			if !r.Public || r.Body != nil {
				t.Fatalf("%+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) { tt.check(t, findRoute(t, routes, tt.op)) })
	}
}

func TestParseOpenAPIRefuses(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not JSON", `{`, "openapi:"},
		{"swagger 2", `{"swagger":"2.0","openapi":"2.0","paths":{"/a":{"get":{}}}}`, "not 3.x"},
		{"no operations", `{"openapi":"3.1.0","paths":{}}`, "no operations"},
		{"unresolved ref", `{"openapi":"3.1.0","paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Nope"}}}}}}}}`, "unresolved"},
		{"ref cycle", `{"openapi":"3.1.0","components":{"schemas":{"A":{"$ref":"#/components/schemas/A"}}},"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}}}}}}`, "too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOpenAPI([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSchemaTypeIsOneOrAList(t *testing.T) {
	tests := []struct {
		json string
		is   string
	}{
		{`{"type":"object"}`, "object"},
		{`{"type":["array","null"]}`, "array"},
		{`{"type":["null","string"]}`, "string"},
		{`{}`, ""},
	}
	for _, tt := range tests {
		var s Schema
		if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		for _, name := range []string{"object", "array", "string"} {
			if got := s.Is(name); got != (name == tt.is) {
				t.Errorf("%s: Is(%q) = %v", tt.json, name, got)
			}
		}
	}
}
