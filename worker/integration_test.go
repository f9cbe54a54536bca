package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// fast are timeouts that keep the tests quick on the local cluster.
var fast = workflows.Timeouts{Short: 10 * time.Second, Install: 20 * time.Second, Heartbeat: 3 * time.Second, Ready: 2 * time.Minute, StuckAfter: 2 * time.Minute}

// harness runs an in-process worker on its own task queue and database.
type harness struct {
	queue string
	db    *mongo.Database
	repo  *store.MongoRepository
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{queue: fmt.Sprintf("test-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())}
	h.db = env.Mongo.Database("test_" + fmt.Sprint(time.Now().UnixNano()))
	h.repo = store.NewMongoRepository(h.db)
	env.StartWorker(t, h.db, h.queue)
	return h
}

func storeSpec(name, engine string, generation int) store.Spec {
	s := store.Spec{Name: name, Generation: generation, Engine: engine, Host: name + ".stores.localhost", Title: "Test " + name, AdminEmail: "owner@example.com"}
	if engine == store.EngineMedusa {
		s.MedusaImage = "registry.example.com/acme/medusa:1.0.0"
	}
	return s
}

func (h *harness) create(t *testing.T, spec store.Spec) client.WorkflowRun {
	t.Helper()
	run, err := workflows.StartCreate(t.Context(), env.Temporal, h.queue, workflows.CreateStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatalf("start create: %v", err)
	}
	return run
}

func (h *harness) delete(t *testing.T, spec store.Spec) client.WorkflowRun {
	t.Helper()
	run, err := workflows.StartDelete(t.Context(), env.Temporal, h.queue, workflows.DeleteStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatalf("start delete: %v", err)
	}
	return run
}

func (h *harness) record(t *testing.T, name string) store.Record {
	t.Helper()
	rec, err := h.repo.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("record of %s: %v", name, err)
	}
	return rec
}

func secretValues(t *testing.T, spec store.Spec) map[string]string {
	t.Helper()
	s, err := env.Kube.CoreV1().Secrets(spec.Namespace()).Get(t.Context(), spec.SecretName(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

// assertNoSecretInHistory exports the workflow's history as the temporal
// CLI does and looks for every credential value in it.
func assertNoSecretInHistory(t *testing.T, workflowID string, secrets map[string]string) {
	t.Helper()
	out := temporalCLI(t, "workflow", "show", "--workflow-id", workflowID, "--output", "json")
	if !strings.Contains(out, "WorkflowExecutionStarted") && !strings.Contains(out, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED") {
		t.Fatalf("history of %s not exported: %.200s", workflowID, out)
	}
	for k, v := range secrets {
		if len(v) < 16 {
			t.Fatalf("secret %s too short to search for", k)
		}
		if strings.Contains(out, v) {
			t.Errorf("the value of secret key %s appears in the history of %s", k, workflowID)
		}
	}
}

// assertListedBySearchAttribute runs what an operator would to find a
// store's workflows: temporal workflow list --query "StoreName='x'".
func assertListedBySearchAttribute(t *testing.T, name, workflowID string) {
	t.Helper()
	query := fmt.Sprintf("StoreName='%s' AND StorePhase='ready'", name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := temporalCLI(t, "workflow", "list", "--query", query)
		if strings.Contains(out, workflowID) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("temporal workflow list --query %q does not list %s:\n%s", query, workflowID, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func temporalCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), filepath.Join(env.RepoRoot, "bin", "temporal"),
		append(args, "--address", env.Stack.TemporalAddress())...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("temporal %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func releaseRevisions(t *testing.T, spec store.Spec) int {
	t.Helper()
	return len(releaseHistory(t, spec))
}

func namespaceGone(t *testing.T, spec store.Spec) bool {
	t.Helper()
	_, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), spec.Namespace(), metav1.GetOptions{})
	return apierrors.IsNotFound(err)
}

func TestCreateAndDeleteStores(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	for _, engine := range []string{store.EngineWooCommerce, store.EngineMedusa} {
		t.Run(engine, func(t *testing.T) {
			spec := storeSpec("e2e-"+engine, engine, 1)
			run := h.create(t, spec)
			// The same request while it runs joins the same workflow.
			again := h.create(t, spec)
			if again.GetRunID() != run.GetRunID() {
				t.Fatalf("a repeated create started run %s beside %s", again.GetRunID(), run.GetRunID())
			}
			var res workflows.CreateStoreResult
			if err := run.Get(t.Context(), &res); err != nil {
				t.Fatalf("create: %v", err)
			}
			rec := h.record(t, spec.Name)
			if res.Phase != store.PhaseReady || rec.Phase != store.PhaseReady || rec.URL != "http://"+spec.Host || rec.ReadyAt == nil {
				t.Fatalf("result %+v, record %+v", res, rec)
			}
			if rec.Engine != engine || rec.CreateWorkflowID != run.GetID() {
				t.Fatalf("record %+v", rec)
			}
			// Once created, the same store is never provisioned again.
			if _, err := workflows.StartCreate(t.Context(), env.Temporal, h.queue, workflows.CreateStoreInput{Spec: spec}); !errors.Is(err, workflows.ErrAlreadyCreated) {
				t.Fatalf("create after success: want ErrAlreadyCreated, got %v", err)
			}
			if n := releaseRevisions(t, spec); n != 1 {
				t.Fatalf("%d release revisions, want 1", n)
			}
			secrets := secretValues(t, spec)
			assertNoSecretInHistory(t, run.GetID(), secrets)
			assertListedBySearchAttribute(t, spec.Name, run.GetID())

			del := h.delete(t, spec)
			if err := del.Get(t.Context(), nil); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if !namespaceGone(t, spec) {
				t.Fatal("namespace still there")
			}
			rec = h.record(t, spec.Name)
			if rec.Phase != store.PhaseDeleted || rec.DeletedAt == nil || rec.DeleteWorkflowID != del.GetID() {
				t.Fatalf("record after delete %+v", rec)
			}
			assertNoSecretInHistory(t, del.GetID(), secrets)
			exportHistory(t, run.GetID(), "create_"+engine+".json")
			exportHistory(t, del.GetID(), "delete_"+engine+".json")
		})
	}
}

// exportHistory saves a workflow's history under workflows/testdata for the
// replay tests, when STOREPLATFORM_UPDATE_HISTORIES is set. Only do that
// for a change that is meant to alter history, and keep the old files too:
// running workflows still have the old histories.
func exportHistory(t *testing.T, workflowID, file string) {
	t.Helper()
	exportHistoryArgs(t, file, "--workflow-id", workflowID)
}

func exportHistoryArgs(t *testing.T, file string, args ...string) {
	t.Helper()
	if os.Getenv("STOREPLATFORM_UPDATE_HISTORIES") == "" {
		return
	}
	out := temporalCLI(t, append([]string{"workflow", "show", "--output", "json"}, args...)...)
	path := filepath.Join(env.RepoRoot, "workflows", "testdata", file)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved the history of %v to %s", args, path)
}

// TestNameReusedAfterDeletion deletes a store and waits until the deletion
// is complete (record deleted, namespace gone) before it creates a store of
// the same name: that store is generation 2, its workflows have IDs of their
// own, it has new credentials, and its record replaces the old one.
func TestNameReusedAfterDeletion(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	first := storeSpec("reuse", store.EngineWooCommerce, 1)
	if err := h.create(t, first).Get(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	oldSecret := secretValues(t, first)
	if err := h.delete(t, first).Get(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(t, "reuse"); rec.Phase != store.PhaseDeleted || rec.Generation != 1 || rec.DeleteWorkflowID != "store/reuse/1/delete" {
		t.Fatalf("record after the first store's deletion %+v", rec)
	}
	if !namespaceGone(t, first) {
		t.Fatal("the first store's namespace is still there")
	}

	second := storeSpec("reuse", store.EngineWooCommerce, 2)
	run := h.create(t, second)
	if run.GetID() != "store/reuse/2/create" {
		t.Fatalf("the new store's creation is workflow %s, want store/reuse/2/create", run.GetID())
	}
	if err := run.Get(t.Context(), nil); err != nil {
		t.Fatalf("create of the reused name: %v", err)
	}
	rec := h.record(t, "reuse")
	if rec.Phase != store.PhaseReady || rec.Generation != 2 || rec.CreateWorkflowID != run.GetID() || rec.DeleteWorkflowID != "" || rec.DeletedAt != nil {
		t.Fatalf("record of the new store %+v", rec)
	}
	if n, err := h.db.Collection(store.CollectionName).CountDocuments(t.Context(), bson.M{"name": "reuse"}); err != nil || n != 1 {
		t.Fatalf("%d records named reuse (%v), want 1", n, err)
	}
	if secretValues(t, second)["db-password"] == oldSecret["db-password"] {
		t.Fatal("the new store got the old store's credentials")
	}
	del := h.delete(t, second)
	if del.GetID() != "store/reuse/2/delete" {
		t.Fatalf("the new store's deletion is workflow %s, want store/reuse/2/delete", del.GetID())
	}
	if err := del.Get(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if rec := h.record(t, "reuse"); rec.Phase != store.PhaseDeleted || rec.Generation != 2 || rec.DeleteWorkflowID != del.GetID() {
		t.Fatalf("record after the second store's deletion %+v", rec)
	}
}

// TestDeleteWhileCreating: a delete that arrives while the creation runs
// cancels it, waits until it has undone its work, then deletes. Every node
// is cordoned, so the creation is surely still waiting for its workloads
// when the delete arrives: it ends Canceled after compensating, and the
// store ends deleted with its namespace gone.
func TestDeleteWhileCreating(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	env.Cordon(t)
	spec := storeSpec("racing", store.EngineMedusa, 1)
	create := h.create(t, spec)
	awaitRunningActivity(t, create, "WaitReady", "")
	del := h.delete(t, spec)
	if err := del.Get(t.Context(), nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	var res workflows.CreateStoreResult
	if err := create.Get(t.Context(), &res); !temporal.IsCanceledError(err) {
		t.Fatalf("the creation ended with %v (result %+v), want canceled", err, res)
	}
	desc, err := env.Temporal.DescribeWorkflow(t.Context(), create.GetID(), create.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Fatalf("the creation ended %s, want Canceled", desc.Status)
	}
	// The creation undid its own work: it was canceled in wait-ready and
	// compensated.
	steps := createSteps(t, create)
	if want := "record:done namespace:done credentials:done install:done wait-ready:failed compensate:compensated"; steps != want {
		t.Fatalf("steps of the canceled creation: %s, want %s", steps, want)
	}
	if !namespaceGone(t, spec) {
		t.Fatal("namespace left behind")
	}
	if rec := h.record(t, spec.Name); rec.Phase != store.PhaseDeleted || rec.DeleteWorkflowID != del.GetID() {
		t.Fatalf("record %+v", rec)
	}
}

// createSteps is "name:status" of each step of the creation run, from its
// progress query.
func createSteps(t *testing.T, run client.WorkflowRun) string {
	t.Helper()
	v, err := env.Temporal.QueryWorkflow(t.Context(), run.GetID(), run.GetRunID(), workflows.QueryProgress)
	if err != nil {
		t.Fatal(err)
	}
	var p workflows.Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Name+":"+s.Status)
	}
	return strings.Join(out, " ")
}

// awaitRunningActivity waits until activity is running for run (started,
// on the worker whose identity begins with identityPrefix, if not "") and
// fails the test if it is not within a minute.
func awaitRunningActivity(t *testing.T, run client.WorkflowRun, activity, identityPrefix string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var pending []string
	for {
		d, err := env.Temporal.DescribeWorkflow(t.Context(), run.GetID(), run.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		desc := d.RawResponse
		pending = pending[:0]
		for _, pa := range desc.GetPendingActivities() {
			pending = append(pending, fmt.Sprintf("%s %s attempt %d on %q", pa.GetActivityType().GetName(), pa.GetState(), pa.GetAttempt(), pa.GetLastWorkerIdentity()))
			if pa.GetActivityType().GetName() == activity && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED &&
				strings.HasPrefix(pa.GetLastWorkerIdentity(), identityPrefix) {
				return
			}
		}
		if desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || time.Now().After(deadline) {
			t.Fatalf("%s never ran: workflow %s, pending %v", activity, desc.GetWorkflowExecutionInfo().GetStatus(), pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// revisionStatuses is "revision:status" of each release in hist.
func revisionStatuses(hist []*release.Release) []string {
	var out []string
	for _, r := range hist {
		out = append(out, fmt.Sprintf("%d:%s", r.Version, r.Info.Status))
	}
	return out
}

// activityEnd is how one scheduled activity of a workflow ended, from the
// workflow's history.
type activityEnd struct {
	Type      string
	Attempt   int32  // of the last attempt
	Identity  string // of the worker that ran the last attempt
	Completed bool
}

// activityEnds lists the activities run scheduled, in order.
func activityEnds(t *testing.T, run client.WorkflowRun) []activityEnd {
	t.Helper()
	var ends []activityEnd
	index := map[int64]int{} // scheduled event ID -> index in ends
	it := env.Temporal.GetWorkflowHistory(t.Context(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			index[ev.GetEventId()] = len(ends)
			ends = append(ends, activityEnd{Type: a.GetActivityType().GetName()})
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			e := &ends[index[a.GetScheduledEventId()]]
			e.Attempt, e.Identity = a.GetAttempt(), a.GetIdentity()
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			ends[index[a.GetScheduledEventId()]].Completed = true
		}
	}
	return ends
}

func TestStuckDeletionForcedWithTemporalCLI(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	spec := storeSpec("stuck", store.EngineWooCommerce, 1)
	if err := h.create(t, spec).Get(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	// An object whose finalizer nobody will ever remove.
	_, err := env.Kube.CoreV1().ConfigMaps(spec.Namespace()).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Long enough for the namespace to go once the finalizer is removed
	// (the namespace controller waits 5 s after the force's nudge).
	quick := fast
	quick.StuckAfter = 15 * time.Second
	del, err := workflows.StartDelete(t.Context(), env.Temporal, h.queue, workflows.DeleteStoreInput{Spec: spec, Timeouts: quick})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	var rec store.Record
	for {
		rec = h.record(t, spec.Name)
		if rec.Phase == store.PhaseDeletionStuck {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never stuck: %+v", rec)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(strings.Join(rec.Blockers, " "), "configmaps/held (example.com/hold)") {
		t.Fatalf("blockers do not name the object: %v", rec.Blockers)
	}
	out := temporalCLI(t, "workflow", "signal", "--workflow-id", del.GetID(), "--name", workflows.SignalForce)
	t.Logf("temporal workflow signal: %s", strings.TrimSpace(out))
	var res workflows.DeleteStoreResult
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := del.Get(ctx, &res); err != nil {
		t.Fatalf("delete after the force signal: %v (record: %+v)", err, h.record(t, spec.Name))
	}
	if len(res.Forced) != 1 || !strings.HasPrefix(res.Forced[0], "configmaps/held") {
		t.Fatalf("forced %v", res.Forced)
	}
	exportHistory(t, del.GetID(), "delete_stuck_forced.json")
	if !namespaceGone(t, spec) || h.record(t, spec.Name).Phase != store.PhaseDeleted {
		t.Fatal("deletion did not complete")
	}
	if res.Phase != store.PhaseDeleted {
		t.Fatalf("result phase %s", res.Phase)
	}
}

// startBinaryWorker starts `storeplatform worker` on queue and database
// dbName, with the chart versions in versionsDir (if any); exited is closed
// when it exits.
func startBinaryWorker(t *testing.T, bin, queue, dbName string, versionsDir ...string) (cmd *exec.Cmd, exited chan struct{}) {
	t.Helper()
	cmd = exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+env.Stack.TemporalAddress(), "MONGODB_URI="+env.MongoURI, "MONGODB_DB="+dbName,
		"KUBECONFIG="+env.Kubeconfig, "TEMPORAL_TASK_QUEUE="+queue,
		"CHART_DIR="+filepath.Join(env.RepoRoot, "charts", "store"), "STORE_PROFILE=local", "LOG_LEVEL=warn")
	for _, d := range versionsDir {
		cmd.Env = append(cmd.Env, "CHART_VERSIONS_DIR="+d)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return cmd, exited
}

// untilExit is the test's context, canceled when exited closes: waiting on a
// workflow must fail the test, not hang it, when the worker dies.
func untilExit(t *testing.T, exited <-chan struct{}) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx
}

// TestWorkerKilledMidCreate runs the real `storeplatform worker` binary and
// kills it with SIGKILL while it runs WaitReady (every node is cordoned, so
// the wait cannot end before), starts another, and expects that worker to
// retry WaitReady and finish the creation: the install ran once, and the
// store is ready with exactly one release revision, one namespace and one
// Secret whose content did not change.
func TestWorkerKilledMidCreate(t *testing.T) {
	env.Require(t)
	bin := filepath.Join(env.RepoRoot, "bin", "storeplatform")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make build`", bin)
	}
	queue := fmt.Sprintf("kill-%d", time.Now().UnixNano())
	dbName := fmt.Sprintf("kill_%d", time.Now().UnixNano())
	startWorker := func() (*exec.Cmd, chan struct{}) { return startBinaryWorker(t, bin, queue, dbName) }
	uncordon := env.Cordon(t)
	first, firstExited := startWorker()
	firstID := fmt.Sprintf("%d@", first.Process.Pid) // the SDK's default worker identity begins so
	spec := storeSpec("durable", store.EngineWooCommerce, 1)
	// A creation that fails ends at once, failing the test, rather than
	// wait for a retry signal.
	timeouts := fast
	timeouts.RetryWindow = time.Second
	run, err := workflows.StartCreate(t.Context(), env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: timeouts})
	if err != nil {
		t.Fatal(err)
	}
	awaitRunningActivity(t, run, "WaitReady", firstID)
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-firstExited
	before := secretValues(t, spec)
	uncordon()

	second, secondExited := startWorker()
	defer func() { _ = second.Process.Signal(syscall.SIGTERM); <-secondExited }()
	secondID := fmt.Sprintf("%d@", second.Process.Pid)
	// A worker that dies at start must fail the test, not hang it.
	ctx := untilExit(t, secondExited)
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("create after the worker died: %v", err)
	}
	// The install ran once, on the first worker; the wait it was killed in
	// was retried and completed by the second.
	count := map[string]int{}
	for _, a := range activityEnds(t, run) {
		count[a.Type]++
		switch a.Type {
		case "InstallRelease":
			if !a.Completed || a.Attempt != 1 || !strings.HasPrefix(a.Identity, firstID) {
				t.Errorf("InstallRelease %+v, want completed on attempt 1 by the first worker (%s)", a, firstID)
			}
		case "WaitReady":
			if !a.Completed || a.Attempt < 2 || !strings.HasPrefix(a.Identity, secondID) {
				t.Errorf("WaitReady %+v, want completed on a retry by the second worker (%s)", a, secondID)
			}
		}
	}
	if count["InstallRelease"] != 1 || count["WaitReady"] != 1 {
		t.Fatalf("activities scheduled: %v, want InstallRelease and WaitReady once each", count)
	}
	if steps := createSteps(t, run); steps != "record:done namespace:done credentials:done install:done wait-ready:done record:done" {
		t.Fatalf("steps of the creation: %s", steps)
	}
	runner, err := helmclient.NewRunner(env.RESTConfig, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := runner.History(t.Context(), spec.Namespace(), spec.Name)
	if err != nil || len(hist) != 1 || hist[0].Version != 1 || hist[0].Info.Status != release.StatusDeployed {
		t.Fatalf("release history %v (%v), want revision 1 deployed only", revisionStatuses(hist), err)
	}
	nss, err := env.Kube.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{LabelSelector: "storeplatform.io/store=durable"})
	if err != nil || len(nss.Items) != 1 {
		t.Fatalf("namespaces: %v %v", len(nss.Items), err)
	}
	secrets, err := env.Kube.CoreV1().Secrets(spec.Namespace()).List(t.Context(), metav1.ListOptions{LabelSelector: "storeplatform.io/store=durable"})
	if err != nil || len(secrets.Items) != 1 {
		t.Fatalf("secrets: %d %v", len(secrets.Items), err)
	}
	for k, v := range secretValues(t, spec) {
		if before[k] != v {
			t.Fatalf("secret key %s changed after the worker restart", k)
		}
	}
	rec, err := store.NewMongoRepository(env.Mongo.Database(dbName)).Get(t.Context(), spec.Name)
	if err != nil || rec.Phase != store.PhaseReady {
		t.Fatalf("record %+v %v", rec, err)
	}
	del, err := workflows.StartDelete(t.Context(), env.Temporal, queue, workflows.DeleteStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatal(err)
	}
	if err := del.Get(t.Context(), nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
}
