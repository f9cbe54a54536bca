package hack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/yaml"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// The exit codes hack/e2e-cluster.sh documents in its usage.
const (
	exitUsage     = 2
	exitNoCluster = 3
	exitNoIngress = 4
	exitTools     = 5
)

// TestE2EClusterScript runs hack/e2e-cluster.sh up to what only a real
// cluster with an ingress controller can answer (docs/e2e-cluster.md): its
// usage errors, a kubeconfig that leads nowhere, the local stack refused for
// having no ingress controller, and a dry run on the local stack (kwok makes
// the pods Ready) that creates a WooCommerce and a Medusa store through the
// API, reads their credentials, prints the HTTP checks it would run, deletes
// both and finds nothing left — and never prints a password.
func TestE2EClusterScript(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "hack", "e2e-cluster.sh")

	t.Run("unknown flag", func(t *testing.T) {
		r := runScript(t, script, nil, "--no-such-flag")
		r.expect(t, exitUsage, "e2e-cluster: unknown argument: --no-such-flag", "usage: hack/e2e-cluster.sh", "Exit codes:")
	})
	t.Run("bad ingress address", func(t *testing.T) {
		r := runScript(t, script, nil, "--ingress", "127.0.0.1")
		r.expect(t, exitUsage, "--ingress must be HOST:PORT")
	})
	t.Run("unknown engine", func(t *testing.T) {
		r := runScript(t, script, []string{"E2E_ENGINES=medusa shopify"})
		r.expect(t, exitUsage, `E2E_ENGINES must name woocommerce and/or medusa, not "shopify"`)
	})
	t.Run("help", func(t *testing.T) {
		runScript(t, script, nil, "--help").expect(t, 0, "usage: hack/e2e-cluster.sh")
	})

	for _, b := range []string{"storeplatform", "storeplatform-dev", "temporal", "kubectl"} {
		if _, err := os.Stat(filepath.Join(root, "bin", b)); err != nil {
			t.Skipf("bin/%s missing (make tools build): the script's cluster checks are not run", b)
		}
	}
	t.Run("storeplatform missing", func(t *testing.T) {
		r := runScript(t, script, []string{"STOREPLATFORM=" + filepath.Join(t.TempDir(), "storeplatform")})
		r.expect(t, exitTools, "not found: run `make build`")
	})
	t.Run("kubeconfig names no file", func(t *testing.T) {
		r := runScript(t, script, []string{"KUBECONFIG=" + filepath.Join(t.TempDir(), "nothing")})
		r.expect(t, exitNoCluster, "e2e-cluster: no cluster: KUBECONFIG names")
	})
	t.Run("cluster not reachable", func(t *testing.T) {
		r := runScript(t, script, []string{"KUBECONFIG=" + deadKubeconfig(t)})
		r.expect(t, exitNoCluster, "e2e-cluster: no reachable cluster at KUBECONFIG=", "refused")
	})
	t.Run("no ingress controller", func(t *testing.T) {
		env.Require(t)
		r := runScript(t, script, []string{"KUBECONFIG=" + env.Kubeconfig})
		r.expect(t, exitNoIngress, "e2e-cluster: no ingress controller:",
			`IngressClass "nginx" exists, but no controller pod (app.kubernetes.io/component=controller) is Ready in namespace ingress-nginx`)
		if strings.Contains(r.out, "starting the platform") {
			t.Error("the platform was started although the cluster has no ingress controller")
		}
	})
	t.Run("dry run", func(t *testing.T) {
		env.Require(t)
		testDryRun(t, script)
	})
}

func testDryRun(t *testing.T, script string) {
	runID := fmt.Sprintf("t%06x", time.Now().UnixNano()&0xffffff)
	woo, medusa := "e2e-woo-"+runID, "e2e-medusa-"+runID
	passwords := watchAdminPasswords(t)
	tmp := t.TempDir()

	t0 := time.Now()
	r := runScript(t, script, []string{"KUBECONFIG=" + env.Kubeconfig, "E2E_RUN_ID=" + runID, "E2E_TIMEOUT=300", "TMPDIR=" + tmp}, "--dry-run")
	t.Logf("dry run took %s; its output:\n%s", time.Since(t0).Round(time.Second), r.out)
	r.expect(t, 0,
		"warning: no ingress controller",
		"ok   store "+woo+" (woocommerce) is ready ",
		"ok   store "+medusa+" (medusa) is ready ",
		"ok   credentials of "+woo+" read: user admin, password in a file of mode 600 (not shown)",
		"ok   credentials of "+medusa+" read: user e2e@example.com, password in a file of mode 600 (not shown)",
		"ok   store "+woo+" is deleted ",
		"ok   store "+medusa+" is deleted ",
		"ok   nothing left of "+woo+": namespace store-"+woo+" gone, no Helm release Secret",
		"ok   nothing left of "+medusa+": namespace store-"+medusa+" gone, no Helm release Secret",
		"dry run passed",
	)
	// The HTTP checks, printed with the ingress address of kind's port mapping.
	via := func(store string) string { return `--connect-to ` + store + `.stores.localhost:80:127.0.0.1:80 ` }
	for _, want := range []string{
		`would run: curl .*` + via(woo) + `-L http://` + woo + `\.stores\.localhost/\\\?post_type=product .*# expect 200 and the WooCommerce shop page`,
		`would run: curl .*` + via(woo) + `.*--data-urlencode pwd@\S+/` + woo + `\.password .*http://` + woo + `\.stores\.localhost/wp-login\.php .*# expect 302`,
		`would run: curl .*` + via(woo) + `-L .*http://` + woo + `\.stores\.localhost/wp-admin/ .*# expect 200, the dashboard`,
		`would run: curl .*` + via(medusa) + `http://` + medusa + `\.stores\.localhost/health .*# expect 200 "OK"`,
		`would run: curl .*` + via(medusa) + `http://` + medusa + `\.stores\.localhost/store/products .*# expect 400 from Medusa naming the missing x-publishable-api-key`,
		`would run: curl .*` + via(medusa) + `.*--data @\S+/` + medusa + `\.login\.json http://` + medusa + `\.stores\.localhost/auth/user/emailpass`,
		`would run: \S*kubectl run probe .*http://` + woo + `-web\.store-` + woo + `\.svc\.cluster\.local/ http://` + medusa + `-web\.store-` + medusa,
	} {
		if !regexp.MustCompile(want).MatchString(r.out) {
			t.Errorf("output has no line matching %s", want)
		}
	}

	seen := passwords()
	if len(seen) < 2 {
		t.Errorf("saw %d admin passwords on the cluster, want the 2 stores': the check below proves nothing", len(seen))
	}
	for _, p := range seen {
		if strings.Contains(r.out, p) {
			t.Error("the output holds a store's admin password")
		}
	}
	for _, name := range []string{woo, medusa} {
		_, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), "store-"+name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("namespace store-%s: %v, want it gone", name, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "storeplatform-e2e.*")); len(left) > 0 {
		t.Errorf("the script left its work directory (tokens, credentials): %v", left)
	}
}

type result struct {
	code int
	out  string // stdout and stderr, interleaved
}

func (r result) expect(t *testing.T, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d", r.code, code)
	}
	for _, s := range contains {
		if !strings.Contains(r.out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", r.out)
	}
}

// runScript runs the script with the test's environment minus anything that
// would steer it (KUBECONFIG, E2E_*), plus extra.
func runScript(t *testing.T, script string, extra []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "E2E_") && !strings.HasPrefix(kv, "STOREPLATFORM=") && !strings.HasPrefix(kv, "KUBECTL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return result{code: 0, out: out.String()}
	case errors.As(err, &exit) && exit.Exited():
		return result{code: exit.ExitCode(), out: out.String()}
	default:
		t.Fatalf("%s: %v\n%s", script, err, out.String())
		return result{}
	}
}

// deadKubeconfig writes a kubeconfig whose API server is a closed port.
func deadKubeconfig(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: dead, cluster: {server: "https://%s"}}]
users: [{name: dead, user: {token: unused}}]
contexts: [{name: dead, context: {cluster: dead, user: dead}}]
current-context: dead
`, addr)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// watchAdminPasswords collects the admin-password of every Secret created
// on the local stack from now on, until the test ends; the returned function
// lists them.
func watchAdminPasswords(t *testing.T) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := env.Kube.CoreV1().Secrets("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*corev1.Secret); ok && len(s.Data["admin-password"]) > 0 {
				mu.Lock()
				seen[string(s.Data["admin-password"])] = true
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { w.Stop(); cancel(); <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		var list []string
		for p := range seen {
			list = append(list, p)
		}
		return list
	}
}

// TestE2EKindWorkflow keeps the Actions workflow that runs `make e2e-cluster`
// on kind, and its kind config, parseable and in line with
// docs/e2e-cluster.md: actions pinned to a major version, Go from go.mod, the
// ingress-ready node with ports 80 and 443, a pinned ingress-nginx.
func TestE2EKindWorkflow(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "e2e-kind.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Env  map[string]string `json:"env"`
		Jobs map[string]struct {
			RunsOn string `json:"runs-on"`
			Steps  []struct {
				Name string            `json:"name"`
				Uses string            `json:"uses"`
				With map[string]any    `json:"with"`
				Run  string            `json:"run"`
				Env  map[string]string `json:"env"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("e2e-kind.yaml: %v", err)
	}
	major := regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`)
	var runs strings.Builder
	goFromMod := false
	for _, job := range wf.Jobs {
		if !strings.HasPrefix(job.RunsOn, "ubuntu-") {
			t.Errorf("runs-on %q, want an ubuntu runner", job.RunsOn)
		}
		for _, s := range job.Steps {
			if s.Uses != "" && !major.MatchString(s.Uses) {
				t.Errorf("uses %q is not pinned to a major version", s.Uses)
			}
			if strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["go-version-file"] == "go.mod" {
				goFromMod = true
			}
			runs.WriteString(s.Run + "\n")
		}
	}
	if !goFromMod {
		t.Error("no actions/setup-go step with go-version-file: go.mod")
	}
	for _, want := range []string{
		"kind create cluster --name \"$KIND_CLUSTER\" --config hack/e2e-kind.yaml",
		"/deploy/static/provider/kind/deploy.yaml",
		"docker build -t \"$E2E_MEDUSA_IMAGE\" examples/medusa-store",
		"kind load docker-image \"$E2E_MEDUSA_IMAGE\"",
		"make e2e-cluster",
	} {
		if !strings.Contains(runs.String(), want) {
			t.Errorf("no step runs %q", want)
		}
	}
	if !regexp.MustCompile(`^controller-v\d+\.\d+\.\d+$`).MatchString(wf.Env["INGRESS_NGINX_VERSION"]) {
		t.Errorf("INGRESS_NGINX_VERSION %q is not a pinned controller release", wf.Env["INGRESS_NGINX_VERSION"])
	}

	data, err = os.ReadFile(filepath.Join(root, "hack", "e2e-kind.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kind struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Nodes      []struct {
			Role              string            `json:"role"`
			Labels            map[string]string `json:"labels"`
			ExtraPortMappings []struct {
				ContainerPort int    `json:"containerPort"`
				HostPort      int    `json:"hostPort"`
				Protocol      string `json:"protocol"`
			} `json:"extraPortMappings"`
		} `json:"nodes"`
	}
	if err := yaml.UnmarshalStrict(data, &kind); err != nil {
		t.Fatalf("hack/e2e-kind.yaml: %v", err)
	}
	if kind.Kind != "Cluster" || kind.APIVersion != "kind.x-k8s.io/v1alpha4" || len(kind.Nodes) != 1 || kind.Nodes[0].Labels["ingress-ready"] != "true" {
		t.Fatalf("hack/e2e-kind.yaml: want one node labelled ingress-ready=true, got %+v", kind)
	}
	ports := map[int]int{}
	for _, m := range kind.Nodes[0].ExtraPortMappings {
		ports[m.ContainerPort] = m.HostPort
	}
	if ports[80] != 80 || ports[443] != 443 {
		t.Errorf("hack/e2e-kind.yaml maps ports %v, want 80 and 443 to the same host ports", ports)
	}
}
