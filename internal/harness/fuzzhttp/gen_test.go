package fuzzhttp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// testConfig is a generator over the API's description with two tenants,
// an admin and a revoked token.
func testConfig(t *testing.T, seed uint64) Config {
	t.Helper()
	return Config{
		Seed:   seed,
		Routes: apiRoutes(t),
		Tokens: []Token{
			{Label: "acme", Value: "sp_acmeacmeacme", Tenant: "acme"},
			{Label: "globex", Value: "sp_globexglobex", Tenant: "globex"},
			{Label: "ops", Value: "sp_opsopsopsops", Tenant: "ops", Admin: true},
			{Label: "revoked", Value: "sp_revokedrevoked"},
		},
		Names:       []string{"acme-ledger", "globex-quasar"},
		CreateNames: map[string][]string{"acme": {"fz-acme-a"}, "globex": {"fz-globex-a"}, "ops": {"fz-ops-a"}},
	}
}

func newTestGenerator(t *testing.T, cfg Config) *Generator {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRequestDependsOnlyOnSeedAndIndex(t *testing.T) {
	t.Parallel()
	a := newTestGenerator(t, testConfig(t, 7))
	b := newTestGenerator(t, testConfig(t, 7))
	other := newTestGenerator(t, testConfig(t, 8))
	// b makes them in the other order: no state is carried between
	// requests.
	for i := 199; i >= 0; i-- {
		if ra, rb := a.Request(i), b.Request(i); !reflect.DeepEqual(ra, rb) {
			t.Fatalf("request %d differs between two generators of one seed:\n%s\n%s", i, ra.Describe(), rb.Describe())
		}
	}
	same := 0
	for i := range 200 {
		if reflect.DeepEqual(a.Request(i), other.Request(i)) {
			same++
		}
	}
	if same > 5 {
		t.Fatalf("%d of 200 requests are the same under another seed", same)
	}
}

func TestNewGeneratorRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no routes", func(c *Config) { c.Routes = nil }, "no routes"},
		{"tiny MaxBody", func(c *Config) { c.MaxBody = 10 }, "MaxBody"},
		{"bad pattern", func(c *Config) {
			c.Routes = []Route{{Method: "GET", Template: "/a/{x}", PathParams: []Param{{Name: "x", Schema: &Schema{Pattern: "("}}}}}
		}, "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, 1)
			tt.change(&cfg)
			if _, err := NewGenerator(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEveryOperationIsFuzzed(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, 3)
	g := newTestGenerator(t, cfg)
	seen := map[string]int{}
	for i := range 2000 {
		if r := g.Request(i); r.Route != "" {
			seen[r.Route]++
		}
	}
	for _, rt := range cfg.Routes {
		if op := rt.Method + " " + rt.Template; seen[op] < 10 {
			t.Errorf("%s: %d requests of 2000", op, seen[op])
		}
	}
}

// TestTheHostileCasesAreAllMade checks that a run of a thousand requests
// has each kind of request the issue asks for.
func TestTheHostileCasesAreAllMade(t *testing.T) {
	t.Parallel()
	g := newTestGenerator(t, testConfig(t, 11))
	want := []string{
		"path:..%2F..%2Fetc%2Fpasswd", "path:%2e%2e", "path:%ff%fe%fd", "path:random-bytes", "path:walk", "path:unknown",
		"path:double-slash", "path:long-", "query", "method:odd", "method:other", "auth:none", "auth:made-up", "auth:truncated",
		"body:valid", "body:random-json", "body:deep-", "body:large-", "body:huge-number", "body:broken-utf8", "body:not-json",
		"body:unknown-field", "body:duplicate-", "body:wrong-type-", "content-type:", "chunked", "header:large",
	}
	notes := map[string]bool{}
	tokens := map[string]bool{}
	biggest := 0
	for i := range 3000 {
		r := g.Request(i)
		for _, n := range r.Notes {
			notes[n] = true
		}
		tokens[r.Token] = true
		biggest = max(biggest, len(r.Body))
	}
	for _, w := range want {
		found := false
		for n := range notes {
			if strings.HasPrefix(n, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no request made by %q", w)
		}
	}
	for _, tok := range []string{"acme", "globex", "ops", "revoked", "made-up", ""} {
		if !tokens[tok] {
			t.Errorf("no request with token %q", tok)
		}
	}
	if biggest < 1<<20 {
		t.Errorf("the biggest body is %d bytes; want some of megabytes", biggest)
	}
}

func TestRequestsAreBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		maxBody int
	}{
		{"default 3 MiB", 0},
		{"64 KiB", 64 << 10},
		{"1 KiB", 1 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, 5)
			cfg.MaxBody = tt.maxBody
			g := newTestGenerator(t, cfg)
			limit := g.cfg.MaxBody
			for i := range 1000 {
				r := g.Request(i)
				if len(r.Body) > limit {
					t.Fatalf("request %d: body of %d bytes, limit %d", i, len(r.Body), limit)
				}
				if len(r.Target) > 128<<10 {
					t.Fatalf("request %d: target of %d bytes", i, len(r.Target))
				}
			}
		})
	}
}

// TestTargetsAreValidRequestTargets: what the generator makes must reach
// the API, not be refused by Go's client or server as malformed HTTP.
func TestTargetsAreValidRequestTargets(t *testing.T) {
	t.Parallel()
	g := newTestGenerator(t, testConfig(t, 9))
	for i := range 2000 {
		r := g.Request(i)
		if !strings.HasPrefix(r.Target, "/") || strings.HasPrefix(r.Target, "//") {
			t.Fatalf("request %d: target %q", i, r.Target)
		}
		if _, err := url.ParseRequestURI(r.Target); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if _, err := http.NewRequest(r.Method, "http://example.com/", nil); err != nil {
			t.Fatalf("request %d: method %q: %v", i, r.Method, err)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("request %d: header %s %q", i, k, v)
				}
			}
		}
	}
}

// TestCreateBodiesUseTheTenantsNames: a create body built from the schema
// for a tenant's token names one of that tenant's create names, which is
// what bounds the stores a run makes.
func TestCreateBodiesUseTheTenantsNames(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, 13)
	g := newTestGenerator(t, cfg)
	creates := 0
	for i := range 2000 {
		r := g.Request(i)
		if !r.MayCreate || r.Tenant == "" || !hasNote(r, "body:valid") {
			continue
		}
		var body struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			continue // a body cut short by MaxBody, or chunked garbage
		}
		creates++
		if !contains(cfg.CreateNames[r.Tenant], body.Name) {
			t.Errorf("request %d: %s creates %q", i, r.Tenant, body.Name)
		}
	}
	if creates == 0 {
		t.Fatal("no well-formed create in 2000 requests")
	}
}

func hasNote(r Request, note string) bool {
	for _, n := range r.Notes {
		if n == note {
			return true
		}
	}
	return false
}

func TestEncodeRaw(t *testing.T) {
	tests := []struct {
		in    string
		query bool
		want  string
	}{
		{"abc-DEF_1.~", false, "abc-DEF_1.~"},
		{"a b", false, "a%20b"},
		{"%2e%2E", false, "%2e%2E"},
		{"%zz", false, "%25zz"},
		{"%2", false, "%252"},
		{"\xff\x00", false, "%FF%00"},
		{"a/b;c=d", false, "a/b;c=d"},
		{"a?b", false, "a%3Fb"},
		{"a?b", true, "a?b"},
		{"#{}\"", false, "%23%7B%7D%22"},
	}
	for _, tt := range tests {
		if got := encodeRaw(tt.in, tt.query); got != tt.want {
			t.Errorf("encodeRaw(%q, %v) = %q, want %q", tt.in, tt.query, got, tt.want)
		}
	}
}

func TestEncodeJSONWritesWhatEncodingJSONWouldNot(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"ordered object with a repeated key", object{{"b", 1}, {"a", nil}, {"b", "x"}}, `{"b":1,"a":null,"b":"x"}`},
		{"raw huge number", object{{"n", rawJSON("1e400")}}, `{"n":1e400}`},
		{"raw broken UTF-8", []any{rawJSON("\"\xff\"")}, "[\"\xff\"]"},
		{"nested", []any{true, 1.5, []any{}, object{}}, `[true,1.5,[],{}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(marshal(tt.v)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}
