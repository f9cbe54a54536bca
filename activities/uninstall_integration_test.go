package activities_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// TestUninstallReleaseRefusesNamespacesNotOurs: a release in a namespace
// that is not this installation's store namespace (the platform's own
// store-platform, or another installation's store) is refused for good and
// left installed.
func TestUninstallReleaseRefusesNamespacesNotOurs(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
	}{
		{"without the platform's labels", nil},
		{"of another installation", map[string]string{
			activities.LabelManagedBy: activities.ManagedBy, activities.LabelStore: "uninst-b",
			activities.LabelGeneration: "1", activities.LabelInstallation: otherInstallation,
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, runner := newActivities(t)
			spec := store.Spec{Name: "uninst-" + string(rune('a'+i)), Generation: 1, Engine: store.EngineWooCommerce, Host: "u.example.com"}
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: spec.Namespace(), Labels: tt.labels}}
			if _, err := env.Kube.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), spec.Namespace(), metav1.DeleteOptions{})
			})
			// Someone else's release, of the same name.
			if _, err := runner.Install(t.Context(), spec.Namespace(), spec.Name, a.Chart, a.Profile.For(spec)); err != nil {
				t.Fatal(err)
			}
			wantNotOurs(t, run(t, a.UninstallRelease, activities.NamespaceInput{Spec: spec}), spec.Namespace())
			if got := statuses(t, runner, spec); got != "1:deployed" {
				t.Fatalf("the release was touched: history %q", got)
			}
		})
	}
}

// TestUninstallReleaseOfAGoneNamespaceIsSuccess: nothing to uninstall is
// not a failure, whoever the namespace belonged to.
func TestUninstallReleaseOfAGoneNamespaceIsSuccess(t *testing.T) {
	a, _ := newActivities(t)
	spec := store.Spec{Name: "uninst-gone", Generation: 1, Engine: store.EngineWooCommerce, Host: "g.example.com"}
	if err := run(t, a.UninstallRelease, activities.NamespaceInput{Spec: spec}); err != nil {
		t.Fatal(err)
	}
}
