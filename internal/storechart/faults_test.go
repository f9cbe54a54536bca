package storechart_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/storeplatform/storeplatform/internal/storechart"
)

// Tests of faults a real cluster would meet (issue #11), over both
// engines and both profiles where they apply.

// TestUploadsFitTheLimit: the Ingress lets bodies up to uploads.maxSize
// through (ingress-nginx's default is 1m), and WordPress's PHP takes them
// (PHP's default is 2M).
func TestUploadsFitTheLimit(t *testing.T) {
	for _, profile := range []string{"local", "prod"} {
		for _, engine := range engines {
			t.Run(profile+"/"+engine, func(t *testing.T) {
				r := render(t, values(t, profile, storeValues("shop", engine), map[string]any{"uploads": map[string]any{"maxSize": "128M"}}))
				var ing networkingv1.Ingress
				r.get(t, "Ingress/shop", &ing)
				if got := ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"]; got != "128m" {
					t.Fatalf("proxy-body-size %q", got)
				}
				if engine != storechart.EngineWooCommerce {
					return
				}
				var cm corev1.ConfigMap
				r.get(t, "ConfigMap/shop-php", &cm)
				if ini := cm.Data["uploads.ini"]; !strings.Contains(ini, "upload_max_filesize = 128M") || !strings.Contains(ini, "post_max_size = 128M") {
					t.Fatalf("uploads.ini %q", ini)
				}
				var d appsv1.Deployment
				r.get(t, "Deployment/shop-wordpress", &d)
				mounted := false
				for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
					if m.Name == "php" && m.MountPath == "/usr/local/etc/php/conf.d/storeplatform-uploads.ini" && m.SubPath == "uploads.ini" {
						mounted = true
					}
				}
				if !mounted || d.Spec.Template.Annotations["storeplatform.io/php-uploads"] != "128M" {
					t.Fatalf("uploads.ini not mounted, or pods not restarted on a change: %+v", d.Spec.Template.Spec.Containers[0].VolumeMounts)
				}
			})
		}
	}
}

// TestDatabaseWaitSaysWhy: the WooCommerce setup prints the database's own
// error while it waits, and stops at once on a refused login.
func TestDatabaseWaitSaysWhy(t *testing.T) {
	var d appsv1.Deployment
	render(t, values(t, "prod", storeValues("shop", storechart.EngineWooCommerce))).get(t, "Deployment/shop-wordpress", &d)
	var script string
	for _, c := range d.Spec.Template.Spec.InitContainers {
		if c.Name == "woocommerce-setup" {
			script = strings.Join(c.Command, " ")
		}
	}
	for _, want := range []string{`err=$(wp db query "SELECT 1" 2>&1 >/dev/null)`, `*"Access denied"*`, `exit 1`, `waiting for the database ($i): $err`} {
		if !strings.Contains(script, want) {
			t.Errorf("setup script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, `>/dev/null 2>&1; do`) {
		t.Error("the wait loop still throws the database's error away")
	}
}

// TestPostgresProbesUseTCP: pg_isready without -h asks the socket, which
// answers during the image's socket-only init phase; the probes use TCP.
func TestPostgresProbesUseTCP(t *testing.T) {
	var s appsv1.StatefulSet
	render(t, values(t, "prod", storeValues("shop", storechart.EngineMedusa))).get(t, "StatefulSet/shop-postgresql", &s)
	c := s.Spec.Template.Spec.Containers[0]
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.Exec == nil || !strings.Contains(strings.Join(p.Exec.Command, " "), "pg_isready -h 127.0.0.1 -p 5432") {
			t.Errorf("%s probe %+v", name, p)
		}
	}
}
