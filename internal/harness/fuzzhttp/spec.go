package fuzzhttp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Route is one operation of the OpenAPI description.
type Route struct {
	// Method is upper case, e.g. POST.
	Method string
	// Template is the path with its parameters, e.g. /api/stores/{name}.
	Template string
	// PathParams are the template's parameters, in order.
	PathParams []Param
	// Query are the operation's query parameters.
	Query []Param
	// Body is the JSON request body's schema; nil when the operation
	// takes no body.
	Body *Schema
	// Public is true when the operation needs no token (security: []).
	Public bool
}

// Param is a path or query parameter.
type Param struct {
	Name   string
	Schema *Schema
}

// Schema is the part of a JSON Schema the generator uses to build bodies
// that are nearly right.
type Schema struct {
	Ref                  string             `json:"$ref"`
	Type                 Types              `json:"type"`
	Enum                 []any              `json:"enum"`
	Pattern              string             `json:"pattern"`
	Format               string             `json:"format"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
	MaxLength            *int               `json:"maxLength"`
	Required             []string           `json:"required"`
	Properties           map[string]*Schema `json:"properties"`
	Items                *Schema            `json:"items"`
	AdditionalProperties any                `json:"additionalProperties"`
}

// Types is a schema's "type": one name or, in OpenAPI 3.1, a list.
type Types []string

// UnmarshalJSON takes "string" as well as ["string", "null"].
func (t *Types) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = Types{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("type: %w", err)
	}
	*t = many
	return nil
}

// Is reports whether the schema allows type name (the first non-null
// type is the one the generator builds).
func (s *Schema) Is(name string) bool {
	for _, t := range s.Type {
		if t != "null" {
			return t == name
		}
	}
	return false
}

// PropertyNames returns the schema's property names, sorted, so that
// generation does not depend on map order.
func (s *Schema) PropertyNames() []string {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type openAPIDoc struct {
	OpenAPI  string                          `json:"openapi"`
	Security []map[string][]string           `json:"security"`
	Paths    map[string]map[string]rawObject `json:"paths"`
	Comps    struct {
		Schemas map[string]*Schema `json:"schemas"`
	} `json:"components"`
}

type rawObject = json.RawMessage

type operation struct {
	Security    *[]map[string][]string `json:"security"`
	Parameters  []parameter            `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *Schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type parameter struct {
	Name   string  `json:"name"`
	In     string  `json:"in"`
	Schema *Schema `json:"schema"`
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

var templateParamRE = regexp.MustCompile(`\{([^{}]+)\}`)

// ParseOpenAPI returns the operations of an OpenAPI 3 description, sorted
// by path and method, with $refs into components/schemas resolved.
func ParseOpenAPI(doc []byte) ([]Route, error) {
	var d openAPIDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, fmt.Errorf("openapi: version %q is not 3.x", d.OpenAPI)
	}
	res := resolver{schemas: d.Comps.Schemas}
	var routes []Route
	for path, item := range d.Paths {
		var shared []parameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, fmt.Errorf("openapi: %s parameters: %w", path, err)
			}
		}
		for method, raw := range item {
			if !httpMethods[method] {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
			}
			rt := Route{Method: strings.ToUpper(method), Template: path}
			params := map[string]*Schema{}
			for _, p := range append(append([]parameter{}, shared...), op.Parameters...) {
				s, err := res.resolve(p.Schema, 0)
				if err != nil {
					return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
				}
				switch p.In {
				case "query":
					rt.Query = append(rt.Query, Param{Name: p.Name, Schema: s})
				case "path":
					params[p.Name] = s
				}
			}
			for _, m := range templateParamRE.FindAllStringSubmatch(path, -1) {
				s := params[m[1]]
				if s == nil {
					s = &Schema{Type: Types{"string"}}
				}
				rt.PathParams = append(rt.PathParams, Param{Name: m[1], Schema: s})
			}
			if op.RequestBody != nil {
				if c, ok := op.RequestBody.Content["application/json"]; ok {
					s, err := res.resolve(c.Schema, 0)
					if err != nil {
						return nil, fmt.Errorf("openapi: %s %s: %w", method, path, err)
					}
					rt.Body = s
				}
			}
			security := d.Security
			if op.Security != nil {
				security = *op.Security
			}
			rt.Public = len(security) == 0
			routes = append(routes, rt)
		}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("openapi: no operations")
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Template != routes[j].Template {
			return routes[i].Template < routes[j].Template
		}
		return routes[i].Method < routes[j].Method
	})
	return routes, nil
}

// resolver replaces $refs with copies of the schemas they name.
type resolver struct{ schemas map[string]*Schema }

func (r resolver) resolve(s *Schema, depth int) (*Schema, error) {
	if s == nil {
		return &Schema{}, nil
	}
	if depth > 32 {
		return nil, fmt.Errorf("schema nested too deep (a $ref cycle?)")
	}
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		target := r.schemas[name]
		if !ok || target == nil {
			return nil, fmt.Errorf("unresolved $ref %q", s.Ref)
		}
		return r.resolve(target, depth+1)
	}
	out := *s
	if s.Properties != nil {
		out.Properties = make(map[string]*Schema, len(s.Properties))
		for n, p := range s.Properties {
			rp, err := r.resolve(p, depth+1)
			if err != nil {
				return nil, err
			}
			out.Properties[n] = rp
		}
	}
	if s.Items != nil {
		it, err := r.resolve(s.Items, depth+1)
		if err != nil {
			return nil, err
		}
		out.Items = it
	}
	return &out, nil
}

// IsAPIPath reports whether path is /api or under /api/.
func IsAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/")
}
