package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/temporal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// runsOf lists the runs of workflow id, newest first, with their status.
func runsOf(t *testing.T, id string) []enumspb.WorkflowExecutionStatus {
	t.Helper()
	resp, err := env.Temporal.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = '%s'", id)})
	if err != nil {
		t.Fatal(err)
	}
	var out []enumspb.WorkflowExecutionStatus
	for _, e := range resp.GetExecutions() {
		out = append(out, e.GetStatus())
	}
	return out
}

// waitClosed waits until workflow id's newest run has closed.
func waitClosed(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		d, err := env.Temporal.DescribeWorkflow(t.Context(), id, "")
		if err == nil && d.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("workflow %s still runs", id)
}

// TestQueuedStartAfterDeleteDoesNotResurrect (hole 1a of #20): a POST's
// record is written and its workflow start queued; a DELETE comes before
// the queued start runs, and its deletion finds no creation to stop. The
// start then runs as the queue and the reconciler ran it (no re-read):
// CreateStore's first write is refused by the state machine, so the store
// stays deleted, nothing is provisioned, and its host and slot stay
// released. On the main before the state machine, the creation wrote
// provisioning over deleted and the store came back ready.
func TestQueuedStartAfterDeleteDoesNotResurrect(t *testing.T) {
	p := newPlatform(t)
	ctx := t.Context()
	spec := store.Spec{Name: "lazarus", Generation: 1, Engine: store.EngineWooCommerce, Title: "lazarus",
		Host: "lazarus.stores.localhost", Size: store.SizeSmall, Tenant: "acme"}
	now := time.Now().UTC().Truncate(time.Millisecond)
	// The record exactly as a POST writes it, its start still in the queue.
	if err := p.stores.Insert(ctx, store.Record{Spec: spec, Owner: "acme", Phase: store.PhaseRequested, Namespace: spec.Namespace(),
		Claim: store.Claim{LiveHost: spec.Host, Slot: store.SlotOf("acme", 0)}, CreatedAt: now, UpdatedAt: now,
		CreateWorkflowID: workflows.CreateWorkflowID(spec.Name, 1)}); err != nil {
		t.Fatal(err)
	}
	if code, data := p.call(t, "acme", http.MethodDelete, "/api/stores/lazarus", ""); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, data)
	}
	p.waitPhase(t, "acme", "lazarus", store.PhaseDeleted)
	// The queued start, as it was made before it read the record again.
	run, err := workflows.StartCreate(ctx, env.Temporal, p.queue, workflows.CreateStoreInput{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.CreateStoreResult
	err = run.Get(ctx, &res)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrSuperseded {
		t.Fatalf("the late creation ended %v (%+v), want %s", err, res, activities.ErrSuperseded)
	}
	rec, err := p.stores.Get(ctx, "lazarus")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Phase != store.PhaseDeleted || rec.LiveHost != "deleted:lazarus" || rec.Slot != "deleted:lazarus" {
		t.Fatalf("after the late creation: %s, host claim %q, slot %q", rec.Phase, rec.LiveHost, rec.Slot)
	}
	if _, err := env.Kube.CoreV1().Namespaces().Get(ctx, spec.Namespace(), metav1.GetOptions{}); err == nil {
		t.Fatal("the late creation made the namespace")
	}
	// The reconciler does not start it either.
	if n, err := api.Reconcile(ctx, p.stores, env.Temporal, p.queue); err != nil || n != 0 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
}

// TestCreateAgainWhileDeletingDoesNotRunASecondCreation (hole 1b of #20):
// POST, DELETE while provisioning, wait for the creation to end, then POST
// the same body. On the main before the state machine the creation's
// compensation wrote "failed: creation canceled" over deleting, the second
// POST found a failed store of the same spec and started a second
// CreateStore run beside the DeleteStore (which completed, and the record
// said ready in the middle of the deletion). Now the record stays deleting
// (the second POST is 409, or makes generation 2 once deleted) and the
// first generation's creation has run once.
func TestCreateAgainWhileDeletingDoesNotRunASecondCreation(t *testing.T) {
	p := newPlatform(t)
	uncordon := env.Cordon(t) // provisioning waits for pods that no node takes
	body := `{"name":"twice","engine":"woocommerce"}`
	if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", body); code != http.StatusAccepted {
		t.Fatalf("create: %d %s", code, data)
	}
	p.waitPhase(t, "acme", "twice", store.PhaseProvisioning)
	if code, data := p.call(t, "acme", http.MethodDelete, "/api/stores/twice", ""); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, data)
	}
	createID := workflows.CreateWorkflowID("twice", 1)
	waitClosed(t, createID)
	rec, err := p.stores.Get(t.Context(), "twice")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Phase == store.PhaseFailed {
		t.Fatalf("the canceled creation wrote %s over the deletion: %q", rec.Phase, rec.Message)
	}
	code, data := p.call(t, "acme", http.MethodPost, "/api/stores", body)
	var got api.StoreResponse
	_ = json.Unmarshal(data, &got)
	switch {
	case code == http.StatusConflict:
	case code == http.StatusAccepted && got.Generation == 2:
	default:
		t.Fatalf("create again during the deletion: %d %s", code, data)
	}
	uncordon()
	p.waitPhase(t, "acme", "twice", map[int]store.Phase{http.StatusConflict: store.PhaseDeleted, http.StatusAccepted: store.PhaseReady}[code])
	if runs := runsOf(t, createID); len(runs) != 1 {
		t.Fatalf("generation 1's creation ran %d times: %v", len(runs), runs)
	}
}

// TestRefusedHostChangeKeepsTheHost (hole 2 of #20): a change of host
// refused because another operation runs leaves the store's host claimed:
// another tenant cannot create a store on it. On the main before, the
// PATCH claimed the new host and released the old one before the start was
// refused, and the other tenant's store was accepted on the host.
func TestRefusedHostChangeKeepsTheHost(t *testing.T) {
	p := newPlatform(t)
	p.createReady(t, `{"name":"keep-a","engine":"woocommerce"}`, "keep-a")
	uncordon := env.Cordon(t) // the resize runs until its deadline
	defer uncordon()
	if code, data := p.call(t, "acme", http.MethodPatch, "/api/stores/keep-a", `{"size":"large"}`); code != http.StatusAccepted {
		t.Fatalf("resize: %d %s", code, data)
	}
	code, data := p.call(t, "acme", http.MethodPatch, "/api/stores/keep-a", `{"host":"keep-new.stores.localhost"}`)
	var prob api.Problem
	_ = json.Unmarshal(data, &prob)
	if code != http.StatusConflict || prob.Type != api.ProblemOperationRunning {
		t.Fatalf("host change during the resize: %d %s", code, data)
	}
	for _, host := range []string{"keep-a.stores.localhost", "keep-new.stores.localhost"} {
		code, data := p.call(t, "globex", http.MethodPost, "/api/stores", fmt.Sprintf(`{"name":"keep-b","engine":"woocommerce","host":%q}`, host))
		want := map[string]int{"keep-a.stores.localhost": http.StatusConflict, "keep-new.stores.localhost": http.StatusAccepted}[host]
		if code != want {
			t.Fatalf("another tenant's store on %s: %d %s, want %d", host, code, data, want)
		}
	}
}

// TestRollbackClaimsTheHostsItServes (hole 3 of #20): tenant A moves its
// store h1 -> h2, tenant B takes h1, A rolls back to revision 1: refused
// with 409 naming h1 (on the main before, the rollback re-rendered h1 and
// both stores served it). While a change of host runs, the store holds
// both hosts: nobody else can take either.
func TestRollbackClaimsTheHostsItServes(t *testing.T) {
	p := newPlatform(t)
	const h1, h2 = "roll-a.stores.localhost", "roll-a2.stores.localhost"
	p.createReady(t, `{"name":"roll-a","engine":"woocommerce"}`, "roll-a")
	since := p.operate(t, http.MethodPatch, "/api/stores/roll-a", fmt.Sprintf(`{"host":%q}`, h2))
	if rec := p.waitOperation(t, "roll-a", store.OpChange, since, store.PhaseReady); rec.Host != h2 || rec.LastOperation.Failed {
		t.Fatalf("after the host change: %+v", rec)
	}
	if code, data := p.call(t, "globex", http.MethodPost, "/api/stores", fmt.Sprintf(`{"name":"roll-b","engine":"woocommerce","host":%q}`, h1)); code != http.StatusAccepted {
		t.Fatalf("B on A's old host: %d %s", code, data)
	}
	code, data := p.call(t, "acme", http.MethodPost, "/api/stores/roll-a/rollback", `{"revision":1}`)
	var prob api.Problem
	_ = json.Unmarshal(data, &prob)
	if code != http.StatusConflict || !strings.Contains(prob.Detail, h1) {
		t.Fatalf("rollback to B's host: %d %s", code, data)
	}

	// During a change of host both hosts are A's.
	uncordon := env.Cordon(t)
	defer uncordon()
	const h3 = "roll-a3.stores.localhost"
	p.operate(t, http.MethodPatch, "/api/stores/roll-a", fmt.Sprintf(`{"host":%q}`, h3))
	deadline := time.Now().Add(time.Minute)
	for {
		holder, err := p.stores.HostHolder(t.Context(), h3)
		if err != nil {
			t.Fatal(err)
		}
		if holder == "roll-a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change never held %s (holder %q)", h3, holder)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, host := range []string{h2, h3} {
		code, data := p.call(t, "globex", http.MethodPost, "/api/stores", fmt.Sprintf(`{"name":"roll-c%d","engine":"woocommerce","host":%q}`, i, host))
		if code != http.StatusConflict {
			t.Fatalf("another tenant's store on %s during A's change: %d %s", host, code, data)
		}
	}
}
