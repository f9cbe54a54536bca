package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// rollout starts a rollout as the admin and returns its ID.
func (p *platform) rollout(t *testing.T, body string) string {
	t.Helper()
	code, data := p.call(t, "ops", http.MethodPost, "/api/rollouts", body)
	var rs api.RolloutSummary
	if err := json.Unmarshal(data, &rs); code != http.StatusAccepted || err != nil || rs.ID == "" {
		t.Fatalf("start rollout %s: %d %s", body, code, data)
	}
	return rs.ID
}

func (p *platform) rolloutState(t *testing.T, id string) workflows.RolloutState {
	t.Helper()
	code, data := p.call(t, "ops", http.MethodGet, "/api/rollouts/"+id, "")
	var st workflows.RolloutState
	if err := json.Unmarshal(data, &st); code != http.StatusOK || err != nil {
		t.Fatalf("rollout %s: %d %s", id, code, data)
	}
	return st
}

// waitRollout polls the rollout until ok says so.
func (p *platform) waitRollout(t *testing.T, id, what string, ok func(workflows.RolloutState) bool) workflows.RolloutState {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	var st workflows.RolloutState
	for time.Now().Before(deadline) {
		st = p.rolloutState(t, id)
		if ok(st) {
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("rollout %s: %s not seen; last %+v", id, what, st)
	return st
}

func ended(st workflows.RolloutState) bool {
	switch st.Status {
	case workflows.RolloutCompleted, workflows.RolloutFailed, workflows.RolloutAborted:
		return true
	}
	return false
}

// fleet is the release revisions and recorded chart versions of stores.
func (p *platform) fleet(t *testing.T, names []string) (map[string]int, map[string]string) {
	t.Helper()
	revs, vers := map[string]int{}, map[string]string{}
	for _, n := range names {
		revs[n] = len(revisions(t, n))
		rec, err := p.stores.Get(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		vers[n] = rec.ChartVersion
	}
	return revs, vers
}

// TestFleetRollout rolls store chart versions over twelve stores: a good
// version with a canary and batches, a version that cannot become ready
// (the canary is rolled back and the rollout stops), a pause after the
// canary and a resume, and an abort in the middle of a batch.
func TestFleetRollout(t *testing.T) {
	env.Require(t)
	// Stores are created with the chart in charts/store; the rollouts
	// install packaged versions above it.
	chart, err := storechart.Load(filepath.Join(env.RepoRoot, "charts", "store"))
	if err != nil {
		t.Fatal(err)
	}
	current := chart.Metadata.Version
	dir := env.ChartVersions(t, []string{"1.1.0", "1.2.0", "1.3.0", "1.4.0"}, map[string]bool{"1.2.0": true})
	p := newPlatformWithVersions(t, dir, func(o *api.Options) {
		o.StoreLimit = 50
		// How long an upgrade may take to become ready before it is rolled
		// back: long enough for a good version on a busy machine.
		o.Timeouts = workflows.Timeouts{Ready: 30 * time.Second, Short: 10 * time.Second}
	})
	var names []string
	for i := 1; i <= 12; i++ {
		names = append(names, fmt.Sprintf("fleet-%02d", i))
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", `{"name":"`+n+`","engine":"woocommerce"}`); code != http.StatusAccepted {
				t.Errorf("create %s: %d %s", n, code, data)
			}
		})
	}
	wg.Wait()
	for _, n := range names {
		if rec := p.waitPhase(t, "acme", n, store.PhaseReady); rec.ChartVersion != current {
			t.Fatalf("%s created with chart %q", n, rec.ChartVersion)
		}
	}

	// Bad requests start nothing.
	for _, c := range []struct {
		tenant, body string
		code         int
		field        string
	}{
		{"ops", `{"chartVersion":"9.9.9"}`, http.StatusBadRequest, "chartVersion"},
		{"ops", `{"chartVersion":"1.1.0","batchSize":0}`, http.StatusBadRequest, "batchSize"},
		{"ops", `{"chartVersion":"1.1.0","canary":0}`, http.StatusBadRequest, "canary"},
		{"ops", `{"chartVersion":"1.1.0","selector":{"engine":"magento"}}`, http.StatusBadRequest, "selector.engine"},
		{"acme", `{"chartVersion":"1.1.0"}`, http.StatusForbidden, ""},
	} {
		code, data := p.call(t, c.tenant, http.MethodPost, "/api/rollouts", c.body)
		var prob api.Problem
		_ = json.Unmarshal(data, &prob)
		if code != c.code || (c.field != "" && (len(prob.Errors) == 0 || prob.Errors[0].Field != c.field)) {
			t.Errorf("%s %s: %d %s", c.tenant, c.body, code, data)
		}
	}
	if code, data := p.call(t, "ops", http.MethodGet, "/api/rollouts", ""); code != http.StatusOK || !strings.Contains(string(data), `"items": []`) {
		t.Fatalf("rollouts after bad requests: %d %s", code, data)
	}
	if code, _ := p.call(t, "acme", http.MethodGet, "/api/rollouts", ""); code != http.StatusForbidden {
		t.Fatalf("a tenant lists rollouts: %d", code)
	}

	// A good version: canary 1, then batches of 5; each store upgraded once.
	before, _ := p.fleet(t, names)
	id := p.rollout(t, `{"chartVersion":"1.1.0","canary":1,"batchSize":5,"maxFailures":1}`)
	st := p.waitRollout(t, id, "the end", ended)
	if st.Status != workflows.RolloutCompleted || st.Counts[workflows.StoreReady] != 12 || st.Batch != 4 {
		t.Fatalf("rollout 1.1.0: %+v", st)
	}
	// Listed once (not once per batch run), completed.
	code, data := p.call(t, "ops", http.MethodGet, "/api/rollouts", "")
	var list api.RolloutList
	if err := json.Unmarshal(data, &list); code != http.StatusOK || err != nil || len(list.Items) != 1 ||
		list.Items[0].ID != id || list.Items[0].Status != "Completed" || list.Items[0].ChartVersion != "1.1.0" {
		t.Fatalf("rollouts: %d %s", code, data)
	}
	// The event stream of an ended rollout sends its final state and ends.
	if code, data := p.call(t, "ops", http.MethodGet, "/api/rollouts/"+id+"/events", ""); code != http.StatusOK ||
		!strings.Contains(string(data), "event: rollout\ndata: ") || !strings.Contains(string(data), `"status":"completed"`) {
		t.Fatalf("rollout events: %d %s", code, data)
	}
	revs, vers := p.fleet(t, names)
	for _, n := range names {
		if revs[n] != before[n]+1 || vers[n] != "1.1.0" {
			t.Errorf("%s: %d revisions (had %d), chart %q", n, revs[n], before[n], vers[n])
		}
	}
	// New stores get the new version; so does the list.
	code, data = p.call(t, "ops", http.MethodGet, "/api/chart-versions", "")
	var cv api.ChartVersions
	if err := json.Unmarshal(data, &cv); code != http.StatusOK || err != nil || cv.Default != "1.1.0" || len(cv.Items) != 5 {
		t.Fatalf("chart versions: %d %s", code, data)
	}
	_, data = p.call(t, "acme", http.MethodGet, "/api/stores?limit=100", "")
	if strings.Count(string(data), `"chartVersion": "1.1.0"`) != 12 {
		t.Fatalf("the list does not show the chart versions: %s", data)
	}

	// A version that cannot become ready: the canary is rolled back, the
	// rollout stops as failed, no other store is touched.
	before, _ = p.fleet(t, names)
	id = p.rollout(t, `{"chartVersion":"1.2.0","canary":1,"batchSize":5,"maxFailures":1}`)
	st = p.waitRollout(t, id, "the end", ended)
	canary := st.Stores[0]
	if st.Status != workflows.RolloutFailed || canary.State != workflows.StoreFailed || st.Counts[workflows.StorePending] != 11 {
		t.Fatalf("rollout 1.2.0: %+v", st)
	}
	revs, vers = p.fleet(t, names)
	for _, n := range names {
		want := before[n]
		if n == canary.Name {
			want += 2 // the upgrade, and the rollback to the revision before
		}
		if revs[n] != want || vers[n] != "1.1.0" {
			t.Errorf("%s: %d revisions (want %d), chart %q", n, revs[n], want, vers[n])
		}
	}
	if h := revisions(t, canary.Name); h[len(h)-1].Info.Description != fmt.Sprintf("Rollback to %d", before[canary.Name]) {
		t.Fatalf("canary's newest revision: %q", h[len(h)-1].Info.Description)
	}
	if _, data := p.call(t, "ops", http.MethodGet, "/api/chart-versions", ""); !strings.Contains(string(data), `"default": "1.1.0"`) {
		t.Fatalf("a failed canary changed the default version: %s", data)
	}

	// Pause once the canary runs; the rollout waits after it; resume ends it.
	id = p.rollout(t, `{"chartVersion":"1.3.0","canary":1,"batchSize":5}`)
	p.waitRollout(t, id, "the canary upgrading", func(s workflows.RolloutState) bool {
		return s.Counts[workflows.StoreUpgrading] == 1 && s.Batch == 1
	})
	if code, data := p.call(t, "ops", http.MethodPost, "/api/rollouts/"+id+"/pause", ""); code != http.StatusAccepted {
		t.Fatalf("pause: %d %s", code, data)
	}
	st = p.waitRollout(t, id, "paused", func(s workflows.RolloutState) bool { return s.Status == workflows.RolloutPaused })
	time.Sleep(2 * time.Second)
	if again := p.rolloutState(t, id); again.Status != workflows.RolloutPaused || again.Counts[workflows.StoreReady] != 1 ||
		again.Counts[workflows.StorePending] != 11 || st.Batch != 1 {
		t.Fatalf("while paused: %+v", again)
	}
	if code, data := p.call(t, "ops", http.MethodPost, "/api/rollouts/"+id+"/resume", ""); code != http.StatusAccepted {
		t.Fatalf("resume: %d %s", code, data)
	}
	st = p.waitRollout(t, id, "the end", ended)
	if st.Status != workflows.RolloutCompleted || st.Counts[workflows.StoreReady] != 12 {
		t.Fatalf("after resume: %+v", st)
	}
	if code, _ := p.call(t, "ops", http.MethodPost, "/api/rollouts/"+id+"/pause", ""); code != http.StatusConflict {
		t.Fatalf("pause of an ended rollout: %d", code)
	}

	// Abort during the second batch: it finishes, nothing after it starts.
	before, _ = p.fleet(t, names)
	id = p.rollout(t, `{"chartVersion":"1.4.0","canary":1,"batchSize":5}`)
	p.waitRollout(t, id, "the second batch", func(s workflows.RolloutState) bool {
		return s.Batch == 2 && s.Counts[workflows.StoreUpgrading] > 0
	})
	if code, data := p.call(t, "ops", http.MethodPost, "/api/rollouts/"+id+"/abort", ""); code != http.StatusAccepted {
		t.Fatalf("abort: %d %s", code, data)
	}
	st = p.waitRollout(t, id, "the end", ended)
	if st.Status != workflows.RolloutAborted || st.Counts[workflows.StoreReady] != 6 || st.Counts[workflows.StorePending] != 6 {
		t.Fatalf("after abort: %+v", st)
	}
	// The canary passed: a store created now gets the new version.
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", `{"name":"fleet-new","engine":"woocommerce"}`); code != http.StatusAccepted {
		t.Fatalf("create: %d %s", code, data)
	}
	if rec := p.waitPhase(t, "acme", "fleet-new", store.PhaseReady); rec.ChartVersion != "1.4.0" {
		t.Fatalf("a new store got chart %q", rec.ChartVersion)
	}
	if h := revisions(t, "fleet-new"); len(h) != 1 || h[0].Chart.Metadata.Version != "1.4.0" {
		t.Fatalf("the new store's release: %d revisions", len(h))
	}
	revs, vers = p.fleet(t, names)
	for _, s := range st.Stores {
		upgraded := s.State == workflows.StoreReady
		if upgraded != (revs[s.Name] == before[s.Name]+1) || upgraded != (vers[s.Name] == "1.4.0") {
			t.Errorf("%s (%s): %d revisions (had %d), chart %q", s.Name, s.State, revs[s.Name], before[s.Name], vers[s.Name])
		}
	}
}
