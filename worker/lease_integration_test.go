package worker_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"helm.sh/helm/v3/pkg/release"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/storeplatform/storeplatform/internal/harness/childproc"
	"github.com/storeplatform/storeplatform/internal/harness/testpki"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// TestPausedHelmAttemptWritesNothingAfterTakeover runs two real `storeplatform
// worker` processes and changes a store (a Helm upgrade). An admission
// webhook holds the upgrade's first write of a workload, so that the
// worker running it is inside Helm for certain, with the new revision
// recorded pending-upgrade; that worker is then stopped with SIGSTOP. Its
// heartbeats stop, Temporal retries the upgrade on the other worker, which
// takes the release Lease over, recovers the pending revision and finishes
// the operation. Only then is the paused worker continued (SIGCONT), and
// it runs until its own Helm upgrade has returned. The paused attempt must
// not have written a release record after the takeover: the release's
// Secrets are exactly those the second worker left, and one revision, the
// newest, is deployed.
func TestPausedHelmAttemptWritesNothingAfterTakeover(t *testing.T) {
	env.Require(t)
	queue := fmt.Sprintf("pause-%d", time.Now().UnixNano())
	dbName := fmt.Sprintf("pause_%d", time.Now().UnixNano())
	p := newBinaryPlatform(t, queue, dbName)
	workers := map[string]*childproc.Process{}
	urls := map[string]string{}
	for _, name := range []string{"worker-1", "worker-2"} {
		workers[name], urls[name] = p.start(t, name, "worker", "WORKER_HTTP_ADDR", "worker polling")
	}
	// The upgrade's attempt must not end on its own while it is paused:
	// a long start-to-close, a short heartbeat.
	timeouts := workflows.Timeouts{Short: 10 * time.Second, Install: 3 * time.Minute, Heartbeat: 5 * time.Second, Ready: 2 * time.Minute, StuckAfter: 2 * time.Minute}
	spec := storeSpec("paused", store.EngineWooCommerce, 1)
	create, err := workflows.StartCreate(t.Context(), env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: timeouts})
	if err != nil {
		t.Fatal(err)
	}
	if err := create.Get(t.Context(), nil); err != nil {
		t.Fatalf("create: %v", err)
	}

	hold := holdFirstWorkloadWrite(t, spec.Namespace())
	changed := spec
	changed.Title = "Changed while paused"
	op, err := workflows.StartOperation(t.Context(), env.Temporal, queue, workflows.OperateStoreInput{
		Kind: store.OpChange, Spec: spec, Target: &changed, Timeouts: timeouts})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.held:
	case <-time.After(2 * time.Minute):
		t.Fatal("the upgrade never wrote a workload")
	}
	paused, other := upgradingWorker(t, op.GetID(), op.GetRunID(), workers)
	upgradesBefore := helmUpgrades(t, urls[paused])
	pauseProcess(t, workers[paused])
	hold.release()
	if hist := revisionStatuses(releaseHistory(t, spec)); strings.Join(hist, " ") != "1:deployed 2:pending-upgrade" {
		t.Fatalf("release when %s was paused: %v, want it inside the upgrade (2:pending-upgrade)", paused, hist)
	}

	// The other worker takes over and finishes the operation.
	ctx, cancel := context.WithTimeout(untilExit(t, workers[other].Done()), 5*time.Minute)
	defer cancel()
	var res workflows.OperateStoreResult
	if err := op.Get(ctx, &res); err != nil {
		t.Fatalf("the change while %s was paused: %v", paused, err)
	}
	for _, a := range activityEnds(t, op) {
		if a.Type == "InstallRelease" && (!a.Completed || a.Attempt < 2 || !strings.HasPrefix(a.Identity, fmt.Sprintf("%d@", workers[other].PID()))) {
			t.Fatalf("InstallRelease %+v, want completed on a retry by %s", a, other)
		}
	}
	after := releaseSecrets(t, spec)
	t.Logf("release after the takeover: %v", revisionStatuses(releaseHistory(t, spec)))

	// The paused attempt goes on until its Helm upgrade has returned.
	if err := syscall.Kill(workers[paused].PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for helmUpgrades(t, urls[paused]) == upgradesBefore {
		if time.Now().After(deadline) {
			t.Fatalf("%s's Helm upgrade never returned after SIGCONT", paused)
		}
		time.Sleep(200 * time.Millisecond)
	}

	for _, l := range logLines(t, p.log(paused)) {
		if msg := fmt.Sprint(l["msg"]); strings.Contains(msg, "release lease") || strings.Contains(msg, "refused") {
			t.Logf("%s logged: %s %v", paused, msg, l["reason"])
		}
	}
	final := releaseSecrets(t, spec)
	hist := revisionStatuses(releaseHistory(t, spec))
	if fmt.Sprint(final) != fmt.Sprint(after) {
		t.Fatalf("the paused attempt wrote the release after the takeover:\nrelease Secrets (name@resourceVersion) when the takeover had finished: %v\nafter the paused attempt ran on:          %v\nhistory now: %v",
			after, final, hist)
	}
	deployed := 0
	for _, h := range hist {
		if strings.HasSuffix(h, ":deployed") {
			deployed++
		}
	}
	if deployed != 1 || !strings.HasSuffix(hist[len(hist)-1], ":deployed") || res.Revision != len(hist) {
		t.Fatalf("release history %v (operation result revision %d), want only the newest revision deployed", hist, res.Revision)
	}
}

// upgradingWorker names the worker running op's InstallRelease and the
// other one.
func upgradingWorker(t *testing.T, id, runID string, workers map[string]*childproc.Process) (running, other string) {
	t.Helper()
	d, err := env.Temporal.DescribeWorkflow(t.Context(), id, runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, pa := range d.RawResponse.GetPendingActivities() {
		if pa.GetActivityType().GetName() != "InstallRelease" || pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED {
			continue
		}
		for name, w := range workers {
			if strings.HasPrefix(pa.GetLastWorkerIdentity(), fmt.Sprintf("%d@", w.PID())) {
				running = name
			}
		}
	}
	for name := range workers {
		if running != "" && name != running {
			other = name
		}
	}
	if running == "" || other == "" {
		t.Fatalf("no worker of %v runs the upgrade: %v", workers, d.RawResponse.GetPendingActivities())
	}
	return running, other
}

// pauseProcess stops w with SIGSTOP, continuing it at the end of the test
// if the test has not.
func pauseProcess(t *testing.T, w *childproc.Process) {
	t.Helper()
	if err := syscall.Kill(w.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(w.PID(), syscall.SIGCONT) })
}

// helmUpgrades is how many Helm upgrades the worker at url has finished,
// whatever their outcome.
func helmUpgrades(t *testing.T, url string) float64 {
	t.Helper()
	n, _ := scrapeMetrics(t, url).sum("storeplatform_helm_action_duration_seconds_count", `action="upgrade"`)
	return n
}

// releaseSecrets lists the release's record Secrets as name@resourceVersion:
// any write of a record, by anyone, changes it.
func releaseSecrets(t *testing.T, spec store.Spec) []string {
	t.Helper()
	list, err := env.Kube.CoreV1().Secrets(spec.Namespace()).List(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + spec.Name})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range list.Items {
		out = append(out, s.Name+"@"+s.ResourceVersion)
	}
	sort.Strings(out)
	return out
}

// releaseHistory is the release's revisions.
func releaseHistory(t *testing.T, spec store.Spec) []*release.Release {
	t.Helper()
	runner, err := helmclient.NewRunner(env.RESTConfig, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := runner.History(t.Context(), spec.Namespace(), spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	return hist
}

// workloadHold is a validating admission webhook that holds the first
// update of a Deployment or StatefulSet by the workers' user in one
// namespace until release is called, and allows everything else.
type workloadHold struct {
	held    chan struct{} // closed when the first update arrived
	release func()
}

// holdFirstWorkloadWrite serves and registers a workloadHold for namespace
// ns and returns once the API server calls it.
func holdFirstWorkloadWrite(t *testing.T, ns string) *workloadHold {
	t.Helper()
	h := &workloadHold{held: make(chan struct{})}
	released := make(chan struct{})
	var releaseOnce, holdOnce sync.Once
	h.release = func() { releaseOnce.Do(func() { close(released) }) }
	t.Cleanup(h.release)
	probed := make(chan struct{})
	var probeOnce sync.Once
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		req := review.Request
		switch {
		case ptr.Deref(req.DryRun, false):
			probeOnce.Do(func() { close(probed) })
		case req.UserInfo.Username == "kubernetes-admin": // the workers' kubeconfig
			first := false
			holdOnce.Do(func() { first = true })
			if first {
				close(h.held)
				select {
				case <-released:
				case <-r.Context().Done():
				}
			}
		}
		review.Response = &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(review)
	}))
	ca := testpki.NewCA(t, "lease-test-webhook")
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS(t)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	name := "hold-" + ns
	hooks := env.Kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	_, err := hooks.Create(t.Context(), &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "hold.storeplatform.test",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To(srv.URL + "/validate"), CABundle: ca.PEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"},
					Resources: []string{"deployments", "statefulsets"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To(int32(30)),
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hooks.Delete(context.WithoutCancel(t.Context()), name, metav1.DeleteOptions{}) })

	// The API server picks new webhooks up asynchronously: probe with a
	// dry-run update until the webhook sees one.
	deps, err := env.Kube.AppsV1().Deployments(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil || len(deps.Items) == 0 {
		t.Fatalf("no Deployment in %s to probe the webhook with: %v", ns, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := env.Kube.AppsV1().Deployments(ns).Patch(t.Context(), deps.Items[0].Name, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"storeplatform.test/probe":"1"}}}`), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		select {
		case <-probed:
			return h
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the API server never called the webhook")
		}
	}
}
