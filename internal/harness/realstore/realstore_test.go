// Package realstore_test runs stores through the platform on the local
// stack's real node, where their containers start for real: the store
// chart as shipped, the images built here (make node-images medusa-image),
// probes, Services, DNS and volumes as a cluster has them.
package realstore_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/api"
	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/stack"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/platform"
	"github.com/storeplatform/storeplatform/internal/service"
	"github.com/storeplatform/storeplatform/internal/store"
)

// realNodeEnv names the variable that runs these tests: they need root,
// `make node-tools node-images medusa-image` and a machine whose bridge,
// kubelet ports and iptables no other stack uses. make test sets it to
// "smoke"; make test-real-node to "all", which adds the long part (a
// resize, a suspension, a chart rollout).
const realNodeEnv = "STOREPLATFORM_REAL_NODE"

// networkPolicyEnv, set to 1 (make e2e-local, which builds kube-router),
// has the real node enforce NetworkPolicy, and the test check that a pod
// of another namespace reaches none of the store's pods.
const networkPolicyEnv = "STOREPLATFORM_NETWORK_POLICY"

// platformOnNode is the platform (API and worker in this process) on a
// stack with a real node, and a tenant's token.
type platformOnNode struct {
	st    *stack.Stack
	url   string
	token string
	admin string
}

// startPlatform starts a stack with a real node, imports the store
// images, and runs the platform's worker and API on it, with the packaged
// chart versions in versionsDir, until the test ends; then everything
// stops. ctx bounds the start.
func startPlatform(t *testing.T, ctx context.Context, versionsDir string) *platformOnNode {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	st, err := stack.Start(ctx, stack.Options{
		Stack: devstack.Options{
			Dir: t.TempDir(), BinDir: filepath.Join(root, "bin"), Nodes: 1, RealNode: true, TemporalUIPort: -1,
			NetworkPolicy: os.Getenv(networkPolicyEnv) == "1",
			Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		},
		RepoRoot: root,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	t0 := time.Now()
	if err := st.ImportStoreImages(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("store images imported in %s", time.Since(t0).Round(time.Second))

	cfg := st.Config()
	cfg.ChartVersionsDir = versionsDir
	if cfg.StoreValues == "" {
		t.Fatal("the stack with a real node gave no STORE_VALUES")
	}
	d := st.Deps(st.DB)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := platform.NewWorker(ctx, cfg, d, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() {
		stopWorker()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	o, err := platform.APIOptions(ctx, cfg, d, logger)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	o.Stop = stop
	srv := httptest.NewServer(api.Router(o))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	p := &platformOnNode{st: st, url: srv.URL}
	if p.token, err = st.Token(ctx, "acme", auth.RoleTenant, "realstore test"); err != nil {
		t.Fatal(err)
	}
	if p.admin, err = st.Token(ctx, "ops", auth.RoleAdmin, "realstore test"); err != nil {
		t.Fatal(err)
	}
	return p
}

// call sends one request to the platform's API as the tenant.
func (p *platformOnNode) call(t *testing.T, ctx context.Context, method, path, body string) (int, []byte) {
	t.Helper()
	return p.callAs(t, ctx, p.token, method, path, body)
}

// callAs sends one request to the platform's API with token.
func (p *platformOnNode) callAs(t *testing.T, ctx context.Context, token, method, path, body string) (int, []byte) {
	t.Helper()
	a, err := apiclient.New(p.url, apiclient.Options{}).Once(ctx, token, method, path, apiclient.Raw(body))
	if err != nil {
		t.Fatal(err)
	}
	return a.Status, a.Body
}

// record is the part of a store's record these tests read.
type record struct {
	Phase        store.Phase `json:"phase"`
	URL          string      `json:"url"`
	ChartVersion string      `json:"chartVersion"`
	Message      string      `json:"message"`
	Namespace    string      `json:"namespace"`
	Revision     int         `json:"revision"`
	Operation    *struct {
		Kind string `json:"kind"`
	} `json:"operation"`
	LastOperation *struct {
		Kind       string    `json:"kind"`
		Failed     bool      `json:"failed"`
		Reason     string    `json:"reason"`
		FinishedAt time.Time `json:"finishedAt"`
	} `json:"lastOperation"`
}

// waitFor polls the store until ok says its record is what the test waits
// for, and fails on a failed store or when ctx ends.
func (p *platformOnNode) waitFor(t *testing.T, ctx context.Context, name, what string, ok func(record) bool) record {
	t.Helper()
	var last record
	for {
		code, data := p.call(t, ctx, http.MethodGet, "/api/stores/"+name, "")
		if code == http.StatusOK {
			last = record{}
			if err := json.Unmarshal(data, &last); err != nil {
				t.Fatalf("store %s: %v: %s", name, err, data)
			}
			if ok(last) {
				return last
			}
			if last.Phase == store.PhaseFailed {
				p.dumpPods(t, last.Namespace)
				t.Fatalf("store %s failed waiting for %s: %s", name, what, last.Message)
			}
		} else if code != http.StatusNotFound {
			t.Fatalf("store %s: %d %s", name, code, data)
		}
		select {
		case <-ctx.Done():
			p.dumpPods(t, last.Namespace)
			t.Fatalf("store %s: %s never came: last %+v", name, what, last)
		case <-time.After(2 * time.Second):
		}
	}
}

// dumpPods logs the pods of namespace with their containers' states, and
// the node's containers: what a failed wait needs to be understood.
func (p *platformOnNode) dumpPods(t *testing.T, namespace string) {
	t.Helper()
	if namespace == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := p.st.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("pods of %s: %v", namespace, err)
		return
	}
	for _, pod := range pods.Items {
		t.Logf("pod %s on %q: %s", pod.Name, pod.Spec.NodeName, pod.Status.Phase)
		for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
			t.Logf("  %s ready=%v restarts=%d state=%+v last=%+v", cs.Name, cs.Ready, cs.RestartCount, cs.State, cs.LastTerminationState)
		}
	}
	events, err := p.st.Kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, e := range events.Items {
			if e.Type != "Normal" {
				t.Logf("event %s %s: %s", e.InvolvedObject.Name, e.Reason, e.Message)
			}
		}
	}
	if out, err := p.st.Crictl(ctx, "ps", "-a"); err == nil {
		t.Logf("containers of the node:\n%s", out)
	}
}

// medusa talks to a Medusa store at its URL, through the real node's
// ingress.
type medusa struct {
	base   string
	token  string
	client *http.Client
}

// ingressClient is the HTTP client of the tests' requests to a store: it
// connects to the ingress's loopback address whatever the URL's host (as
// `curl --connect-to` does), so that a store's URL is asked for with its
// own Host header and TLS server name, and trusts the stack's CA, which
// signed the ingress's certificate. A connection attempt gives up after
// 2 s. Until kube-proxy's rules follow a pod that is gone, the Service's
// address leads to the old pod's, where nothing answers, not even a
// refusal: the ingress then answers 502 after its own wait.
func ingressClient(t *testing.T, st *stack.Stack) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(st.CACert())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", st.CACert())
	}
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				to := st.IngressHTTP()
				if strings.HasSuffix(addr, ":443") {
					to = st.IngressHTTPS()
				}
				return dialer.DialContext(ctx, network, to)
			},
			TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
	}
}

// do sends one request to the store and returns its status and body.
func (m *medusa) do(t *testing.T, ctx context.Context, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if m.token != "" {
		req.Header.Set("Authorization", "Bearer "+m.token)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// serving waits until the store answers /health with 200 "OK" through the
// ingress. A store is ready when its workloads are (as `kubectl rollout
// status` says); kube-proxy's rules follow the new endpoints a little
// later (its network programming took up to 4 s on this machine): until
// then the Service's address leads to a pod that is gone, or to none. A
// minute without an answer fails the test.
func (m *medusa) serving(t *testing.T, ctx context.Context) {
	t.Helper()
	t0 := time.Now()
	var last string
	for time.Since(t0) < time.Minute {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/health", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := m.client.Do(req)
		if err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(data) == "OK" {
				if d := time.Since(t0); d > time.Second {
					t.Logf("the store answered through the ingress %s after it was ready", d.Round(100*time.Millisecond))
				}
				return
			}
			last = fmt.Sprintf("%s %.100q", resp.Status, data)
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the store does not serve %s/health through the ingress: %s", m.base, last)
}

// storeOf reaches the store at its record's URL (https: the real node's
// store values turn the Ingress's TLS on) through the ingress.
func (p *platformOnNode) storeOf(t *testing.T, rec record) *medusa {
	t.Helper()
	if !strings.HasPrefix(rec.URL, "https://") {
		t.Fatalf("the store's URL is %q, not https (the real node's store values turn TLS on)", rec.URL)
	}
	return &medusa{base: strings.TrimSuffix(rec.URL, "/"), client: ingressClient(t, p.st)}
}

// login logs in to the store's admin API with the credentials the
// platform gives its owner.
func (p *platformOnNode) login(t *testing.T, ctx context.Context, m *medusa, name string) {
	t.Helper()
	code, data := p.call(t, ctx, http.MethodGet, "/api/stores/"+name+"/credentials", "")
	if code != http.StatusOK {
		t.Fatalf("credentials: %d %s", code, data)
	}
	var cred service.Credentials
	if err := json.Unmarshal(data, &cred); err != nil {
		t.Fatal(err)
	}
	code, data = m.do(t, ctx, http.MethodPost, "/auth/user/emailpass", map[string]string{"email": cred.Username, "password": cred.Password})
	var tok struct {
		Token string `json:"token"`
	}
	if code != http.StatusOK || json.Unmarshal(data, &tok) != nil || tok.Token == "" {
		t.Fatalf("admin login with the platform's credentials: %d %s", code, data)
	}
	m.token = tok.Token
}

// deadline is ctx for a test: it ends a minute before the test binary's
// own timeout, so that a stuck wait fails the test and the node still
// stops (a timeout's panic would leave its containers running).
func deadline(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	end := time.Now().Add(d)
	if td, ok := t.Deadline(); ok && td.Add(-time.Minute).Before(end) {
		end = td.Add(-time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), end)
	t.Cleanup(cancel)
	return ctx
}

// TestMedusaStoreServes: a Medusa store made through the platform's API
// on the real node becomes ready by its real probes, serves /health and
// its store API at its https URL through the real node's ingress (and
// /health over HTTP by its Host), takes its owner's admin login, and, with
// STOREPLATFORM_NETWORK_POLICY=1, is closed to a pod of another namespace
// (isolated). It keeps a row written through the admin API over a change
// of its image, which rolls its Medusa pods out (migrations again). With
// STOREPLATFORM_REAL_NODE=all it
// also keeps the row over a resize (two server pods, migrating at once), a
// suspension and resumption (every pod gone and back) and a fleet rollout
// of a new chart version, on the same volumes. Deleted, it leaves no
// container, volume directory or namespace behind.
func TestMedusaStoreServes(t *testing.T) {
	mode := os.Getenv(realNodeEnv)
	if mode == "" {
		t.Skip(realNodeEnv + " is not set: stores on the real node run with `make test-real-node` (root, make node-tools node-images medusa-image)")
	}
	ctx := deadline(t, 50*time.Minute)
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	const next = "0.99.0" // the chart as it is, packaged as a newer version
	p := startPlatform(t, ctx, testenv.ChartVersions(t, root, []string{next}, nil))
	const name = "shop"
	body := fmt.Sprintf(`{"name":%q,"engine":"medusa","medusaImage":%q}`, name, devstack.MedusaImage)
	if code, data := p.call(t, ctx, http.MethodPost, "/api/stores", body); code != http.StatusAccepted {
		t.Fatalf("create: %d %s", code, data)
	}
	t0 := time.Now()
	rec := p.waitFor(t, ctx, name, "ready", func(r record) bool { return r.Phase == store.PhaseReady })
	t.Logf("ready in %s", time.Since(t0).Round(time.Second))
	p.onlyOnTheRealNode(t, ctx, rec.Namespace)

	m := p.storeOf(t, rec)
	m.serving(t, ctx)
	// The same store over plain HTTP, by its Host header alone.
	plain := &medusa{base: "http://" + strings.TrimPrefix(m.base, "https://"), client: m.client}
	if code, data := plain.do(t, ctx, http.MethodGet, "/health", nil); code != http.StatusOK || string(data) != "OK" {
		t.Fatalf("GET /health over HTTP through the ingress: %d %s", code, data)
	}
	// Medusa's store API wants a publishable key, and says so.
	if code, data := m.do(t, ctx, http.MethodGet, "/store/products", nil); code != http.StatusBadRequest ||
		!strings.Contains(string(data), "Publishable API key required") {
		t.Fatalf("GET /store/products without a key: %d %s", code, data)
	}
	if os.Getenv(networkPolicyEnv) == "1" {
		p.isolated(t, ctx, rec.Namespace, name)
	}
	p.login(t, ctx, m, name)
	code, data := m.do(t, ctx, http.MethodPost, "/admin/product-categories", map[string]any{"name": "Made on the real node", "handle": "real-node"})
	var made struct {
		Category struct {
			ID string `json:"id"`
		} `json:"product_category"`
	}
	if code != http.StatusOK || json.Unmarshal(data, &made) != nil || made.Category.ID == "" {
		t.Fatalf("write a row: %d %s", code, data)
	}
	rowKept := func(after string) {
		t.Helper()
		m.serving(t, ctx)
		p.login(t, ctx, m, name)
		if code, data := m.do(t, ctx, http.MethodGet, "/admin/product-categories/"+made.Category.ID, nil); code != http.StatusOK ||
			!strings.Contains(string(data), "Made on the real node") {
			t.Fatalf("the row after %s: %d %s", after, code, data)
		}
	}
	claims := p.claims(t, ctx, rec.Namespace)

	// A new image: the server and the worker roll out, the server's
	// migrations run again.
	server := p.podUIDs(t, ctx, rec.Namespace, "medusa")
	p.operate(t, ctx, name, store.OpChange, http.MethodPatch, "", fmt.Sprintf(`{"medusaImage":%q}`, devstack.MedusaImageNext))
	if now := p.podUIDs(t, ctx, rec.Namespace, "medusa"); overlap(now, server) {
		t.Fatalf("the Medusa pods were not replaced by the change of image: %v, were %v", now, server)
	}
	rowKept("a change of image")

	if mode == "all" {
		// Resize to medium: two server pods, each migrating at start.
		p.operate(t, ctx, name, store.OpChange, http.MethodPatch, "", `{"size":"medium"}`)
		if n := len(p.podUIDs(t, ctx, rec.Namespace, "medusa")); n != 3 {
			t.Fatalf("%d Medusa pods after the resize, want two servers and a worker", n)
		}
		rowKept("a resize")

		// Suspend: every pod goes; resume: they come back on the same
		// volumes.
		db := p.podUIDs(t, ctx, rec.Namespace, "postgresql")
		p.operate(t, ctx, name, store.OpSuspend, http.MethodPost, "/suspend", "")
		if pods, err := p.st.Kube.CoreV1().Pods(rec.Namespace).List(ctx, metav1.ListOptions{}); err != nil || len(pods.Items) != 0 {
			t.Fatalf("pods of the suspended store: %d (%v)", len(pods.Items), err)
		}
		p.operate(t, ctx, name, store.OpResume, http.MethodPost, "/resume", "")
		if now := p.podUIDs(t, ctx, rec.Namespace, "postgresql"); overlap(now, db) {
			t.Fatalf("PostgreSQL's pod survived the suspension: %v", now)
		}
		rowKept("a suspension and resumption")

		// A fleet rollout of a newer chart version.
		if code, data := p.callAs(t, ctx, p.admin, http.MethodPost, "/api/rollouts",
			fmt.Sprintf(`{"chartVersion":%q,"canary":1,"batchSize":1,"maxFailures":0}`, next)); code != http.StatusAccepted {
			t.Fatalf("rollout: %d %s", code, data)
		}
		p.waitFor(t, ctx, name, "chart "+next, func(r record) bool {
			return r.ChartVersion == next && r.Phase == store.PhaseReady && r.Operation == nil
		})
		rowKept("a rollout of chart " + next)
		if now := p.claims(t, ctx, rec.Namespace); fmt.Sprint(now) != fmt.Sprint(claims) {
			t.Fatalf("the store's volumes changed: %v, were %v", now, claims)
		}
	}
	p.onlyOnTheRealNode(t, ctx, rec.Namespace)

	var dirs []string
	for _, c := range claims {
		pv, err := p.st.Kube.CoreV1().PersistentVolumes().Get(ctx, c.volume, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pv.Spec.Local == nil {
			t.Fatalf("volume %s is not a local directory: %+v", pv.Name, pv.Spec.PersistentVolumeSource)
		}
		dirs = append(dirs, pv.Spec.Local.Path)
	}
	if code, data := p.call(t, ctx, http.MethodDelete, "/api/stores/"+name, ""); code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", code, data)
	}
	p.waitFor(t, ctx, name, "deleted", func(r record) bool { return r.Phase == store.PhaseDeleted })
	if _, err := p.st.Kube.CoreV1().Namespaces().Get(ctx, rec.Namespace, metav1.GetOptions{}); err == nil {
		t.Errorf("namespace %s still there", rec.Namespace)
	}
	for _, dir := range dirs {
		for {
			_, err := os.Stat(dir)
			if os.IsNotExist(err) {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("volume directory %s still there", dir)
			}
			time.Sleep(time.Second)
		}
	}
	// The kubelet stops a deleted pod's containers at once and removes them
	// in its next garbage collection (every minute).
	for t0 := time.Now(); ; {
		out, err := p.st.Crictl(ctx, "ps", "-a", "-q", "--label", "io.kubernetes.pod.namespace="+rec.Namespace)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) == "" {
			t.Logf("the node removed the store's containers %s after its deletion", time.Since(t0).Round(time.Second))
			break
		}
		if time.Since(t0) > 3*time.Minute {
			t.Fatalf("containers of %s still on the node 3 minutes after its deletion: %s", rec.Namespace, out)
		}
		time.Sleep(2 * time.Second)
	}
}

// operate starts an operation on the store (method on
// /api/stores/<name><suffix> with body) and waits until it is done and
// the store ready, or suspended for a suspension.
func (p *platformOnNode) operate(t *testing.T, ctx context.Context, name, kind, method, suffix, body string) {
	t.Helper()
	since := time.Now()
	if code, data := p.call(t, ctx, method, "/api/stores/"+name+suffix, body); code != http.StatusAccepted {
		t.Fatalf("%s: %d %s", kind, code, data)
	}
	want := store.PhaseReady
	if kind == store.OpSuspend {
		want = store.PhaseSuspended
	}
	rec := p.waitFor(t, ctx, name, kind+" done", func(r record) bool {
		return r.Phase == want && r.Operation == nil && r.LastOperation != nil && r.LastOperation.Kind == kind &&
			r.LastOperation.FinishedAt.After(since)
	})
	if rec.LastOperation.Failed {
		t.Fatalf("%s: %+v", kind, rec.LastOperation)
	}
	t.Logf("%s done in %s", kind, time.Since(since).Round(time.Second))
}

// claim is one volume claim of a store and the volume bound to it.
type claim struct{ uid, volume string }

// claims lists the store's volume claims, by name.
func (p *platformOnNode) claims(t *testing.T, ctx context.Context, namespace string) map[string]claim {
	t.Helper()
	list, err := p.st.Kube.CoreV1().PersistentVolumeClaims(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatal("the store has no volumes")
	}
	out := map[string]claim{}
	for _, c := range list.Items {
		out[c.Name] = claim{uid: string(c.UID), volume: c.Spec.VolumeName}
	}
	return out
}

// podUIDs are the UIDs of the store's running pods labelled app=app.
func (p *platformOnNode) podUIDs(t *testing.T, ctx context.Context, namespace, app string) []string {
	t.Helper()
	pods, err := p.st.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, pod := range pods.Items {
		if pod.DeletionTimestamp == nil {
			out = append(out, string(pod.UID))
		}
	}
	return out
}

// overlap tells whether a and b share a UID.
func overlap(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// onlyOnTheRealNode fails unless every pod of namespace runs on the real
// node.
func (p *platformOnNode) onlyOnTheRealNode(t *testing.T, ctx context.Context, namespace string) {
	t.Helper()
	pods, err := p.st.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName != devstack.RealNodeName {
			t.Fatalf("pod %s runs on %q, want the real node", pod.Name, pod.Spec.NodeName)
		}
	}
}

// isolated checks the store's NetworkPolicy as the real node enforces it:
// a pod in another namespace (devstack.HelloPod, asked over its own
// address to dial) reaches neither the store's database nor its Medusa
// server, while it does reach the cluster DNS on the node, so that a
// refusal is the policy's and not a pod that reaches nothing. The store's
// own server reaching its database is shown by the store serving rows.
func (p *platformOnNode) isolated(t *testing.T, ctx context.Context, namespace, release string) {
	t.Helper()
	if err := p.st.ImportHelloImage(ctx); err != nil {
		t.Fatal(err)
	}
	const probeNS = "netpol-probe"
	if _, err := p.st.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: probeNS, Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.st.Kube.CoreV1().Namespaces().Delete(context.Background(), probeNS, metav1.DeleteOptions{})
	})
	if _, err := p.st.Kube.CoreV1().Pods(probeNS).Create(ctx, devstack.HelloPod(probeNS), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	probe := p.waitPodReady(t, ctx, probeNS, "hello")
	node, err := p.st.Kube.CoreV1().Nodes().Get(ctx, devstack.RealNodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var nodeIP string
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			nodeIP = a.Address
		}
	}
	podIP := func(component string) string {
		t.Helper()
		pods, err := p.st.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{
			LabelSelector: "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=" + component,
		})
		if err != nil || len(pods.Items) == 0 || pods.Items[0].Status.PodIP == "" {
			t.Fatalf("the store's %s pod: %v (%d pods)", component, err, len(pods.Items))
		}
		return pods.Items[0].Status.PodIP
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range []struct {
		what, addr string
		reached    bool
	}{
		{"the cluster DNS on the node", net.JoinHostPort(nodeIP, "53"), true},
		{"the store's database", net.JoinHostPort(podIP("database"), "5432"), false},
		{"the store's Medusa server", net.JoinHostPort(podIP("web"), "9000"), false},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(probe, "8080")+"/dial?addr="+tc.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("ask the probe pod to dial %s: %v", tc.what, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if reached := resp.StatusCode == http.StatusOK; reached != tc.reached {
			t.Errorf("a pod of namespace %s dialing %s (%s): reached %v, want %v (%s)", probeNS, tc.what, tc.addr, reached, tc.reached, strings.TrimSpace(string(body)))
		} else {
			t.Logf("a pod of namespace %s dialing %s: %s", probeNS, tc.what, strings.TrimSpace(string(body)))
		}
	}
}

// waitPodReady waits until the pod namespace/name is Ready and returns its
// address.
func (p *platformOnNode) waitPodReady(t *testing.T, ctx context.Context, namespace, name string) string {
	t.Helper()
	for {
		pod, err := p.st.Kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && pod.Status.PodIP != "" {
			for _, c := range pod.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					return pod.Status.PodIP
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod %s/%s not Ready: %v", namespace, name, context.Cause(ctx))
		case <-time.After(500 * time.Millisecond):
		}
	}
}
