package storechart_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/storeplatform/storeplatform/internal/store"
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

// withChartDefaults layers vals over values.yaml, as Helm does.
func withChartDefaults(t *testing.T, vals map[string]any) map[string]any {
	t.Helper()
	return storechart.Merge(loadChart(t).Values, vals)
}

// compatRow is one row of charts/store/woocommerce-compatibility.yaml.
type compatRow struct {
	WooCommerce         string `json:"woocommerce"`
	RequiresWordPress   string `json:"requiresWordPress"`
	TestedUpToWordPress string `json:"testedUpToWordPress"`
	RequiresPHP         string `json:"requiresPHP"`
}

// majorMinor reads "7.1" out of "7.1.0" or "7.1"; ok is false for anything else.
func majorMinor(v string) (major, minor int, ok bool) {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(parts[1])
	return a, b, err1 == nil && err2 == nil
}

// cmpVersion compares two "major.minor[.patch]" versions by major and minor.
func cmpVersion(t *testing.T, a, b string) int {
	t.Helper()
	am, an, ok1 := majorMinor(a)
	bm, bn, ok2 := majorMinor(b)
	if !ok1 || !ok2 {
		t.Fatalf("not a version: %q or %q", a, b)
	}
	if am != bm {
		return am - bm
	}
	return an - bn
}

// wordpressTag reads WordPress's and PHP's versions from a tag of the
// wordpress image ("7.1.0-php8.3-apache", "cli-2.12.0-php8.3").
var wordpressTag = regexp.MustCompile(`^(?:cli-[0-9.]+|([0-9]+\.[0-9]+(?:\.[0-9]+)?))-php([0-9]+\.[0-9]+)(?:-apache)?(?:@sha256:[0-9a-f]{64})?$`)

// TestWooCommerceIsPinnedToAVersionOfItsWordPress: WooCommerce is pinned
// (the newest release stops starting once its minimum WordPress passes the
// image's), the pin has a row in the compatibility table, the WordPress of
// the image lies in that row's range, its PHP is new enough, WP-CLI runs
// the same PHP, and the README shows the table's rows.
func TestWooCommerceIsPinnedToAVersionOfItsWordPress(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir(t), "woocommerce-compatibility.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Releases []compatRow `json:"releases"`
	}
	if err := yaml.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(chartDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range table.Releases {
		row := fmt.Sprintf("| %s | %s | %s | %s |", r.WooCommerce, r.RequiresWordPress, r.TestedUpToWordPress, r.RequiresPHP)
		if !strings.Contains(string(readme), row) {
			t.Errorf("the chart README's compatibility table lacks the row %q", row)
		}
	}
	for _, profile := range []string{"local", "prod"} {
		vals := values(t, profile, storeValues("shop", storechart.EngineWooCommerce))
		wc := withChartDefaults(t, vals)["woocommerce"].(map[string]any)
		pin, _ := wc["pluginVersion"].(string)
		if !regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(pin) {
			t.Fatalf("%s: woocommerce.pluginVersion %q is not an exact version: the setup would install the newest WooCommerce", profile, pin)
		}
		var row *compatRow
		for i := range table.Releases {
			if table.Releases[i].WooCommerce == pin {
				row = &table.Releases[i]
			}
		}
		if row == nil {
			t.Fatalf("%s: WooCommerce %s has no row in woocommerce-compatibility.yaml", profile, pin)
		}
		tag := func(key string) (wp, php string) {
			t.Helper()
			img := wc[key].(map[string]any)
			m := wordpressTag.FindStringSubmatch(fmt.Sprint(img["tag"]))
			if m == nil {
				t.Fatalf("%s: %s.tag %q: cannot read the WordPress and PHP versions", profile, key, img["tag"])
			}
			return m[1], m[2]
		}
		wp, php := tag("image")
		_, cliPHP := tag("cliImage")
		if cmpVersion(t, wp, row.RequiresWordPress) < 0 || cmpVersion(t, wp, row.TestedUpToWordPress) > 0 {
			t.Errorf("%s: WordPress %s is outside WooCommerce %s's range %s..%s", profile, wp, pin, row.RequiresWordPress, row.TestedUpToWordPress)
		}
		if cmpVersion(t, php, row.RequiresPHP) < 0 {
			t.Errorf("%s: PHP %s is older than WooCommerce %s needs (%s)", profile, php, pin, row.RequiresPHP)
		}
		if cliPHP != php {
			t.Errorf("%s: WP-CLI runs PHP %s, WordPress %s", profile, cliPHP, php)
		}

		// The setup installs exactly the pinned version.
		var d appsv1.Deployment
		render(t, vals).get(t, "Deployment/shop-wordpress", &d)
		for _, c := range d.Spec.Template.Spec.InitContainers {
			if c.Name == "woocommerce-setup" {
				if e := envOf(c)["WOOCOMMERCE_VERSION"]; e == nil || e.Value != pin {
					t.Errorf("%s: the setup installs WooCommerce %v, want %s", profile, e, pin)
				}
			}
		}
	}
}

// TestImagesTableMatchesTheValues: the chart README's image table shows
// the tags values.yaml pins, so that a bump cannot leave it behind.
func TestImagesTableMatchesTheValues(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(chartDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	vals := withChartDefaults(t, values(t, "prod", storeValues("shop", storechart.EngineWooCommerce)))
	for _, path := range [][]string{
		{"woocommerce", "image"}, {"woocommerce", "cliImage"}, {"mariadb", "image"}, {"postgresql", "image"}, {"redis", "image"},
	} {
		img := vals[path[0]].(map[string]any)[path[1]].(map[string]any)
		cell := fmt.Sprintf("| `%s` | `%s` |", img["repository"], img["tag"])
		if !strings.Contains(string(readme), cell) {
			t.Errorf("the README's image table has no row starting %q", cell)
		}
	}
}

// TestWPCronRunsFromACronJob: WordPress never calls its own public URL
// for cron (DISABLE_WP_CRON in every WordPress container), a CronJob runs
// the due events with the same volume and database settings, never two at
// once, on the node of the ReadWriteOnce volume, as a background worker
// for the NetworkPolicies (which let workers reach the database), and it
// is suspended with the store.
func TestWPCronRunsFromACronJob(t *testing.T) {
	for _, profile := range []string{"local", "prod"} {
		for _, suspended := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/suspended=%v", profile, suspended), func(t *testing.T) {
				r := render(t, values(t, profile, storeValues("shop", storechart.EngineWooCommerce),
					map[string]any{"store": map[string]any{"suspended": suspended}}))
				var d appsv1.Deployment
				r.get(t, "Deployment/shop-wordpress", &d)
				for _, c := range append(append([]corev1.Container{}, d.Spec.Template.Spec.InitContainers...), d.Spec.Template.Spec.Containers...) {
					extra := envOf(c)["WORDPRESS_CONFIG_EXTRA"]
					if extra == nil || !strings.Contains(extra.Value, "define('DISABLE_WP_CRON', true);") {
						t.Errorf("container %s: WP-Cron is not disabled", c.Name)
					}
				}
				var cj batchv1.CronJob
				r.get(t, "CronJob/shop-wp-cron", &cj)
				if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || cj.Spec.Suspend == nil || *cj.Spec.Suspend != suspended {
					t.Errorf("concurrencyPolicy %s, suspend %v", cj.Spec.ConcurrencyPolicy, cj.Spec.Suspend)
				}
				pod := cj.Spec.JobTemplate.Spec.Template
				if pod.Labels["app.kubernetes.io/component"] != "worker" {
					t.Errorf("cron pods are component %q: the NetworkPolicies let only web and worker pods reach the database", pod.Labels["app.kubernetes.io/component"])
				}
				c := pod.Spec.Containers[0]
				if script := strings.Join(c.Command, " "); !strings.Contains(script, "wp cron event run --due-now") {
					t.Errorf("cron command %q", script)
				}
				if c.Image != d.Spec.Template.Spec.InitContainers[1].Image {
					t.Errorf("cron image %s is not the WP-CLI image", c.Image)
				}
				env := envOf(c)
				for _, k := range []string{"WORDPRESS_DB_HOST", "WORDPRESS_DB_PASSWORD", "WORDPRESS_CONFIG_EXTRA"} {
					if env[k] == nil {
						t.Errorf("cron container lacks %s", k)
					}
				}
				if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].PersistentVolumeClaim == nil ||
					pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "shop-wp-content" {
					t.Errorf("cron volumes %+v", pod.Spec.Volumes)
				}
				// The content volume is ReadWriteOnce: both pods carry the
				// volume label and require each other's node.
				for what, p := range map[string]corev1.PodTemplateSpec{"wordpress": d.Spec.Template, "cron": pod} {
					if p.Labels["storeplatform.io/volume"] != "wp-content" {
						t.Errorf("%s pods lack the volume label", what)
					}
					a := p.Spec.Affinity
					if a == nil || a.PodAffinity == nil || len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 {
						t.Fatalf("%s pods: no required pod affinity to the volume's node", what)
					}
					term := a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0]
					if term.TopologyKey != "kubernetes.io/hostname" || term.LabelSelector.MatchLabels["storeplatform.io/volume"] != "wp-content" ||
						term.LabelSelector.MatchLabels["app.kubernetes.io/instance"] != "shop" {
						t.Errorf("%s pods: affinity %+v", what, term)
					}
				}
				var db networkingv1.NetworkPolicy
				r.get(t, "NetworkPolicy/shop-database-from-app", &db)
				if !selectorAdmits(db.Spec.Ingress[0].From[0].PodSelector.MatchExpressions, pod.Labels) {
					t.Error("the database's policy does not admit the cron pods")
				}
				var egress networkingv1.NetworkPolicy
				r.get(t, "NetworkPolicy/shop-app-egress", &egress)
				if !selectorAdmits(egress.Spec.PodSelector.MatchExpressions, pod.Labels) {
					t.Error("the app egress policy does not cover the cron pods")
				}
			})
		}
	}
}

// selectorAdmits reports whether labels satisfy every "In" expression.
func selectorAdmits(exprs []metav1.LabelSelectorRequirement, labels map[string]string) bool {
	for _, e := range exprs {
		if e.Operator != metav1.LabelSelectorOpIn || !slices.Contains(e.Values, labels[e.Key]) {
			return false
		}
	}
	return len(exprs) > 0
}

// TestMedusaCookieFollowsTLS: over plain HTTP a Secure session cookie is
// never sent back and the admin login loops; COOKIE_SECURE follows the
// store's TLS unless set.
func TestMedusaCookieFollowsTLS(t *testing.T) {
	tests := []struct {
		profile string
		set     any
		want    string
	}{
		{"local", nil, "false"}, // values-local: TLS off
		{"prod", nil, "true"},   // values-prod: TLS on
		{"local", true, "true"},
		{"prod", false, "false"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.profile, tt.set), func(t *testing.T) {
			layers := []map[string]any{storeValues("shop", storechart.EngineMedusa)}
			if tt.set != nil {
				layers = append(layers, map[string]any{"medusa": map[string]any{"cookieSecure": tt.set}})
			}
			r := render(t, values(t, tt.profile, layers...))
			for _, k := range []string{"Deployment/shop-medusa-server", "Deployment/shop-medusa-worker"} {
				var d appsv1.Deployment
				r.get(t, k, &d)
				for _, c := range append(append([]corev1.Container{}, d.Spec.Template.Spec.InitContainers...), d.Spec.Template.Spec.Containers...) {
					if e := envOf(c)["COOKIE_SECURE"]; e == nil || e.Value != tt.want {
						t.Errorf("%s/%s: COOKIE_SECURE %v, want %s", k, c.Name, e, tt.want)
					}
				}
			}
		})
	}
}

// TestMedusaUploadsPersist: uploads land on a volume owned by the app's
// UID (fsGroup), mounted where MEDUSA_UPLOAD_DIR says, in the server and
// the worker, on one node while it is ReadWriteOnce (the prod profile runs
// two servers); with S3 there is no volume and the S3 settings come from
// their Secret.
func TestMedusaUploadsPersist(t *testing.T) {
	for _, profile := range []string{"local", "prod"} {
		t.Run(profile, func(t *testing.T) {
			r := render(t, values(t, profile, storeValues("shop", storechart.EngineMedusa)))
			var pvc corev1.PersistentVolumeClaim
			r.get(t, "PersistentVolumeClaim/shop-medusa-uploads", &pvc)
			if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
				t.Error("the uploads volume is not kept on uninstall")
			}
			for _, k := range []string{"Deployment/shop-medusa-server", "Deployment/shop-medusa-worker"} {
				var d appsv1.Deployment
				r.get(t, k, &d)
				spec := d.Spec.Template.Spec
				c := spec.Containers[0]
				dir := envOf(c)["MEDUSA_UPLOAD_DIR"]
				if dir == nil || len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != dir.Value || c.VolumeMounts[0].Name != "uploads" {
					t.Fatalf("%s: MEDUSA_UPLOAD_DIR %v, mounts %+v", k, dir, c.VolumeMounts)
				}
				if sc := spec.SecurityContext; sc == nil || sc.FSGroup == nil || sc.RunAsUser == nil || *sc.FSGroup != *sc.RunAsUser {
					t.Errorf("%s: the volume is not writable by the app's UID: %+v", k, sc)
				}
				if spec.Affinity == nil || spec.Affinity.PodAffinity == nil ||
					spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels["storeplatform.io/volume"] != "medusa-uploads" ||
					d.Spec.Template.Labels["storeplatform.io/volume"] != "medusa-uploads" {
					t.Errorf("%s: pods of the ReadWriteOnce uploads volume are not kept on one node", k)
				}
			}
		})
	}
	t.Run("s3", func(t *testing.T) {
		r := render(t, values(t, "prod", storeValues("shop", storechart.EngineMedusa), map[string]any{"medusa": map[string]any{"uploads": map[string]any{
			"s3": map[string]any{"bucket": "shop-files", "region": "eu-west-1", "fileUrl": "https://files.example.com", "existingSecret": "shop-s3"}}}}))
		if _, ok := r["PersistentVolumeClaim/shop-medusa-uploads"]; ok {
			t.Error("an uploads volume with S3")
		}
		var d appsv1.Deployment
		r.get(t, "Deployment/shop-medusa-server", &d)
		env := envOf(d.Spec.Template.Spec.Containers[0])
		if env["S3_BUCKET"] == nil || env["S3_BUCKET"].Value != "shop-files" || env["MEDUSA_UPLOAD_DIR"] != nil {
			t.Errorf("S3 env %+v", env)
		}
		for _, k := range []string{"S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"} {
			if e := env[k]; e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "shop-s3" {
				t.Errorf("%s is not read from the S3 Secret: %+v", k, e)
			}
		}
		if d.Spec.Template.Spec.Affinity != nil {
			t.Error("S3 stores need no node affinity")
		}
	})
}

// TestEveryPodHasItsSizesBandwidth: every pod of every size carries the
// size's bandwidth annotations, as quantities the bandwidth plugin parses.
func TestEveryPodHasItsSizesBandwidth(t *testing.T) {
	forEachSize(t, func(t *testing.T, vals map[string]any) {
		bw := vals["bandwidth"].(map[string]any)
		r := render(t, vals)
		templates := r.podTemplates(t)
		if len(templates) < 3 {
			t.Fatalf("%d pod templates", len(templates))
		}
		for k, tmpl := range templates {
			for _, dir := range []string{"ingress", "egress"} {
				got := tmpl.Annotations["kubernetes.io/"+dir+"-bandwidth"]
				if got == "" || got != fmt.Sprint(bw[dir]) {
					t.Errorf("%s: %s-bandwidth %q, want the size's %v", k, dir, got, bw[dir])
					continue
				}
				if _, err := resource.ParseQuantity(got); err != nil {
					t.Errorf("%s: %s-bandwidth %q: %v", k, dir, got, err)
				}
			}
		}
	})
}

// TestEveryPodNamesItsProgram: the usual `kubectl logs -l app=wordpress`
// finds the store's pods.
func TestEveryPodNamesItsProgram(t *testing.T) {
	want := map[string]map[string]string{
		storechart.EngineWooCommerce: {"Deployment/shop-wordpress": "wordpress", "StatefulSet/shop-mariadb": "mariadb", "CronJob/shop-wp-cron": "wp-cron"},
		storechart.EngineMedusa: {"Deployment/shop-medusa-server": "medusa", "Deployment/shop-medusa-worker": "medusa",
			"StatefulSet/shop-postgresql": "postgresql", "Deployment/shop-redis": "redis"},
	}
	for _, engine := range engines {
		templates := render(t, values(t, "local", storeValues("shop", engine))).podTemplates(t)
		if len(templates) != len(want[engine]) {
			t.Errorf("%s: %d pod templates, want %d", engine, len(templates), len(want[engine]))
		}
		for k, app := range want[engine] {
			if got := templates[k].Labels["app"]; got != app {
				t.Errorf("%s: app=%q, want %q", k, got, app)
			}
		}
	}
}

// TestTenantGroupGetsARoleInItsNamespace renders the tenant's Role and
// RoleBinding (what the role allows is checked against the real
// apiserver in TestTenantCanReadOnlyItsOwnStore).
func TestTenantGroupGetsARoleInItsNamespace(t *testing.T) {
	with := storeValues("shop", storechart.EngineWooCommerce)
	with["store"].(map[string]any)["tenant"] = "acme"
	r := render(t, values(t, "prod", with))
	var rb rbacv1.RoleBinding
	r.get(t, "RoleBinding/shop-tenant-read", &rb)
	if len(rb.Subjects) != 1 || rb.Subjects[0].Kind != "Group" || rb.Subjects[0].Name != "storeplatform:tenant:acme" || rb.RoleRef.Name != "shop-tenant-read" {
		t.Errorf("binding %+v", rb)
	}
	var role rbacv1.Role
	r.get(t, "Role/shop-tenant-read", &role)
	for _, rule := range role.Rules {
		if slices.Contains(rule.Resources, "secrets") || slices.ContainsFunc(rule.Verbs, func(v string) bool { return v != "get" && v != "list" && v != "watch" }) {
			t.Errorf("the tenant's role allows more than reading: %+v", rule)
		}
	}
	if _, ok := render(t, values(t, "prod", storeValues("shop", storechart.EngineWooCommerce)))["RoleBinding/shop-tenant-read"]; ok {
		t.Error("a binding for a store without tenant")
	}
}

// TestPlacementReachesEveryPod: the values of STORE_VALUES (Profile.With)
// put placement.nodeSelector and placement.tolerations on every pod of
// both engines, under the size's and the store's own values; without them
// no pod has either.
func TestPlacementReachesEveryPod(t *testing.T) {
	prof, err := storechart.LoadProfile(chartDir(t), "local")
	if err != nil {
		t.Fatal(err)
	}
	extra := map[string]any{
		"placement": map[string]any{
			"nodeSelector": map[string]any{"storeplatform.io/node": "real"},
			"tolerations":  []any{map[string]any{"key": "storeplatform.io/real-node", "operator": "Exists", "effect": "NoSchedule"}},
		},
		"storageClass": "real-node-local",
	}
	for _, engine := range engines {
		for _, tt := range []struct {
			name  string
			prof  storechart.Profile
			wantN int
		}{{"without", prof, 0}, {"with", prof.With(extra), 1}} {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				vals := storechart.Merge(tt.prof.Base, tt.prof.Sizes[store.SizeSmall], storeValues("shop", engine))
				for k, tmpl := range render(t, vals).podTemplates(t) {
					if got := len(tmpl.Spec.NodeSelector) + len(tmpl.Spec.Tolerations); got != 2*tt.wantN {
						t.Errorf("%s: nodeSelector %v, tolerations %v", k, tmpl.Spec.NodeSelector, tmpl.Spec.Tolerations)
						continue
					}
					if tt.wantN == 1 && (tmpl.Spec.NodeSelector["storeplatform.io/node"] != "real" ||
						tmpl.Spec.Tolerations[0].Key != "storeplatform.io/real-node" || tmpl.Spec.Tolerations[0].Effect != corev1.TaintEffectNoSchedule) {
						t.Errorf("%s: nodeSelector %v, tolerations %v", k, tmpl.Spec.NodeSelector, tmpl.Spec.Tolerations)
					}
				}
				if tt.wantN == 0 {
					return
				}
				for k, obj := range render(t, vals) {
					if !strings.HasPrefix(k, "PersistentVolumeClaim/") {
						continue
					}
					if sc, _, _ := unstructured.NestedString(obj.Object, "spec", "storageClassName"); sc != "real-node-local" {
						t.Errorf("%s: storageClassName %q, want the operator's", k, sc)
					}
				}
			})
		}
	}
}

// TestDNSCIDRsAllowed: a cluster DNS outside kube-system's pods (on the
// node, as on the local stack's real node, or NodeLocal DNSCache) is
// reachable where networkPolicy.dnsCIDRs names it. Without it, kube-router
// on the real node dropped every store pod's lookups (chart 0.6.0).
func TestDNSCIDRsAllowed(t *testing.T) {
	prof, err := storechart.LoadProfile(chartDir(t), "local")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		cidrs []any
	}{
		{"none", nil},
		{"node", []any{"192.0.2.2/32"}},
		{"node and nodelocaldns", []any{"192.0.2.2/32", "169.254.20.10/32"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := prof
			if tt.cidrs != nil {
				p = prof.With(map[string]any{"networkPolicy": map[string]any{"dnsCIDRs": tt.cidrs}})
			}
			vals := storechart.Merge(p.Base, p.Sizes[store.SizeSmall], storeValues("shop", "medusa"))
			pol, ok := render(t, vals)["NetworkPolicy/shop-allow-dns"]
			if !ok {
				t.Fatal("no NetworkPolicy shop-allow-dns")
			}
			to, _, _ := unstructured.NestedSlice(pol.Object, "spec", "egress")
			if len(to) != 1 {
				t.Fatalf("egress: %v", to)
			}
			peers, _, _ := unstructured.NestedSlice(to[0].(map[string]any), "to")
			var cidrs []any
			for _, peer := range peers[1:] {
				cidr, _, _ := unstructured.NestedString(peer.(map[string]any), "ipBlock", "cidr")
				cidrs = append(cidrs, cidr)
			}
			if _, ok := peers[0].(map[string]any)["namespaceSelector"]; !ok || fmt.Sprint(cidrs) != fmt.Sprint(tt.cidrs) {
				t.Errorf("DNS peers %v: want the kube-system selector, then ipBlocks %v", peers, tt.cidrs)
			}
		})
	}
}
