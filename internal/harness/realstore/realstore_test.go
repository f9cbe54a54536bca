// Package realstore_test runs stores through the platform on the local
// stack's real node, where their containers start for real: the store
// chart as shipped, the images built here (make node-images medusa-image),
// probes, Services, DNS and volumes as a cluster has them.
package realstore_test

import (
	"bytes"
	"context"
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
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
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

// medusa talks to a Medusa store through its Service, as the store's
// Ingress would.
type medusa struct {
	base   string
	token  string
	client *http.Client
}

// storeClient is the HTTP client of the tests' requests to a store: a
// connection attempt gives up after 2 s. Until kube-proxy's rules follow
// a pod that is gone, a connection to the Service goes to the old pod's
// address, where nothing answers, not even a refusal: with Go's default
// 30 s to connect, one such attempt hid the few seconds the rules took.
func storeClient() *http.Client {
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			DialContext:       (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
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

// serving waits until the store's Service routes to a pod that answers
// /health with 200. A store is ready when its workloads are (as `kubectl
// rollout status` says); kube-proxy's rules follow the new endpoints a
// little later (its network programming took up to 4 s on this machine):
// until then the Service's address leads to a pod that is gone, or to
// none. A minute without an answer fails the test.
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
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if d := time.Since(t0); d > time.Second {
					t.Logf("the Service routed to the store %s after it was ready", d.Round(100*time.Millisecond))
				}
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the store does not serve /health through its Service: %s", last)
}

// storeOf reaches the store of name through its web Service's cluster IP
// (kube-proxy's rules on this host route it to a pod).
func (p *platformOnNode) storeOf(t *testing.T, ctx context.Context, name string) *medusa {
	t.Helper()
	ns := store.Spec{Name: name}.Namespace()
	svc, err := p.st.Kube.CoreV1().Services(ns).Get(ctx, name+"-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &medusa{base: fmt.Sprintf("http://%s:%d", svc.Spec.ClusterIP, svc.Spec.Ports[0].Port), client: storeClient()}
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
// its store API, takes its owner's admin login, and keeps a row written
// through the admin API over a change of its image, which rolls its
// Medusa pods out (migrations again). With STOREPLATFORM_REAL_NODE=all it
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

	m := p.storeOf(t, ctx, name)
	m.serving(t, ctx)
	// Medusa's store API wants a publishable key, and says so.
	if code, data := m.do(t, ctx, http.MethodGet, "/store/products", nil); code != http.StatusBadRequest ||
		!strings.Contains(string(data), "Publishable API key required") {
		t.Fatalf("GET /store/products without a key: %d %s", code, data)
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
