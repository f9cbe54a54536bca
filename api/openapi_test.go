package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi-validator/schema_validation"
)

func TestOpenAPIIsValid31(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/openapi.json", "", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	doc, err := libopenapi.NewDocument(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("version %s", v)
	}
	ok, errs := schema_validation.ValidateOpenAPIDocument(doc)
	for _, e := range errs {
		t.Errorf("%s", e.Error())
		for _, se := range e.SchemaValidationErrors {
			t.Errorf("  %s: %s", se.FieldPath, se.Reason)
		}
	}
	if !ok {
		t.Fatal("the OpenAPI description is not valid OpenAPI 3.1")
	}
}

// TestOpenAPICoversEveryRoute compares the router's routes with the
// description's paths and methods, both ways.
// routeVarPattern matches a route variable with its pattern.
var routeVarPattern = regexp.MustCompile(`\{([a-zA-Z]+):[^}]*\}`)

func TestOpenAPICoversEveryRoute(t *testing.T) {
	f := newFixture(t)
	var inRouter []string
	err := f.handler.(*mux.Router).Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, _ := route.GetMethods()
		tpl = routeVarPattern.ReplaceAllString(tpl, "{$1}") // {id:[!-.0-~]+} is {id} in OpenAPI
		for _, m := range methods {
			inRouter = append(inRouter, strings.ToLower(m)+" "+tpl)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPISpec, &spec); err != nil {
		t.Fatal(err)
	}
	var inSpec []string
	for path, ops := range spec.Paths {
		for m := range ops {
			if m != "parameters" {
				inSpec = append(inSpec, m+" "+path)
			}
		}
	}
	sort.Strings(inRouter)
	sort.Strings(inSpec)
	if strings.Join(inRouter, "\n") != strings.Join(inSpec, "\n") {
		t.Fatalf("router:\n%s\n\nopenapi.json:\n%s", strings.Join(inRouter, "\n"), strings.Join(inSpec, "\n"))
	}
}

func TestDocsPageIsSelfContained(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/docs", "", "")
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `fetch("openapi.json")`) {
		t.Fatalf("%d", rec.Code)
	}
	for _, external := range []string{"http://", "https://", "//cdn", "@import"} {
		if strings.Contains(body, external) {
			t.Errorf("docs page references %q", external)
		}
	}
}

// TestOpenAPIValidatorRejectsBrokenDescriptions keeps the validity test
// honest: each broken description parses (so TestOpenAPIIsValid31 would
// reach the validator with it) and the validator rejects it, naming the
// field that is wrong; a minimal valid description is accepted.
func TestOpenAPIValidatorRejectsBrokenDescriptions(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		// want is "fieldPath: reason" of every schema error, "" for a
		// valid description.
		want []string
	}{
		{"valid", `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"ok"}}}}}}`, nil},
		{"no info.version", `{"openapi":"3.1.0","info":{"title":"x"},"paths":{}}`,
			[]string{"$.info: missing property 'version'"}},
		{"responses is a string", `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":"none"}}}}`,
			[]string{"$.paths['~1a'].get.responses: got string, want object"}},
		{"response without description", `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{}}}}}}`,
			[]string{"$.paths['~1a'].get.responses[200]: missing property 'description'"}},
		{"two faults", `{"openapi":"3.1.0","info":{"title":"x"},"paths":{"/a":{"get":{"responses":"none"}}}}`,
			[]string{"$.info: missing property 'version'", "$.paths['~1a'].get.responses: got string, want object"}},
		{"path without a slash", `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"a":{}}}`,
			[]string{"$.paths.a: false schema"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, err := libopenapi.NewDocument([]byte(c.doc))
			if err != nil {
				t.Fatalf("the description does not parse, so it tests nothing of the validator: %v", err)
			}
			ok, errs := schema_validation.ValidateOpenAPIDocument(doc)
			var got []string
			for _, e := range errs {
				for _, se := range e.SchemaValidationErrors {
					got = append(got, se.FieldPath+": "+se.Reason)
				}
			}
			sort.Strings(got)
			if ok != (c.want == nil) || strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("valid %v, errors:\n%s\nwant valid %v, errors:\n%s", ok, strings.Join(got, "\n"), c.want == nil, strings.Join(c.want, "\n"))
			}
		})
	}
}
