package bench

import (
	"testing"
)

func TestParseAPICountsSumsByVerbAndResource(t *testing.T) {
	raw := []byte(`# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 5
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="namespaces",scope="resource",subresource="finalize",verb="PUT",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="namespace",subresource="",verb="LIST",version="v1"} 7
apiserver_request_duration_seconds_count{verb="POST"} 99
`)
	got, err := parseAPICounts(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := apiCounts{"POST secrets": 7, "PUT namespaces/finalize": 1, "LIST deployments": 7}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
	before := apiCounts{"POST secrets": 3, "LIST deployments": 7}
	d := got.since(before)
	tests := []struct {
		name       string
		writesOnly bool
		want       float64
	}{
		{"every request", false, 5},
		{"writes", true, 5},
	}
	for _, tt := range tests {
		if n := d.total(tt.writesOnly); n != tt.want {
			t.Errorf("%s: %v, want %v (%v)", tt.name, n, tt.want, d)
		}
	}
	if top := got.top(2); len(top) != 2 || top[0] != "LIST deployments" || top[1] != "POST secrets" {
		t.Errorf("top 2: %v", top)
	}
}
