package activities_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"helm.sh/helm/v3/pkg/release"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/metadata"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/kubewatch"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// discardStatus accepts status writes; these tests look at the cluster.
type discardStatus struct{}

func (discardStatus) UpdateStatus(_ context.Context, _ store.StatusUpdate) error { return nil }

func (discardStatus) UpdateOperation(_ context.Context, _ store.OperationUpdate) error { return nil }

func (discardStatus) HoldHost(context.Context, string, int, string) error { return nil }

func newActivities(t *testing.T) (*activities.Activities, *helmclient.Runner) {
	t.Helper()
	env.Require(t)
	dir := filepath.Join(env.RepoRoot, "charts", "store")
	c, err := storechart.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := storechart.LoadProfile(dir, "local")
	if err != nil {
		t.Fatal(err)
	}
	md, err := metadata.NewForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := helmclient.NewRunner(env.RESTConfig, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return &activities.Activities{Kube: env.Kube, Metadata: md, Releases: runner, Stores: discardStatus{},
		Workflows: env.Temporal, Chart: c, Profile: prof, PollInterval: 200 * time.Millisecond, Installation: testInstallation}, runner
}

// testInstallation is the installation identity of newActivities.
const testInstallation = "0123456789abcdef0123456789abcdef"

func run(t *testing.T, fn any, args ...any) error {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(fn)
	_, err := aenv.ExecuteActivity(fn, args...)
	return err
}

func errType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}

func TestCreateNamespaceIsIdempotentAndRefusesForeignNamespaces(t *testing.T) {
	a, _ := newActivities(t)
	spec := store.Spec{Name: "nsown", Generation: 1, Engine: store.EngineWooCommerce, Host: "nsown.example.com"}
	in := activities.NamespaceInput{Spec: spec}
	for i := 0; i < 2; i++ {
		if err := run(t, a.CreateNamespace, in); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	ns, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), spec.Namespace(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["storeplatform.io/store"] != "nsown" || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("labels %v", ns.Labels)
	}
	// Another generation of the same name must wait for the old namespace.
	next := spec
	next.Generation = 2
	if err := run(t, a.CreateNamespace, activities.NamespaceInput{Spec: next}); errType(err) != activities.ErrNamespaceConflict {
		t.Fatalf("generation 2 over generation 1: want %s, got %v", activities.ErrNamespaceConflict, err)
	}

	foreign := store.Spec{Name: "foreign", Generation: 1, Engine: store.EngineWooCommerce, Host: "f.example.com"}
	if _, err := env.Kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: foreign.Namespace()}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fin := activities.NamespaceInput{Spec: foreign}
	if err := run(t, a.CreateNamespace, fin); errType(err) != activities.ErrNamespaceConflict {
		t.Fatalf("foreign namespace: want %s, got %v", activities.ErrNamespaceConflict, err)
	}
	// Compensation must never delete a namespace that is not ours.
	if _, err := runDelete(t, a, fin); errType(err) != activities.ErrNamespaceNotOurs {
		t.Fatalf("delete foreign namespace: want %s, got %v", activities.ErrNamespaceNotOurs, err)
	}
	if _, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), foreign.Namespace(), metav1.GetOptions{}); err != nil {
		t.Fatalf("the foreign namespace was touched: %v", err)
	}
	if res, err := runDelete(t, a, in); err != nil || !res.Gone {
		t.Fatalf("delete own namespace: %+v %v", res, err)
	}
	// Deleting what is gone is success.
	if res, err := runDelete(t, a, in); err != nil || !res.Gone {
		t.Fatalf("delete again: %+v %v", res, err)
	}
}

func runDelete(t *testing.T, a *activities.Activities, in activities.NamespaceInput) (activities.DeleteNamespaceResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(a.DeleteNamespace)
	v, err := aenv.ExecuteActivity(a.DeleteNamespace, activities.DeleteNamespaceInput{NamespaceInput: in, StuckAfter: time.Minute})
	var res activities.DeleteNamespaceResult
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

func TestEnsureCredentialsNeverOverwrites(t *testing.T) {
	a, _ := newActivities(t)
	spec := store.Spec{Name: "creds", Generation: 1, Engine: store.EngineMedusa, Host: "c.example.com", MedusaImage: "x/y:1"}
	in := activities.NamespaceInput{Spec: spec}
	if err := run(t, a.CreateNamespace, in); err != nil {
		t.Fatal(err)
	}
	if err := run(t, a.EnsureCredentials, in); err != nil {
		t.Fatal(err)
	}
	secrets := env.Kube.CoreV1().Secrets(spec.Namespace())
	first, err := secrets.Get(t.Context(), spec.SecretName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range storechart.SecretKeys(store.EngineMedusa) {
		if len(first.Data[k]) != 64 {
			t.Fatalf("key %s: %d bytes", k, len(first.Data[k]))
		}
	}
	// Lose one key, as after a botched manual edit: only it is regenerated.
	delete(first.Data, "jwt-secret")
	if _, err := secrets.Update(t.Context(), first, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := run(t, a.EnsureCredentials, in); err != nil {
		t.Fatal(err)
	}
	second, err := secrets.Get(t.Context(), spec.SecretName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range first.Data {
		if string(second.Data[k]) != string(v) {
			t.Fatalf("key %s was overwritten", k)
		}
	}
	if len(second.Data["jwt-secret"]) != 64 {
		t.Fatal("the missing key was not added")
	}
}

// runInstall runs InstallRelease and returns its result.
func runInstall(t *testing.T, a *activities.Activities, in activities.NamespaceInput) (activities.InstallResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(a.InstallRelease)
	v, err := aenv.ExecuteActivity(a.InstallRelease, in)
	var res activities.InstallResult
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

// statuses is "revision:status" of each revision, oldest first.
func statuses(t *testing.T, runner *helmclient.Runner, spec store.Spec) string {
	t.Helper()
	hist, err := runner.History(t.Context(), spec.Namespace(), spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	var out []string
	for _, r := range hist {
		out = append(out, fmt.Sprintf("%d:%s", r.Version, r.Info.Status))
	}
	return strings.Join(out, " ")
}

// TestInstallReleaseRecoversPendingInstall leaves the release as a client
// that died mid-install, then mid-upgrade, would, and expects InstallRelease
// to recover each the one right way: a pending-install is uninstalled and
// installed again, a pending-upgrade over a deployed revision is rolled back
// to it and then upgraded.
func TestInstallReleaseRecoversPendingInstall(t *testing.T) {
	a, runner := newActivities(t)
	spec := store.Spec{Name: "pending", Generation: 1, Engine: store.EngineWooCommerce, Host: "p.example.com"}
	in := activities.NamespaceInput{Spec: spec}
	if err := run(t, a.CreateNamespace, in); err != nil {
		t.Fatal(err)
	}
	if err := run(t, a.EnsureCredentials, in); err != nil {
		t.Fatal(err)
	}
	want := func(res activities.InstallResult, err error, action string, revision int, history string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if res.Action != action || res.Revision != revision || res.Status != release.StatusDeployed.String() {
			t.Fatalf("result %+v, want action %s, revision %d, deployed", res, action, revision)
		}
		if got := statuses(t, runner, spec); got != history {
			t.Fatalf("after %s the history is %q, want %q", action, got, history)
		}
	}
	res, err := runInstall(t, a, in)
	want(res, err, "install", 1, "1:deployed")
	// Again with nothing changed: no new revision.
	res, err = runInstall(t, a, in)
	want(res, err, "none", 1, "1:deployed")

	// Leave the release as a client that died mid-install would.
	ac, err := helmclient.ActionConfig(env.RESTConfig, spec.Namespace(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rev1, err := ac.Releases.Get(spec.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	rev1.Info.Status = release.StatusPendingInstall
	if err := ac.Releases.Update(rev1); err != nil {
		t.Fatal(err)
	}
	res, err = runInstall(t, a, in)
	want(res, err, "recover-pending-install+install", 1, "1:deployed")

	// Leave it as a client that died mid-upgrade would: Helm has written
	// revision 2 as pending-upgrade and not yet superseded revision 1.
	rev1, err = ac.Releases.Get(spec.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	rev2 := *rev1
	info := *rev1.Info
	rev2.Info, rev2.Version = &info, 2
	rev2.Info.Status, rev2.Info.Description = release.StatusPendingUpgrade, "Preparing upgrade"
	if err := ac.Releases.Create(&rev2); err != nil {
		t.Fatal(err)
	}
	if got := statuses(t, runner, spec); got != "1:deployed 2:pending-upgrade" {
		t.Fatalf("the release is not left mid-upgrade: %s", got)
	}
	// Rolled back to 1 (revision 3), then upgraded (revision 4).
	res, err = runInstall(t, a, in)
	want(res, err, "recover-pending-upgrade+upgrade", 4, "1:superseded 2:pending-upgrade 3:superseded 4:deployed")
	rev3, err := ac.Releases.Get(spec.Name, 3)
	if err != nil || rev3.Info.Description != "Rollback to 1" {
		t.Fatalf("revision 3 is not the rollback to 1: %+v %v", rev3.Info, err)
	}

	if err := run(t, a.UninstallRelease, in); err != nil {
		t.Fatal(err)
	}
	if err := run(t, a.UninstallRelease, in); err != nil {
		t.Fatalf("uninstall of an uninstalled release: %v", err)
	}
}

func TestInstallReleaseRejectsInvalidValues(t *testing.T) {
	a, _ := newActivities(t)
	spec := store.Spec{Name: "badhost", Generation: 1, Engine: store.EngineWooCommerce, Host: "Not A Host"}
	if err := run(t, a.InstallRelease, activities.NamespaceInput{Spec: spec}); errType(err) != activities.ErrInvalidChart {
		t.Fatalf("want %s, got %v", activities.ErrInvalidChart, err)
	}
}

// TestHelmActionsWaitForTheReleaseLease: an earlier attempt of a Helm
// action that is still inside Helm (its Lease renewed) makes the next one
// wait until it gives the Lease back; a Lease whose holder stopped renewing
// (a dead worker) is taken over once it has not changed for its duration,
// however old its RenewTime. Either way the action ends with the Lease
// given back.
func TestHelmActionsWaitForTheReleaseLease(t *testing.T) {
	a, runner := newActivities(t)
	for _, tt := range []struct {
		name string
		// renewedAgo is the age of the earlier holder's last renewal;
		// holdFor how long it still renews before giving the Lease back
		// (0: it never does: its worker is dead).
		renewedAgo, holdFor time.Duration
		wantWait            bool
	}{
		{"live holder", 0, 3 * time.Second, true},
		{"dead holder", time.Minute, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "lease-" + strings.ReplaceAll(tt.name, " ", "")
			spec := store.Spec{Name: name, Generation: 1, Engine: store.EngineWooCommerce, Host: name + ".example.com"}
			in := activities.NamespaceInput{Spec: spec}
			if err := run(t, a.CreateNamespace, in); err != nil {
				t.Fatal(err)
			}
			if err := run(t, a.EnsureCredentials, in); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			leases := env.Kube.CoordinationV1().Leases(spec.Namespace())
			renewed := metav1.NewMicroTime(time.Now().Add(-tt.renewedAgo))
			holder, secs := "earlier-attempt", int32(10)
			lease := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: activities.LeasePrefix + name},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &renewed},
			}
			if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			var gaveBack atomic.Pointer[time.Time]
			if tt.holdFor > 0 {
				go func() {
					end := time.Now().Add(tt.holdFor)
					for time.Now().Before(end) {
						time.Sleep(500 * time.Millisecond)
						cur, err := leases.Get(ctx, lease.Name, metav1.GetOptions{})
						if err != nil {
							return
						}
						now := metav1.NewMicroTime(time.Now())
						cur.Spec.RenewTime = &now
						_, _ = leases.Update(ctx, cur, metav1.UpdateOptions{})
					}
					now := time.Now()
					gaveBack.Store(&now)
					_ = leases.Delete(ctx, lease.Name, metav1.DeleteOptions{})
				}()
			}
			if _, err := runInstall(t, a, in); err != nil {
				t.Fatal(err)
			}
			hist, err := runner.History(ctx, spec.Namespace(), name)
			if err != nil || len(hist) != 1 {
				t.Fatalf("history %v, %v", hist, err)
			}
			installed := hist[0].Info.FirstDeployed.Time
			switch at := gaveBack.Load(); {
			case tt.wantWait && (at == nil || installed.Before(*at)):
				t.Fatalf("installed at %v, before the earlier holder gave the lease back (%v)", installed, at)
			case !tt.wantWait && at != nil:
				t.Fatalf("the dead holder gave the lease back")
			}
			if _, err := leases.Get(ctx, lease.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("the lease is still there after the install: %v", err)
			}
			if err := run(t, a.UninstallRelease, in); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWaitReadyWithTheWatch: a wait woken by the shared watch (and
// confirming with a read of its own) ends ready once the store's workloads
// are, as the polling one does.
func TestWaitReadyWithTheWatch(t *testing.T) {
	a, _ := newActivities(t)
	w, err := kubewatch.Start(t.Context(), env.RESTConfig, activities.LabelStore, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.Watch = w
	a.PollInterval = time.Minute // the watch, not the poll, must end the wait (the fallback read is every 5 s)
	spec := store.Spec{Name: "watched", Generation: 1, Engine: store.EngineWooCommerce, Host: "watched.example.com"}
	in := activities.NamespaceInput{Spec: spec}
	for _, fn := range []any{a.CreateNamespace, a.EnsureCredentials} {
		if err := run(t, fn, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := runInstall(t, a, in); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(a.WaitReady)
	v, err := aenv.ExecuteActivity(a.WaitReady, in)
	if err != nil {
		t.Fatal(err)
	}
	var p activities.WaitProgress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	if p.Total == 0 || p.Ready != p.Total {
		t.Fatalf("wait ended with %+v, want every workload ready", p)
	}
	if err := run(t, a.UninstallRelease, in); err != nil {
		t.Fatal(err)
	}
}
