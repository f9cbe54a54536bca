package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

func TestLoadDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != "127.0.0.1:7233" || c.MongoDB != "storeplatform" || c.TaskQueue != "store-platform" || c.ConnectTimeout.Seconds() != 15 ||
		c.MaxActivities != 200 || c.HelmConcurrency != 8 || c.KubeQPS != 50 || c.KubeBurst != 100 || c.StoreLimit != 5 ||
		c.MaxStreamsPerToken != 8 || c.MaxStreams != 1000 || c.MetricsToken != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	want, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := Defaults(); got != want {
		t.Fatalf("Defaults() %+v, want %+v", got, want)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, err := load(t, map[string]string{"TEMPORAL_ADDRESS": "env:7233", "MONGODB_DB": "fromenv"}, "-temporal-address", "flag:7233")
	if err != nil {
		t.Fatal(err)
	}
	if c.TemporalAddress != "flag:7233" || c.MongoDB != "fromenv" {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadRejectsBadSettings(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the setting named; "" means valid
	}{
		{"valid kubeconfig", map[string]string{"KUBECONFIG": kubeconfig}, ""},
		{"temporal address without port", map[string]string{"TEMPORAL_ADDRESS": "temporal"}, "TEMPORAL_ADDRESS"},
		{"temporal address bad port", map[string]string{"TEMPORAL_ADDRESS": "temporal:http"}, "TEMPORAL_ADDRESS"},
		{"temporal address no host", map[string]string{"TEMPORAL_ADDRESS": ":7233"}, "TEMPORAL_ADDRESS"},
		{"mongodb uri wrong scheme", map[string]string{"MONGODB_URI": "postgres://x"}, "MONGODB_URI"},
		{"mongodb uri malformed", map[string]string{"MONGODB_URI": "mongodb://a:b:c:d/"}, "MONGODB_URI"},
		{"mongodb db with a dot", map[string]string{"MONGODB_DB": "a.b"}, "MONGODB_DB"},
		{"missing kubeconfig", map[string]string{"KUBECONFIG": "/nonexistent/kubeconfig"}, "KUBECONFIG"},
		{"listen addr", map[string]string{"LISTEN_ADDR": "8080"}, "LISTEN_ADDR"},
		{"connect timeout", map[string]string{"CONNECT_TIMEOUT": "soon"}, "CONNECT_TIMEOUT"},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"empty namespace", map[string]string{"TEMPORAL_NAMESPACE": " "}, "TEMPORAL_NAMESPACE"},
		{"max activities zero", map[string]string{"WORKER_MAX_ACTIVITIES": "0"}, "WORKER_MAX_ACTIVITIES"},
		{"helm concurrency not a number", map[string]string{"HELM_CONCURRENCY": "many"}, "HELM_CONCURRENCY"},
		{"kube qps negative", map[string]string{"KUBE_QPS": "-5"}, "KUBE_QPS"},
		{"kube burst too big", map[string]string{"KUBE_BURST": "1000000"}, "KUBE_BURST"},
		{"worker http addr without port", map[string]string{"WORKER_HTTP_ADDR": "9090"}, "WORKER_HTTP_ADDR"},
		{"worker http addr any host", map[string]string{"WORKER_HTTP_ADDR": ":9090"}, ""},
		{"activity pollers zero", map[string]string{"WORKER_ACTIVITY_POLLERS": "0"}, "WORKER_ACTIVITY_POLLERS"},
		{"workflow pollers too many", map[string]string{"WORKER_WORKFLOW_POLLERS": "101"}, "WORKER_WORKFLOW_POLLERS"},
		{"store limit zero", map[string]string{"STORE_LIMIT": "0"}, "STORE_LIMIT"},
		{"event streams per token zero", map[string]string{"MAX_EVENT_STREAMS_PER_TOKEN": "0"}, "MAX_EVENT_STREAMS_PER_TOKEN"},
		{"event streams not a number", map[string]string{"MAX_EVENT_STREAMS": "lots"}, "MAX_EVENT_STREAMS"},
		{"metrics token too short", map[string]string{"METRICS_TOKEN": "short"}, "METRICS_TOKEN"},
		{"metrics token long enough", map[string]string{"METRICS_TOKEN": "0123456789abcdef"}, ""},
		{"numbers in range", map[string]string{"KUBE_QPS": "20", "KUBE_BURST": "40", "HELM_CONCURRENCY": "2", "WORKER_MAX_ACTIVITIES": "50"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr+":") {
				t.Fatalf("want an error naming %s, got %v", tt.wantErr, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

func TestMongoErrorsDoNotEchoPasswords(t *testing.T) {
	_, err := load(t, map[string]string{"MONGODB_URI": "mongodb://user:hunter2@host:notaport/"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("want an error without the password, got %v", err)
	}
	if got := Redacted("mongodb://user:hunter2@db.example:27017/x"); got != "mongodb://db.example:27017" {
		t.Fatalf("Redacted = %q", got)
	}
}

func TestMetricsTokenErrorDoesNotEchoIt(t *testing.T) {
	_, err := load(t, map[string]string{"METRICS_TOKEN": "hunter2"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("want an error without the token, got %v", err)
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	_, err := load(t, nil, "-nope")
	if !errors.Is(err, ErrUsage) {
		t.Fatalf("want ErrUsage, got %v", err)
	}
}

// TestConfigurationDocListsEverySetting: the configuration table of
// docs/configuration.md has a row per setting with its flag and default, so
// the two cannot drift apart.
func TestConfigurationDocListsEverySetting(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range Settings() {
		def := "`" + s.Default + "`"
		if s.Default == "" {
			def = "(empty)"
		}
		row := "| `" + s.Env + "` | `-" + s.Flag + "` | " + def + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/configuration.md has no row starting %q", row)
		}
	}
}

// TestEnvironReadsBack: what Environ writes, Load reads back as the same
// configuration, for the defaults and for one with every kind of setting
// changed (a child process started with it runs with c).
func TestEnvironReadsBack(t *testing.T) {
	changed := Defaults()
	changed.ListenAddr, changed.MongoDB, changed.TaskQueue = "127.0.0.1:9999", "other", "queue-x"
	changed.ConnectTimeout = 42 * time.Second
	changed.StoreLimit, changed.HelmConcurrency = 100000, 3
	changed.StoreProfile, changed.LogFormat = "local", "text"
	for _, tt := range []struct {
		name string
		c    Config
	}{{"defaults", Defaults()}, {"changed", changed}} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for _, kv := range tt.c.Environ() {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("%q is not NAME=value", kv)
				}
				env[k] = v
			}
			if len(env) != len(Settings()) {
				t.Fatalf("Environ wrote %d settings, want %d", len(env), len(Settings()))
			}
			got, err := load(t, env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.c {
				t.Fatalf("read back %+v\nwant %+v", got, tt.c)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		code int
		out  string
	}{
		{"no error", nil, 0, ""},
		{"help", flag.ErrHelp, 0, ""},
		{"usage reported by the flag package", fmt.Errorf("%w: %w", ErrUsage, Reported{errors.New("bad flag")}), 2, ""},
		{"usage", fmt.Errorf("%w: unexpected argument", ErrUsage), 2, "cmd: usage: unexpected argument\n"},
		{"failure", errors.New("MONGODB_URI: cannot reach"), 1, "cmd: MONGODB_URI: cannot reach\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if code := ExitCode(&out, "cmd", tt.err); code != tt.code || out.String() != tt.out {
				t.Fatalf("ExitCode = %d, %q; want %d, %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
}
