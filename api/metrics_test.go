package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/store"
)

// seedStamped seeds the fixture's stores, each stamped as MongoDB's
// records always are.
func seedStamped(f *fixture) {
	seed(f)
	for name, r := range f.stores.recs {
		r.UpdatedAt = time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		f.stores.recs[name] = r
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	seedStamped(f)
	f.expectStart(1)
	f.do(t, http.MethodPost, "/api/stores", otherToken, wooBody)
	f.do(t, http.MethodGet, "/api/stores/nope", acmeToken, "")
	rec := f.do(t, http.MethodGet, "/metrics", adminToken, "")
	if rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`storeplatform_http_requests_total{method="POST",route="/api/stores",status="202"} 1`,
		`storeplatform_http_requests_total{method="GET",route="/api/stores/{name}",status="404"} 1`,
		`storeplatform_http_request_duration_seconds_count{method="POST",route="/api/stores"} 1`,
		`storeplatform_workflow_starts_total{result="ok",workflow="CreateStore"} 1`,
		`storeplatform_stores{phase="ready"} 2`,
		`storeplatform_stores{phase="requested"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestMetricsDoNotLabelUnmatchedPaths(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/random-1", "/random-2/x"} {
		f.do(t, http.MethodGet, p, "", "")
	}
	body := f.do(t, http.MethodGet, "/metrics", adminToken, "").Body.String()
	if strings.Contains(body, "random-") || !strings.Contains(body, `route="(unmatched)",status="404"} 2`) {
		t.Fatalf("metrics:\n%s", body)
	}
}

// metricsToken is the fixture's METRICS_TOKEN in the metrics tests.
const metricsToken = "scraper-0123456789abcdef"

// TestMetricsNeedAToken: /metrics answers an admin's token or the
// metrics token only; another caller gets a problem.
func TestMetricsNeedAToken(t *testing.T) {
	tests := []struct {
		name, token string
		wantStatus  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "guess", http.StatusUnauthorized},
		{"tenant's token", acmeToken, http.StatusForbidden},
		{"admin's token", adminToken, http.StatusOK},
		{"metrics token", metricsToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", MetricsToken: metricsToken,
				Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: "tenant"}, adminToken: {Tenant: "ops", Role: "admin"}}})
			rec := f.do(t, http.MethodGet, "/metrics", tt.token, "")
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				problemOf(t, rec)
			}
		})
	}
}

// TestMetricsCountStoresFromTheFeed: the store gauge equals the records'
// phases, follows a change, and no scrape counts the collection.
func TestMetricsCountStoresFromTheFeed(t *testing.T) {
	f := newFixture(t)
	seedStamped(f)
	scrape := func() string {
		t.Helper()
		rec := f.do(t, http.MethodGet, "/metrics", adminToken, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape: %d", rec.Code)
		}
		return rec.Body.String()
	}
	want := func(body string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(body, l+"\n") {
				t.Errorf("metrics lack %s", l)
			}
		}
	}
	want(scrape(), `storeplatform_stores{phase="ready"} 2`, `storeplatform_stores{phase="failed"} 1`,
		`storeplatform_stores{phase="deletion_stuck"} 1`, `storeplatform_stores{phase="deleting"} 0`)
	r := f.stores.recs["acme-1"]
	r.Phase, r.UpdatedAt = store.PhaseDeleting, time.Now().Truncate(time.Millisecond)
	f.stores.set(r)
	time.Sleep(eventPoll) // a scrape within a tick of the last read is served from memory
	want(scrape(), `storeplatform_stores{phase="ready"} 1`, `storeplatform_stores{phase="deleting"} 1`)
	f.stores.mu.Lock()
	defer f.stores.mu.Unlock()
	if f.stores.countCalls != 0 {
		t.Fatalf("%d scans of the collection by phase, want none", f.stores.countCalls)
	}
}
