package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// healthOf is GET /health of an API with checks, with token as bearer
// ("" for none).
func healthOf(t *testing.T, checks []Check, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	Router(Options{Checks: checks, Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: "tenant"}, adminToken: {Tenant: "ops", Role: "admin"}}}).ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	return rec
}

// secretError is a dependency's error that names what the public must
// not see.
const secretError = "dial tcp 10.0.3.7:27017: auth failed for user storeplatform-admin"

func TestHealth(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New(secretError) }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name       string
		checks     []Check
		token      string
		wantStatus int
		want       map[string]string // dependency -> status; nil: none shown
	}{
		{"all ok", []Check{{"mongodb", ok}, {"temporal", ok}, {"kubernetes", ok}}, "", http.StatusOK, nil},
		{"one failing", []Check{{"mongodb", ok}, {"temporal", down}, {"kubernetes", ok}}, "", http.StatusServiceUnavailable, nil},
		{"one hanging", []Check{{"mongodb", hang}, {"temporal", ok}}, "", http.StatusServiceUnavailable, nil},
		{"one failing, to a tenant", []Check{{"mongodb", down}}, acmeToken, http.StatusServiceUnavailable, nil},
		{"one failing, to an admin", []Check{{"mongodb", ok}, {"temporal", down}}, adminToken, http.StatusServiceUnavailable,
			map[string]string{"mongodb": "ok", "temporal": "failing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := healthOf(t, tt.checks, tt.token)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			var body healthResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if wantStatus := map[int]string{200: "ok", 503: "unavailable"}[tt.wantStatus]; body.Status != wantStatus {
				t.Fatalf("status %q, want %q", body.Status, wantStatus)
			}
			if len(body.Checks) != len(tt.want) {
				t.Fatalf("checks %+v, want %v", body.Checks, tt.want)
			}
			for name, want := range tt.want {
				got := body.Checks[name]
				if got.Status != want {
					t.Errorf("%s: status %q, want %q", name, got.Status, want)
				}
				if want == "failing" && got.Error == "" {
					t.Errorf("%s: failing without a reason", name)
				}
			}
		})
	}
}

// TestPublicHealthHidesDependencyErrors: a failing dependency's error
// reaches neither an anonymous caller nor a tenant, only the log.
func TestPublicHealthHidesDependencyErrors(t *testing.T) {
	down := []Check{{"mongodb", func(context.Context) error { return errors.New(secretError) }}}
	for _, token := range []string{"", acmeToken} {
		rec := healthOf(t, down, token)
		if got := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusServiceUnavailable || got != "{\n  \"status\": \"unavailable\"\n}" {
			t.Fatalf("token %q: %d %s, want 503 and the status alone", token, rec.Code, got)
		}
	}
}
