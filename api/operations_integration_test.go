package api_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// waitOperation polls the store until an operation of kind that ended
// after since has left it in phase.
func (p *platform) waitOperation(t *testing.T, name, kind string, since time.Time, phase store.Phase) store.Record {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var last api.StoreResponse
	for time.Now().Before(deadline) {
		code, data := p.call(t, "acme", http.MethodGet, "/api/stores/"+name, "")
		if code == http.StatusOK {
			last = api.StoreResponse{}
			_ = json.Unmarshal(data, &last)
			lo := last.LastOperation
			if last.Operation == nil && lo != nil && lo.Kind == kind && !lo.FinishedAt.Before(since) {
				if last.Phase != phase {
					t.Fatalf("%s of %s ended in %s, want %s: %+v", kind, name, last.Phase, phase, last.Record)
				}
				return last.Record
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no %s of %s ended; last %+v (operation %+v, last %+v)", kind, name, last.Record, last.Operation, last.LastOperation)
	return last.Record
}

// operate sends an operation request and checks it was accepted.
func (p *platform) operate(t *testing.T, method, path, body string) time.Time {
	t.Helper()
	since := time.Now()
	code, data := p.call(t, "acme", method, path, body)
	if code != http.StatusAccepted {
		t.Fatalf("%s %s %s: %d %s", method, path, body, code, data)
	}
	var or api.OperationResponse
	if err := json.Unmarshal(data, &or); err != nil || or.Operation.WorkflowID == "" {
		t.Fatalf("answer %s (%v)", data, err)
	}
	return since
}

func revisions(t *testing.T, name string) []*release.Release {
	t.Helper()
	r, err := helmclient.NewRunner(env.RESTConfig, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := r.History(t.Context(), store.NamespaceFor(name), name)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(hist, func(a, b *release.Release) int { return a.Version - b.Version })
	return hist
}

func pvcUIDs(t *testing.T, ns string) map[string]types.UID {
	t.Helper()
	pvcs, err := env.Kube.CoreV1().PersistentVolumeClaims(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, c := range pvcs.Items {
		out[c.Name] = c.UID
	}
	return out
}

func pvcSize(t *testing.T, ns, name string) string {
	t.Helper()
	c, err := env.Kube.CoreV1().PersistentVolumeClaims(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Spec.Resources.Requests.Storage().String()
}

func deployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := env.Kube.AppsV1().Deployments(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func quotaHard(t *testing.T, ns, name string) corev1.ResourceList {
	t.Helper()
	q, err := env.Kube.CoreV1().ResourceQuotas(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return q.Spec.Hard
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func initContainer(t *testing.T, d *appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.InitContainers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s has no init container %s", d.Name, name)
	return corev1.Container{}
}

func (p *platform) createReady(t *testing.T, body, name string) store.Record {
	t.Helper()
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", body); code != http.StatusAccepted {
		t.Fatalf("create: %d %s", code, data)
	}
	return p.waitPhase(t, "acme", name, store.PhaseReady).Record
}

// TestStoreLifeAfterCreation changes, resizes, rolls back, suspends and
// resumes one WooCommerce store through the API, and checks each step on
// the cluster, in Helm's history and in the store's record.
func TestStoreLifeAfterCreation(t *testing.T) {
	p := newPlatform(t)
	const name, ns = "life", "store-life"
	rec := p.createReady(t, `{"name":"life","engine":"woocommerce","title":"First title"}`, name)
	if rec.Size != store.SizeSmall || rec.Revision != 0 && rec.Revision != 1 {
		t.Fatalf("created %+v", rec)
	}
	pvcs := pvcUIDs(t, ns)
	if len(pvcs) != 2 {
		t.Fatalf("pvcs %v", pvcs)
	}

	// Change the title: a new revision whose WordPress setup has the title.
	since := p.operate(t, http.MethodPatch, "/api/stores/life", `{"title":"Second title"}`)
	rec = p.waitOperation(t, name, store.OpChange, since, store.PhaseReady)
	if rec.Title != "Second title" || rec.Revision != 2 || rec.LastOperation.Failed {
		t.Fatalf("after the change %+v %+v", rec, rec.LastOperation)
	}
	wp := deployment(t, ns, "life-wordpress")
	if got := envValue(initContainer(t, wp, "woocommerce-setup"), "STORE_TITLE"); got != "Second title" {
		t.Fatalf("STORE_TITLE %q", got)
	}
	// The same change again: nothing to do, no new revision.
	if code, data := p.call(t, "acme", http.MethodPatch, "/api/stores/life", `{"title":"Second title"}`); code != http.StatusOK {
		t.Fatalf("same change: %d %s", code, data)
	}
	if n := len(revisions(t, name)); n != 2 {
		t.Fatalf("%d revisions after the same change again", n)
	}

	// Resize up: the quota and the containers' resources follow; the
	// content volume grows (the StorageClass allows it).
	since = p.operate(t, http.MethodPatch, "/api/stores/life", `{"size":"medium"}`)
	rec = p.waitOperation(t, name, store.OpChange, since, store.PhaseReady)
	if cpu := quotaHard(t, ns, "life")[corev1.ResourceRequestsCPU]; rec.Size != store.SizeMedium || cpu.String() != "2" {
		t.Fatalf("medium: record %+v quota requests.cpu %s", rec.Spec, cpu.String())
	}
	wp = deployment(t, ns, "life-wordpress")
	if got := wp.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().String(); got != "200m" {
		t.Fatalf("medium wordpress cpu request %s", got)
	}
	if got := pvcSize(t, ns, "life-wp-content"); got != "2Gi" {
		t.Fatalf("medium content volume %s", got)
	}
	// Resize down: resources shrink, volumes do not.
	since = p.operate(t, http.MethodPatch, "/api/stores/life", `{"size":"small"}`)
	p.waitOperation(t, name, store.OpChange, since, store.PhaseReady)
	if cpu := quotaHard(t, ns, "life")[corev1.ResourceRequestsCPU]; cpu.String() != "1" {
		t.Fatalf("small quota requests.cpu %s", cpu.String())
	}
	if got := pvcSize(t, ns, "life-wp-content"); got != "2Gi" {
		t.Fatalf("small content volume %s, want it kept at 2Gi", got)
	}
	if got := pvcSize(t, ns, "data-life-mariadb-0"); got != "1Gi" {
		t.Fatalf("database volume %s", got)
	}

	// History: every revision with what changed; never values.
	code, data := p.call(t, "acme", http.MethodGet, "/api/stores/life/history", "")
	var h api.History
	if err := json.Unmarshal(data, &h); code != http.StatusOK || err != nil {
		t.Fatalf("history %d %s", code, data)
	}
	if len(h.Items) != 4 || h.Items[0].Revision != 4 || h.Items[3].Revision != 1 ||
		fmt.Sprint(h.Items[2].Changes) != `[title: "First title" -> "Second title"]` ||
		fmt.Sprint(h.Items[1].Changes) != `[size: "small" -> "medium"]` || h.Items[0].Status != "deployed" {
		t.Fatalf("history %s", data)
	}
	if strings.Contains(string(data), "password") || strings.Contains(string(data), "existingSecret") {
		t.Fatalf("history shows values: %s", data)
	}

	// Roll back to revision 1: the first title and size return.
	since = p.operate(t, http.MethodPost, "/api/stores/life/rollback", `{"revision":1}`)
	rec = p.waitOperation(t, name, store.OpRollback, since, store.PhaseReady)
	hist := revisions(t, name)
	if rec.Title != "First title" || rec.Revision != 5 || hist[len(hist)-1].Info.Description != "Rollback to 1" {
		t.Fatalf("after rollback %+v, newest %q", rec, hist[len(hist)-1].Info.Description)
	}
	_, data = p.call(t, "acme", http.MethodGet, "/api/stores/life/history", "")
	if err := json.Unmarshal(data, &h); err != nil || h.Items[0].Description != "Rollback to 1" {
		t.Fatalf("history after rollback %s", data)
	}

	// Suspend: no pods, volumes and Secret kept, URL unavailable.
	secret, err := env.Kube.CoreV1().Secrets(ns).Get(t.Context(), "life-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	since = p.operate(t, http.MethodPost, "/api/stores/life/suspend", "")
	rec = p.waitOperation(t, name, store.OpSuspend, since, store.PhaseSuspended)
	pods, err := env.Kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods while suspended: %d (%v)", len(pods.Items), err)
	}
	if rec.URLAvailable == nil || *rec.URLAvailable || !rec.Suspended {
		t.Fatalf("suspended record %+v", rec)
	}
	if got := pvcUIDs(t, ns); fmt.Sprint(got) != fmt.Sprint(pvcs) {
		t.Fatalf("volumes changed: %v, were %v", got, pvcs)
	}
	if s, err := env.Kube.CoreV1().Secrets(ns).Get(t.Context(), "life-credentials", metav1.GetOptions{}); err != nil || s.UID != secret.UID {
		t.Fatalf("secret not kept (%v)", err)
	}
	// Bad requests change nothing.
	revs := len(revisions(t, name))
	for _, c := range []struct {
		method, path, body string
		code               int
		field              string
	}{
		{http.MethodPost, "/api/stores/life/suspend", "", http.StatusConflict, ""},
		{http.MethodPatch, "/api/stores/life", `{"size":"huge"}`, http.StatusBadRequest, "size"},
		{http.MethodPatch, "/api/stores/life", `{"engine":"medusa"}`, http.StatusBadRequest, "engine"},
		{http.MethodPatch, "/api/stores/life", `{"name":"other"}`, http.StatusBadRequest, "name"},
		{http.MethodPatch, "/api/stores/life", `{"medusaImage":"ghcr.io/a/b:1"}`, http.StatusBadRequest, "medusaImage"},
		{http.MethodPost, "/api/stores/life/rollback", `{"revision":99}`, http.StatusBadRequest, "revision"},
		{http.MethodPost, "/api/stores/life/rollback", `{"revision":0}`, http.StatusBadRequest, "revision"},
		{http.MethodPost, "/api/stores/life/rollback", `{"revision":"one"}`, http.StatusBadRequest, "revision"},
		{http.MethodPost, "/api/stores/nosuch/resume", "", http.StatusNotFound, ""},
	} {
		code, data := p.call(t, "acme", c.method, c.path, c.body)
		var prob api.Problem
		_ = json.Unmarshal(data, &prob)
		if code != c.code || prob.Status != c.code || (c.field != "" && (len(prob.Errors) == 0 || prob.Errors[0].Field != c.field)) {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, code, data)
		}
	}
	if n := len(revisions(t, name)); n != revs {
		t.Fatalf("bad requests made revisions: %d, were %d", n, revs)
	}

	// Resume: ready again on the same volumes.
	since = p.operate(t, http.MethodPost, "/api/stores/life/resume", "")
	rec = p.waitOperation(t, name, store.OpResume, since, store.PhaseReady)
	if rec.URLAvailable == nil || !*rec.URLAvailable || rec.Suspended {
		t.Fatalf("resumed record %+v", rec)
	}
	if got := pvcUIDs(t, ns); fmt.Sprint(got) != fmt.Sprint(pvcs) {
		t.Fatalf("volumes after resume: %v, were %v", got, pvcs)
	}
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores/life/resume", ""); code != http.StatusConflict {
		t.Fatalf("resume of a ready store: %d %s", code, data)
	}

	if code, _ := p.call(t, "acme", http.MethodDelete, "/api/stores/life", ""); code != http.StatusAccepted {
		t.Fatal("delete")
	}
	p.waitPhase(t, "acme", name, store.PhaseDeleted)
}

// TestOneOperationAtATime: an operation during the creation is refused,
// two concurrent changes give one 202 and one 409 naming the running one,
// and a deletion during a change cancels it and deletes the store.
func TestOneOperationAtATime(t *testing.T) {
	p := newPlatform(t)
	const name = "busy"
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", `{"name":"busy","engine":"woocommerce"}`); code != http.StatusAccepted {
		t.Fatalf("create: %d %s", code, data)
	}
	code, data := p.call(t, "acme", http.MethodPatch, "/api/stores/busy", `{"title":"too early"}`)
	var prob api.Problem
	_ = json.Unmarshal(data, &prob)
	if code != http.StatusConflict || prob.Type != api.ProblemOperationRunning || prob.Operation != "create" ||
		prob.WorkflowID != workflows.CreateWorkflowID(name, 1) {
		t.Fatalf("change during creation: %d %s", code, data)
	}
	p.waitPhase(t, "acme", name, store.PhaseReady)
	// No node takes new pods: a change runs until its deadline (15 min
	// here), long enough to be sure it still runs below.
	env.Cordon(t)

	var wg sync.WaitGroup
	codes, bodies := make([]int, 2), make([][]byte, 2)
	start := make(chan struct{})
	for i := range codes {
		wg.Go(func() {
			<-start
			codes[i], bodies[i] = p.call(t, "acme", http.MethodPatch, "/api/stores/busy", fmt.Sprintf(`{"title":"title %d"}`, i))
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(codes)
	if codes[0] != http.StatusAccepted || codes[1] != http.StatusConflict {
		t.Fatalf("concurrent changes: %v %s %s", codes, bodies[0], bodies[1])
	}
	for _, b := range bodies {
		prob = api.Problem{}
		if json.Unmarshal(b, &prob) == nil && prob.Status == http.StatusConflict {
			if prob.Type != api.ProblemOperationRunning || prob.Operation != store.OpChange || prob.WorkflowID != workflows.OperationWorkflowID(name, 1) {
				t.Fatalf("409 does not name the running change: %s", b)
			}
		}
	}

	// Delete while the change runs (it has recorded itself; one refused
	// because the deletion came first is the workflows package's test): it
	// is canceled, the store deleted.
	if rec := p.waitPhase(t, "acme", name, store.PhaseUpdating); rec.Operation == nil || rec.Operation.Kind != store.OpChange {
		t.Fatalf("running change not recorded: %+v", rec.Record)
	}
	if code, data := p.call(t, "acme", http.MethodDelete, "/api/stores/busy", ""); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, data)
	}
	p.waitPhase(t, "acme", name, store.PhaseDeleted)
	desc, err := env.Temporal.DescribeWorkflow(t.Context(), workflows.OperationWorkflowID(name, 1), "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.Status.String(); st != "Canceled" {
		t.Fatalf("the change ended %s, want Canceled", st)
	}
	if _, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), "store-busy", metav1.GetOptions{}); err == nil {
		t.Fatal("namespace still there")
	}
}

// TestFailedChangeIsRolledBack: a change whose pods cannot be scheduled
// (every node cordoned) is rolled back when its deadline passes: the store
// is ready on a new revision that is a rollback to the one before, with the
// failure in lastOperation and its old spec recorded.
func TestFailedChangeIsRolledBack(t *testing.T) {
	p := newPlatform(t, func(o *api.Options) { o.Timeouts = workflows.Timeouts{Ready: 15 * time.Second, Short: 5 * time.Second} })
	const name = "stuck-change"
	before := p.createReady(t, `{"name":"stuck-change","engine":"medusa","medusaImage":"registry.example.com/acme/medusa:1.0.0"}`, name)
	env.Cordon(t)
	since := p.operate(t, http.MethodPatch, "/api/stores/"+name, `{"medusaImage":"registry.example.com/acme/medusa:2.0.0"}`)
	rec := p.waitOperation(t, name, store.OpChange, since, store.PhaseReady)
	lo := rec.LastOperation
	if !lo.Failed || lo.RolledBackTo != 1 || lo.Revision != 3 || lo.Reason == "" {
		t.Fatalf("last operation %+v", lo)
	}
	if rec.MedusaImage != before.MedusaImage || rec.Revision != 3 {
		t.Fatalf("recorded spec %+v, want the one before the change", rec.Spec)
	}
	hist := revisions(t, name)
	if len(hist) != 3 || hist[2].Info.Description != "Rollback to 1" || hist[2].Info.Status != release.StatusDeployed {
		t.Fatalf("history: %d revisions, newest %q", len(hist), hist[len(hist)-1].Info.Description)
	}
	srv := deployment(t, "store-"+name, name+"-medusa-server")
	if img := srv.Spec.Template.Spec.Containers[0].Image; img != "registry.example.com/acme/medusa:1.0.0" {
		t.Fatalf("server image %s after the rollback", img)
	}
}

// TestFailedRollbackLeavesTheStoreDegradedUntilRetry: a WordPress change
// under a cordon cannot become ready, and neither can the rollback (the
// Deployment recreates its pod): the store is degraded and waits; once the
// nodes take pods again, the retry signal (POST .../retry) finishes the
// rollback and the store is ready.
func TestFailedRollbackLeavesTheStoreDegradedUntilRetry(t *testing.T) {
	p := newPlatform(t, func(o *api.Options) { o.Timeouts = workflows.Timeouts{Ready: 10 * time.Second, Short: 5 * time.Second} })
	const name = "degrade"
	p.createReady(t, `{"name":"degrade","engine":"woocommerce","title":"Before"}`, name)
	uncordon := env.Cordon(t)
	since := p.operate(t, http.MethodPatch, "/api/stores/"+name, `{"title":"After"}`)
	deg := p.waitPhase(t, "acme", name, store.PhaseDegraded)
	if deg.Progress == nil || deg.Progress.WaitingFor != workflows.SignalRetry || !strings.Contains(deg.Message, "rollback") {
		t.Fatalf("degraded store %+v progress %+v", deg.Record, deg.Progress)
	}
	if code, data := p.call(t, "acme", http.MethodPatch, "/api/stores/"+name, `{"title":"Other"}`); code != http.StatusConflict {
		t.Fatalf("change while degraded: %d %s", code, data)
	}
	uncordon()
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores/"+name+"/retry", ""); code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", code, data)
	}
	rec := p.waitOperation(t, name, store.OpChange, since, store.PhaseReady)
	if rec.Title != "Before" || !rec.LastOperation.Failed || rec.LastOperation.RolledBackTo != 1 {
		t.Fatalf("after retry %+v %+v", rec.Spec, rec.LastOperation)
	}
}
