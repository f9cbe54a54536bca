package api

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
)

func dashboardRouter(t *testing.T, files fstest.MapFS) http.Handler {
	t.Helper()
	f := newFixture(t)
	return Router(Options{
		Stores: f.stores, Temporal: f.temporal, TaskQueue: "q",
		Tokens:        fakeTokens{acmeToken: {ID: "tok1", Name: "laptop", Tenant: "acme", Role: auth.RoleTenant}},
		Dashboard:     Dashboard(files),
		TemporalUIURL: "http://127.0.0.1:8233/", TemporalNamespace: "default",
		StoreURLNotice: "Nothing serves store URLs here.",
		Now:            func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
}

func TestDashboardServesFilesAndClientRoutes(t *testing.T) {
	h := dashboardRouter(t, fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>dash</title>")},
		"assets/app-1a2b.js": {Data: []byte("console.log(1)")},
	})
	tests := []struct {
		method, path string
		status       int
		body, ctype  string
		cache, csp   string
	}{
		{"GET", "/", 200, "<title>dash</title>", "text/html; charset=utf-8", "no-cache", "default-src 'self'"},
		{"GET", "/stores/shop", 200, "<title>dash</title>", "text/html; charset=utf-8", "no-cache", "default-src 'self'"},
		{"GET", "/new", 200, "<title>dash</title>", "text/html; charset=utf-8", "no-cache", "default-src 'self'"},
		{"GET", "/assets/app-1a2b.js", 200, "console.log(1)", "text/javascript; charset=utf-8", "immutable", ""},
		{"GET", "/assets/missing.js", 404, "no such file in the dashboard", problemContentType, "", ""},
		// The API keeps its own 404s and methods.
		{"GET", "/api/nope", 404, "no such route", problemContentType, "", ""},
		{"GET", "/api", 404, "no such route", problemContentType, "", ""},
		{"POST", "/somewhere", 404, "no such route", problemContentType, "", ""},
		{"GET", "/health", 200, "", "application/json", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
				t.Fatalf("%d %q", rec.Code, rec.Body.String())
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, strings.Split(tt.ctype, ";")[0]) {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if !strings.Contains(rec.Header().Get("Cache-Control"), tt.cache) {
				t.Errorf("Cache-Control %q, want %q", rec.Header().Get("Cache-Control"), tt.cache)
			}
			if !strings.Contains(rec.Header().Get("Content-Security-Policy"), tt.csp) {
				t.Errorf("CSP %q", rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

func TestDashboardMissingBuildExplainsItself(t *testing.T) {
	h := dashboardRouter(t, fstest.MapFS{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "make web") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestMe(t *testing.T) {
	h := dashboardRouter(t, fstest.MapFS{})
	tests := []struct {
		name, token string
		status      int
		want        Me
	}{
		{"token", acmeToken, 200, Me{Tenant: "acme", Role: auth.RoleTenant, TokenID: "tok1", TokenName: "laptop",
			TemporalWorkflowURL: "http://127.0.0.1:8233/namespaces/default/workflows/{workflowId}", StoreLimit: 5,
			StoreURLNotice: "Nothing serves store URLs here."}},
		{"no token", "", 401, Me{}},
		{"bad token", "sp_nope", 401, Me{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/me", nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
			if tt.status != 200 {
				problemOf(t, rec)
				return
			}
			var got Me
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got != tt.want {
				t.Fatalf("%+v (%v), want %+v", got, err, tt.want)
			}
		})
	}
}

// TestDashboardUsesTheAPIMessages keeps the create form's checks (web/src/
// validation.ts) saying what the API says: same messages, same patterns.
func TestDashboardUsesTheAPIMessages(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "web", "src", "validation.ts"))
	if err != nil {
		t.Fatal(err)
	}
	ts := map[string]string{}
	for _, m := range regexp.MustCompile(`export const (Msg\w+) =\s*(?:'([^']*)'|"([^"]*)")`).FindAllStringSubmatch(string(src), -1) {
		ts[m[1]] = m[2] + m[3]
	}
	for name, want := range map[string]string{
		"MsgNameRequired": MsgNameRequired, "MsgNameFormat": MsgNameFormat, "MsgNameReserved": MsgNameReserved,
		"MsgEngine": MsgEngine, "MsgTitle": MsgTitle, "MsgEmail": MsgEmail,
		"MsgMedusaImage": MsgMedusaImage, "MsgMedusaImageForm": MsgMedusaImageForm,
		"MsgHost": MsgHost, "MsgSize": MsgSize, "MsgNamePrefix": MsgNamePrefix,
		"MsgTenant": auth.ErrInvalidTenant.Error(),
	} {
		if got, ok := ts[name]; !ok {
			t.Errorf("web/src/validation.ts has no %s", name)
		} else if got != want {
			t.Errorf("%s: dashboard says %q, API says %q", name, got, want)
		}
	}
	for what, re := range map[string]*regexp.Regexp{"name": nameRE, "email": emailRE, "image": imageRE, "host": hostRE, "name prefix": namePrefixRE} {
		if !strings.Contains(string(src), "/"+re.String()+"/") {
			t.Errorf("web/src/validation.ts does not use the API's %s pattern /%s/", what, re)
		}
	}
	for name := range reservedNames {
		if !strings.Contains(string(src), "'"+name+"'") {
			t.Errorf("web/src/validation.ts does not reserve %q", name)
		}
	}
}

// TestAPIPathsAreNeverRedirected: an API path with dot segments, doubled
// or trailing slashes names no route and answers 404 problem+json; the
// router used to clean it and answer 301, which a client may follow with
// another method.
func TestAPIPathsAreNeverRedirected(t *testing.T) {
	h := dashboardRouter(t, fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}})
	tests := []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/api/stores/..%2F..%2Fetc", http.StatusNotFound},
		{http.MethodDelete, "/api/stores/%2e%2e", http.StatusNotFound},
		{http.MethodGet, "/api/stores/../../etc/passwd", http.StatusNotFound},
		{http.MethodGet, "/api//stores", http.StatusNotFound},
		{http.MethodPost, "/api/./stores", http.StatusNotFound},
		{http.MethodGet, "/api/stores/shop/./events", http.StatusNotFound},
		// Outside /api, the dashboard: no page has a ".." segment.
		{http.MethodGet, "/x/../metrics", http.StatusNotFound},
		{http.MethodGet, "/health/a%2F..%2Fb", http.StatusNotFound},
		{http.MethodHead, "/assets/../index.html", http.StatusNotFound},
		// A rollout ID Temporal would refuse names no rollout.
		{http.MethodGet, "/api/rollouts/%E2%80%AE", http.StatusNotFound},
		{http.MethodPost, "/api/rollouts/%00/resume", http.StatusNotFound},
		{http.MethodGet, "/api/rollouts/%c0%ae/events", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+acmeToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != problemContentType || rec.Header().Get("Location") != "" {
				t.Fatalf("%d %q Location %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Location"), rec.Body.String())
			}
		})
	}
}

// brokenFS fails every Stat with an error other than "does not exist".
type brokenFS struct{}

func (brokenFS) Open(string) (fs.File, error) { return nil, errors.New("disk on fire") }

// TestDashboardUnreadableIs500Logged: a dashboard that cannot be read is a
// 500 problem whose cause is in the request's log.
func TestDashboardUnreadableIs500Logged(t *testing.T) {
	var logs strings.Builder
	h := Router(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Dashboard: Dashboard(brokenFS{})})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/stores/shop", nil))
	p := problemOf(t, rec)
	if rec.Code != http.StatusInternalServerError || p.Detail != "the dashboard could not be read" {
		t.Fatalf("%d %+v", rec.Code, p)
	}
	if !strings.Contains(logs.String(), `msg="internal error"`) || !strings.Contains(logs.String(), "disk on fire") ||
		!strings.Contains(logs.String(), "request_id="+p.RequestID) {
		t.Errorf("the cause is not logged with the request ID:\n%s", logs.String())
	}
}
