package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/api/workflowservice/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	wiring "github.com/storeplatform/storeplatform/internal/platform"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// platform is the API served over HTTP with a worker behind it, all on the
// real stack.
type platform struct {
	url    string
	db     *mongo.Database
	stores *store.MongoRepository
	queue  string
	tokens map[string]string // tenant -> token
}

func newPlatform(t *testing.T, opts ...func(*api.Options)) *platform {
	t.Helper()
	return newPlatformWithVersions(t, "", opts...)
}

// newPlatformWithVersions is newPlatform whose API and worker also know
// the packaged chart versions in versionsDir, with an admin token for the
// tenant "ops".
func newPlatformWithVersions(t *testing.T, versionsDir string, opts ...func(*api.Options)) *platform {
	t.Helper()
	env.Require(t)
	ctx := t.Context()
	p := &platform{queue: fmt.Sprintf("api-%d", time.Now().UnixNano()), tokens: map[string]string{}}
	p.db = env.Mongo.Database(fmt.Sprintf("api_%d", time.Now().UnixNano()))
	p.stores = store.NewMongoRepository(p.db)
	if err := p.stores.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewMongoTokens(p.db)
	for _, tenant := range []string{"acme", "globex", "ops"} {
		role := auth.RoleTenant
		if tenant == "ops" {
			role = auth.RoleAdmin
		}
		tok, _, err := tokens.Create(ctx, tenant, role, "test", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p.tokens[tenant] = tok
	}
	env.StartWorkerWithVersions(t, p.db, p.queue, versionsDir)
	stop := make(chan struct{})
	cfg := env.Config(p.db.Name(), p.queue)
	cfg.ChartVersionsDir = versionsDir
	o, err := wiring.APIOptions(ctx, cfg, env.Deps(p.db), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	o.Stop = stop
	for _, f := range opts {
		f(&o)
	}
	srv := httptest.NewServer(api.Router(o))
	t.Cleanup(srv.Close)
	// Runs before srv.Close: end the event streams, as a shutdown does.
	t.Cleanup(func() { close(stop) })
	p.url = srv.URL
	return p
}

func (p *platform) call(t *testing.T, tenant, method, path, body string) (int, []byte) {
	t.Helper()
	a, err := apiclient.New(p.url, apiclient.Options{Limit: 64 << 20}).Once(t.Context(), p.tokens[tenant], method, path, apiclient.Raw(body))
	if err != nil {
		t.Fatal(err)
	}
	return a.Status, a.Body
}

// creationPhases and creationSteps are the phases of a store and the steps
// of its CreateStore workflow, in their order, on the way to ready.
var (
	creationPhases = []store.Phase{store.PhaseRequested, store.PhaseProvisioning, store.PhaseReady}
	creationSteps  = []string{workflows.StepRecord, workflows.StepNamespace, workflows.StepCredentials,
		workflows.StepInstall, workflows.StepWaitReady, workflows.StepRecord}
)

// followToPhase follows the Server-Sent Events of a store being created, as
// the dashboard does, until it reaches phase, and checks what the dashboard
// is shown on the way: the store's phases only move forward along
// creationPhases, and there is at least one progress event; each is this
// store's creation, its steps are the first of creationSteps, all done but
// the last, none failed, and no event has fewer steps than the one before.
func (p *platform) followToPhase(t *testing.T, tenant, name string, phase store.Phase) api.StoreResponse {
	t.Helper()
	if !slices.Contains(creationPhases, phase) {
		t.Fatalf("followToPhase follows a creation; %s is not one of its phases", phase)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/api/stores/"+name+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+p.tokens[tenant])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	event := ""
	var seen []store.Phase
	var progress []string // each progress event's steps, "name:status"
	lastSteps := 0
	for sc.Scan() {
		line := sc.Text()
		data, isData := strings.CutPrefix(line, "data: ")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case isData && event == "progress":
			var pr workflows.Progress
			if err := json.Unmarshal([]byte(data), &pr); err != nil {
				t.Fatal(err)
			}
			steps := checkCreationProgress(t, name, pr)
			if len(pr.Steps) < lastSteps {
				t.Fatalf("progress went back from %d steps to %s", lastSteps, steps)
			}
			lastSteps = len(pr.Steps)
			progress = append(progress, steps)
		case isData && event == "store":
			var rec store.Record
			if err := json.Unmarshal([]byte(data), &rec); err != nil {
				t.Fatal(err)
			}
			if len(seen) == 0 || seen[len(seen)-1] != rec.Phase {
				seen = append(seen, rec.Phase)
			}
			if !isOrderedSubsequence(seen, creationPhases) {
				t.Fatalf("phases seen over SSE %v do not move forward along %v", seen, creationPhases)
			}
			if rec.Phase == phase {
				if len(progress) == 0 {
					t.Fatalf("%s reached %s with no progress event; phases seen %v", name, phase, seen)
				}
				t.Logf("phases seen over SSE: %v; progress events: %s", seen, strings.Join(progress, " | "))
				return api.StoreResponse{Record: rec}
			}
		}
	}
	t.Fatalf("stream ended before %s; phases seen %v (%v)", phase, seen, sc.Err())
	return api.StoreResponse{}
}

// checkCreationProgress fails the test unless pr is the progress of the
// creation of store name, as followToPhase describes; it returns its steps
// as "name:status".
func checkCreationProgress(t *testing.T, name string, pr workflows.Progress) string {
	t.Helper()
	var steps []string
	for _, s := range pr.Steps {
		steps = append(steps, s.Name+":"+s.Status)
	}
	out := strings.Join(steps, " ")
	if pr.Workflow != "create" || pr.Store != name || pr.LastError != "" || pr.WaitingFor != "" ||
		(pr.Phase != store.PhaseProvisioning && pr.Phase != store.PhaseReady) {
		t.Fatalf("progress event %+v, want the running creation of %s", pr, name)
	}
	if len(pr.Steps) == 0 || len(pr.Steps) > len(creationSteps) {
		t.Fatalf("progress event with steps %q, want the first of %v", out, creationSteps)
	}
	for i, s := range pr.Steps {
		want := workflows.StepDone
		if i == len(pr.Steps)-1 && s.Status == workflows.StepRunning {
			want = workflows.StepRunning
		}
		if s.Name != creationSteps[i] || s.Status != want || s.Error != "" {
			t.Fatalf("progress event with steps %q, want the first of %v, all done but the last", out, creationSteps)
		}
	}
	return out
}

// isOrderedSubsequence reports whether every element of seen is in order,
// with no element twice in a row and none going back.
func isOrderedSubsequence[T comparable](seen, order []T) bool {
	at := -1
	for _, s := range seen {
		i := slices.Index(order, s)
		if i <= at {
			return false
		}
		at = i
	}
	return true
}

// waitPhase polls GET /api/stores/{name} until the store reaches phase.
func (p *platform) waitPhase(t *testing.T, tenant, name string, phase store.Phase) api.StoreResponse {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last api.StoreResponse
	for time.Now().Before(deadline) {
		code, data := p.call(t, tenant, http.MethodGet, "/api/stores/"+name, "")
		if code == http.StatusOK {
			last = api.StoreResponse{}
			_ = json.Unmarshal(data, &last)
			if last.Phase == phase {
				return last
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("store %s never reached %s; last %+v", name, phase, last)
	return last
}

func TestStoreLifecycleThroughTheAPI(t *testing.T) {
	p := newPlatform(t)
	code, data := p.call(t, "acme", http.MethodPost, "/api/stores", `{"name":"api-shop","engine":"woocommerce","title":"API Shop"}`)
	if code != http.StatusAccepted {
		t.Fatalf("create: %d %s", code, data)
	}
	ready := p.followToPhase(t, "acme", "api-shop", store.PhaseReady)
	if ready.URL != "http://api-shop.stores.localhost" || ready.Owner != "acme" {
		t.Fatalf("ready store %+v", ready.Record)
	}
	// The admin login comes from the store's Secret, and the read is audited.
	code, data = p.call(t, "acme", http.MethodGet, "/api/stores/api-shop/credentials", "")
	var creds api.Credentials
	_ = json.Unmarshal(data, &creds)
	sec, err := env.Kube.CoreV1().Secrets("store-api-shop").Get(t.Context(), "api-shop-credentials", metav1.GetOptions{})
	if err != nil || code != http.StatusOK || creds.Password == "" || creds.Password != string(sec.Data["admin-password"]) {
		t.Fatalf("credentials: %d %v", code, err)
	}
	if n, err := p.db.Collection("audit").CountDocuments(t.Context(), map[string]any{"action": "read-credentials", "store": "api-shop", "tenant": "acme"}); err != nil || n != 1 {
		t.Fatalf("audit entries %d %v", n, err)
	}
	if code, _ := p.call(t, "globex", http.MethodGet, "/api/stores/api-shop/credentials", ""); code != http.StatusNotFound {
		t.Fatalf("globex reads acme's credentials: %d", code)
	}
	// The namespace's events come from the cluster: the scheduler's for
	// the store's pods (its event broadcaster writes them a moment later).
	scheduled := func() bool {
		code, data := p.call(t, "acme", http.MethodGet, "/api/stores/api-shop/kubernetes-events", "")
		var evs api.KubeEventList
		if err := json.Unmarshal(data, &evs); code != http.StatusOK || err != nil {
			t.Fatalf("kubernetes-events: %d %s", code, data)
		}
		for _, e := range evs.Items {
			if e.Reason == "Scheduled" && strings.HasPrefix(e.Object, "Pod/") && e.Type == "Normal" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(20 * time.Second); !scheduled(); time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no Scheduled event of the store's pods")
		}
	}
	if code, _ := p.call(t, "globex", http.MethodGet, "/api/stores/api-shop/kubernetes-events", ""); code != http.StatusNotFound {
		t.Fatalf("globex reads acme's events: %d", code)
	}
	// Tenants do not see each other's stores.
	if code, _ := p.call(t, "globex", http.MethodGet, "/api/stores/api-shop", ""); code != http.StatusNotFound {
		t.Fatalf("globex sees acme's store: %d", code)
	}
	if code, _ := p.call(t, "globex", http.MethodDelete, "/api/stores/api-shop", ""); code != http.StatusNotFound {
		t.Fatalf("globex deletes acme's store: %d", code)
	}
	_, data = p.call(t, "globex", http.MethodGet, "/api/stores", "")
	var list api.StoreList
	_ = json.Unmarshal(data, &list)
	if len(list.Items) != 0 {
		t.Fatalf("globex lists %+v", list.Items)
	}
	_, data = p.call(t, "acme", http.MethodGet, "/api/stores", "")
	_ = json.Unmarshal(data, &list)
	if len(list.Items) != 1 || list.Items[0].Name != "api-shop" {
		t.Fatalf("acme lists %+v", list.Items)
	}

	if code, data := p.call(t, "acme", http.MethodDelete, "/api/stores/api-shop", ""); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, data)
	}
	p.waitPhase(t, "acme", "api-shop", store.PhaseDeleted)
	if code, _ := p.call(t, "acme", http.MethodDelete, "/api/stores/api-shop", ""); code != http.StatusNotFound {
		t.Fatalf("deleting a deleted store: %d", code)
	}
}

func TestConcurrentIdenticalCreatesMakeOneStore(t *testing.T) {
	p := newPlatform(t)
	body := `{"name":"crowd","engine":"medusa","medusaImage":"registry.example.com/acme/medusa:1.0.0"}`
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Go(func() { codes[i], _ = p.call(t, "acme", http.MethodPost, "/api/stores", body) })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted {
			t.Errorf("request %d: %d", i, c)
		}
	}
	p.waitPhase(t, "acme", "crowd", store.PhaseReady)
	recs, _, err := p.stores.List(t.Context(), store.ListQuery{Limit: 100})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d records (%v)", len(recs), err)
	}
	n, err := env.Temporal.CountWorkflow(t.Context(), &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: "default", Query: "StoreName='crowd' AND WorkflowType='CreateStore'"})
	if err != nil || n.GetCount() != 1 {
		t.Fatalf("%d CreateStore workflows (%v)", n.GetCount(), err)
	}
	if code, _ := p.call(t, "acme", http.MethodDelete, "/api/stores/crowd", ""); code != http.StatusAccepted {
		t.Fatal("delete")
	}
	p.waitPhase(t, "acme", "crowd", store.PhaseDeleted)
}

// TestAPIDiesBetweenRecordAndWorkflow leaves a record as an API that died
// right after writing it would, then restarts: the reconciler starts the
// workflow and the store comes up.
func TestAPIDiesBetweenRecordAndWorkflow(t *testing.T) {
	p := newPlatform(t)
	spec := store.Spec{Name: "orphan", Generation: 1, Engine: store.EngineWooCommerce, Host: "orphan.stores.localhost", Title: "orphan"}
	now := time.Now().UTC()
	if err := p.stores.Insert(t.Context(), store.Record{Spec: spec, Owner: "acme", Phase: store.PhaseRequested,
		Namespace: spec.Namespace(), CreatedAt: now, UpdatedAt: now, CreateWorkflowID: workflows.CreateWorkflowID("orphan", 1)}); err != nil {
		t.Fatal(err)
	}
	started, err := api.Reconcile(t.Context(), p.stores, env.Temporal, p.queue)
	if err != nil || started != 1 {
		t.Fatalf("reconcile: %d %v", started, err)
	}
	p.waitPhase(t, "acme", "orphan", store.PhaseReady)
	// A second reconcile finds nothing to do.
	if started, err := api.Reconcile(t.Context(), p.stores, env.Temporal, p.queue); err != nil || started != 0 {
		t.Fatalf("second reconcile: %d %v", started, err)
	}
	if code, _ := p.call(t, "acme", http.MethodDelete, "/api/stores/orphan", ""); code != http.StatusAccepted {
		t.Fatal("delete")
	}
	p.waitPhase(t, "acme", "orphan", store.PhaseDeleted)
}
