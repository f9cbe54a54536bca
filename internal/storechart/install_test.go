package storechart_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// TestInstallUpgradeUninstall installs each engine's store on the local
// cluster (real API server, kwok nodes) into a namespace that enforces the
// "restricted" Pod Security Standard, and follows it through an upgrade and
// a full removal.
func TestInstallUpgradeUninstall(t *testing.T) {
	env.Require(t)
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			ctx := t.Context()
			name := "chart-" + engine
			ns := "store-" + name
			createRestrictedNamespace(t, ns)
			secret := createStoreSecret(t, ns, name+"-credentials", engine)
			vals := values(t, "local", storeValues(name, engine))

			ac, err := helmclient.ActionConfig(env.RESTConfig, ns, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			c := loadChart(t)
			install := action.NewInstall(ac)
			install.ReleaseName, install.Namespace = name, ns
			install.Wait, install.Timeout = true, 3*time.Minute
			rel, err := install.RunWithContext(ctx, c, vals)
			if err != nil {
				t.Fatalf("install: %v", err)
			}
			if rel.Info.Status != "deployed" {
				t.Fatalf("release %s", rel.Info.Status)
			}
			assertWorkloadsReady(t, ns)
			pvcs := boundPVCs(t, ns)
			if len(pvcs) == 0 {
				t.Fatal("no PVC")
			}
			assertQuotaCounts(t, ns, name)
			nps, err := env.Kube.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"woocommerce": 5, "medusa": 6}[engine]; len(nps.Items) != want {
				t.Errorf("%d NetworkPolicies, want %d", len(nps.Items), want)
			}

			// An upgrade with a changed value rolls the pods but keeps the
			// credentials and the data.
			upgrade := action.NewUpgrade(ac)
			upgrade.Namespace, upgrade.Wait, upgrade.Timeout = ns, true, 3*time.Minute
			changed := storechart.Merge(vals, map[string]any{"store": map[string]any{"title": "Renamed Store"}})
			rel, err = upgrade.RunWithContext(ctx, name, c, changed)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			if rel.Version != 2 || rel.Info.Status != "deployed" {
				t.Fatalf("upgrade: revision %d %s", rel.Version, rel.Info.Status)
			}
			after, err := env.Kube.CoreV1().Secrets(ns).Get(ctx, secret.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if after.UID != secret.UID || after.ResourceVersion != secret.ResourceVersion {
				t.Errorf("the store's Secret changed on upgrade")
			}
			assertWorkloadsReady(t, ns)
			if got := boundPVCs(t, ns); !samePVCs(got, pvcs) {
				t.Errorf("PVCs changed on upgrade: %v -> %v", pvcs, got)
			}

			// Uninstall keeps the data (by design); deleting the namespace
			// removes everything, volumes included.
			if _, err := action.NewUninstall(ac).Run(name); err != nil {
				t.Fatalf("uninstall: %v", err)
			}
			if left := boundPVCs(t, ns); len(left) == 0 {
				t.Errorf("uninstall removed the PVCs: data must survive until the namespace goes")
			}
			deleteNamespaceAndVolumes(t, ns)
		})
	}
}

func createRestrictedNamespace(t *testing.T, ns string) {
	t.Helper()
	_, err := env.Kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns,
		Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
		},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func createStoreSecret(t *testing.T, ns, name, engine string) *corev1.Secret {
	t.Helper()
	data := map[string][]byte{}
	for _, k := range storechart.SecretKeys(engine) {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		data[k] = []byte(hex.EncodeToString(b))
	}
	s, err := env.Kube.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func assertWorkloadsReady(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	deps, err := env.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sts, err := env.Kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(deps.Items)+len(sts.Items) < 2 {
		t.Fatalf("only %d workloads", len(deps.Items)+len(sts.Items))
	}
	for _, d := range deps.Items {
		if d.Status.ReadyReplicas != *d.Spec.Replicas || d.Status.UpdatedReplicas != *d.Spec.Replicas {
			t.Errorf("deployment %s: %d/%d ready", d.Name, d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
	}
	for _, s := range sts.Items {
		if s.Status.ReadyReplicas != *s.Spec.Replicas {
			t.Errorf("statefulset %s: %d/%d ready", s.Name, s.Status.ReadyReplicas, *s.Spec.Replicas)
		}
	}
}

// boundPVCs returns the namespace's PVCs (name -> UID), failing unless all
// are Bound.
func boundPVCs(t *testing.T, ns string) map[string]types.UID {
	t.Helper()
	list, err := env.Kube.CoreV1().PersistentVolumeClaims(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, p := range list.Items {
		if p.Status.Phase != corev1.ClaimBound {
			t.Errorf("PVC %s is %s", p.Name, p.Status.Phase)
		}
		out[p.Name] = p.UID
	}
	return out
}

func samePVCs(a, b map[string]types.UID) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// assertQuotaCounts waits until the quota controller has counted the store's
// pods and volumes against its ResourceQuota.
func assertQuotaCounts(t *testing.T, ns, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		q, err := env.Kube.CoreV1().ResourceQuotas(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pods, pvcs := q.Status.Used[corev1.ResourcePods], q.Status.Used[corev1.ResourcePersistentVolumeClaims]
		cpu := q.Status.Used[corev1.ResourceRequestsCPU]
		return pods.Value() > 0 && pvcs.Value() > 0 && !cpu.IsZero(), nil
	})
	if err != nil {
		t.Fatalf("resource quota never reported usage: %v", err)
	}
}

// deleteNamespaceAndVolumes deletes ns, waits until it is gone, then until
// no PersistentVolume is bound to a claim of it.
func deleteNamespaceAndVolumes(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	if err := env.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		if _, err := env.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err == nil {
			return false, nil
		} else if !apierrors.IsNotFound(err) {
			return false, err
		}
		pvs, err := env.Kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, pv := range pvs.Items {
			if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("namespace %s or its volumes not gone: %v", ns, err)
	}
}

// TestTenantCanReadOnlyItsOwnStore installs two stores of two tenants and
// asks the real apiserver's authorizer (SubjectAccessReview) what each
// tenant's group may do: read its own store's pods, logs and events, and
// nothing in the other tenant's store, kube-system, or its own Secrets.
func TestTenantCanReadOnlyItsOwnStore(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	tenants := map[string]string{"acme": "rbac-acme", "beta": "rbac-beta"}
	var made []string
	defer func() {
		for _, ns := range made {
			deleteNamespaceAndVolumes(t, ns)
		}
	}()
	for tenant, name := range tenants {
		ns := "store-" + name
		createRestrictedNamespace(t, ns)
		made = append(made, ns)
		createStoreSecret(t, ns, name+"-credentials", storechart.EngineWooCommerce)
		vals := storeValues(name, storechart.EngineWooCommerce)
		vals["store"].(map[string]any)["tenant"] = tenant
		ac, err := helmclient.ActionConfig(env.RESTConfig, ns, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		install := action.NewInstall(ac)
		install.ReleaseName, install.Namespace = name, ns
		if _, err := install.RunWithContext(ctx, loadChart(t), values(t, "local", vals)); err != nil {
			t.Fatalf("install %s: %v", name, err)
		}
	}
	type ask struct {
		tenant, ns, verb, resource, subresource, group string
		allowed                                        bool
	}
	asks := []ask{
		{"acme", "store-rbac-acme", "get", "pods", "", "", true},
		{"acme", "store-rbac-acme", "list", "pods", "", "", true},
		{"acme", "store-rbac-acme", "get", "pods", "log", "", true},
		{"acme", "store-rbac-acme", "list", "events", "", "", true},
		{"acme", "store-rbac-acme", "list", "events", "", "events.k8s.io", true},
		{"acme", "store-rbac-acme", "list", "deployments", "", "apps", true},
		{"acme", "store-rbac-acme", "get", "secrets", "", "", false},
		{"acme", "store-rbac-acme", "delete", "pods", "", "", false},
		{"acme", "store-rbac-acme", "create", "pods", "exec", "", false},
		{"acme", "store-rbac-beta", "get", "pods", "", "", false},
		{"acme", "store-rbac-beta", "get", "pods", "log", "", false},
		{"acme", "kube-system", "list", "pods", "", "", false},
		{"beta", "store-rbac-beta", "get", "pods", "log", "", true},
		{"beta", "store-rbac-acme", "list", "pods", "", "", false},
	}
	review := func(ctx context.Context, a ask) (bool, error) {
		sar, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   "someone-of-" + a.tenant,
				Groups: []string{"storeplatform:tenant:" + a.tenant, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: a.ns, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return sar.Status.Allowed, nil
	}
	for _, a := range asks {
		t.Run(fmt.Sprintf("%s/%s/%s/%s/%s", a.tenant, a.ns, a.verb, a.resource, a.subresource), func(t *testing.T) {
			// The authorizer learns new bindings from a watch: wait for an
			// allowed answer; a denied one is checked once that tenant's
			// own access works, so it is not denied for being early.
			var got bool
			err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				own, err := review(ctx, ask{tenant: a.tenant, ns: "store-" + tenants[a.tenant], verb: "get", resource: "pods"})
				if err != nil || !own {
					return false, err
				}
				got, err = review(ctx, a)
				return err == nil, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != a.allowed {
				t.Errorf("allowed=%v, want %v", got, a.allowed)
			}
		})
	}
}
