// Package service is what Store Platform's API asks of the platform: it
// reads and writes the store records, asks the store's state machine
// (store.Decide) before it starts or signals a workflow, starts and
// signals the workflows, reads the stores' Helm history and Secrets, and
// keeps the audit trail. Its errors carry store codes (store.Error); the
// API maps each code to its HTTP problem in one place.
package service

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/logctx"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// StoreRepository is what the service needs of the store records.
// store.MongoRepository implements it.
type StoreRepository interface {
	store.Records
	CurrentChartVersion(ctx context.Context) (string, error)
}

// ReleaseHistory reads a store's Helm release history.
// helmclient.Runner implements it.
type ReleaseHistory interface {
	History(ctx context.Context, namespace, name string) ([]*release.Release, error)
}

// Kube reads the stores' Secrets. kubernetes.Interface implements it.
type Kube interface {
	CoreV1() corev1.CoreV1Interface
}

var _ StoreRepository = (*store.MongoRepository)(nil)

// Config are the service's dependencies and settings.
type Config struct {
	Stores   StoreRepository
	Temporal client.Client
	// TaskQueue is where the store workflows run.
	TaskQueue string
	// StoreDomain makes a store's default host: <name>.<StoreDomain>.
	StoreDomain string
	// StoreLimit is how many stores (not deleted) one tenant may have.
	StoreLimit int
	Kube       Kube
	// Audit records who created, deleted, retried, operated or read the
	// credentials of which store (nil: nothing is recorded).
	Audit    Auditor
	Releases ReleaseHistory
	// Versions are the store chart versions; Timeouts are given to the
	// operations' and rollouts' workflows.
	Versions *storechart.Versions
	Timeouts workflows.Timeouts
	// StartWorkers is how many goroutines start creation workflows after
	// CreateStore has returned (default 8); below zero, CreateStore starts
	// its workflow itself.
	StartWorkers int
	// DataConverter reads the memos of the rollouts listed.
	DataConverter converter.DataConverter
	// Started is told of every workflow start (the API's metrics); Now is
	// the clock; Logger logs where a request's context carries no logger.
	Started func(workflow string, err error)
	Now     func() time.Time
	Logger  *slog.Logger
}

// Service is the platform as the API sees it.
type Service struct {
	c      Config
	starts *starter // nil: starts in the request
}

// Caller is who asks: the request's token, and the request's ID for the
// audit trail.
type Caller struct {
	auth.Token
	RequestID string
}

// admin reports whether the caller is an admin.
func (c Caller) admin() bool { return c.Role == auth.RoleAdmin }

// New returns the service of c, with defaults for what c leaves out.
func New(c Config) *Service {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Started == nil {
		c.Started = func(string, error) {}
	}
	if c.DataConverter == nil {
		c.DataConverter = converter.GetDefaultDataConverter()
	}
	if c.StartWorkers == 0 {
		c.StartWorkers = defaultStartWorkers
	}
	s := &Service{c: c}
	if c.StartWorkers > 0 {
		s.starts = newStarter(c.StartWorkers, startQueue)
	}
	return s
}

// logger is the request's logger that ctx carries, else the service's.
func (s *Service) logger(ctx context.Context) *slog.Logger { return logctx.From(ctx, s.c.Logger) }
