package fuzzhttp

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	problem := func(status string) string {
		return `{"type":"https://storeplatform.io/problems/x","title":"X","status":` + status + `}`
	}
	owners := Owners{"acme-shop": "acme", "globex-shop": "globex"}
	acme := Request{Method: "GET", Target: "/api/stores", Tenant: "acme"}
	tests := []struct {
		name   string
		req    Request
		status int
		ct     string
		body   string
		err    error
		want   []string // kinds
	}{
		{"200 JSON", acme, 200, "application/json", `{"items":[{"name":"acme-shop","owner":"acme"}]}`, nil, nil},
		{"500 problem", acme, 500, "application/problem+json", problem("500"), nil, []string{KindServerError}},
		{"503 health", Request{Method: "GET", Target: "/health"}, 503, "application/json", `{}`, nil, []string{KindServerError}},
		{"no answer", acme, 0, "", "", errors.New("EOF"), []string{KindNoAnswer}},
		{"301 under /api", Request{Method: "GET", Target: "/api/stores/%2e%2e"}, 301, "", "", nil, []string{KindRedirect}},
		{"301 at /api itself", Request{Method: "GET", Target: "/api/./"}, 301, "", "", nil, []string{KindRedirect}},
		{"301 outside /api", Request{Method: "GET", Target: "/index.html"}, 301, "", "", nil, nil},
		{"301 at /apiary is not /api", Request{Method: "GET", Target: "/apiary/."}, 301, "", "", nil, nil},
		{"404 problem", acme, 404, "application/problem+json", problem("404"), nil, nil},
		{"404 problem with a charset", acme, 404, "application/problem+json; charset=utf-8", problem("404"), nil, nil},
		{"404 text/plain", acme, 404, "text/plain; charset=utf-8", "404 page not found\n", nil, []string{KindNotProblem}},
		{"400 without Content-Type", acme, 400, "", "", nil, []string{KindNotProblem}},
		{"problem with another status", acme, 404, "application/problem+json", problem("400"), nil, []string{KindNotProblem}},
		{"problem without a title", acme, 404, "application/problem+json", `{"type":"t","status":404}`, nil, []string{KindNotProblem}},
		{"problem that is not JSON", acme, 413, "application/problem+json", "too large", nil, []string{KindNotProblem}},
		{"HEAD 405 problem has no body", Request{Method: "HEAD", Target: "/api/me"}, 405, "application/problem+json", "", nil, nil},
		{"another tenant's store listed", acme, 200, "application/json", `{"items":[{"name":"globex-shop"}]}`, nil, []string{KindCrossTenant}},
		{"another tenant as owner", acme, 200, "application/json", `{"name":"x","owner": "globex"}`, nil, []string{KindCrossTenant}},
		{"in an event stream", Request{Method: "GET", Target: "/api/events", Tenant: "acme"}, 200, "text/event-stream",
			"event: store\ndata: {\"name\":\"globex-shop\"}\n\n", nil, []string{KindCrossTenant}},
		{"the name the request asked for, refused", Request{Method: "GET", Target: "/api/stores/globex-shop", Tenant: "acme"}, 404,
			"application/problem+json", `{"type":"t","title":"Not found","status":404,"detail":"no store named globex-shop"}`, nil, nil},
		{"the name the request asked for, percent-encoded", Request{Method: "GET", Target: "/api/stores/globex%2Dshop", Tenant: "acme"}, 404,
			"application/problem+json", `{"type":"t","title":"Not found","status":404,"detail":"no store named globex-shop"}`, nil, nil},
		{"the name in the body, refused", Request{Method: "POST", Target: "/api/stores", Tenant: "acme", Body: []byte(`{"name":"globex-shop"}`)}, 409,
			"application/problem+json", `{"type":"t","title":"Conflict","status":409,"detail":"the name globex-shop is taken"}`, nil, nil},
		{"the name the request asked for, answered", Request{Method: "GET", Target: "/api/stores/globex-shop", Tenant: "acme"}, 200,
			"application/json", `{"name":"globex-shop"}`, nil, []string{KindCrossTenant}},
		{"an admin sees everything", Request{Method: "GET", Target: "/api/stores", Tenant: "ops", Admin: true}, 200, "application/json",
			`{"items":[{"name":"globex-shop","owner":"globex"}]}`, nil, nil},
		{"no valid token, a store name", Request{Method: "GET", Target: "/metrics"}, 200, "text/plain", "globex-shop", nil, []string{KindCrossTenant}},
		{"no valid token, refused", Request{Method: "GET", Target: "/api/stores/acme-shop"}, 401, "application/problem+json",
			`{"type":"t","title":"Unauthorized","status":401}`, nil, nil},
		{"304 under /api is not a redirect", Request{Method: "GET", Target: "/api/me"}, 304, "", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := Response{Status: tt.status, Header: http.Header{}, Body: []byte(tt.body), Err: tt.err}
			if tt.ct != "" {
				resp.Header.Set("Content-Type", tt.ct)
			}
			var got []string
			for _, f := range Check(tt.req, resp, owners) {
				got = append(got, f.Kind)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("findings %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeKeepsTokensOut(t *testing.T) {
	real := "sp_" + strings.Repeat("s3cr3t", 7) + "x"
	tests := []struct {
		name, label string
		auth        []string
		want        []string
	}{
		{"a tenant's token", "acme", []string{"Bearer " + real}, []string{"Bearer sp_s3c… (token acme)"}},
		{"a real token after a made-up one", "made-up", []string{"Bearer junk", "Bearer " + real}, []string{"Bearer junk", "Bearer sp_s3c…"}},
		{"a made-up token is shown", "made-up", []string{"Bearer sp_short"}, []string{"Bearer sp_short"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Request{Index: 3, Method: "GET", Target: "/api/me", Token: tt.label, Header: http.Header{"Authorization": tt.auth}}
			d := r.Describe()
			if strings.Contains(d, "s3cr3ts3cr3t") || !strings.HasPrefix(d, "#3 GET /api/me") {
				t.Fatal(d)
			}
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("%q not in\n%s", w, d)
				}
			}
		})
	}
}

func TestFindingsGroupByKindRouteAndStatus(t *testing.T) {
	fs := []Finding{
		{Kind: KindRedirect, Route: "", Target: "/api/a/..", Status: 301, Index: 1},
		{Kind: KindRedirect, Route: "", Target: "/api/b/..", Status: 301, Index: 2},
		{Kind: KindServerError, Route: "GET /api/rollouts/{id}", Status: 500, Index: 3},
		{Kind: KindServerError, Route: "GET /api/rollouts/{id}", Status: 502, Index: 4},
	}
	groups := Groups(fs)
	if len(groups) != 3 || len(groups[0].Findings) != 2 || groups[0].Findings[0].Kind != KindRedirect {
		t.Fatalf("%+v", groups)
	}
	var b strings.Builder
	WriteGroups(&b, groups, 1)
	if !strings.Contains(b.String(), "2 × 3xx under /api | (made-up or malformed path) | 301") || !strings.Contains(b.String(), "and requests 2") {
		t.Fatal(b.String())
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	WriteTable(&b, []Figure{{Name: "requests sent", Count: 10}, {Name: "5xx answers", Count: 2, Known: 1, MustBeZero: true}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[2]), " ") != "5xx answers 2 1 0" || strings.Join(strings.Fields(lines[1]), " ") != "requests sent 10" {
		t.Fatalf("%q", lines)
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	WriteMarkdown(&b, []Figure{{Name: "requests sent", Count: 10}, {Name: "  answered 2xx", Count: 7},
		{Name: "5xx | answers", Count: 2, Known: 1, MustBeZero: true}})
	want := "| figure | count | known bugs | must be |\n|---|---|---|---|\n| requests sent | 10 |  |  |\n" +
		"| … answered 2xx | 7 |  |  |\n| 5xx \\| answers | 2 | 1 | 0 |\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
