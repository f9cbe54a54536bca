package chaos

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/store"
)

// healthy is a cluster where the store "ok" is ready and "gone" deleted,
// as they should be; each case below breaks one thing.
func healthy() (*cluster, *secretWatch) {
	cl := &cluster{
		namespaces: map[string]corev1.Namespace{"store-ok": {ObjectMeta: metav1.ObjectMeta{Name: "store-ok"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}},
		storeNS:    map[string][]string{"ok": {"store-ok"}},
		credentials: map[string][]corev1.Secret{"ok": {{ObjectMeta: metav1.ObjectMeta{Namespace: "store-ok", Name: "ok-credentials"},
			Data: map[string][]byte{"db-password": []byte("p1")}}}},
		releases: map[string][]revision{"ok": {
			{Namespace: "store-ok", Name: "ok", Version: 1, Status: "superseded", Chart: "0.4.0"},
			{Namespace: "store-ok", Name: "ok", Version: 2, Status: "deployed", Chart: "0.4.1"}}},
		workloads: map[string][]workloadStatus{"store-ok": {{"deployment/ok-wordpress", true}, {"statefulset/ok-mariadb", true}}},
		records: map[string]store.Record{
			"ok":   {Spec: store.Spec{Name: "ok", ChartVersion: "0.4.1"}, Phase: store.PhaseReady},
			"gone": {Spec: store.Spec{Name: "gone"}, Phase: store.PhaseDeleted},
		},
	}
	sw := newSecretWatch(nil)
	sw.first["store-ok/ok-credentials"] = map[string]string{"db-password": "p1"}
	return cl, sw
}

// TestCheckFindsEachBrokenInvariant: the healthy cluster passes; each
// fault is reported once, in its own count.
func TestCheckFindsEachBrokenInvariant(t *testing.T) {
	want := map[string]store.Phase{"ok": store.PhaseReady, "gone": store.PhaseDeleted}
	for _, c := range []struct {
		name    string
		breakIt func(*cluster, *secretWatch)
		count   func(verdict) int
		msg     string
	}{
		{"healthy", func(*cluster, *secretWatch) {}, func(v verdict) int { return 1 - v.Ready }, ""},
		{"lost", func(cl *cluster, _ *secretWatch) {
			delete(cl.records, "ok")
			delete(cl.storeNS, "ok")
			delete(cl.releases, "ok")
		}, func(v verdict) int { return v.Lost }, "ok: no record"},
		{"not ready", func(cl *cluster, _ *secretWatch) {
			r := cl.records["ok"]
			r.Phase = store.PhaseProvisioning
			cl.records["ok"] = r
		},
			func(v verdict) int { return v.Lost }, "ok: provisioning, not ready"},
		{"two namespaces", func(cl *cluster, _ *secretWatch) { cl.storeNS["ok"] = append(cl.storeNS["ok"], "store-ok2") },
			func(v verdict) int { return v.DupNamespaces }, "ok: 2 namespaces"},
		{"two deployed revisions", func(cl *cluster, _ *secretWatch) { cl.releases["ok"][0].Status = "deployed" },
			func(v verdict) int { return v.DupReleases }, "2 deployed revisions"},
		{"release elsewhere", func(cl *cluster, _ *secretWatch) {
			cl.releases["ok"] = append(cl.releases["ok"], revision{Namespace: "default", Name: "ok", Version: 1, Status: "deployed"})
		}, func(v verdict) int { return v.DupReleases }, "releases in 2 namespaces"},
		{"half-upgraded", func(cl *cluster, _ *secretWatch) {
			cl.releases["ok"] = append(cl.releases["ok"], revision{Namespace: "store-ok", Name: "ok", Version: 3, Status: "pending-upgrade"})
		}, func(v verdict) int { return v.Mismatches }, "half-upgraded: the newest revision 3 is pending-upgrade"},
		{"chart differs", func(cl *cluster, _ *secretWatch) {
			r := cl.records["ok"]
			r.ChartVersion = "0.4.0"
			cl.records["ok"] = r
		},
			func(v verdict) int { return v.Mismatches }, "the record says chart 0.4.0, the release runs 0.4.1"},
		{"two secrets", func(cl *cluster, _ *secretWatch) {
			cl.credentials["ok"] = append(cl.credentials["ok"], cl.credentials["ok"][0])
		},
			func(v verdict) int { return v.DupSecrets }, "ok: 2 credentials Secrets"},
		{"secret changed", func(cl *cluster, _ *secretWatch) { cl.credentials["ok"][0].Data["db-password"] = []byte("p2") },
			func(v verdict) int { return v.SecretsChanged }, "credentials changed since first seen: [db-password]"},
		{"workload not rolled out", func(cl *cluster, _ *secretWatch) { cl.workloads["store-ok"][1].ready = false },
			func(v verdict) int { return v.Mismatches }, "workloads not rolled out: [statefulset/ok-mariadb]"},
		{"deleted, namespace left", func(cl *cluster, _ *secretWatch) { cl.storeNS["gone"] = []string{"store-gone"} },
			func(v verdict) int { return v.OrphanNamespaces }, "orphaned namespace store-gone (record deleted"},
		{"deleted, release left", func(cl *cluster, _ *secretWatch) {
			cl.releases["gone"] = []revision{{Namespace: "store-gone", Name: "gone", Version: 1, Status: "uninstalling"}}
		}, func(v verdict) int { return v.OrphanReleases }, "orphaned release gone (record deleted)"},
		{"orphaned namespace", func(cl *cluster, _ *secretWatch) { cl.storeNS["ghost"] = []string{"store-ghost"} },
			func(v verdict) int { return v.OrphanNamespaces }, "orphaned namespace store-ghost (no record"},
		{"orphaned release", func(cl *cluster, _ *secretWatch) {
			cl.releases["ghost"] = []revision{{Namespace: "store-ghost", Name: "ghost", Version: 1, Status: "deployed"}}
		}, func(v verdict) int { return v.OrphanReleases }, "orphaned release ghost (no record)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, sw := healthy()
			c.breakIt(cl, sw)
			v := check(cl, sw, want, map[string]bool{})
			if c.msg == "" {
				if len(v.Failures) > 0 || c.count(v) != 0 {
					t.Fatalf("healthy cluster: %+v", v)
				}
				return
			}
			if c.count(v) != 1 || len(v.Failures) != 1 || !strings.Contains(v.Failures[0], c.msg) {
				t.Fatalf("want one failure containing %q in its count, got %+v", c.msg, v)
			}
		})
	}
}

// TestCheckReportsAnOrphanOnce: a later check does not count the orphans an
// earlier one reported.
func TestCheckReportsAnOrphanOnce(t *testing.T) {
	cl, sw := healthy()
	cl.storeNS["ghost"] = []string{"store-ghost"}
	reported := map[string]bool{}
	if v := check(cl, sw, nil, reported); v.OrphanNamespaces != 1 {
		t.Fatalf("first check: %+v", v)
	}
	if v := check(cl, sw, nil, reported); v.OrphanNamespaces != 0 || len(v.Failures) != 0 {
		t.Fatalf("second check: %+v", v)
	}
}

// TestRolloutReadiness: a Deployment or StatefulSet counts as rolled out
// only with every replica updated and ready, and its generation observed.
func TestRolloutReadiness(t *testing.T) {
	two := int32(2)
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Spec: appsv1.DeploymentSpec{Replicas: &two},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2}}
	if !deploymentReady(d) {
		t.Fatal("a rolled-out deployment is not ready")
	}
	d.Status.ObservedGeneration = 1
	if deploymentReady(d) {
		t.Fatal("a deployment whose generation was not observed is ready")
	}
	d.Status.ObservedGeneration, d.Status.Replicas = 2, 3 // an old pod still there
	if deploymentReady(d) {
		t.Fatal("a deployment with an old pod left is ready")
	}
	s := appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: &two},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 2, UpdatedReplicas: 2, CurrentRevision: "a", UpdateRevision: "a"}}
	if !statefulSetReady(s) {
		t.Fatal("a rolled-out statefulset is not ready")
	}
	s.Status.UpdateRevision = "b"
	if statefulSetReady(s) {
		t.Fatal("a statefulset mid-update is ready")
	}
}
