// Package config reads the settings of the storeplatform commands from the
// environment, lets flags override them, and validates them before anything
// connects, so that a bad setting is reported by name in one line.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Config holds every setting. The struct tags are not used by code; the
// Settings table is the single source of names, defaults and help text.
type Config struct {
	ListenAddr        string
	MongoURI          string
	MongoDB           string
	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	Kubeconfig        string
	ConnectTimeout    time.Duration
	LogLevel          string
	LogFormat         string
	ChartDir          string
	StoreProfile      string
	// StoreValues is a values file layered over the profile's values of
	// every store; "" none.
	StoreValues      string
	ChartVersionsDir string
	MaxActivities    int
	HelmConcurrency  int
	ActivityPollers  int
	WorkflowPollers  int
	KubeQPS          int
	KubeBurst        int
	StoreDomain      string
	StoreLimit       int
	// MaxStreamsPerToken and MaxStreams cap the api's open event streams.
	MaxStreamsPerToken int
	MaxStreams         int
	// MetricsToken is a bearer token that may read the api's /metrics.
	MetricsToken  string
	WebDir        string
	TemporalUIURL string
	PprofAddr     string
	// The Temporal connection's TLS and API key (see TemporalTLS and
	// TemporalAPIKeyValue): paths, but for TemporalAPIKey, the key itself.
	TemporalTLSCA         string
	TemporalTLSCert       string
	TemporalTLSKey        string
	TemporalTLSServerName string
	TemporalAPIKey        string
	TemporalAPIKeyFile    string
	// PayloadCodecKeysFile turns on payload encryption (internal/codec).
	PayloadCodecKeysFile string
	WorkerHTTPAddr       string
	StoreRoleBindings    string
	// StoreURLNotice is shown by the dashboard beside every ready store's
	// URL, which it then does not link: storeplatform-dev sets it when its
	// nodes are simulated and nothing serves a store.
	StoreURLNotice string
}

// ErrUsage wraps errors of flag parsing, which the flag package reports
// itself.
var ErrUsage = errors.New("usage")

// Reported wraps an error that was already shown to the user.
type Reported struct{ Err error }

func (r Reported) Error() string { return r.Err.Error() }

// Unwrap returns the wrapped error.
func (r Reported) Unwrap() error { return r.Err }

// Setting describes one environment variable and its flag. A setting has
// a text field, or a number field with its bounds (Min..Max), or neither
// (CONNECT_TIMEOUT, parsed by Load).
type Setting struct {
	Env, Flag, Default, Help string
	field                    func(*Config) *string
	number                   func(*Config) *int
	Min, Max                 int
}

// text is a setting with a text field (or none: nil).
func text(env, flag, def, help string, field func(*Config) *string) Setting {
	return Setting{Env: env, Flag: flag, Default: def, Help: help, field: field}
}

// num is a setting with a number field from lo to hi.
func num(env, flag, def, help string, field func(*Config) *int, lo, hi int) Setting {
	return Setting{Env: env, Flag: flag, Default: def, Help: help, number: field, Min: lo, Max: hi}
}

// Settings lists every setting; docs/configuration.md has a row for each.
func Settings() []Setting {
	return []Setting{
		text("LISTEN_ADDR", "listen", "127.0.0.1:8080", "address the HTTP API listens on", func(c *Config) *string { return &c.ListenAddr }),
		text("MONGODB_URI", "mongodb-uri", "mongodb://127.0.0.1:27017/", "MongoDB connection string (Atlas: mongodb+srv://...)", func(c *Config) *string { return &c.MongoURI }),
		text("MONGODB_DB", "mongodb-db", "storeplatform", "MongoDB database name", func(c *Config) *string { return &c.MongoDB }),
		text("TEMPORAL_ADDRESS", "temporal-address", "127.0.0.1:7233", "Temporal frontend host:port", func(c *Config) *string { return &c.TemporalAddress }),
		text("TEMPORAL_NAMESPACE", "temporal-namespace", "default", "Temporal namespace", func(c *Config) *string { return &c.TemporalNamespace }),
		text("TEMPORAL_TLS_CA", "temporal-tls-ca", "", "PEM file of the CA(s) that signed the Temporal frontend's certificate; turns TLS on; empty: the system's roots when TLS is on", func(c *Config) *string { return &c.TemporalTLSCA }),
		text("TEMPORAL_TLS_CERT", "temporal-tls-cert", "", "PEM file of the client certificate for mTLS, with TEMPORAL_TLS_KEY; turns TLS on", func(c *Config) *string { return &c.TemporalTLSCert }),
		text("TEMPORAL_TLS_KEY", "temporal-tls-key", "", "PEM file of the client certificate's private key, with TEMPORAL_TLS_CERT", func(c *Config) *string { return &c.TemporalTLSKey }),
		text("TEMPORAL_TLS_SERVER_NAME", "temporal-tls-server-name", "", "name the frontend's certificate must hold; turns TLS on; empty: TEMPORAL_ADDRESS's host", func(c *Config) *string { return &c.TemporalTLSServerName }),
		text("TEMPORAL_API_KEY", "temporal-api-key", "", "API key (Temporal Cloud), sent as a bearer token; turns TLS on; never logged; prefer TEMPORAL_API_KEY_FILE", func(c *Config) *string { return &c.TemporalAPIKey }),
		text("TEMPORAL_API_KEY_FILE", "temporal-api-key-file", "", "file holding the API key, instead of TEMPORAL_API_KEY", func(c *Config) *string { return &c.TemporalAPIKeyFile }),
		text("PAYLOAD_CODEC_KEYS_FILE", "payload-codec-keys-file", "", "file of id=base64key lines (32-byte keys, the first encrypts) that turns on AES-GCM payload encryption (api and worker); empty: payloads in the clear", func(c *Config) *string { return &c.PayloadCodecKeysFile }),
		text("TEMPORAL_TASK_QUEUE", "task-queue", "store-platform", "Temporal task queue of the store workflows", func(c *Config) *string { return &c.TaskQueue }),
		text("KUBECONFIG", "kubeconfig", "", "kubeconfig file; empty: in-cluster config, then ~/.kube/config", func(c *Config) *string { return &c.Kubeconfig }),
		text("CONNECT_TIMEOUT", "connect-timeout", "15s", "how long to wait for each dependency at start", nil),
		text("CHART_DIR", "chart-dir", "charts/store", "directory of the store chart (worker; api: the sizes of GET /api/sizes)", func(c *Config) *string { return &c.ChartDir }),
		text("STORE_PROFILE", "store-profile", "prod", "values profile of every store: local or prod, with its sizes in sizes/<profile>/ (worker and api)", func(c *Config) *string { return &c.StoreProfile }),
		text("STORE_VALUES", "store-values", "", "values file layered over the profile's values of every store, e.g. placement (nodeSelector, tolerations), storageClass or image mirrors (worker and api); empty: none", func(c *Config) *string { return &c.StoreValues }),
		text("CHART_VERSIONS_DIR", "chart-versions-dir", "charts/versions", "directory of packaged store chart versions (store-<version>.tgz) that rollouts may install; missing: only CHART_DIR (worker and api)", func(c *Config) *string { return &c.ChartVersionsDir }),
		num("WORKER_MAX_ACTIVITIES", "max-activities", "200", "activities one worker runs at once: waits are cheap, Helm actions are bounded by HELM_CONCURRENCY (worker)",
			func(c *Config) *int { return &c.MaxActivities }, 1, 10000),
		num("HELM_CONCURRENCY", "helm-concurrency", "8", "Helm actions (install, upgrade, rollback, uninstall) one worker runs at once; the others wait their turn, heartbeating (worker)",
			func(c *Config) *int { return &c.HelmConcurrency }, 1, 1000),
		num("WORKER_ACTIVITY_POLLERS", "activity-pollers", "2", "requests one worker keeps open to Temporal for activity tasks (the SDK's default is 2): raise it when activities wait to start while WORKER_MAX_ACTIVITIES has room (worker)",
			func(c *Config) *int { return &c.ActivityPollers }, 1, 100),
		num("WORKER_WORKFLOW_POLLERS", "workflow-pollers", "2", "requests one worker keeps open to Temporal for workflow tasks (the SDK's default is 2) (worker)",
			func(c *Config) *int { return &c.WorkflowPollers }, 1, 100),
		num("KUBE_QPS", "kube-qps", "50", "requests per second the process's Kubernetes clients may send (worker and api)",
			func(c *Config) *int { return &c.KubeQPS }, 1, 100000),
		num("KUBE_BURST", "kube-burst", "100", "requests the process's Kubernetes clients may send at once above KUBE_QPS (worker and api)",
			func(c *Config) *int { return &c.KubeBurst }, 1, 100000),
		text("STORE_DOMAIN", "store-domain", "stores.localhost", "a store's default host is <name>.<STORE_DOMAIN> (api)", func(c *Config) *string { return &c.StoreDomain }),
		num("STORE_LIMIT", "store-limit", "5", "stores one tenant may have (api)",
			func(c *Config) *int { return &c.StoreLimit }, 1, 100000),
		num("MAX_EVENT_STREAMS_PER_TOKEN", "max-event-streams-per-token", "8", "event streams (Server-Sent Events) one token may hold open; past it 429 (api)",
			func(c *Config) *int { return &c.MaxStreamsPerToken }, 1, 10000),
		num("MAX_EVENT_STREAMS", "max-event-streams", "1000", "event streams the process holds open in all; past it 503 (api)",
			func(c *Config) *int { return &c.MaxStreams }, 1, 1000000),
		text("METRICS_TOKEN", "metrics-token", "", "bearer token (16 characters or more) that may read GET /metrics besides admins' tokens, for a Prometheus scraper; never logged (api); empty: admins' tokens only",
			func(c *Config) *string { return &c.MetricsToken }),
		text("WEB_DIR", "web-dir", "web/dist", "directory of the dashboard's build (make web), served at / (api); empty: none", func(c *Config) *string { return &c.WebDir }),
		text("STORE_URL_NOTICE", "store-url-notice", "", "a note the dashboard shows beside every ready store's URL, which it then does not link, e.g. that nothing serves them (api; storeplatform-dev sets it on simulated nodes); empty: URLs are links", func(c *Config) *string { return &c.StoreURLNotice }),
		text("TEMPORAL_UI_URL", "temporal-ui-url", "", "Temporal Web UI address for the dashboard's workflow links, e.g. http://127.0.0.1:8233 (api)", func(c *Config) *string { return &c.TemporalUIURL }),
		text("PPROF_ADDR", "pprof-addr", "", "address of an opt-in net/http/pprof listener, e.g. 127.0.0.1:6060 (api and worker; make bench); empty: none", func(c *Config) *string { return &c.PprofAddr }),
		text("WORKER_HTTP_ADDR", "worker-http-addr", "", "address of the worker's probe and metrics listener (/healthz, /readyz, /metrics), e.g. :9090 (worker; the platform's chart sets it); empty: none", func(c *Config) *string { return &c.WorkerHTTPAddr }),
		text("STORE_ROLE_BINDINGS", "store-role-bindings", "", "RoleBindings the worker makes in every store namespace it creates: comma-separated <clusterrole>=<namespace>/<serviceaccount> (worker; the platform's chart sets it); empty: none",
			func(c *Config) *string { return &c.StoreRoleBindings }),
		text("LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
		text("LOG_FORMAT", "log-format", "json", "json or text", func(c *Config) *string { return &c.LogFormat }),
	}
}

// Load reads the environment (through getenv), then the flags in args, and
// validates the result. The error names the bad setting.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	var c Config
	var timeout string
	numbers := map[string]*string{}
	for _, s := range Settings() {
		v := getenv(s.Env)
		if v == "" {
			v = s.Default
		}
		var target *string
		switch {
		case s.field != nil:
			target = s.field(&c)
		case s.number != nil:
			target = new(string)
			numbers[s.Env] = target
		default:
			target = &timeout
		}
		fs.StringVar(target, s.Flag, v, s.Help+" (env "+s.Env+")")
	}
	if err := fs.Parse(args); err != nil {
		// The flag package has already printed the error and the usage.
		return c, fmt.Errorf("%w: %w", ErrUsage, Reported{err})
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 {
		return c, fmt.Errorf("CONNECT_TIMEOUT: %q is not a positive duration such as 15s", timeout)
	}
	c.ConnectTimeout = d
	for _, s := range Settings() {
		if s.number == nil {
			continue
		}
		v := *numbers[s.Env]
		n, err := strconv.Atoi(v)
		if err != nil || n < s.Min || n > s.Max {
			return c, fmt.Errorf("%s: %q is not a number from %d to %d", s.Env, v, s.Min, s.Max)
		}
		*s.number(&c) = n
	}
	return c, c.Validate()
}

// Defaults is the configuration of an empty environment without flags:
// every setting at its default.
func Defaults() Config {
	fs := flag.NewFlagSet("defaults", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := Load(fs, nil, func(string) string { return "" })
	if err != nil {
		panic("config: the defaults do not validate: " + err.Error()) // a programming error, caught by TestDefaults
	}
	return c
}

// Validate checks every setting's form without connecting to anything.
func (c Config) Validate() error {
	var errs []error
	if err := hostPort(c.ListenAddr, true); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR: %w", err))
	}
	if err := hostPort(c.TemporalAddress, false); err != nil {
		errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS: %w", err))
	}
	if strings.TrimSpace(c.TemporalNamespace) == "" {
		errs = append(errs, errors.New("TEMPORAL_NAMESPACE: must not be empty"))
	}
	if strings.TrimSpace(c.TaskQueue) == "" {
		errs = append(errs, errors.New("TEMPORAL_TASK_QUEUE: must not be empty"))
	}
	if err := validMongoURI(c.MongoURI); err != nil {
		errs = append(errs, fmt.Errorf("MONGODB_URI: %w", err))
	}
	if c.MongoDB == "" || strings.ContainsAny(c.MongoDB, `/\. "$`) {
		errs = append(errs, fmt.Errorf("MONGODB_DB: %q is not a valid database name", c.MongoDB))
	}
	if c.Kubeconfig != "" {
		for _, p := range strings.Split(c.Kubeconfig, string(os.PathListSeparator)) {
			if _, err := os.Stat(p); err != nil {
				errs = append(errs, fmt.Errorf("KUBECONFIG: file %s: %w", p, errors.Unwrap(err)))
			}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	if c.TemporalUIURL != "" {
		if u, err := url.Parse(c.TemporalUIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("TEMPORAL_UI_URL: %q is not an http(s) URL such as http://127.0.0.1:8233", c.TemporalUIURL))
		}
	}
	if c.PprofAddr != "" {
		if err := hostPort(c.PprofAddr, true); err != nil {
			errs = append(errs, fmt.Errorf("PPROF_ADDR: %w", err))
		}
	}
	errs = append(errs, c.validateSecurity()...)
	if c.MetricsToken != "" && len(strings.TrimSpace(c.MetricsToken)) < minMetricsToken {
		// Not echoed: it is a secret.
		errs = append(errs, fmt.Errorf("METRICS_TOKEN: must be %d characters or more", minMetricsToken))
	}
	if c.WorkerHTTPAddr != "" {
		if err := hostPort(c.WorkerHTTPAddr, true); err != nil {
			errs = append(errs, fmt.Errorf("WORKER_HTTP_ADDR: %w", err))
		}
	}
	if c.StoreProfile != "local" && c.StoreProfile != "prod" {
		errs = append(errs, fmt.Errorf("STORE_PROFILE: %q is not local or prod", c.StoreProfile))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: %q is not json or text", c.LogFormat))
	}
	return joinErrors(errs)
}

// minMetricsToken is the shortest METRICS_TOKEN accepted: a guessable one
// would open the metrics to anyone.
const minMetricsToken = 16

// joinErrors keeps several bad settings on one line.
func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func hostPort(s string, emptyHostOK bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if host == "" && !emptyHostOK {
		return fmt.Errorf("%q has no host", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	return nil
}

// validMongoURI parses the URI the way the driver does, and reports errors
// without echoing the URI (it may hold a password).
func validMongoURI(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
		return errors.New("must be a mongodb:// or mongodb+srv:// URI")
	}
	// Before the driver's parse, which reads these files too but reports
	// a bad one only as an invalid string.
	if err := mongoTLSFiles(u); err != nil {
		return err
	}
	if err := options.Client().ApplyURI(s).Validate(); err != nil {
		return errors.New("is not a valid connection string")
	}
	return nil
}

// Redacted returns the host part of a MongoDB URI, for log lines and errors.
func Redacted(mongoURI string) string {
	u, err := url.Parse(mongoURI)
	if err != nil {
		return "(unparsable URI)"
	}
	return u.Scheme + "://" + u.Host
}

// Environ is c written as the environment of a child process: one
// NAME=value per setting, in the order of Settings, which Load reads back
// into c. Secrets are written as they are: the result is for a child's
// environment, never for a log.
func (c Config) Environ() []string {
	out := make([]string, 0, len(Settings()))
	for _, s := range Settings() {
		var v string
		switch {
		case s.field != nil:
			v = *s.field(&c)
		case s.number != nil:
			v = strconv.Itoa(*s.number(&c))
		default:
			v = c.ConnectTimeout.String()
		}
		out = append(out, s.Env+"="+v)
	}
	return out
}

// ExitCode is a command's exit code for err, which it reports on stderr
// after the command's name: 0 for none (or -h), 2 for a usage error (which
// the flag package may have reported already), 1 for any other.
func ExitCode(stderr io.Writer, command string, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		if !errors.As(err, new(Reported)) {
			fmt.Fprintf(stderr, "%s: %v\n", command, err)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %v\n", command, err)
		return 1
	}
}
