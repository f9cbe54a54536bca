package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/mock"

	"github.com/storeplatform/storeplatform/internal/store"
)

// TestOperationRequestsRefusedBeforeTemporal: bad bodies, fields that
// cannot change, and stores in the wrong phase get their 4xx problem, and
// no workflow is started.
func TestOperationRequestsRefusedBeforeTemporal(t *testing.T) {
	spec := store.Spec{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.stores.localhost", Title: "Shop", Size: "small"}
	for _, tc := range []struct {
		name         string
		phase        store.Phase
		method, path string
		body         string
		status       int
		problem      string
		field        string
		operation    string
	}{
		{"unknown size", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `{"size":"huge"}`, 400, ProblemValidation, "size", ""},
		{"engine", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `{"engine":"medusa"}`, 400, ProblemValidation, "engine", ""},
		{"name", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `{"name":"other"}`, 400, ProblemValidation, "name", ""},
		{"image on woocommerce", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `{"medusaImage":"a/b:1"}`, 400, ProblemValidation, "medusaImage", ""},
		{"bad host", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `{"host":"Not A Host"}`, 400, ProblemValidation, "host", ""},
		{"unknown field", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `{"replicas":3}`, 400, ProblemValidation, "replicas", ""},
		{"not json", store.PhaseReady, http.MethodPatch, "/api/stores/shop", `title=x`, 400, ProblemMalformed, "", ""},
		{"change while provisioning", store.PhaseProvisioning, http.MethodPatch, "/api/stores/shop", `{"title":"x"}`, 409, ProblemOperationRunning, "", "create"},
		{"change while deleting", store.PhaseDeleting, http.MethodPatch, "/api/stores/shop", `{"title":"x"}`, 409, ProblemOperationRunning, "", "delete"},
		{"change of a failed store", store.PhaseFailed, http.MethodPatch, "/api/stores/shop", `{"title":"x"}`, 409, ProblemConflict, "", ""},
		{"change of a deleted store", store.PhaseDeleted, http.MethodPatch, "/api/stores/shop", `{"title":"x"}`, 404, ProblemNotFound, "", ""},
		{"suspend a suspended store", store.PhaseSuspended, http.MethodPost, "/api/stores/shop/suspend", "", 409, ProblemConflict, "", ""},
		{"resume a ready store", store.PhaseReady, http.MethodPost, "/api/stores/shop/resume", "", 409, ProblemConflict, "", ""},
		{"rollback to 0", store.PhaseReady, http.MethodPost, "/api/stores/shop/rollback", `{"revision":0}`, 400, ProblemValidation, "revision", ""},
		{"rollback without a body", store.PhaseReady, http.MethodPost, "/api/stores/shop/rollback", "", 415, ProblemUnsupportedMedia, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.stores.set(store.Record{Spec: spec, Owner: "acme", Phase: tc.phase, Namespace: "store-shop"})
			rec := f.do(t, tc.method, tc.path, acmeToken, tc.body)
			p := problemOf(t, rec)
			if rec.Code != tc.status || p.Type != tc.problem || p.Operation != tc.operation {
				t.Fatalf("%d %+v", rec.Code, p)
			}
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Fatalf("errors %+v", p.Errors)
			}
			f.temporal.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
		})
	}
}

// TestNothingToChange: a PATCH that changes nothing answers the store and
// starts no workflow.
func TestNothingToChange(t *testing.T) {
	f := newFixture(t)
	f.stores.set(store.Record{Spec: store.Spec{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.stores.localhost",
		Title: "Shop"}, Owner: "acme", Phase: store.PhaseReady, Namespace: "store-shop"})
	rec := f.do(t, http.MethodPatch, "/api/stores/shop", acmeToken, `{"title":"Shop","size":"small"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	f.temporal.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
}

// TestOtherTenantsStoreIsNotFound: operations on another tenant's store
// say "not found", as reads do.
func TestOtherTenantsStoreIsNotFound(t *testing.T) {
	for _, path := range []string{"/api/stores/shop/suspend", "/api/stores/shop/history"} {
		f := newFixture(t)
		f.stores.set(store.Record{Spec: store.Spec{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "h"},
			Owner: "acme", Phase: store.PhaseReady, Namespace: "store-shop"})
		method := http.MethodPost
		if path == "/api/stores/shop/history" {
			method = http.MethodGet
		}
		if rec := f.do(t, method, path, otherToken, ""); rec.Code != http.StatusNotFound {
			t.Fatalf("%s by another tenant: %d %s", path, rec.Code, rec.Body)
		}
	}
}
