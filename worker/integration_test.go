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

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/testenv"
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
	runner, err := helmclient.NewRunner(env.RESTConfig, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := runner.History(t.Context(), spec.Namespace(), spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	return len(hist)
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
	second := storeSpec("reuse", store.EngineWooCommerce, 2)
	run := h.create(t, second)
	if run.GetID() == workflows.CreateWorkflowID("reuse", 1) {
		t.Fatal("the new store reused the old workflow ID")
	}
	if err := run.Get(t.Context(), nil); err != nil {
		t.Fatalf("create of the reused name: %v", err)
	}
	if rec := h.record(t, "reuse"); rec.Phase != store.PhaseReady || rec.Generation != 1 && rec.Generation != 2 {
		t.Fatalf("record %+v", rec)
	}
	if secretValues(t, second)["db-password"] == oldSecret["db-password"] {
		t.Fatal("the new store got the old store's credentials")
	}
	if err := h.delete(t, second).Get(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}

// TestDeleteWhileCreating: a delete that arrives while the creation runs
// cancels it, waits until it has undone its work, then deletes. The store
// ends deleted and the creation workflow does not end as completed-ready
// after the deletion.
func TestDeleteWhileCreating(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	spec := storeSpec("racing", store.EngineMedusa, 1)
	create := h.create(t, spec)
	del := h.delete(t, spec)
	if err := del.Get(t.Context(), nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	var res workflows.CreateStoreResult
	cerr := create.Get(t.Context(), &res)
	desc, err := env.Temporal.DescribeWorkflow(t.Context(), create.GetID(), create.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("create ended %s (%v)", desc.Status, cerr)
	if cerr == nil && res.Phase == store.PhaseReady {
		// The create finished before the cancel arrived: the delete still
		// ran after it, which is what matters.
		t.Log("create completed before the delete's cancel")
	}
	if !namespaceGone(t, spec) {
		t.Fatal("namespace left behind")
	}
	if rec := h.record(t, spec.Name); rec.Phase != store.PhaseDeleted {
		t.Fatalf("record %+v", rec)
	}
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
	quick := fast
	quick.StuckAfter = 5 * time.Second
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
	if err := del.Get(t.Context(), &res); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if len(res.Forced) != 1 || !strings.HasPrefix(res.Forced[0], "configmaps/held") {
		t.Fatalf("forced %v", res.Forced)
	}
	exportHistory(t, del.GetID(), "delete_stuck_forced.json")
	if !namespaceGone(t, spec) || h.record(t, spec.Name).Phase != store.PhaseDeleted {
		t.Fatal("deletion did not complete")
	}
}

// TestWorkerKilledMidCreate runs the real `storeplatform worker` binary,
// kills it with SIGKILL while a store is being created, starts another, and
// expects the store to become ready with exactly one release, one namespace
// and one Secret whose content did not change.
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

func TestWorkerKilledMidCreate(t *testing.T) {
	env.Require(t)
	bin := filepath.Join(env.RepoRoot, "bin", "storeplatform")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make build`", bin)
	}
	queue := fmt.Sprintf("kill-%d", time.Now().UnixNano())
	dbName := fmt.Sprintf("kill_%d", time.Now().UnixNano())
	startWorker := func() (*exec.Cmd, chan struct{}) { return startBinaryWorker(t, bin, queue, dbName) }
	first, firstExited := startWorker()
	spec := storeSpec("durable", store.EngineWooCommerce, 1)
	run, err := workflows.StartCreate(t.Context(), env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatal(err)
	}
	// Kill the worker as soon as Helm has recorded the release: mid-install
	// or mid-wait, the two activities that do the most.
	deadline := time.Now().Add(time.Minute)
	for {
		rels, err := env.Kube.CoreV1().Secrets(spec.Namespace()).List(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm"})
		if err == nil && len(rels.Items) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the release never appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-firstExited
	before := secretValues(t, spec)
	desc, err := env.Temporal.DescribeWorkflow(t.Context(), run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	for _, pa := range desc.RawResponse.GetPendingActivities() {
		t.Logf("worker killed during %s (attempt %d)", pa.GetActivityType().GetName(), pa.GetAttempt())
	}

	second, secondExited := startWorker()
	defer func() { _ = second.Process.Signal(syscall.SIGTERM); <-secondExited }()
	// A worker that dies at start must fail the test, not hang it.
	ctx := untilExit(t, secondExited)
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("create after the worker died: %v", err)
	}
	if n := releaseRevisions(t, spec); n != 1 {
		t.Fatalf("%d release revisions", n)
	}
	runner, _ := helmclient.NewRunner(env.RESTConfig, slog.New(slog.DiscardHandler))
	hist, _ := runner.History(t.Context(), spec.Namespace(), spec.Name)
	deployed := 0
	for _, r := range hist {
		if r.Info.Status == "deployed" {
			deployed++
		}
	}
	if deployed != 1 {
		t.Fatalf("%d deployed releases, want exactly 1", deployed)
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
