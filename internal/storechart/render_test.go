package storechart_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

const testMedusaImage = "registry.example.com/acme/medusa-store"

func chartDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "charts", "store")
}

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	c, err := storechart.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// storeValues are the values the platform sets for one store.
func storeValues(name, engine string) map[string]any {
	v := map[string]any{
		"store": map[string]any{
			"name": name, "engine": engine, "host": name + ".stores.example.com",
			"title": "Test Store", "adminEmail": "owner@example.com", "existingSecret": name + "-credentials",
		},
	}
	if engine == storechart.EngineMedusa {
		v["medusa"] = map[string]any{"image": map[string]any{"repository": testMedusaImage, "tag": "1.4.2"}}
	}
	return v
}

// values layers values.yaml (implicit), the profile's file, the small
// size's and the store's values.
func values(t testing.TB, profile string, layers ...map[string]any) map[string]any {
	t.Helper()
	prof, err := storechart.LoadProfile(chartDir(t), profile)
	if err != nil {
		t.Fatal(err)
	}
	return storechart.Merge(append([]map[string]any{prof.Base, prof.Sizes[store.SizeSmall]}, layers...)...)
}

// rendered is a rendered chart indexed by "Kind/name".
type rendered map[string]*unstructured.Unstructured

func render(t testing.TB, vals map[string]any) rendered {
	t.Helper()
	rel, err := storechart.Render(loadChart(t), "shop", "store-shop", vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	objs, err := storechart.Objects(rel.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	out := rendered{}
	for _, o := range objs {
		out[o.GetKind()+"/"+o.GetName()] = o
	}
	return out
}

func (r rendered) get(t testing.TB, key string, into any) {
	t.Helper()
	o, ok := r[key]
	if !ok {
		t.Fatalf("%s not rendered; have %v", key, r.keys())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

func (r rendered) keys() []string {
	var ks []string
	for k := range r {
		ks = append(ks, k)
	}
	return ks
}

// podTemplates returns every workload's pod template by workload key.
func (r rendered) podTemplates(t testing.TB) map[string]corev1.PodTemplateSpec {
	t.Helper()
	out := map[string]corev1.PodTemplateSpec{}
	for k, o := range r {
		switch o.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			r.get(t, k, &d)
			out[k] = d.Spec.Template
		case "StatefulSet":
			var s appsv1.StatefulSet
			r.get(t, k, &s)
			out[k] = s.Spec.Template
		case "CronJob":
			var cj batchv1.CronJob
			r.get(t, k, &cj)
			out[k] = cj.Spec.JobTemplate.Spec.Template
		}
	}
	return out
}

var engines = []string{storechart.EngineWooCommerce, storechart.EngineMedusa}

func TestRenderCreatesEachEnginesObjects(t *testing.T) {
	common := []string{
		"ServiceAccount/shop", "ResourceQuota/shop", "LimitRange/shop", "Ingress/shop", "Service/shop-web",
		"NetworkPolicy/shop-default-deny", "NetworkPolicy/shop-allow-dns", "NetworkPolicy/shop-web-from-ingress",
		"NetworkPolicy/shop-app-egress", "NetworkPolicy/shop-database-from-app",
	}
	tests := []struct {
		engine  string
		want    []string
		notWant []string
	}{
		{storechart.EngineWooCommerce,
			[]string{"Deployment/shop-wordpress", "StatefulSet/shop-mariadb", "Service/shop-mariadb", "PersistentVolumeClaim/shop-wp-content"},
			[]string{"Deployment/shop-medusa-server", "StatefulSet/shop-postgresql", "NetworkPolicy/shop-cache-from-app"}},
		{storechart.EngineMedusa,
			[]string{"Deployment/shop-medusa-server", "Deployment/shop-medusa-worker", "StatefulSet/shop-postgresql",
				"Service/shop-postgresql", "Deployment/shop-redis", "Service/shop-redis", "NetworkPolicy/shop-cache-from-app"},
			[]string{"Deployment/shop-wordpress", "StatefulSet/shop-mariadb", "PersistentVolumeClaim/shop-wp-content"}},
	}
	for _, tt := range tests {
		for _, profile := range []string{"local", "prod"} {
			t.Run(tt.engine+"/"+profile, func(t *testing.T) {
				r := render(t, values(t, profile, storeValues("shop", tt.engine)))
				for _, k := range append(common, tt.want...) {
					if _, ok := r[k]; !ok {
						t.Errorf("%s missing", k)
					}
				}
				for _, k := range tt.notWant {
					if _, ok := r[k]; ok {
						t.Errorf("%s rendered for %s", k, tt.engine)
					}
				}
				for k := range r {
					if strings.HasPrefix(k, "Secret/") {
						t.Errorf("the chart renders %s: it must only consume the platform's Secret", k)
					}
				}
			})
		}
	}
}

func TestEveryObjectIsLabelled(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			r := render(t, values(t, "local", storeValues("shop", engine)))
			want := map[string]string{
				"storeplatform.io/store": "shop", "storeplatform.io/engine": engine,
				"app.kubernetes.io/instance": "shop", "app.kubernetes.io/managed-by": "Helm",
				"app.kubernetes.io/name": "store", "app.kubernetes.io/part-of": "store-platform",
			}
			check := func(what string, labels map[string]string) {
				for k, v := range want {
					if labels[k] != v {
						t.Errorf("%s: label %s=%q, want %q", what, k, labels[k], v)
					}
				}
			}
			for k, o := range r {
				check(k, o.GetLabels())
			}
			for k, tmpl := range r.podTemplates(t) {
				check(k+" pod template", tmpl.Labels)
			}
		})
	}
}

var pinnedTag = regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+$`)

func TestWorkloadsArePinnedProbedAndRestricted(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			r := render(t, values(t, "prod", storeValues("shop", engine)))
			templates := r.podTemplates(t)
			if len(templates) == 0 {
				t.Fatal("no workloads rendered")
			}
			for k, tmpl := range templates {
				ps := tmpl.Spec.SecurityContext
				if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.SeccompProfile == nil ||
					ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("%s: pod securityContext is not restricted-compatible: %+v", k, ps)
				}
				if a := tmpl.Spec.AutomountServiceAccountToken; a == nil || *a {
					t.Errorf("%s: service account token is mounted", k)
				}
				if tmpl.Spec.ServiceAccountName != "shop" {
					t.Errorf("%s: service account %q", k, tmpl.Spec.ServiceAccountName)
				}
				all := append(append([]corev1.Container{}, tmpl.Spec.InitContainers...), tmpl.Spec.Containers...)
				for _, c := range all {
					if !pinnedTag.MatchString(c.Image) || strings.HasSuffix(c.Image, ":latest") {
						t.Errorf("%s/%s: image %q is not pinned", k, c.Name, c.Image)
					}
					sc := c.SecurityContext
					if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
						sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
						t.Errorf("%s/%s: container securityContext is not restricted-compatible", k, c.Name)
					}
					if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
						t.Errorf("%s/%s: no resources", k, c.Name)
					}
				}
				for _, c := range tmpl.Spec.Containers {
					if c.ReadinessProbe == nil && !strings.HasPrefix(k, "CronJob/") {
						t.Errorf("%s/%s: no readiness probe", k, c.Name)
					}
				}
			}
		})
	}
}

// secretEnv matches environment variables that carry credentials.
var secretEnv = regexp.MustCompile(`PASSWORD|SECRET|_KEY$|_SALT$`)

func TestCredentialsComeFromTheExistingSecret(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			r := render(t, values(t, "local", storeValues("shop", engine)))
			keys := map[string]bool{}
			for k, tmpl := range r.podTemplates(t) {
				all := append(append([]corev1.Container{}, tmpl.Spec.InitContainers...), tmpl.Spec.Containers...)
				for _, c := range all {
					for _, e := range c.Env {
						if !secretEnv.MatchString(e.Name) {
							continue
						}
						if e.Value != "" {
							t.Errorf("%s/%s: %s has a literal value", k, c.Name, e.Name)
							continue
						}
						ref := e.ValueFrom
						if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "shop-credentials" {
							t.Errorf("%s/%s: %s does not come from the store's Secret", k, c.Name, e.Name)
							continue
						}
						keys[ref.SecretKeyRef.Key] = true
					}
				}
			}
			// Every key the chart reads is one the platform generates, and the
			// other way round.
			want := storechart.SecretKeys(engine)
			for _, k := range want {
				if !keys[k] {
					t.Errorf("secret key %s is generated but never used", k)
				}
				delete(keys, k)
			}
			for k := range keys {
				t.Errorf("secret key %s is used but not in SecretKeys", k)
			}
		})
	}
}

func TestWordPressGetsKeysAndMedusaItsURLs(t *testing.T) {
	r := render(t, values(t, "local", storeValues("shop", storechart.EngineWooCommerce)))
	var wp appsv1.Deployment
	r.get(t, "Deployment/shop-wordpress", &wp)
	env := envOf(wp.Spec.Template.Spec.Containers[0])
	for _, k := range []string{"WORDPRESS_AUTH_KEY", "WORDPRESS_NONCE_SALT", "WORDPRESS_DB_PASSWORD"} {
		if env[k] == nil {
			t.Errorf("wordpress: %s missing", k)
		}
	}
	if got := env["WORDPRESS_DB_HOST"].Value; got != "shop-mariadb:3306" {
		t.Errorf("WORDPRESS_DB_HOST = %q", got)
	}
	var inits []string
	for _, c := range wp.Spec.Template.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	if strings.Join(inits, ",") != "wordpress-files,woocommerce-setup" {
		t.Errorf("init containers %v", inits)
	}
	setup := strings.Join(wp.Spec.Template.Spec.InitContainers[1].Command, " ")
	for _, want := range []string{"wp core is-installed ||", "wp core install", "wp plugin install woocommerce", "wp plugin activate woocommerce"} {
		if !strings.Contains(setup, want) {
			t.Errorf("setup step lacks %q", want)
		}
	}

	r = render(t, values(t, "local", storeValues("shop", storechart.EngineMedusa)))
	for mode, wantWorkerMode := range map[string]string{"server": "server", "worker": "worker"} {
		var d appsv1.Deployment
		r.get(t, "Deployment/shop-medusa-"+mode, &d)
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != testMedusaImage+":1.4.2" {
			t.Errorf("%s image %q", mode, c.Image)
		}
		env := envOf(c)
		if env["MEDUSA_WORKER_MODE"].Value != wantWorkerMode {
			t.Errorf("%s: MEDUSA_WORKER_MODE %q", mode, env["MEDUSA_WORKER_MODE"].Value)
		}
		if got := env["DATABASE_URL"].Value; got != "postgres://medusa:$(DB_PASSWORD)@shop-postgresql:5432/medusa?sslmode=disable" {
			t.Errorf("%s: DATABASE_URL %q", mode, got)
		}
		for _, k := range []string{"REDIS_URL", "STORE_CORS", "ADMIN_CORS", "AUTH_CORS", "JWT_SECRET", "COOKIE_SECRET"} {
			if env[k] == nil {
				t.Errorf("%s: %s missing", mode, k)
			}
		}
		if mode == "server" && (len(d.Spec.Template.Spec.InitContainers) == 0 ||
			strings.Join(d.Spec.Template.Spec.InitContainers[0].Command, " ") != "npx medusa db:migrate") {
			t.Errorf("server: migrations do not run before the server")
		}
		if mode == "worker" && env["DISABLE_MEDUSA_ADMIN"].Value != "true" {
			t.Errorf("worker: admin not disabled")
		}
	}
}

func envOf(c corev1.Container) map[string]*corev1.EnvVar {
	m := map[string]*corev1.EnvVar{}
	for i := range c.Env {
		m[c.Env[i].Name] = &c.Env[i]
	}
	return m
}

func TestQuotaAndLimitsFollowTheSize(t *testing.T) {
	for _, profile := range []string{"local", "prod"} {
		prof, err := storechart.LoadProfile(chartDir(t), profile)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range store.Sizes() {
			t.Run(profile+"/"+size, func(t *testing.T) {
				spec := store.Spec{Name: "shop", Generation: 1, Engine: store.EngineWooCommerce, Host: "shop.example.com", Size: size}
				r := render(t, prof.For(spec))
				var q corev1.ResourceQuota
				r.get(t, "ResourceQuota/shop", &q)
				hard := prof.Sizes[size]["resourceQuota"].(map[string]any)["hard"].(map[string]any)
				for k, v := range hard {
					got := q.Spec.Hard[corev1.ResourceName(k)]
					if got.String() != fmt.Sprint(v) {
						t.Errorf("quota %s = %s, want %v", k, got.String(), v)
					}
				}
				var lr corev1.LimitRange
				r.get(t, "LimitRange/shop", &lr)
				if len(lr.Spec.Limits) != 1 || lr.Spec.Limits[0].Default.Memory().IsZero() {
					t.Errorf("limit range %+v", lr.Spec)
				}
			})
		}
	}
}

func TestNetworkPolicies(t *testing.T) {
	r := render(t, values(t, "local", storeValues("shop", storechart.EngineMedusa)))
	var deny networkingv1.NetworkPolicy
	r.get(t, "NetworkPolicy/shop-default-deny", &deny)
	if len(deny.Spec.PodSelector.MatchLabels)+len(deny.Spec.PodSelector.MatchExpressions) != 0 ||
		len(deny.Spec.PolicyTypes) != 2 || len(deny.Spec.Ingress)+len(deny.Spec.Egress) != 0 {
		t.Errorf("default deny does not deny everything: %+v", deny.Spec)
	}
	var web networkingv1.NetworkPolicy
	r.get(t, "NetworkPolicy/shop-web-from-ingress", &web)
	if web.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] != "web" ||
		web.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "ingress-nginx" ||
		web.Spec.Ingress[0].Ports[0].Port.IntValue() != 9000 {
		t.Errorf("web ingress policy: %+v", web.Spec)
	}
	var db networkingv1.NetworkPolicy
	r.get(t, "NetworkPolicy/shop-database-from-app", &db)
	if db.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] != "database" || db.Spec.Ingress[0].Ports[0].Port.IntValue() != 5432 {
		t.Errorf("database policy: %+v", db.Spec)
	}
	var egress networkingv1.NetworkPolicy
	r.get(t, "NetworkPolicy/shop-app-egress", &egress)
	var ipBlocks int
	for _, rule := range egress.Spec.Egress {
		for _, peer := range rule.To {
			if peer.IPBlock != nil {
				ipBlocks++
				if len(peer.IPBlock.Except) == 0 {
					t.Errorf("extra egress %s does not exclude private ranges", peer.IPBlock.CIDR)
				}
			}
		}
	}
	if ipBlocks != 1 {
		t.Errorf("want the one configured extra egress rule, got %d", ipBlocks)
	}
}

// TestACMESolverReachable: with cert-manager issuing the certificate, the
// ingress controller's namespace, and only it, reaches the HTTP-01 solver
// pods cert-manager makes in the store's namespace (TCP 8089); default-deny
// would otherwise drop every challenge. Without cert-manager no policy
// names the solver.
func TestACMESolverReachable(t *testing.T) {
	const key = "NetworkPolicy/shop-acme-solver-from-ingress"
	issuer := map[string]any{"ingress": map[string]any{"tls": map[string]any{"enabled": true, "clusterIssuer": "letsencrypt"}}}
	ownSecret := map[string]any{"ingress": map[string]any{"tls": map[string]any{"enabled": true, "secretName": "shop-cert"}}}
	for _, tt := range []struct {
		name string
		vals map[string]any
		want bool
	}{
		{"prod (letsencrypt-prod)", values(t, "prod", storeValues("shop", storechart.EngineWooCommerce)), true},
		{"local with an issuer", values(t, "local", storeValues("shop", storechart.EngineMedusa), issuer), true},
		{"local, plain HTTP", values(t, "local", storeValues("shop", storechart.EngineWooCommerce)), false},
		{"TLS from an existing Secret", values(t, "local", storeValues("shop", storechart.EngineWooCommerce), ownSecret), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := render(t, tt.vals)
			if _, ok := r[key]; ok != tt.want {
				t.Fatalf("%s rendered: %v, want %v", key, ok, tt.want)
			}
			if !tt.want {
				return
			}
			var np networkingv1.NetworkPolicy
			r.get(t, key, &np)
			sel := np.Spec.PodSelector
			if len(sel.MatchLabels) != 1 || sel.MatchLabels["acme.cert-manager.io/http01-solver"] != "true" || len(sel.MatchExpressions) != 0 {
				t.Errorf("pod selector %+v, want the solver's label only", sel)
			}
			if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress || len(np.Spec.Ingress) != 1 {
				t.Fatalf("policy %+v, want one ingress rule", np.Spec)
			}
			rule := np.Spec.Ingress[0]
			if len(rule.From) != 1 || rule.From[0].PodSelector != nil || rule.From[0].IPBlock != nil || rule.From[0].NamespaceSelector == nil ||
				len(rule.From[0].NamespaceSelector.MatchLabels) != 1 ||
				rule.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "ingress-nginx" {
				t.Errorf("from %+v, want the ingress controller's namespace only", rule.From)
			}
			if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || rule.Ports[0].Port.IntValue() != 8089 ||
				rule.Ports[0].Protocol == nil || *rule.Ports[0].Protocol != corev1.ProtocolTCP {
				t.Errorf("ports %+v, want TCP 8089", rule.Ports)
			}
		})
	}
}

func TestIngress(t *testing.T) {
	tls := map[string]any{"ingress": map[string]any{"tls": map[string]any{"enabled": true, "clusterIssuer": "letsencrypt"}}}
	tests := []struct {
		name       string
		vals       map[string]any
		wantTLS    bool
		wantIssuer string
	}{
		{"plain", values(t, "local", storeValues("shop", storechart.EngineWooCommerce)), false, ""},
		{"cert-manager", values(t, "local", storeValues("shop", storechart.EngineWooCommerce), tls), true, "letsencrypt"},
		{"prod defaults to TLS", values(t, "prod", storeValues("shop", storechart.EngineMedusa)), true, "letsencrypt-prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ing networkingv1.Ingress
			render(t, tt.vals).get(t, "Ingress/shop", &ing)
			if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
				t.Errorf("ingress class %v", ing.Spec.IngressClassName)
			}
			if ing.Spec.Rules[0].Host != "shop.stores.example.com" || ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != "shop-web" {
				t.Errorf("rule %+v", ing.Spec.Rules[0])
			}
			if (len(ing.Spec.TLS) == 1) != tt.wantTLS {
				t.Errorf("tls %+v", ing.Spec.TLS)
			}
			if got := ing.Annotations["cert-manager.io/cluster-issuer"]; got != tt.wantIssuer {
				t.Errorf("cluster issuer %q, want %q", got, tt.wantIssuer)
			}
		})
	}
}

func TestLintIsClean(t *testing.T) {
	for _, engine := range engines {
		for _, profile := range []string{"local", "prod"} {
			t.Run(engine+"/"+profile, func(t *testing.T) {
				for _, p := range storechart.Lint(chartDir(t), values(t, profile, storeValues("shop", engine))) {
					t.Error(p)
				}
			})
		}
	}
}

func TestSchemaRejectsBadValues(t *testing.T) {
	with := func(engine string, path string, v any) map[string]any {
		vals := storeValues("shop", engine)
		parts := strings.Split(path, ".")
		m := vals
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
		return vals
	}
	tests := []struct {
		name  string
		vals  map[string]any
		field string // JSON pointer of the bad value
	}{
		{"unknown engine", with("woocommerce", "store.engine", "magento"), "/store/engine"},
		{"missing host", with("woocommerce", "store.host", ""), "/store/host"},
		{"host with a scheme", with("woocommerce", "store.host", "https://shop.example.com"), "/store/host"},
		{"missing medusa image", with("medusa", "medusa.image.repository", ""), "/medusa/image/repository"},
		{"medusa image latest", with("medusa", "medusa.image.tag", "latest"), "/medusa/image/tag"},
		{"negative quota", with("woocommerce", "resourceQuota.hard.pods", "-1"), "/resourceQuota/hard"},
		{"malformed quantity", with("woocommerce", "woocommerce.persistence.size", "ten gigs"), "/woocommerce/persistence/size"},
		{"negative replicas", with("woocommerce", "woocommerce.replicas", -1), "/woocommerce/replicas"},
		{"name not a DNS label", with("woocommerce", "store.name", "My_Store"), "/store/name"},
		{"name too long", with("woocommerce", "store.name", strings.Repeat("a", 64)), "/store/name"},
		{"missing secret", with("woocommerce", "store.existingSecret", ""), "/store/existingSecret"},
		{"woocommerce unpinned", with("woocommerce", "woocommerce.pluginVersion", ""), "/woocommerce/pluginVersion"},
		{"woocommerce latest", with("woocommerce", "woocommerce.pluginVersion", "latest"), "/woocommerce/pluginVersion"},
		{"bandwidth not a quantity", with("woocommerce", "bandwidth.egress", "fast"), "/bandwidth/egress"},
		{"tenant with a space", with("woocommerce", "store.tenant", "acme corp"), "/store/tenant"},
		{"cookieSecure unknown", with("medusa", "medusa.cookieSecure", "sometimes"), "/medusa/cookieSecure"},
	}
	c := loadChart(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := storechart.Render(c, "shop", "store-shop", values(t, "local", tt.vals))
			if err == nil {
				t.Fatal("rendered; want a schema error")
			}
			if !strings.Contains(err.Error(), "at '"+tt.field) {
				t.Fatalf("error does not name %s: %v", tt.field, err)
			}
		})
	}
}

func TestMergeLayersWithoutChangingThem(t *testing.T) {
	base := map[string]any{"a": map[string]any{"x": 1, "y": 2}, "list": []any{1}}
	over := map[string]any{"a": map[string]any{"y": 3}}
	got := storechart.Merge(base, over)
	a := got["a"].(map[string]any)
	if a["x"] != 1 || a["y"] != 3 {
		t.Fatalf("merged %v", got)
	}
	a["x"] = 99
	if base["a"].(map[string]any)["x"] != 1 || base["a"].(map[string]any)["y"] != 2 {
		t.Fatalf("Merge changed its input: %v", base)
	}
}

func TestImageDigestsAreAccepted(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("a", 64)
	vals := values(t, "local", storeValues("shop", storechart.EngineWooCommerce),
		map[string]any{"mariadb": map[string]any{"image": map[string]any{"tag": "11.8.3" + digest}}})
	var s appsv1.StatefulSet
	render(t, vals).get(t, "StatefulSet/shop-mariadb", &s)
	if got := s.Spec.Template.Spec.Containers[0].Image; got != "mariadb:11.8.3"+digest {
		t.Fatalf("image %q", got)
	}
}

// BenchmarkRender measures rendering one store's chart, which every
// InstallRelease does (with the schema check) before talking to the cluster.
func BenchmarkRender(b *testing.B) {
	c := loadChart(b)
	vals := values(b, "prod", storeValues("shop", storechart.EngineMedusa))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := storechart.Render(c, "shop", "store-shop", vals); err != nil {
			b.Fatal(err)
		}
	}
}
