package api_test

import (
	"net/http"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// TestRolloutBringsChart040ToStoresOf030 is the upgrade an operator runs
// after taking a platform release with store chart 0.4.0 (issue #11): the
// released 0.3.0, packaged in charts/versions, made two existing stores;
// a fleet rollout of 0.4.0 gives them the fixes, and their data volumes
// and Secrets stay.
func TestRolloutBringsChart040ToStoresOf030(t *testing.T) {
	env.Require(t)
	p := newPlatformWithVersions(t, filepath.Join(env.RepoRoot, "charts", "versions"))
	ctx := t.Context()
	if err := p.stores.SetCurrentChartVersion(ctx, "0.3.0"); err != nil {
		t.Fatal(err)
	}
	stores := map[string]string{
		"fix-wc": `{"name":"fix-wc","engine":"woocommerce"}`,
		"fix-md": `{"name":"fix-md","engine":"medusa","medusaImage":"registry.example.com/acme/medusa:1.0.0"}`,
	}
	volumes := map[string]map[string]string{} // store -> PVC name -> UID
	secrets := map[string]string{}            // store -> Secret resourceVersion
	for name, body := range stores {
		if code, data := p.call(t, "acme", http.MethodPost, "/api/stores", body); code != http.StatusAccepted {
			t.Fatalf("create %s: %d %s", name, code, data)
		}
	}
	for name := range stores {
		if rec := p.waitPhase(t, "acme", name, store.PhaseReady); rec.ChartVersion != "0.3.0" {
			t.Fatalf("%s made with chart %q, want 0.3.0", name, rec.ChartVersion)
		}
		ns := store.NamespaceFor(name)
		pvcs, err := env.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		volumes[name] = map[string]string{}
		for _, v := range pvcs.Items {
			volumes[name][v.Name] = string(v.UID)
		}
		sec, err := env.Kube.CoreV1().Secrets(ns).Get(ctx, name+"-credentials", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = sec.ResourceVersion
	}
	if _, err := env.Kube.BatchV1().CronJobs("store-fix-wc").Get(ctx, "fix-wc-wp-cron", metav1.GetOptions{}); err == nil {
		t.Fatal("0.3.0 has no WP-Cron job")
	}

	id := p.rollout(t, `{"chartVersion":"0.4.0","canary":1,"batchSize":5,"maxFailures":0}`)
	st := p.waitRollout(t, id, "the end", ended)
	if st.Status != workflows.RolloutCompleted || st.Counts[workflows.StoreReady] != 2 {
		t.Fatalf("rollout 0.4.0: %+v", st)
	}
	revs, vers := p.fleet(t, []string{"fix-wc", "fix-md"})
	for name := range stores {
		if revs[name] != 2 || vers[name] != "0.4.0" {
			t.Errorf("%s: %d revisions, chart %q; want 2, 0.4.0", name, revs[name], vers[name])
		}
		ns := store.NamespaceFor(name)
		for pvc, uid := range volumes[name] {
			got, err := env.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, pvc, metav1.GetOptions{})
			if err != nil || string(got.UID) != uid {
				t.Errorf("%s: volume %s replaced or lost (%v)", name, pvc, err)
			}
		}
		sec, err := env.Kube.CoreV1().Secrets(ns).Get(ctx, name+"-credentials", metav1.GetOptions{})
		if err != nil || sec.ResourceVersion != secrets[name] {
			t.Errorf("%s: the Secret changed (%v)", name, err)
		}
		rb, err := env.Kube.RbacV1().RoleBindings(ns).Get(ctx, name+"-tenant-read", metav1.GetOptions{})
		if err != nil || len(rb.Subjects) != 1 || rb.Subjects[0].Name != "storeplatform:tenant:acme" {
			t.Errorf("%s: tenant binding %+v (%v)", name, rb, err)
		}
	}
	// WooCommerce: the WP-Cron job, WordPress pods labelled app=wordpress
	// with the size's bandwidth.
	cj, err := env.Kube.BatchV1().CronJobs("store-fix-wc").Get(ctx, "fix-wc-wp-cron", metav1.GetOptions{})
	if err != nil || cj.Spec.ConcurrencyPolicy != "Forbid" {
		t.Fatalf("WP-Cron job: %+v (%v)", cj, err)
	}
	pods, err := env.Kube.CoreV1().Pods("store-fix-wc").List(ctx, metav1.ListOptions{LabelSelector: "app=wordpress"})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Annotations["kubernetes.io/egress-bandwidth"] != "50M" {
		t.Fatalf("WordPress pods by app=wordpress: %+v (%v)", pods, err)
	}
	// Medusa: an uploads volume, bound, and the server pod mounting it.
	pvc, err := env.Kube.CoreV1().PersistentVolumeClaims("store-fix-md").Get(ctx, "fix-md-medusa-uploads", metav1.GetOptions{})
	if err != nil || pvc.Status.Phase != corev1.ClaimBound {
		t.Fatalf("uploads volume: %+v (%v)", pvc, err)
	}
	pods, err = env.Kube.CoreV1().Pods("store-fix-md").List(ctx, metav1.ListOptions{LabelSelector: "app=medusa,app.kubernetes.io/component=web"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("Medusa server pods: %+v (%v)", pods, err)
	}
	mounted := false
	for _, v := range pods.Items[0].Spec.Volumes {
		mounted = mounted || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "fix-md-medusa-uploads")
	}
	if !mounted {
		t.Error("the Medusa server does not mount the uploads volume")
	}
}
