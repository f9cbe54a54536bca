package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestBadConfigurationExitsWithOneLine(t *testing.T) {
	emptyKubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(emptyKubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		setting string
	}{
		{"malformed temporal address", []string{"api"}, map[string]string{"TEMPORAL_ADDRESS": "localhost"}, "TEMPORAL_ADDRESS"},
		{"malformed temporal address flag", []string{"worker", "-temporal-address", "a:b:c"}, nil, "TEMPORAL_ADDRESS"},
		{"missing kubeconfig", []string{"worker"}, map[string]string{"KUBECONFIG": "/does/not/exist"}, "KUBECONFIG"},
		{"malformed worker http address", []string{"worker"}, map[string]string{"WORKER_HTTP_ADDR": "9090"}, "WORKER_HTTP_ADDR"},
		{"unreachable mongodb", []string{"api"}, map[string]string{"MONGODB_URI": "mongodb://127.0.0.1:1/", "CONNECT_TIMEOUT": "1s"}, "MONGODB_URI"},
		{"unreachable mongodb worker", []string{"worker"}, map[string]string{"MONGODB_URI": "mongodb://user:s3cret@127.0.0.1:1/", "CONNECT_TIMEOUT": "1s"}, "MONGODB_URI"},
		{"missing temporal CA", []string{"worker"}, map[string]string{"TEMPORAL_TLS_CA": "/does/not/exist.pem"}, "TEMPORAL_TLS_CA"},
		{"API key twice", []string{"api"}, map[string]string{"TEMPORAL_API_KEY": "s3cret", "TEMPORAL_API_KEY_FILE": emptyKubeconfig}, "TEMPORAL_API_KEY"},
		{"payload keys not keys", []string{"api"}, map[string]string{"PAYLOAD_CODEC_KEYS_FILE": emptyKubeconfig}, "PAYLOAD_CODEC_KEYS_FILE"},
		{"mongodb CA missing", []string{"api"}, map[string]string{"MONGODB_URI": "mongodb://user:s3cret@db:27017/?tls=true&tlsCAFile=/does/not/exist.pem"}, "MONGODB_URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if code != 1 {
				t.Fatalf("exit code %d, want 1 (stderr %q)", code, stderr.String())
			}
			out := stderr.String()
			if strings.Count(out, "\n") != 1 || !strings.Contains(out, ": "+tt.setting+": ") {
				t.Fatalf("want one line naming %s, got %q", tt.setting, out)
			}
			for _, bad := range []string{"goroutine", "panic", "s3cret"} {
				if strings.Contains(out, bad) {
					t.Fatalf("output contains %q: %q", bad, out)
				}
			}
		})
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), nil, os.Getenv, &stdout, &stderr); code != 2 {
		t.Fatalf("no command: exit %d, want 2", code)
	}
	if code := run(t.Context(), []string{"frobnicate"}, os.Getenv, &stdout, &stderr); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
	if code := run(t.Context(), []string{"api", "-no-such-flag"}, os.Getenv, &stdout, &stderr); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
}

// TestAPIHealthOnRealStack runs `storeplatform api` against the real stack
// and expects every dependency ok. The failing paths (503 with a reason) are
// covered by the handler tests in package api.
func TestAPIHealthOnRealStack(t *testing.T) {
	env.Require(t)
	addr := freeAddr(t)
	vars := map[string]string{
		"LISTEN_ADDR": addr, "MONGODB_URI": env.MongoURI, "TEMPORAL_ADDRESS": env.Stack.TemporalAddress(),
		"KUBECONFIG": env.Kubeconfig, "LOG_LEVEL": "warn",
		"CHART_DIR": filepath.Join(env.RepoRoot, "charts", "store"),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"api"}, func(k string) string { return vars[k] }, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("api exited %d: %s", code, stderr.String())
		}
	}()

	var resp *http.Response
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		resp, err = http.Get("http://" + addr + "/health")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("api never answered: %v (stderr %s)", err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer resp.Body.Close()
	// 200 means every dependency (mongodb, temporal, kubernetes) answered;
	// which one fails is shown to an admin's token only (#20).
	var body struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || body.Status != "ok" {
		t.Fatalf("health %d %+v", resp.StatusCode, body)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader in
// different goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTokenCommands(t *testing.T) {
	env.Require(t)
	vars := map[string]string{"MONGODB_URI": env.MongoURI, "MONGODB_DB": "tokens_cli_test"}
	getenv := func(k string) string { return vars[k] }
	runCmd := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, getenv, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, token, msg := runCmd("token", "create", "-tenant", "acme", "-name", "ci")
	if code != 0 || !strings.HasPrefix(token, "sp_") {
		t.Fatalf("create: %d %q %q", code, token, msg)
	}
	code, list, _ := runCmd("token", "list")
	if code != 0 || !strings.Contains(list, "acme") || strings.Contains(list, strings.TrimSpace(token)) {
		t.Fatalf("list: %d %q", code, list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if code, _, msg := runCmd("token", "revoke", id); code != 0 {
		t.Fatalf("revoke: %d %s", code, msg)
	}
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"token", "create", "-tenant", "acme", "-role", "root"}, 1},
		{[]string{"token", "revoke", "nosuchid"}, 1},
		{[]string{"token", "revoke"}, 2},
		{[]string{"token", "frob"}, 2},
		{[]string{"token"}, 2},
	}
	for _, tt := range tests {
		code, _, msg := runCmd(tt.args...)
		if code != tt.code || msg == "" {
			t.Errorf("%v: exit %d (want %d), message %q", tt.args, code, tt.code, msg)
		}
	}
}

// TestTokenCreateRefusesTenantsTheChartRefuses: a tenant name the store
// chart's schema refuses is a usage error naming -tenant, and no token is
// made for it.
func TestTokenCreateRefusesTenantsTheChartRefuses(t *testing.T) {
	env.Require(t)
	db := fmt.Sprintf("tokens_tenant_%d", time.Now().UnixNano())
	getenv := func(k string) string {
		return map[string]string{"MONGODB_URI": env.MongoURI, "MONGODB_DB": db}[k]
	}
	for _, tenant := range []string{"acme:eu", "acme/eu", "-acme", "acme eu", strings.Repeat("a", 64)} {
		t.Run(tenant, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{"token", "create", "-tenant", tenant}, getenv, &stdout, &stderr)
			if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "-tenant: tenant must be") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and a message on -tenant", code, stdout.String(), stderr.String())
			}
		})
	}
	list, err := auth.NewMongoTokens(env.Mongo.Database(db)).List(t.Context())
	if err != nil || len(list) != 0 {
		t.Fatalf("tokens made: %v %v", list, err)
	}
}

// TestWorkerProbesOnRealStack runs `storeplatform worker` against the real
// stack with WORKER_HTTP_ADDR: /healthz answers, /readyz once the worker
// polls, /metrics serves; and a malformed STORE_ROLE_BINDINGS stops it with
// one line naming the setting.
func TestWorkerProbesOnRealStack(t *testing.T) {
	env.Require(t)
	vars := func(extra map[string]string) func(string) string {
		v := map[string]string{
			"MONGODB_URI": env.MongoURI, "MONGODB_DB": "test_worker_probes", "TEMPORAL_ADDRESS": env.Stack.TemporalAddress(),
			"TEMPORAL_TASK_QUEUE": "test-worker-probes", "KUBECONFIG": env.Kubeconfig, "LOG_LEVEL": "warn",
			"CHART_DIR": filepath.Join(env.RepoRoot, "charts", "store"), "CHART_VERSIONS_DIR": filepath.Join(env.RepoRoot, "charts", "versions"),
		}
		for k, x := range extra {
			v[k] = x
		}
		return func(k string) string { return v[k] }
	}

	t.Run("bad role bindings", func(t *testing.T) {
		var stderr bytes.Buffer
		code := run(t.Context(), []string{"worker"}, vars(map[string]string{"STORE_ROLE_BINDINGS": "no-subject"}), &bytes.Buffer{}, &stderr)
		if out := stderr.String(); code != 1 || strings.Count(out, "\n") != 1 || !strings.Contains(out, ": STORE_ROLE_BINDINGS: ") {
			t.Fatalf("exit %d, output %q; want 1 and one line naming STORE_ROLE_BINDINGS", code, out)
		}
	})

	t.Run("probes", func(t *testing.T) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(t.Context())
		var stderr lockedBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"worker"}, vars(map[string]string{"WORKER_HTTP_ADDR": addr}), &bytes.Buffer{}, &stderr)
		}()
		defer func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("worker exited %d: %s", code, stderr.String())
			}
		}()
		get := func(path string) (int, string, error) {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), err
		}
		// Ready once the worker polls; the worker's start (chart, watches,
		// indexes) is what is waited for.
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, body, err := get("/readyz")
			if err == nil && code == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz never 200: %d %q %v (stderr %s)", code, body, err, stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		for path, want := range map[string]string{"/healthz": "ok", "/metrics": "go_goroutines"} {
			code, body, err := get(path)
			if err != nil || code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%s: %d %v, want 200 with %q", path, code, err, want)
			}
		}
	})
}
