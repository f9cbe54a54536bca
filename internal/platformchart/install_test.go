package platformchart_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// installPlatform installs charts/store-platform as release name into a new
// namespace ns that enforces the "restricted" Pod Security Standard, with a
// MongoDB Secret pointing nowhere (kwok runs no container), and waits until
// every Deployment is ready. The release and the namespace are removed when
// the test ends.
func installPlatform(t *testing.T, name, ns string, vals map[string]any) *release.Release {
	t.Helper()
	ctx := t.Context()
	_, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns,
		Labels: map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
		},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.Kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "platform-mongodb"},
		StringData: map[string]string{"uri": "mongodb://platform:not-a-password@mongodb.invalid:27017/"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := helmclient.ActionConfig(env.RESTConfig, ns, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(ac)
	install.ReleaseName, install.Namespace = name, ns
	install.Wait, install.Timeout = true, 3*time.Minute
	rel, err := install.RunWithContext(ctx, loadChart(t), storechart.Merge(baseValues(), vals))
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background() // t.Context() is canceled by now
		if _, err := action.NewUninstall(ac).Run(name); err != nil {
			t.Errorf("helm uninstall: %v", err)
		}
		if err := env.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
	})
	return rel
}

// TestInstallOnTheLocalStack: `helm install` makes every object of the
// chart on a real API server, its pods (with every escape hatch in use)
// are admitted in a namespace that enforces "restricted", and its
// Deployments become ready (kwok).
func TestInstallOnTheLocalStack(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	const name, ns = "sp", "platform"
	rel := installPlatform(t, name, ns, storechart.Merge(extras(),
		map[string]any{"api": map[string]any{"ingress": map[string]any{"enabled": true, "tlsSecret": "platform-tls"}}}))
	if rel.Info.Status != release.StatusDeployed {
		t.Fatalf("release %s", rel.Info.Status)
	}
	ac, err := helmclient.ActionConfig(env.RESTConfig, ns, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ac.KubeClient.Build(strings.NewReader(rel.Manifest), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 17 {
		t.Errorf("%d objects in the release, want 17 (TestRenderMakesEveryObject's)", len(objs))
	}
	for _, o := range objs {
		if err := o.Get(); err != nil {
			t.Errorf("%s %s: %v", o.Mapping.GroupVersionKind.Kind, o.Name, err)
		}
	}
	deps, err := env.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) != 2 {
		t.Fatalf("%d Deployments, want 2", len(deps.Items))
	}
	for _, d := range deps.Items {
		if d.Status.ReadyReplicas != *d.Spec.Replicas || *d.Spec.Replicas != 2 {
			t.Errorf("deployment %s: %d/%d ready", d.Name, d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
	}
	// The pods were admitted by Pod Security "restricted" (the namespace
	// enforces it) and run as the chart's ServiceAccounts.
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := env.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + name})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && strings.HasPrefix(p.Spec.ServiceAccountName, "sp-store-platform-") {
				running++
			}
		}
		return running == 4, nil
	})
	if err != nil {
		t.Fatalf("4 running pods of the chart's ServiceAccounts: %v", err)
	}
}
