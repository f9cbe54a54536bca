// Package stack is the one stack starter of the harness (internal/harness/
// testenv, bench and chaos): it starts the local stack (devstack), dials the
// harness's own clients of it — what a suite observes and drives the
// cluster, the database and Temporal through, never what the platform
// uses — makes the platform's indexes, and runs the platform's commands
// (bin/storeplatform api and worker) as its children, their environment
// written from the configuration (config.Config.Environ).
package stack

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/config"
	"github.com/storeplatform/storeplatform/internal/deps"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// Options change how Start starts a stack.
type Options struct {
	// Stack are devstack's options; Start adds the workflows' search
	// attributes.
	Stack devstack.Options
	// RepoRoot is the repository's top directory (its charts/).
	RepoRoot string
	// DB is the platform's database (default: MONGODB_DB's).
	DB string
	// Clients set the harness's clients.
	Clients ClientOptions
}

// ClientOptions set the harness's clients.
type ClientOptions struct {
	// KubeQPS, KubeBurst and KubeTimeout set the Kubernetes client (zero:
	// client-go's defaults).
	KubeQPS, KubeBurst int
	KubeTimeout        time.Duration
	// Logger receives the Temporal client's log (nil: none).
	Logger *slog.Logger
}

// Addrs are where a running platform's dependencies are.
type Addrs struct {
	Kubeconfig, MongoURI, TemporalAddress string
	// DB is the platform's database.
	DB string
}

// Stack is a running local stack and the harness's clients of it.
type Stack struct {
	*devstack.Stack
	Conns
	o Options
}

// Conns are the harness's own clients of a stack.
type Conns struct {
	REST  *rest.Config
	Kube  kubernetes.Interface
	Mongo *mongo.Client
	// DB is the platform's database.
	DB       *mongo.Database
	Temporal client.Client
}

// Start starts the stack, dials the harness's clients and makes the
// stores' and tokens' indexes, as storeplatform-dev does before the API
// and the workers start (on a new database the embedded FerretDB drops a
// connection when two processes make them at once). On error everything
// started is stopped again.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.DB == "" {
		o.DB = config.Defaults().MongoDB
	}
	o.Stack.SearchAttributes = workflows.SearchAttributeFlags()
	ds, err := devstack.Start(ctx, o.Stack)
	if err != nil {
		return nil, err
	}
	s := &Stack{Stack: ds, o: o}
	if err := s.dial(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// dial connects the harness's clients.
func (s *Stack) dial(ctx context.Context) error {
	c, err := Dial(ctx, Addrs{Kubeconfig: s.Kubeconfig(), MongoURI: s.MongoURI(), TemporalAddress: s.TemporalAddress(), DB: s.o.DB}, s.o.Clients)
	if err != nil {
		return err
	}
	s.Conns = *c
	return nil
}

// Dial connects a harness's clients to the dependencies at a; on error
// what was connected is closed again.
func Dial(ctx context.Context, a Addrs, o ClientOptions) (*Conns, error) {
	c := &Conns{}
	if err := c.dial(ctx, a, o); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Conns) dial(ctx context.Context, a Addrs, o ClientOptions) error {
	var err error
	if c.REST, err = clientcmd.BuildConfigFromFlags("", a.Kubeconfig); err != nil {
		return err
	}
	c.REST.QPS, c.REST.Burst, c.REST.Timeout = float32(o.KubeQPS), o.KubeBurst, o.KubeTimeout
	if c.Kube, err = kubernetes.NewForConfig(c.REST); err != nil {
		return err
	}
	if c.Mongo, err = mongo.Connect(options.Client().ApplyURI(a.MongoURI).SetServerSelectionTimeout(10 * time.Second)); err != nil {
		return err
	}
	c.DB = c.Mongo.Database(a.DB)
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c.Temporal, err = client.DialContext(dctx, client.Options{HostPort: a.TemporalAddress, Logger: temporallog.NewStructuredLogger(logger)})
	return err
}

// ensureIndexes makes the indexes of the stores' and the tokens'
// collections.
func (s *Stack) ensureIndexes(ctx context.Context) error {
	if err := store.NewMongoRepository(s.DB).EnsureIndexes(ctx); err != nil {
		return err
	}
	return auth.NewMongoTokens(s.DB).EnsureIndexes(ctx)
}

// Stop closes the harness's clients and stops the stack.
func (s *Stack) Stop() {
	s.Conns.Close()
	s.Stack.Stop()
}

// Close closes the clients.
func (c *Conns) Close() {
	if c.Temporal != nil {
		c.Temporal.Close()
	}
	if c.Mongo != nil {
		_ = c.Mongo.Disconnect(context.Background())
	}
}

// Token makes an API token of tenant straight in the platform's database;
// by names who made it.
func (c *Conns) Token(ctx context.Context, tenant string, role auth.Role, by string) (string, error) {
	plain, _, err := auth.NewMongoTokens(c.DB).Create(ctx, tenant, role, by, time.Now())
	return plain, err
}

// Deps are these connections as the platform takes them, with db as its
// database.
func (c *Conns) Deps(db *mongo.Database) *deps.Deps {
	return &deps.Deps{Mongo: c.Mongo, DB: db, Temporal: c.Temporal, Kube: c.Kube, KubeConfig: c.REST}
}

// Config is the platform's configuration on this stack: every setting's
// default, with the stack's addresses and database, the repository's
// store chart with its local profile, no chart versions (CHART_VERSIONS_DIR
// a directory that does not exist), no dashboard, and with a real node the
// values that place stores there (STORE_VALUES).
func (s *Stack) Config() config.Config {
	cfg := config.Defaults()
	cfg.MongoURI, cfg.MongoDB = s.MongoURI(), s.o.DB
	cfg.TemporalAddress, cfg.Kubeconfig = s.TemporalAddress(), s.Kubeconfig()
	cfg.ChartDir, cfg.StoreProfile = filepath.Join(s.o.RepoRoot, "charts", "store"), "local"
	cfg.ChartVersionsDir = filepath.Join(s.Dir(), "no-chart-versions")
	cfg.WebDir = filepath.Join(s.Dir(), "no-dashboard")
	cfg.StoreValues = s.StoreValues()
	return cfg
}
