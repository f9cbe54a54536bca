// Package deps connects the commands to their dependencies — MongoDB,
// Temporal and Kubernetes — and reports a failure in one line that names the
// setting at fault.
package deps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/storeplatform/storeplatform/internal/codec"
	"github.com/storeplatform/storeplatform/internal/config"
)

// Deps are the connected clients, created once and shared.
type Deps struct {
	Mongo    *mongo.Client
	DB       *mongo.Database
	Temporal client.Client
	Kube     kubernetes.Interface
	// KubeConfig is kept for the Helm SDK, which builds its own clients.
	KubeConfig *rest.Config
	// Codec encrypts the Temporal client's payloads; nil when payload
	// encryption is off. The API serves it to operators for decoding.
	Codec *codec.Codec
}

// Option changes how Connect connects.
type Option func(*client.Options)

// WithTemporalMetrics dials Temporal with h as the SDK's metrics handler
// (the worker's: internal/metrics.Worker.TemporalHandler).
func WithTemporalMetrics(h client.MetricsHandler) Option {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// Connect connects to MongoDB, Temporal and Kubernetes, in that order, and
// checks that each answers within cfg.ConnectTimeout.
func Connect(ctx context.Context, cfg config.Config, logger *slog.Logger, opts ...Option) (*Deps, error) {
	d := &Deps{}
	ok := false
	defer func() {
		if !ok {
			d.Close(context.WithoutCancel(ctx))
		}
	}()

	var err error
	if d.Mongo, err = ConnectMongo(ctx, cfg); err != nil {
		return nil, err
	}
	d.DB = d.Mongo.Database(cfg.MongoDB)

	if d.Temporal, d.Codec, err = DialTemporal(ctx, cfg, logger, opts...); err != nil {
		return nil, err
	}

	d.KubeConfig, err = KubeRESTConfig(cfg.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("KUBECONFIG: %w", err)
	}
	d.KubeConfig.Timeout = cfg.ConnectTimeout
	// One rate limit for the process: client-go's default (5 per second,
	// bursts of 10) throttles a worker with tens of stores in flight.
	d.KubeConfig.QPS, d.KubeConfig.Burst = float32(cfg.KubeQPS), cfg.KubeBurst
	if d.Kube, err = kubernetes.NewForConfig(d.KubeConfig); err != nil {
		return nil, fmt.Errorf("KUBECONFIG: %w", err)
	}
	kctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	err = KubeReady(kctx, d.Kube)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("KUBECONFIG: cannot reach the Kubernetes API at %s within %s: %s", d.KubeConfig.Host, cfg.ConnectTimeout, rootCause(err))
	}
	ok = true
	return d, nil
}

// TemporalOptions are the Temporal client's options from cfg: address,
// namespace, TLS and API key, and, with PAYLOAD_CODEC_KEYS_FILE, the data
// and failure converters that encrypt payloads (returned codec; nil when
// encryption is off).
func TemporalOptions(cfg config.Config, logger *slog.Logger) (client.Options, *codec.Codec, error) {
	o := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    temporallog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
	}
	tlsConfig, err := cfg.TemporalTLS()
	if err != nil {
		return o, nil, err
	}
	o.ConnectionOptions.TLS = tlsConfig
	key, err := cfg.TemporalAPIKeyValue()
	if err != nil {
		return o, nil, err
	}
	if key != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(key)
	}
	c, err := cfg.PayloadCodec()
	if err != nil {
		return o, nil, err
	}
	if c != nil {
		o.DataConverter, o.FailureConverter = c.DataConverter(), c.FailureConverter()
	}
	return o, c, nil
}

// DialTemporal connects to Temporal with TemporalOptions and checks that it
// answers within cfg.ConnectTimeout. A TLS or API key failure is reported
// with the setting most likely at fault.
func DialTemporal(ctx context.Context, cfg config.Config, logger *slog.Logger, opts ...Option) (client.Client, *codec.Codec, error) {
	o, cd, err := TemporalOptions(cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	for _, opt := range opts {
		opt(&o)
	}
	tctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	c, err := client.DialContext(tctx, o)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot reach Temporal at %s (namespace %q) within %s: %s",
			temporalSettingAtFault(cfg, err), cfg.TemporalAddress, cfg.TemporalNamespace, cfg.ConnectTimeout, rootCause(err))
	}
	return c, cd, nil
}

// temporalSettingAtFault names the setting a failed dial most likely
// points at, from the gRPC status and the TLS error's text (crypto/tls has
// no typed errors for these): the API key or client certificate when the
// server refused the caller, the CA or server name when the server's
// certificate did not verify, else the address.
func temporalSettingAtFault(cfg config.Config, err error) string {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		if cfg.TemporalAPIKey != "" || cfg.TemporalAPIKeyFile != "" {
			return "TEMPORAL_API_KEY"
		}
		if cfg.TemporalTLSCert != "" {
			return "TEMPORAL_TLS_CERT"
		}
	}
	msg := err.Error()
	switch {
	case !cfg.TemporalTLSOn():
	case strings.Contains(msg, "certificate is valid for"):
		return "TEMPORAL_TLS_SERVER_NAME"
	case strings.Contains(msg, "x509:"):
		return "TEMPORAL_TLS_CA"
	case strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") || strings.Contains(msg, "unknown certificate authority"):
		return "TEMPORAL_TLS_CERT"
	}
	return "TEMPORAL_ADDRESS"
}

// ConnectMongo connects to MongoDB and checks that it answers.
func ConnectMongo(ctx context.Context, cfg config.Config) (*mongo.Client, error) {
	c, err := mongo.Connect(options.Client().ApplyURI(cfg.MongoURI).SetServerSelectionTimeout(cfg.ConnectTimeout).SetAppName("storeplatform"))
	if err != nil {
		return nil, fmt.Errorf("MONGODB_URI: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := c.Ping(pctx, readpref.Primary()); err != nil {
		_ = c.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("MONGODB_URI: cannot reach MongoDB at %s within %s", config.Redacted(cfg.MongoURI), cfg.ConnectTimeout)
	}
	return c, nil
}

// KubeRESTConfig loads the kubeconfig at path (a list separated like PATH
// is merged as kubectl does); with no path, the in-cluster configuration and
// then ~/.kube/config.
func KubeRESTConfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = ""
		rules.Precedence = filepath.SplitList(path)
	} else if c, err := rest.InClusterConfig(); err == nil {
		return c, nil
	}
	c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no usable kubeconfig: %s", rootCause(err))
	}
	return c, nil
}

// KubeReady asks the API server's /readyz endpoint.
func KubeReady(ctx context.Context, k kubernetes.Interface) error {
	var status int
	res := k.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
	if err := res.Error(); err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("/readyz answered %d", status)
	}
	return nil
}

// Close disconnects every client that was connected.
func (d *Deps) Close(ctx context.Context) {
	if d.Temporal != nil {
		d.Temporal.Close()
	}
	if d.Mongo != nil {
		_ = d.Mongo.Disconnect(ctx)
	}
}

// rootCause returns the innermost error's text, which is the useful part of
// the long chains that gRPC and client-go build.
func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}
