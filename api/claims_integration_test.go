package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/store"
)

// race sends every request at once and returns the status codes.
func (p *platform) race(t *testing.T, reqs [][3]string) []int {
	t.Helper()
	codes := make([]int, len(reqs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, rq := range reqs {
		wg.Go(func() {
			<-start
			codes[i], _ = p.call(t, rq[0], http.MethodPost, rq[1], rq[2])
		})
	}
	close(start)
	wg.Wait()
	return codes
}

func count(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

// TestStoreLimitHoldsUnderConcurrentCreates: 20 creates at once by one
// tenant with a limit of 5 make exactly 5 stores (the count and the insert
// were two steps, so concurrent requests all passed the count).
func TestStoreLimitHoldsUnderConcurrentCreates(t *testing.T) {
	p := newPlatform(t, func(o *api.Options) { o.StoreLimit = 5 })
	var reqs [][3]string
	for i := range 20 {
		reqs = append(reqs, [3]string{"acme", "/api/stores", fmt.Sprintf(`{"name":"lim-%02d","engine":"woocommerce"}`, i)})
	}
	codes := p.race(t, reqs)
	if count(codes, http.StatusAccepted) != 5 || count(codes, http.StatusConflict) != 15 {
		t.Fatalf("codes %v: want 5 accepted, 15 refused by the limit", codes)
	}
	recs, _, err := p.stores.List(t.Context(), store.ListQuery{Owner: "acme", Limit: 100})
	if err != nil || len(recs) != 5 {
		t.Fatalf("%d live records (%v), want 5", len(recs), err)
	}
}

// TestHostsAreUniqueAcrossTenants: a store's host is its own; another
// tenant can neither create a store on it nor change a store to it, not
// even racing; a tenant's hosts stay under STORE_DOMAIN.
func TestHostsAreUniqueAcrossTenants(t *testing.T) {
	p := newPlatform(t)
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", `{"name":"host-a","engine":"woocommerce","host":"shop.stores.localhost"}`); code != http.StatusAccepted {
		t.Fatalf("acme's store: %d %s", code, data)
	}
	tests := []struct {
		tenant, body string
		code         int
		field        string
	}{
		{"globex", `{"name":"host-b","engine":"woocommerce","host":"shop.stores.localhost"}`, http.StatusConflict, ""},
		{"globex", `{"name":"host-c","engine":"woocommerce","host":"shop.example.com"}`, http.StatusBadRequest, "host"},
		{"ops", `{"name":"host-d","engine":"woocommerce","host":"shop.example.com"}`, http.StatusAccepted, ""},
		{"globex", `{"name":"host-e","engine":"woocommerce","host":"shop.example.com"}`, http.StatusBadRequest, "host"},
	}
	for _, tt := range tests {
		code, data := p.call(t, tt.tenant, http.MethodPost, "/api/stores", tt.body)
		var prob api.Problem
		_ = json.Unmarshal(data, &prob)
		if code != tt.code || (tt.field != "" && (len(prob.Errors) == 0 || prob.Errors[0].Field != tt.field)) {
			t.Errorf("%s %s: %d %s", tt.tenant, tt.body, code, data)
		}
	}
	if _, err := p.stores.Get(t.Context(), "host-b"); err == nil {
		t.Error("a refused create left a record")
	}

	// Six stores of two tenants race for one host: one gets it.
	var reqs [][3]string
	for i := range 6 {
		tenant := []string{"acme", "globex"}[i%2]
		reqs = append(reqs, [3]string{tenant, "/api/stores", fmt.Sprintf(`{"name":"race-%d","engine":"woocommerce","host":"race.stores.localhost"}`, i)})
	}
	codes := p.race(t, reqs)
	if count(codes, http.StatusAccepted) != 1 || count(codes, http.StatusConflict) != 5 {
		t.Fatalf("codes %v: want one store on the host", codes)
	}

	// A change to a taken host is refused before anything starts; a
	// deleted store's host is free again.
	p.waitPhase(t, "acme", "host-a", store.PhaseReady)
	if code, data := p.call(t, "acme", http.MethodPatch, "/api/stores/host-a", `{"host":"race.stores.localhost"}`); code != http.StatusConflict {
		t.Fatalf("change to a taken host: %d %s", code, data)
	}
	if code, data := p.call(t, "acme", http.MethodDelete, "/api/stores/host-a", ""); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, data)
	}
	p.waitPhase(t, "acme", "host-a", store.PhaseDeleted)
	if code, data := p.call(t, "globex", http.MethodPost, "/api/stores", `{"name":"host-f","engine":"woocommerce","host":"shop.stores.localhost"}`); code != http.StatusAccepted {
		t.Fatalf("the host of a deleted store: %d %s", code, data)
	}
}
