package kubewatch_test

import (
	"log/slog"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/kubewatch"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func deployment(name string, lbls map[string]string) *appsv1.Deployment {
	sel := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/c:1"}}},
			},
		},
	}
}

// TestWatcherWakesTheNamespaceAndCachesOnlyLabelledObjects: a subscriber of
// a namespace is woken when a labelled object there changes, a subscriber
// of another namespace is not, and the cache holds the labelled objects
// only.
func TestWatcherWakesTheNamespaceAndCachesOnlyLabelledObjects(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	w, err := kubewatch.Start(ctx, env.RESTConfig, "example.com/watched", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !w.WaitSynced(ctx, time.Minute) {
		t.Fatal("the cache never synced")
	}
	for _, ns := range []string{"kw-a", "kw-b"} {
		if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wakeA, stopA := w.Subscribe("kw-a")
	defer stopA()
	wakeB, stopB := w.Subscribe("kw-b")
	defer stopB()

	deps := env.Kube.AppsV1().Deployments("kw-a")
	if _, err := deps.Create(ctx, deployment("plain", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := deps.Create(ctx, deployment("watched", map[string]string{"example.com/watched": "yes"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wakeA:
	case <-time.After(30 * time.Second):
		t.Fatal("kw-a's subscriber was not woken by its labelled Deployment")
	}
	select {
	case <-wakeB:
		t.Fatal("kw-b's subscriber was woken by a change in kw-a")
	default:
	}
	l, err := w.List("kw-a", labels.Everything())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Deployments) != 1 || l.Deployments[0].Name != "watched" {
		t.Fatalf("cached Deployments of kw-a: %v, want only the labelled one", names(l.Deployments))
	}
}

func names(ds []appsv1.Deployment) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}
