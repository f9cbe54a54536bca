package platformchart_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func chartDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(repoRoot(t), "charts", "store-platform")
}

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	c, err := storechart.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// baseValues are the values an operator must give: the MongoDB Secret.
func baseValues() map[string]any {
	return map[string]any{"mongodb": map[string]any{"existingSecret": "platform-mongodb"}}
}

func render(t testing.TB, vals map[string]any) []*unstructured.Unstructured {
	t.Helper()
	rel, err := storechart.Render(loadChart(t), "sp", "platform", vals)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := storechart.Objects(rel.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func deployments(t testing.TB, objs []*unstructured.Unstructured) map[string]appsv1.Deployment {
	t.Helper()
	out := map[string]appsv1.Deployment{}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			t.Fatal(err)
		}
		out[d.Name] = d
	}
	return out
}

func TestLintIsClean(t *testing.T) {
	for _, tt := range []struct {
		name string
		vals map[string]any
	}{
		{"defaults", baseValues()},
		{"ingress with TLS", storechart.Merge(baseValues(), map[string]any{"api": map[string]any{"ingress": map[string]any{
			"enabled": true, "className": "nginx", "host": "platform.example.com", "tlsSecret": "platform-tls"}}})},
		{"no network policy, no admission policy", storechart.Merge(baseValues(), map[string]any{
			"networkPolicy": map[string]any{"enabled": false}, "rbac": map[string]any{"admissionPolicy": false}})},
		{"escape hatches", storechart.Merge(baseValues(), extras())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range storechart.Lint(chartDir(t), tt.vals) {
				t.Error(p)
			}
		})
	}
}

// TestRenderMakesEveryObject: the objects of the issue, each once.
func TestRenderMakesEveryObject(t *testing.T) {
	vals := storechart.Merge(baseValues(), map[string]any{"api": map[string]any{"ingress": map[string]any{"enabled": true}}})
	var got []string
	for _, o := range render(t, vals) {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	sort.Strings(got)
	want := []string{
		"ClusterRole/sp-store-platform-api-store", "ClusterRole/sp-store-platform-worker", "ClusterRole/sp-store-platform-worker-store",
		"ClusterRoleBinding/sp-store-platform-worker",
		"Deployment/sp-store-platform-api", "Deployment/sp-store-platform-worker",
		"Ingress/sp-store-platform-api",
		"NetworkPolicy/sp-store-platform-api", "NetworkPolicy/sp-store-platform-worker",
		"PodDisruptionBudget/sp-store-platform-api", "PodDisruptionBudget/sp-store-platform-worker",
		"Service/sp-store-platform-api", "Service/sp-store-platform-worker-metrics",
		"ServiceAccount/sp-store-platform-api", "ServiceAccount/sp-store-platform-worker",
		"ValidatingAdmissionPolicy/sp-store-platform-worker-scope", "ValidatingAdmissionPolicyBinding/sp-store-platform-worker-scope",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEveryObjectIsLabelled(t *testing.T) {
	for _, o := range render(t, baseValues()) {
		l := o.GetLabels()
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
			"app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "app.kubernetes.io/component", "helm.sh/chart"} {
			if l[k] == "" {
				t.Errorf("%s/%s has no label %s", o.GetKind(), o.GetName(), k)
			}
		}
	}
}

// TestPodsAreRestrictedAndProbed: every pod meets the "restricted" Pod
// Security Standard's fields, is probed on a real endpoint and has
// resources; the worker's probes are on its WORKER_HTTP_ADDR. The escape
// hatches (extraEnv, extraVolumes, ...) change none of it.
func TestPodsAreRestrictedAndProbed(t *testing.T) {
	for _, tt := range []struct {
		name string
		vals map[string]any
	}{
		{"defaults", baseValues()},
		{"escape hatches", storechart.Merge(baseValues(), extras())},
	} {
		t.Run(tt.name, func(t *testing.T) { podsAreRestrictedAndProbed(t, deployments(t, render(t, tt.vals))) })
	}
}

func podsAreRestrictedAndProbed(t *testing.T, deps map[string]appsv1.Deployment) {
	t.Helper()
	probes := map[string][2]string{ // readiness, liveness
		"sp-store-platform-api":    {"/health", "tcp"},
		"sp-store-platform-worker": {"/readyz", "/healthz"},
	}
	if len(deps) != len(probes) {
		t.Fatalf("%d Deployments, want %d", len(deps), len(probes))
	}
	for name, d := range deps {
		t.Run(name, func(t *testing.T) {
			ps := d.Spec.Template.Spec.SecurityContext
			if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.SeccompProfile == nil || ps.SeccompProfile.Type != "RuntimeDefault" {
				t.Errorf("pod securityContext %+v", ps)
			}
			if d.Spec.Template.Spec.ServiceAccountName == "" {
				t.Error("no serviceAccountName")
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				sc := c.SecurityContext
				if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
					sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 ||
					sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					t.Errorf("container %s securityContext %+v", c.Name, sc)
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
					t.Errorf("container %s resources %+v", c.Name, c.Resources)
				}
				want := probes[name]
				if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != want[0] {
					t.Errorf("container %s readiness %+v, want GET %s", c.Name, c.ReadinessProbe, want[0])
				}
				switch lp := c.LivenessProbe; {
				case lp == nil:
					t.Errorf("container %s has no liveness probe", c.Name)
				case want[1] == "tcp" && lp.TCPSocket == nil, want[1] != "tcp" && (lp.HTTPGet == nil || lp.HTTPGet.Path != want[1]):
					t.Errorf("container %s liveness %+v, want %s", c.Name, lp, want[1])
				}
			}
		})
	}
}

// TestEnvironmentIsTheCommandsSettings: every variable the chart sets is a
// setting of internal/config (so a rename there cannot leave the chart
// setting nothing), secrets among them are read from Secrets, and the
// worker is given its listener and its bindings.
func TestEnvironmentIsTheCommandsSettings(t *testing.T) {
	known := map[string]bool{"HOME": true}
	for _, s := range config.Settings() {
		known[s.Env] = true
	}
	for _, vals := range []map[string]any{storechart.Merge(baseValues(), secretFiles(), metricsToken()), baseValues()} {
		for name, d := range deployments(t, render(t, vals)) {
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, e := range c.Env {
					if !known[e.Name] {
						t.Errorf("%s sets %s, which is no setting", name, e.Name)
					}
					if (e.Name == "MONGODB_URI" || e.Name == "METRICS_TOKEN") && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
						t.Errorf("%s: %s is not read from a Secret", name, e.Name)
					}
				}
			}
		}
	}
	deps := deployments(t, render(t, baseValues()))
	env := map[string]string{}
	for _, e := range deps["sp-store-platform-worker"].Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["WORKER_HTTP_ADDR"] != ":9090" ||
		env["STORE_ROLE_BINDINGS"] != "sp-store-platform-worker-store=platform/sp-store-platform-worker,sp-store-platform-api-store=platform/sp-store-platform-api" {
		t.Fatalf("worker env %v", env)
	}
}

// secretFiles turns on TLS to Temporal with mTLS, an API key and payload
// encryption, each from its own Secret.
func secretFiles() map[string]any {
	return map[string]any{
		"temporal": map[string]any{
			"tls": map[string]any{"secretName": "temporal-mtls", "caKey": "ca.pem", "certKey": "client.pem", "keyKey": "client-key.pem",
				"serverName": "temporal.internal.example.com"},
			"apiKey": map[string]any{"secretName": "temporal-cloud", "key": "token"},
		},
		"payloadCodec": map[string]any{"secretName": "payload-keys", "key": "keys.txt"},
	}
}

// metricsToken gives the API a Prometheus scraper's token from key
// "bearer" of Secret "prom-scrape".
func metricsToken() map[string]any {
	return map[string]any{"api": map[string]any{"metricsToken": map[string]any{"secretName": "prom-scrape", "key": "bearer"}}}
}

// TestMetricsTokenIsFromASecret: with api.metricsToken set, the API's
// METRICS_TOKEN (the scraper's bearer token for its GET /metrics) is the
// named key of the named Secret, never a plain value, and not optional;
// the worker, whose /metrics takes no token, is not given it. Unset,
// neither Deployment sets METRICS_TOKEN.
func TestMetricsTokenIsFromASecret(t *testing.T) {
	onAndOff(t, metricsToken(), func(t *testing.T, on bool, name string, d appsv1.Deployment) {
		var got []corev1.EnvVar
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.Name == "METRICS_TOKEN" {
					got = append(got, e)
				}
			}
		}
		if !on || name != "sp-store-platform-api" {
			if len(got) != 0 {
				t.Fatalf("METRICS_TOKEN set: %+v", got)
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("METRICS_TOKEN set %d times, want once: %+v", len(got), got)
		}
		e := got[0]
		if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Fatalf("METRICS_TOKEN %+v is not read from a Secret", e)
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != "prom-scrape" || ref.Key != "bearer" {
			t.Errorf("METRICS_TOKEN is key %q of Secret %q, want \"bearer\" of \"prom-scrape\"", ref.Key, ref.Name)
		}
		if ref.Optional != nil && *ref.Optional {
			t.Error("METRICS_TOKEN's Secret key is optional: a missing key would start the API with /metrics unreadable by the scraper")
		}
	})
}

// extras are one of each escape hatch: two variables, variables from a
// ConfigMap, and a ConfigMap's files mounted read-only.
func extras() map[string]any {
	return map[string]any{
		"extraEnv": []any{
			map[string]any{"name": "HTTPS_PROXY", "value": "http://proxy.internal:3128"},
			map[string]any{"name": "SSL_CERT_DIR", "value": "/etc/ssl/corporate"},
		},
		"extraEnvFrom":      []any{map[string]any{"configMapRef": map[string]any{"name": "proxy-settings"}}},
		"extraVolumes":      []any{map[string]any{"name": "ca-bundle", "configMap": map[string]any{"name": "corporate-ca"}}},
		"extraVolumeMounts": []any{map[string]any{"name": "ca-bundle", "mountPath": "/etc/ssl/corporate", "readOnly": true}},
	}
}

// TestEscapeHatchesReachBothPods: extraEnv, extraEnvFrom, extraVolumes and
// extraVolumeMounts are added, as given and after the chart's own, to the
// api's and the worker's container and pod; unset, neither has any of them.
func TestEscapeHatchesReachBothPods(t *testing.T) {
	wantEnv := []corev1.EnvVar{
		{Name: "HTTPS_PROXY", Value: "http://proxy.internal:3128"},
		{Name: "SSL_CERT_DIR", Value: "/etc/ssl/corporate"},
	}
	wantEnvFrom := []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "proxy-settings"}}}}
	wantVolume := corev1.Volume{Name: "ca-bundle", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "corporate-ca"}}}}
	wantMount := corev1.VolumeMount{Name: "ca-bundle", MountPath: "/etc/ssl/corporate", ReadOnly: true}
	onAndOff(t, extras(), func(t *testing.T, on bool, _ string, d appsv1.Deployment) {
		pod := d.Spec.Template.Spec
		if len(pod.Containers) != 1 {
			t.Fatalf("%d containers, want 1", len(pod.Containers))
		}
		c := pod.Containers[0]
		if !on {
			for _, e := range c.Env {
				if e.Name == "HTTPS_PROXY" || e.Name == "SSL_CERT_DIR" {
					t.Errorf("%s set with no extraEnv", e.Name)
				}
			}
			if len(c.EnvFrom) != 0 || len(pod.Volumes) != 1 || len(c.VolumeMounts) != 1 {
				t.Errorf("envFrom %+v, volumes %+v, mounts %+v: want none but /tmp", c.EnvFrom, pod.Volumes, c.VolumeMounts)
			}
			return
		}
		n := len(c.Env) - len(wantEnv)
		if n < 1 || !reflect.DeepEqual(c.Env[n:], wantEnv) || c.Env[0].Name != "TEMPORAL_ADDRESS" {
			t.Errorf("env %+v: want the chart's, then %+v", c.Env, wantEnv)
		}
		if !reflect.DeepEqual(c.EnvFrom, wantEnvFrom) {
			t.Errorf("envFrom %+v, want %+v", c.EnvFrom, wantEnvFrom)
		}
		if len(pod.Volumes) != 2 || pod.Volumes[0].Name != "tmp" || !reflect.DeepEqual(pod.Volumes[1], wantVolume) {
			t.Errorf("volumes %+v: want tmp, then %+v", pod.Volumes, wantVolume)
		}
		if len(c.VolumeMounts) != 2 || c.VolumeMounts[0].MountPath != "/tmp" || !reflect.DeepEqual(c.VolumeMounts[1], wantMount) {
			t.Errorf("mounts %+v: want /tmp, then %+v", c.VolumeMounts, wantMount)
		}
	})
}

// onAndOff renders the chart with extra values merged in ("on") and
// without them ("off"), and runs check on the api's and the worker's
// Deployment of each, as subtests named on/<Deployment>, off/<Deployment>.
func onAndOff(t *testing.T, extra map[string]any, check func(t *testing.T, on bool, name string, d appsv1.Deployment)) {
	t.Helper()
	for _, tt := range []struct {
		name string
		vals map[string]any
		on   bool
	}{
		{"on", storechart.Merge(baseValues(), extra), true},
		{"off", baseValues(), false},
	} {
		deps := deployments(t, render(t, tt.vals))
		for _, name := range []string{"sp-store-platform-api", "sp-store-platform-worker"} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				d, ok := deps[name]
				if !ok {
					t.Fatalf("no Deployment %s", name)
				}
				check(t, tt.on, name, d)
			})
		}
	}
}

// secretFileSettings are the settings of internal/config that name a file.
var secretFileSettings = []string{"TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_API_KEY_FILE", "PAYLOAD_CODEC_KEYS_FILE"}

// TestSecretFilesAreMounted: with TLS, an API key and payload encryption
// turned on, both Deployments set each setting to a file that is the named
// key of the named Secret, mounted read-only; with them off neither sets
// any of them nor mounts anything but /tmp.
func TestSecretFilesAreMounted(t *testing.T) {
	// setting -> Secret, key in it.
	want := map[string][2]string{
		"TEMPORAL_TLS_CA":         {"temporal-mtls", "ca.pem"},
		"TEMPORAL_TLS_CERT":       {"temporal-mtls", "client.pem"},
		"TEMPORAL_TLS_KEY":        {"temporal-mtls", "client-key.pem"},
		"TEMPORAL_API_KEY_FILE":   {"temporal-cloud", "token"},
		"PAYLOAD_CODEC_KEYS_FILE": {"payload-keys", "keys.txt"},
	}
	onAndOff(t, secretFiles(), func(t *testing.T, on bool, _ string, d appsv1.Deployment) {
		pod := d.Spec.Template.Spec
		c := pod.Containers[0]
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if !on {
			for _, s := range append(secretFileSettings, "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_API_KEY") {
				if v, ok := env[s]; ok {
					t.Errorf("%s=%q set with nothing turned on", s, v)
				}
			}
			if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/tmp" || len(pod.Volumes) != 1 {
				t.Errorf("mounts %+v, volumes %+v: want /tmp only", c.VolumeMounts, pod.Volumes)
			}
			return
		}
		if got := env["TEMPORAL_TLS_SERVER_NAME"]; got != "temporal.internal.example.com" {
			t.Errorf("TEMPORAL_TLS_SERVER_NAME=%q", got)
		}
		if _, ok := env["TEMPORAL_API_KEY"]; ok {
			t.Error("TEMPORAL_API_KEY set: the key is a file, never a variable")
		}
		for setting, src := range want {
			path, ok := env[setting]
			if !ok {
				t.Errorf("%s not set", setting)
				continue
			}
			secret, key := mountedSecretKey(t, pod, c, path)
			if secret != src[0] || key != src[1] {
				t.Errorf("%s=%s is key %q of Secret %q, want %q of %q", setting, path, key, secret, src[1], src[0])
			}
		}
	})
}

// mountedSecretKey returns the Secret and the key whose file path is in
// container c of pod, failing the test unless path is a file of a
// read-only mount of a Secret volume.
func mountedSecretKey(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) (secret, key string) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(path, m.MountPath+"/")
		if !ok {
			continue
		}
		if !m.ReadOnly || m.SubPath != "" {
			t.Errorf("mount %+v of %s: want read-only, the whole volume", m, path)
		}
		for _, v := range pod.Volumes {
			if v.Name != m.Name {
				continue
			}
			if v.Secret == nil {
				t.Fatalf("%s is on volume %s, which is no Secret", path, v.Name)
			}
			if v.Secret.Optional != nil && *v.Secret.Optional {
				t.Errorf("Secret volume %s is optional: a missing key would start the pod without it", v.Name)
			}
			for _, it := range v.Secret.Items {
				if it.Path == rel {
					return v.Secret.SecretName, it.Key
				}
			}
			t.Fatalf("%s: volume %s has no item %s (items %+v)", path, v.Name, rel, v.Secret.Items)
		}
		t.Fatalf("%s: mount %s has no volume", path, m.Name)
	}
	t.Fatalf("%s is on no mount of %+v", path, c.VolumeMounts)
	return "", ""
}

func TestSchemaRejectsBadValues(t *testing.T) {
	for _, tt := range []struct {
		name  string
		vals  map[string]any
		field string // JSON pointer of the bad value
	}{
		{"temporal address without port", map[string]any{"temporal": map[string]any{"address": "temporal"}}, "/temporal/address"},
		{"unknown profile", map[string]any{"store": map[string]any{"profile": "staging"}}, "/store/profile"},
		{"negative workers", map[string]any{"worker": map[string]any{"replicas": -1}}, "/worker/replicas"},
		{"port out of range", map[string]any{"worker": map[string]any{"httpPort": 70000}}, "/worker/httpPort"},
		{"unknown value", map[string]any{"api": map[string]any{"replica": 3}}, "/api"},
		{"database with a dot", map[string]any{"mongodb": map[string]any{"database": "a.b"}}, "/mongodb/database"},
		{"log level", map[string]any{"logLevel": "loud"}, "/logLevel"},
		{"unknown TLS value", map[string]any{"temporal": map[string]any{"tls": map[string]any{"ca": "ca.crt"}}}, "/temporal/tls"},
		{"TLS server name with a scheme", map[string]any{"temporal": map[string]any{"tls": map[string]any{"serverName": "https://temporal"}}}, "/temporal/tls/serverName"},
		{"API key Secret not a name", map[string]any{"temporal": map[string]any{"apiKey": map[string]any{"secretName": "Temporal Cloud"}}}, "/temporal/apiKey/secretName"},
		{"codec keys without a key", map[string]any{"payloadCodec": map[string]any{"secretName": "keys", "key": ""}}, "/payloadCodec/key"},
		{"metrics token Secret not a name", map[string]any{"api": map[string]any{"metricsToken": map[string]any{"secretName": "Prom Scrape"}}}, "/api/metricsToken/secretName"},
		{"metrics token without a key", map[string]any{"api": map[string]any{"metricsToken": map[string]any{"secretName": "prom-scrape", "key": ""}}}, "/api/metricsToken/key"},
		{"metrics token as a plain value", map[string]any{"api": map[string]any{"metricsToken": map[string]any{"value": "0123456789abcdef"}}}, "/api/metricsToken"},
		{"extra env without a name", map[string]any{"extraEnv": []any{map[string]any{"value": "x"}}}, "/extraEnv/0"},
		{"extra env with a number", map[string]any{"extraEnv": []any{map[string]any{"name": "N", "value": 3}}}, "/extraEnv/0/value"},
		{"extra env as a map", map[string]any{"extraEnv": map[string]any{"N": "3"}}, "/extraEnv"},
		{"extra env from a typo", map[string]any{"extraEnvFrom": []any{map[string]any{"configmapRef": map[string]any{"name": "x"}}}}, "/extraEnvFrom/0"},
		{"extra volume without a name", map[string]any{"extraVolumes": []any{map[string]any{"emptyDir": map[string]any{}}}}, "/extraVolumes/0"},
		{"extra mount without a path", map[string]any{"extraVolumeMounts": []any{map[string]any{"name": "ca"}}}, "/extraVolumeMounts/0"},
		{"extra mount at a relative path", map[string]any{"extraVolumeMounts": []any{map[string]any{"name": "ca", "mountPath": "etc/ca"}}}, "/extraVolumeMounts/0/mountPath"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := storechart.Render(loadChart(t), "sp", "platform", storechart.Merge(baseValues(), tt.vals))
			if err == nil || !strings.Contains(err.Error(), "at '"+tt.field) {
				t.Fatalf("want a schema error at %s, got %v", tt.field, err)
			}
		})
	}
	for _, tt := range []struct {
		name string
		tls  map[string]any
		want string
	}{
		{"TLS Secret naming no file", map[string]any{"secretName": "t", "caKey": ""}, "name the CA"},
		{"client certificate without its key", map[string]any{"secretName": "t", "certKey": "tls.crt"}, "mTLS needs both"},
		{"client key without its certificate", map[string]any{"secretName": "t", "keyKey": "tls.key"}, "mTLS needs both"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := storechart.Render(loadChart(t), "sp", "platform", storechart.Merge(baseValues(), map[string]any{"temporal": map[string]any{"tls": tt.tls}}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want %q, got %v", tt.want, err)
			}
		})
	}
	t.Run("no MongoDB secret", func(t *testing.T) {
		_, err := storechart.Render(loadChart(t), "sp", "platform", nil)
		if err == nil || !strings.Contains(err.Error(), "mongodb.existingSecret is required") {
			t.Fatalf("want the required-Secret error, got %v", err)
		}
	})
}

// TestStoreChartVersionRecorded: the chart names the store chart version
// the image ships (charts/store), on the pods too.
func TestStoreChartVersionRecorded(t *testing.T) {
	store, err := chartutil.LoadChartfile(filepath.Join(repoRoot(t), "charts", "store", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := loadChart(t)
	if got := c.Metadata.Annotations["storeplatform.io/store-chart-version"]; got != store.Version {
		t.Fatalf("Chart.yaml records store chart %q; charts/store is %q", got, store.Version)
	}
	for name, d := range deployments(t, render(t, baseValues())) {
		if got := d.Spec.Template.Annotations["storeplatform.io/store-chart-version"]; got != store.Version {
			t.Errorf("%s pods record store chart %q, want %q", name, got, store.Version)
		}
	}
}

// TestValuesDocumented: every value of values.yaml has a row in the
// README's table, and every row is a value.
func TestValuesDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir(t), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(raw, &vals); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !freeForm[prefix+k] {
				walk(prefix+k+".", sub)
				continue
			}
			want[prefix+k] = true
		}
	}
	walk("", vals)
	readme, err := os.ReadFile(filepath.Join(chartDir(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		got[m[1]] = true
	}
	for k := range want {
		if !got[k] {
			t.Errorf("values.yaml's %s is not in the README's table", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("the README's table has %s, which values.yaml does not", k)
		}
	}
}

// freeForm are maps documented as one value (Kubernetes objects).
var freeForm = map[string]bool{"api.resources": true, "worker.resources": true, "api.ingress.annotations": true, "nodeSelector": true}
