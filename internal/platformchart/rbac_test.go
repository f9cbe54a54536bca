package platformchart_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// The release and namespace of the RBAC tests, and the identities the
// chart gives its ServiceAccounts.
const (
	rbacRelease = "rbac"
	rbacNS      = "platform-rbac"
	workerUser  = "system:serviceaccount:" + rbacNS + ":rbac-store-platform-worker"
	apiUser     = "system:serviceaccount:" + rbacNS + ":rbac-store-platform-api"
)

// fast are timeouts that keep the lifecycles quick on the local cluster.
var fast = workflows.Timeouts{Short: 10 * time.Second, Install: 30 * time.Second, Heartbeat: 3 * time.Second, Ready: 2 * time.Minute, StuckAfter: 2 * time.Minute}

// as is a client of the local stack that impersonates user, as its
// ServiceAccount's token would authenticate it (the API server adds the
// ServiceAccount groups).
func as(t *testing.T, user string) (*rest.Config, kubernetes.Interface) {
	t.Helper()
	cfg := rest.CopyConfig(env.RESTConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, kube
}

// chartStoreAccess reads STORE_ROLE_BINDINGS from the installed worker
// Deployment: the bindings are the chart's, not a copy in the test.
func chartStoreAccess(t *testing.T) []activities.StoreAccess {
	t.Helper()
	d, err := env.Kube.AppsV1().Deployments(rbacNS).Get(t.Context(), "rbac-store-platform-worker", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "STORE_ROLE_BINDINGS" {
			access, err := activities.ParseStoreAccess(e.Value)
			if err != nil {
				t.Fatal(err)
			}
			return access
		}
	}
	t.Fatal("the worker Deployment sets no STORE_ROLE_BINDINGS")
	return nil
}

func storeSpec(name, engine string) store.Spec {
	s := store.Spec{Name: name, Generation: 1, Engine: engine, Host: name + ".stores.localhost", Title: "Test " + name,
		AdminEmail: "owner@example.com", Size: store.SizeSmall, Tenant: "acme"}
	if engine == store.EngineMedusa {
		s.MedusaImage = "registry.example.com/acme/medusa:1.0.0"
	}
	return s
}

// TestChartRBAC installs the chart, then proves its RBAC on the real API
// server: what each ServiceAccount may and may not do (SubjectAccessReview),
// what the admission policy refuses the worker, and a worker impersonating
// the chart's worker ServiceAccount running a WooCommerce and a Medusa
// store through create, change, rollback and delete, with the API's
// ServiceAccount reading each store's credentials and release history.
func TestChartRBAC(t *testing.T) {
	env.Require(t)
	installPlatform(t, rbacRelease, rbacNS, map[string]any{
		"api": map[string]any{"replicas": 1}, "worker": map[string]any{"replicas": 1},
	})
	access := chartStoreAccess(t)
	workerCfg, workerKube := as(t, workerUser)

	// A store namespace made by the worker's own CreateNamespace, with the
	// worker's credentials: the bindings are made as the worker.
	spec := storeSpec("rbac-access", store.EngineWooCommerce)
	acts := &activities.Activities{Kube: workerKube, StoreAccess: access, Installation: "00112233445566778899aabbccddeeff"}
	if err := acts.CreateNamespace(t.Context(), activities.NamespaceInput{Spec: spec}); err != nil {
		t.Fatalf("CreateNamespace as the worker: %v", err)
	}
	t.Cleanup(func() {
		_ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), spec.Namespace(), metav1.DeleteOptions{})
	})

	t.Run("access reviews", func(t *testing.T) { accessReviews(t, spec.Namespace()) })
	t.Run("admission policy", func(t *testing.T) { admissionPolicy(t, workerKube, spec.Namespace()) })
	t.Run("no privileged namespace", func(t *testing.T) { noPrivilegedNamespace(t, workerKube, spec.Namespace()) })
	t.Run("api reads only store secrets", func(t *testing.T) { apiReadsOnlyStoreSecrets(t, spec.Namespace()) })

	db := env.Mongo.Database(fmt.Sprintf("test_rbac_%d", time.Now().UnixNano()))
	queue := fmt.Sprintf("test-rbac-%d", time.Now().UnixNano())
	env.StartWorkerWith(t, db, queue, testenv.WorkerOptions{RESTConfig: workerCfg, StoreAccess: access})
	for _, engine := range []string{store.EngineWooCommerce, store.EngineMedusa} {
		t.Run("lifecycle "+engine, func(t *testing.T) { lifecycle(t, db, queue, storeSpec("rbac-"+engine, engine)) })
	}
	t.Run("stuck deletion forced", func(t *testing.T) { forcedDeletion(t, db, queue, storeSpec("rbac-stuck", store.EngineWooCommerce)) })
}

// forcedDeletion: a deletion held by someone else's finalizer is reported
// stuck (naming that object, not the worker's own access) and finished by
// the force signal, the worker keeping its access to the namespace until
// everything else is gone.
func forcedDeletion(t *testing.T, db *mongo.Database, queue string, spec store.Spec) {
	ctx := t.Context()
	run, err := workflows.StartCreate(ctx, env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatal(err)
	}
	if err := await(t, run, nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err = env.Kube.CoreV1().ConfigMaps(spec.Namespace()).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	quick := fast
	quick.StuckAfter = 15 * time.Second
	del, err := workflows.StartDelete(ctx, env.Temporal, queue, workflows.DeleteStoreInput{Spec: spec, Timeouts: quick})
	if err != nil {
		t.Fatal(err)
	}
	repo := store.NewMongoRepository(db)
	deadline := time.Now().Add(time.Minute)
	var rec store.Record
	for {
		if rec, err = repo.Get(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		if rec.Phase == store.PhaseDeletionStuck {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never stuck: %+v", rec)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// (The namespace's own conditions, also listed, name every finalizer.)
	if got := strings.Join(rec.Blockers, " "); !strings.Contains(got, "configmaps/held (example.com/hold)") ||
		strings.Contains(got, "rolebindings.rbac.authorization.k8s.io/rbac-store-platform-worker-store") {
		t.Fatalf("blockers %v: want the held ConfigMap and not the worker's access", rec.Blockers)
	}
	if err := env.Temporal.SignalWorkflow(ctx, del.GetID(), "", workflows.SignalForce, nil); err != nil {
		t.Fatal(err)
	}
	if err := await(t, del, nil); err != nil {
		t.Fatalf("forced delete: %v", err)
	}
	if _, err := env.Kube.CoreV1().Namespaces().Get(ctx, spec.Namespace(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace after the forced delete: %v", err)
	}
}

// accessReviews asks the API server, for each ServiceAccount, what it may
// do: allowed what its work needs, refused the rest.
func accessReviews(t *testing.T, storeNS string) {
	type attr = authorizationv1.ResourceAttributes
	for _, tt := range []struct {
		name  string
		user  string
		attr  attr
		allow bool
	}{
		// The worker: the store objects in a store namespace, ...
		{"worker reads a store's secrets", workerUser, attr{Namespace: storeNS, Verb: "get", Resource: "secrets"}, true},
		{"worker writes Helm's release secrets", workerUser, attr{Namespace: storeNS, Verb: "create", Resource: "secrets"}, true},
		{"worker makes a store's deployments", workerUser, attr{Namespace: storeNS, Verb: "create", Group: "apps", Resource: "deployments"}, true},
		{"worker makes the tenant's role", workerUser, attr{Namespace: storeNS, Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "roles"}, true},
		{"worker takes a release lease", workerUser, attr{Namespace: storeNS, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{"worker creates namespaces", workerUser, attr{Verb: "create", Resource: "namespaces"}, true},
		{"worker watches pods everywhere", workerUser, attr{Verb: "watch", Resource: "pods"}, true},
		// ... and nothing of the kind elsewhere.
		{"worker reads secrets in kube-system", workerUser, attr{Namespace: "kube-system", Verb: "get", Resource: "secrets"}, false},
		{"worker lists secrets in kube-system", workerUser, attr{Namespace: "kube-system", Verb: "list", Resource: "secrets"}, false},
		{"worker reads secrets in default", workerUser, attr{Namespace: "default", Verb: "get", Resource: "secrets"}, false},
		{"worker reads the platform's MongoDB secret", workerUser, attr{Namespace: rbacNS, Verb: "get", Resource: "secrets", Name: "platform-mongodb"}, false},
		{"worker lists secrets everywhere", workerUser, attr{Verb: "list", Resource: "secrets"}, false},
		{"worker creates deployments in kube-system", workerUser, attr{Namespace: "kube-system", Verb: "create", Group: "apps", Resource: "deployments"}, false},
		{"worker deletes configmaps in kube-system", workerUser, attr{Namespace: "kube-system", Verb: "delete", Resource: "configmaps"}, false},
		{"worker creates pods in kube-system", workerUser, attr{Namespace: "kube-system", Verb: "create", Resource: "pods"}, false},
		// In a store namespace, only the store chart's workloads run
		// (whose pods Pod Security "restricted" admits): no pod of its own,
		// no exec into one, no Job or DaemonSet, no token of another account.
		{"worker creates pods in a store namespace", workerUser, attr{Namespace: storeNS, Verb: "create", Resource: "pods"}, false},
		{"worker execs into a store's pods", workerUser, attr{Namespace: storeNS, Verb: "create", Resource: "pods", Subresource: "exec"}, false},
		{"worker adds ephemeral containers", workerUser, attr{Namespace: storeNS, Verb: "update", Resource: "pods", Subresource: "ephemeralcontainers"}, false},
		{"worker creates jobs in a store namespace", workerUser, attr{Namespace: storeNS, Verb: "create", Group: "batch", Resource: "jobs"}, false},
		{"worker creates daemonsets in a store namespace", workerUser, attr{Namespace: storeNS, Verb: "create", Group: "apps", Resource: "daemonsets"}, false},
		{"worker mints service account tokens", workerUser, attr{Namespace: storeNS, Verb: "create", Resource: "serviceaccounts", Subresource: "token"}, false},
		{"worker deletes nodes", workerUser, attr{Verb: "delete", Resource: "nodes", Name: "kwok-node-0"}, false},
		{"worker creates cluster role bindings", workerUser, attr{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
		{"worker binds cluster-admin", workerUser, attr{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "cluster-admin"}, false},
		{"worker escalates roles", workerUser, attr{Namespace: storeNS, Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles"}, false},
		{"worker impersonates", workerUser, attr{Verb: "impersonate", Resource: "users"}, false},
		{"worker changes the admission policy", workerUser, attr{Verb: "delete", Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"}, false},
		// The API: a store's secrets, read-only, and nothing else.
		{"api reads a store's credentials", apiUser, attr{Namespace: storeNS, Verb: "get", Resource: "secrets"}, true},
		{"api lists a store's release secrets", apiUser, attr{Namespace: storeNS, Verb: "list", Resource: "secrets"}, true},
		{"api writes a store's secrets", apiUser, attr{Namespace: storeNS, Verb: "update", Resource: "secrets"}, false},
		{"api reads secrets in kube-system", apiUser, attr{Namespace: "kube-system", Verb: "get", Resource: "secrets"}, false},
		{"api reads secrets in default", apiUser, attr{Namespace: "default", Verb: "get", Resource: "secrets"}, false},
		{"api lists a store's events", apiUser, attr{Namespace: storeNS, Verb: "list", Resource: "events"}, true},
		{"api lists events in kube-system", apiUser, attr{Namespace: "kube-system", Verb: "list", Resource: "events"}, false},
		{"api writes a store's events", apiUser, attr{Namespace: storeNS, Verb: "create", Resource: "events"}, false},
		{"api lists a store's pods", apiUser, attr{Namespace: storeNS, Verb: "list", Resource: "pods"}, false},
		{"api deletes namespaces", apiUser, attr{Verb: "delete", Resource: "namespaces"}, false},
		{"api creates deployments", apiUser, attr{Namespace: storeNS, Verb: "create", Group: "apps", Resource: "deployments"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.attr
			ns := strings.Split(tt.user, ":")[2]
			sar, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User: tt.user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
					ResourceAttributes: &a,
				},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sar.Status.Allowed != tt.allow {
				t.Fatalf("allowed %v, want %v (%s)", sar.Status.Allowed, tt.allow, sar.Status.Reason)
			}
		})
	}
}

// admissionPolicy sends the worker's real requests (dry run: admission
// runs, nothing is stored) that its RBAC allows cluster-wide, and shows
// the chart's ValidatingAdmissionPolicy confining them to its namespaces.
func admissionPolicy(t *testing.T, workerKube kubernetes.Interface, storeNS string) {
	ctx := t.Context()
	// A namespace of someone else.
	const other = "another-team"
	if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), other, metav1.DeleteOptions{}) })
	dry := []string{metav1.DryRunAll}
	binding := func() *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "grab"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "rbac-store-platform-worker-store"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: rbacNS, Name: "rbac-store-platform-worker"}},
		}
	}
	label := []byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":"storeplatform"}}}`)
	annotate := []byte(`{"metadata":{"annotations":{"storeplatform.io/probe":"x"}}}`)
	patchStore := func(patch string) func() error {
		return func() error {
			_, err := workerKube.CoreV1().Namespaces().Patch(ctx, storeNS, types.MergePatchType, []byte(patch), metav1.PatchOptions{DryRun: dry})
			return err
		}
	}
	createNS := func(labels map[string]string) func() error {
		return func() error {
			_, err := workerKube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "store-probe", Labels: labels}},
				metav1.CreateOptions{DryRun: dry})
			return err
		}
	}
	const managedBy, enforce, enforceVersion = "app.kubernetes.io/managed-by", "pod-security.kubernetes.io/enforce", "pod-security.kubernetes.io/enforce-version"
	for _, tt := range []struct {
		name  string
		do    func() error
		allow bool
	}{
		{"bind the store role in kube-system", func() error {
			_, err := workerKube.RbacV1().RoleBindings("kube-system").Create(ctx, binding(), metav1.CreateOptions{DryRun: dry})
			return err
		}, false},
		{"bind the store role in another namespace", func() error {
			_, err := workerKube.RbacV1().RoleBindings(other).Create(ctx, binding(), metav1.CreateOptions{DryRun: dry})
			return err
		}, false},
		{"delete another namespace", func() error {
			return workerKube.CoreV1().Namespaces().Delete(ctx, other, metav1.DeleteOptions{DryRun: dry})
		}, false},
		{"label another namespace as the platform's", func() error {
			_, err := workerKube.CoreV1().Namespaces().Patch(ctx, other, types.MergePatchType, label, metav1.PatchOptions{DryRun: dry})
			return err
		}, false},
		{"annotate kube-system", func() error {
			_, err := workerKube.CoreV1().Namespaces().Patch(ctx, "kube-system", types.MergePatchType, annotate, metav1.PatchOptions{DryRun: dry})
			return err
		}, false},
		{"create a namespace without labels", createNS(nil), false},
		{"create a platform namespace without Pod Security", createNS(map[string]string{managedBy: "storeplatform"}), false},
		{"create a platform namespace enforcing baseline", createNS(map[string]string{managedBy: "storeplatform", enforce: "baseline"}), false},
		{"create a platform namespace enforcing an old restricted", createNS(map[string]string{managedBy: "storeplatform", enforce: "restricted", enforceVersion: "v1.22"}), false},
		{"create a restricted namespace not the platform's", createNS(map[string]string{enforce: "restricted"}), false},
		{"relabel a store namespace privileged", patchStore(`{"metadata":{"labels":{"` + enforce + `":"privileged"}}}`), false},
		{"drop a store namespace's Pod Security", patchStore(`{"metadata":{"labels":{"` + enforce + `":null}}}`), false},
		{"pin a store namespace to an old Pod Security", patchStore(`{"metadata":{"labels":{"` + enforceVersion + `":"v1.22"}}}`), false},
		{"drop a store namespace's platform label", patchStore(`{"metadata":{"labels":{"` + managedBy + `":null}}}`), false},
		{"create a restricted platform namespace", createNS(map[string]string{managedBy: "storeplatform", enforce: "restricted"}), true},
		{"create a restricted platform namespace at the latest version", createNS(map[string]string{managedBy: "storeplatform", enforce: "restricted", enforceVersion: "latest"}), true},
		{"bind in a store namespace", func() error {
			_, err := workerKube.RbacV1().RoleBindings(storeNS).Create(ctx, binding(), metav1.CreateOptions{DryRun: dry})
			return err
		}, true},
		{"annotate a store namespace", func() error {
			_, err := workerKube.CoreV1().Namespaces().Patch(ctx, storeNS, types.MergePatchType, annotate, metav1.PatchOptions{DryRun: dry})
			return err
		}, true},
		{"delete a store namespace", func() error {
			return workerKube.CoreV1().Namespaces().Delete(ctx, storeNS, metav1.DeleteOptions{DryRun: dry})
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if tt.allow {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "store platform's worker may") {
				t.Fatalf("want the admission policy's refusal, got %v", err)
			}
		})
	}
}

// noPrivilegedNamespace runs, as the worker's ServiceAccount and for real
// (no dry run), the way to root on a node of issue #20: make a namespace
// of the platform that enforces Pod Security "privileged", bind the store
// role there, run a privileged hostPID pod mounting the node's /. Each
// step is refused: the namespace and the binding by the admission policy,
// the Deployment by RBAC (no binding), and the same Deployment in a store
// namespace of the worker's by Pod Security, which admits none of its pods.
func noPrivilegedNamespace(t *testing.T, workerKube kubernetes.Interface, storeNS string) {
	ctx := t.Context()
	const evil = "store-evil"
	privileged := map[string]string{"app.kubernetes.io/managed-by": "storeplatform", "pod-security.kubernetes.io/enforce": "privileged"}
	t.Cleanup(func() { _ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), evil, metav1.DeleteOptions{}) })
	refusedByPolicy := func(t *testing.T, what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "store platform's worker may") {
			t.Fatalf("%s: want the admission policy's refusal, got %v", what, err)
		}
	}

	_, err := workerKube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: evil, Labels: privileged}}, metav1.CreateOptions{})
	refusedByPolicy(t, "create namespace "+evil+" enforcing privileged", err)
	if _, err := env.Kube.CoreV1().Namespaces().Get(ctx, evil, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace %s after the refusal: %v", evil, err)
	}

	// The rest of the sequence where such a namespace exists all the same
	// (made by someone else, or before the policy).
	if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: evil, Labels: privileged}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = workerKube.RbacV1().RoleBindings(evil).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "rbac-store-platform-worker-store"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "rbac-store-platform-worker-store"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: rbacNS, Name: "rbac-store-platform-worker"}},
	}, metav1.CreateOptions{})
	refusedByPolicy(t, "bind the store role in "+evil, err)
	if _, err := workerKube.AppsV1().Deployments(evil).Create(ctx, rootOnNode(), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("privileged Deployment in %s: want RBAC's refusal, got %v", evil, err)
	}

	// Where the worker may make Deployments, their pods meet "restricted".
	if _, err := workerKube.AppsV1().Deployments(storeNS).Create(ctx, rootOnNode(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("the Deployment itself (Pod Security judges its pods): %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		rss, err := env.Kube.AppsV1().ReplicaSets(storeNS).List(ctx, metav1.ListOptions{LabelSelector: "app=root-on-node"})
		if err != nil {
			return false, err
		}
		for _, rs := range rss.Items {
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure && strings.Contains(c.Message, "violates PodSecurity") {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no ReplicaSet of the privileged Deployment refused by Pod Security: %v", err)
	}
	pods, err := env.Kube.CoreV1().Pods(storeNS).List(ctx, metav1.ListOptions{LabelSelector: "app=root-on-node"})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods of the privileged Deployment: %d, %v", len(pods.Items), err)
	}
	if err := env.Kube.AppsV1().Deployments(storeNS).Delete(ctx, "root-on-node", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// rootOnNode is the Deployment: a privileged container in the
// node's PID namespace with the node's / mounted.
func rootOnNode() *appsv1.Deployment {
	labels := map[string]string{"app": "root-on-node"}
	yes := true
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "root-on-node", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostPID: true,
					Containers: []corev1.Container{{
						Name: "root", Image: "busybox:1.37", Command: []string{"sleep", "infinity"},
						SecurityContext: &corev1.SecurityContext{Privileged: &yes},
						VolumeMounts:    []corev1.VolumeMount{{Name: "host", MountPath: "/host"}},
					}},
					Volumes: []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
				},
			},
		},
	}
}

// apiReadsOnlyStoreSecrets: as the API's ServiceAccount, a store's Secret
// reads; kube-system's and the platform's own do not.
func apiReadsOnlyStoreSecrets(t *testing.T, storeNS string) {
	ctx := t.Context()
	_, apiKube := as(t, apiUser)
	// The worker's EnsureCredentials has not run: make a Secret to read.
	if _, err := env.Kube.CoreV1().Secrets(storeNS).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := apiKube.CoreV1().Secrets(storeNS).Get(ctx, "probe", metav1.GetOptions{}); err != nil {
		t.Fatalf("read a store's secret: %v", err)
	}
	for _, ns := range []string{"kube-system", "default", rbacNS} {
		if _, err := apiKube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("list secrets in %s: want Forbidden, got %v", ns, err)
		}
	}
}

// lifecycle runs one store through create, change, rollback and delete on
// the impersonated worker, and reads its credentials and release history
// as the API's ServiceAccount.
func lifecycle(t *testing.T, db *mongo.Database, queue string, spec store.Spec) {
	ctx := t.Context()
	run, err := workflows.StartCreate(ctx, env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatal(err)
	}
	var created workflows.CreateStoreResult
	if err := await(t, run, &created); err != nil || created.Phase != store.PhaseReady {
		t.Fatalf("create: %+v %v", created, err)
	}
	// The bindings of STORE_ROLE_BINDINGS are in the namespace, made by
	// the worker, and so is the tenant's read-only Role of the store chart,
	// which the worker could only make holding every permission it grants.
	for _, name := range []string{"rbac-store-platform-worker-store", "rbac-store-platform-api-store", spec.Name + "-tenant-read"} {
		if _, err := env.Kube.RbacV1().RoleBindings(spec.Namespace()).Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("RoleBinding %s: %v", name, err)
		}
	}
	if _, err := env.Kube.RbacV1().Roles(spec.Namespace()).Get(ctx, spec.Name+"-tenant-read", metav1.GetOptions{}); err != nil {
		t.Errorf("the tenant's Role: %v", err)
	}

	changed := spec
	changed.Title = "Changed"
	res := operate(t, queue, workflows.OperateStoreInput{Kind: store.OpChange, Spec: spec, Target: &changed})
	if res.Phase != store.PhaseReady || res.Revision != 2 {
		t.Fatalf("change: %+v", res)
	}
	res = operate(t, queue, workflows.OperateStoreInput{Kind: store.OpRollback, Spec: changed, Revision: 1})
	if res.Phase != store.PhaseReady || res.Revision != 3 {
		t.Fatalf("rollback: %+v", res)
	}
	rec, err := store.NewMongoRepository(db).Get(ctx, spec.Name)
	if err != nil || rec.Title != spec.Title {
		t.Fatalf("record after rollback: %+v %v", rec, err)
	}

	// What the API does with a store, as the API's ServiceAccount.
	apiCfg, apiKube := as(t, apiUser)
	if _, err := apiKube.CoreV1().Secrets(spec.Namespace()).Get(ctx, spec.SecretName(), metav1.GetOptions{}); err != nil {
		t.Errorf("the API reads the store's credentials: %v", err)
	}
	if _, err := apiKube.CoreV1().Events(spec.Namespace()).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("the API lists the store's events: %v", err)
	}
	runner, err := helmclient.NewRunner(apiCfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if hist, err := runner.History(ctx, spec.Namespace(), spec.Name); err != nil || len(hist) != 3 {
		t.Errorf("the API reads the release history: %d revisions, %v", len(hist), err)
	}

	del, err := workflows.StartDelete(ctx, env.Temporal, queue, workflows.DeleteStoreInput{Spec: spec, Timeouts: fast})
	if err != nil {
		t.Fatal(err)
	}
	if err := await(t, del, nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := env.Kube.CoreV1().Namespaces().Get(ctx, spec.Namespace(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace after delete: %v", err)
	}
}

func operate(t *testing.T, queue string, in workflows.OperateStoreInput) workflows.OperateStoreResult {
	t.Helper()
	in.Timeouts = fast
	run, err := workflows.StartOperation(t.Context(), env.Temporal, queue, in)
	if err != nil {
		t.Fatalf("start %s: %v", in.Kind, err)
	}
	var res workflows.OperateStoreResult
	if err := await(t, run, &res); err != nil {
		t.Fatalf("%s: %v", in.Kind, err)
	}
	return res
}

// await is run.Get, except that it fails the test as soon as an activity
// of the workflow was refused by the API server: a workflow retries a
// Forbidden activity until its timeouts, and the refusal is what the test
// is about.
func await(t *testing.T, run client.WorkflowRun, into any) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run.Get(t.Context(), into) }()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
		}
		d, err := env.Temporal.DescribeWorkflow(t.Context(), run.GetID(), run.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		for _, pa := range d.RawResponse.GetPendingActivities() {
			if msg := pa.GetLastFailure().GetMessage(); strings.Contains(msg, "forbidden") {
				t.Fatalf("%s refused by the API server: %s", pa.GetActivityType().GetName(), msg)
			}
		}
	}
}
