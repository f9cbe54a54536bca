package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	seed(f)
	f.expectStart(1)
	f.do(t, http.MethodPost, "/api/stores", otherToken, wooBody)
	f.do(t, http.MethodGet, "/api/stores/nope", acmeToken, "")
	rec := f.do(t, http.MethodGet, "/metrics", "", "")
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
	body := f.do(t, http.MethodGet, "/metrics", "", "").Body.String()
	if strings.Contains(body, "random-") || !strings.Contains(body, `route="(unmatched)",status="404"} 2`) {
		t.Fatalf("metrics:\n%s", body)
	}
}
