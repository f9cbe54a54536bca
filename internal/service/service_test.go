package service

import (
	"reflect"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	helmtime "helm.sh/helm/v3/pkg/time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/store"
)

// TestHostAllowed: a tenant's stores live under the store domain; an
// admin may choose any host.
func TestHostAllowed(t *testing.T) {
	s := New(Config{StoreDomain: "stores.example.com"})
	tenant, admin := Caller{Token: auth.Token{Tenant: "acme", Role: auth.RoleTenant}}, Caller{Token: auth.Token{Role: auth.RoleAdmin}}
	tests := []struct {
		name string
		who  Caller
		host string
		ok   bool
	}{
		{"tenant under the domain", tenant, "shop.stores.example.com", true},
		{"tenant elsewhere", tenant, "shop.example.org", false},
		{"tenant on the bare domain", tenant, "stores.example.com", false},
		{"admin elsewhere", admin, "shop.example.org", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.hostAllowed(tt.who, tt.host)
			if (err == nil) != tt.ok {
				t.Fatalf("hostAllowed: %v, want allowed %v", err, tt.ok)
			}
			if err != nil && (err.Code != store.CodeInvalid || err.Field != "host") {
				t.Errorf("%+v, want an invalid host", err)
			}
		})
	}
}

// TestSameRequest: a create whose name has a live record is the same
// request again, or a conflict.
func TestSameRequest(t *testing.T) {
	who := Caller{Token: auth.Token{Tenant: "acme"}}
	spec := store.Spec{Name: "shop", Engine: store.EngineWooCommerce, Host: "shop.example.com"}
	live := func(owner string, p store.Phase, sp store.Spec) store.Record {
		sp.Generation = 3
		return store.Record{Spec: sp, Owner: owner, Phase: p}
	}
	other := spec
	other.Title = "another"
	tests := []struct {
		name string
		cur  store.Record
		code store.Code // "" for the record itself
	}{
		{"the same request", live("acme", store.PhaseReady, spec), ""},
		{"another tenant's name", live("globex", store.PhaseReady, spec), store.CodeConflict},
		{"another spec", live("acme", store.PhaseReady, other), store.CodeConflict},
		{"being deleted", live("acme", store.PhaseDeleting, spec), store.CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := sameRequest(who, spec, tt.cur)
			if store.ErrorCode(err) != tt.code {
				t.Fatalf("%v, want code %q", err, tt.code)
			}
			if err == nil && rec.Generation != 3 {
				t.Errorf("generation %d, want the record's", rec.Generation)
			}
		})
	}
}

// TestRevisions: newest first, each with the spec changes since the one
// before it.
func TestRevisions(t *testing.T) {
	rel := func(v int, size string, status release.Status) *release.Release {
		t.Helper()
		return &release.Release{Version: v, Config: map[string]any{"store": map[string]any{"size": size}},
			Chart: &chart.Chart{Metadata: &chart.Metadata{Version: "0.1.0"}},
			Info:  &release.Info{Status: status, LastDeployed: helmtime.Unix(int64(v), 0)}}
	}
	got := revisions([]*release.Release{rel(2, "medium", release.StatusDeployed), rel(1, "small", release.StatusSuperseded)})
	if len(got) != 2 || got[0].Revision != 2 || got[1].Revision != 1 {
		t.Fatalf("revisions %+v, want 2 then 1", got)
	}
	if got[0].Size != "medium" || got[0].Status != "deployed" || got[0].ChartVersion != "0.1.0" || len(got[0].Changes) == 0 {
		t.Errorf("newest %+v", got[0])
	}
	if got[1].Changes == nil || len(got[1].Changes) != 0 {
		t.Errorf("oldest changes %#v, want none (and not null)", got[1].Changes)
	}
}

// TestLogin: each engine's login URL and user.
func TestLogin(t *testing.T) {
	tests := []struct {
		name string
		rec  store.Record
		want Credentials
	}{
		{"woocommerce", store.Record{Spec: store.Spec{Name: "w", Engine: store.EngineWooCommerce}, URL: "https://w"},
			Credentials{Store: "w", LoginURL: "https://w/wp-admin/", Username: "admin", Password: "pw"}},
		{"medusa", store.Record{Spec: store.Spec{Name: "m", Engine: store.EngineMedusa, AdminEmail: "a@b.c"}, URL: "https://m"},
			Credentials{Store: "m", LoginURL: "https://m/app", Username: "a@b.c", Password: "pw"}},
		{"medusa without email", store.Record{Spec: store.Spec{Name: "m", Engine: store.EngineMedusa}, URL: "https://m"},
			Credentials{Store: "m", LoginURL: "https://m/app", Username: "admin@example.com", Password: "pw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := login(tt.rec, "pw"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestEarlierRun: a rollout listed once starts with its first run and
// keeps the chart version some run gave.
func TestEarlierRun(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newest := RolloutSummary{ID: "r", Status: "Running", StartedAt: t0.Add(time.Hour)}
	got := earlierRun(newest, RolloutSummary{ID: "r", Status: "ContinuedAsNew", StartedAt: t0, ChartVersion: "0.2.0"})
	if got.StartedAt != t0 || got.ChartVersion != "0.2.0" || got.Status != "Running" {
		t.Errorf("%+v", got)
	}
}
