package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// specFor is the spec the API would make of a bench store's POST (name,
// engine, title, admin email; the default host and size) for tenant.
func (e *env) specFor(name, tenant string) store.Spec {
	return store.Spec{Name: name, Generation: 1, Engine: store.EngineWooCommerce, Title: "Bench " + name,
		AdminEmail: "bench@example.com", Host: name + "." + e.cfg.StoreDomain, Size: store.SizeSmall, Tenant: tenant}
}

// prepare creates what the platform creates before the release: the
// namespace with the platform's labels and Pod Security admission, and the
// credentials Secret with a random value for every key the chart reads (as
// activities.CreateNamespace and EnsureCredentials do).
func (e *env) prepare(ctx context.Context, spec store.Spec) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: spec.Namespace(), Labels: map[string]string{
		activities.LabelStore:                spec.Name,
		activities.LabelGeneration:           strconv.Itoa(spec.Generation),
		activities.LabelManagedBy:            activities.ManagedBy,
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
		"pod-security.kubernetes.io/audit":   "restricted",
	}}}
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	data := map[string][]byte{}
	for _, k := range storechart.SecretKeys(spec.Engine) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		data[k] = []byte(hex.EncodeToString(b))
	}
	_, err := e.kube.CoreV1().Secrets(spec.Namespace()).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: spec.SecretName(),
			Labels: map[string]string{activities.LabelStore: spec.Name, activities.LabelManagedBy: activities.ManagedBy}},
		Type: corev1.SecretTypeOpaque, Data: data,
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create secret %s: %w", spec.SecretName(), err)
	}
	return nil
}

// valuesFile writes the values the worker would install spec's store with
// (the profile's, its size's, then the store's own: storechart.Profile.For)
// to a file for `helm install -f`.
func (e *env) valuesFile(spec store.Spec) (string, error) {
	data, err := yaml.Marshal(e.profile.For(spec))
	if err != nil {
		return "", err
	}
	dir := filepath.Join(e.o.Dir, "values")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, spec.Name+".yaml")
	return path, os.WriteFile(path, data, 0o644)
}

// helm runs the helm CLI of bin/ against the stack's cluster.
func (e *env) helm(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.o.BinDir, "helm"), args...)
	cmd.Env = append(os.Environ(), e.helmEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// helmOne is a user's way without the platform: the namespace and the
// Secret, then `helm install --wait` of the same chart with the same
// values. The values file is written before the clock starts.
func (e *env) helmOne(ctx context.Context, spec store.Spec) (time.Duration, error) {
	vals, err := e.valuesFile(spec)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := e.prepare(ctx, spec); err != nil {
		return 0, err
	}
	err = e.helm(ctx, "install", spec.Name, e.chartDir, "-n", spec.Namespace(), "--wait", "--timeout", "10m", "-f", vals)
	return time.Since(t0), err
}

// helmCreate runs helmOne for every spec at once and returns each one's
// time from the common start.
func (e *env) helmCreate(ctx context.Context, specs []store.Spec) ([]time.Duration, error) {
	files := make([]string, len(specs))
	for i, s := range specs {
		var err error
		if files[i], err = e.valuesFile(s); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	times := make([]time.Duration, len(specs))
	err := inParallel(len(specs), func(i int) error {
		spec := specs[i]
		if err := e.prepare(ctx, spec); err != nil {
			return err
		}
		err := e.helm(ctx, "install", spec.Name, e.chartDir, "-n", spec.Namespace(), "--wait", "--timeout", "10m", "-f", files[i])
		times[i] = time.Since(t0)
		return err
	})
	return times, err
}

// helmDelete runs `helm uninstall` and then deletes the namespace, for
// every spec at once, and waits until every namespace is gone.
func (e *env) helmDelete(ctx context.Context, specs []store.Spec) ([]time.Duration, error) {
	t0 := time.Now()
	err := inParallel(len(specs), func(i int) error {
		if err := e.helm(ctx, "uninstall", specs[i].Name, "-n", specs[i].Namespace()); err != nil {
			return err
		}
		return e.deleteNamespace(ctx, specs[i].Namespace())
	})
	if err != nil {
		return nil, err
	}
	return e.waitNamespacesGone(ctx, namespaces(specs), t0)
}

// deleteNamespaces deletes every spec's namespace at once and waits until
// they are gone.
func (e *env) deleteNamespaces(ctx context.Context, specs []store.Spec) ([]time.Duration, error) {
	t0 := time.Now()
	nss := namespaces(specs)
	if err := inParallel(len(specs), func(i int) error { return e.deleteNamespace(ctx, nss[i]) }); err != nil {
		return nil, err
	}
	return e.waitNamespacesGone(ctx, nss, t0)
}

func (e *env) deleteNamespace(ctx context.Context, ns string) error {
	err := e.kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", ns, err)
	}
	return nil
}

// sequential is the product description's flow, one store after another:
// write the store's record to MongoDB, then the namespace, the Secret and
// `helm install --wait`, then mark the record ready. It returns the time
// of all of them.
func (e *env) sequential(ctx context.Context, specs []store.Spec) (time.Duration, error) {
	coll := e.db.Collection("bench_sequential")
	t0 := time.Now()
	for _, spec := range specs {
		if _, err := coll.InsertOne(ctx, bson.M{"name": spec.Name, "engine": spec.Engine, "phase": store.PhaseProvisioning,
			"created_at": time.Now()}); err != nil {
			return 0, err
		}
		if _, err := e.helmOne(ctx, spec); err != nil {
			return 0, err
		}
		if _, err := coll.UpdateOne(ctx, bson.M{"name": spec.Name}, bson.M{"$set": bson.M{"phase": store.PhaseReady, "ready_at": time.Now()}}); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// inParallel runs fn(0) … fn(n-1) at once and returns the first error (by
// index) once all have ended.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// namespaces are the specs' namespaces.
func namespaces(specs []store.Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Namespace()
	}
	return out
}
