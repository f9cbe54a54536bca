// Package api is Store Platform's HTTP API. Router shows every route in one
// block. Handlers decode the request, call the service (internal/service),
// which Router makes from the Options, and encode its answer; they take
// their context from the request and answer every error through fail, with
// an application/problem+json body.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"k8s.io/client-go/kubernetes"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/service"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// StoreRepository is what the API needs of the store records: what the
// service needs (Options.Stores is given to it), which the change feed and
// the event streams read too. store.MongoRepository implements it.
type StoreRepository = service.StoreRepository

// TokenVerifier checks bearer tokens. auth.MongoTokens implements it.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Token, error)
}

var _ TokenVerifier = (*auth.MongoTokens)(nil)

// Options are the API's dependencies and settings.
type Options struct {
	// Logger receives request and error logs.
	Logger *slog.Logger
	// Checks are the dependencies GET /health probes.
	Checks []Check
	// Stores, Tokens and Temporal back the /api routes; without them only
	// /health is served.
	Stores   StoreRepository
	Tokens   TokenVerifier
	Temporal client.Client
	// TaskQueue is where the store workflows run.
	TaskQueue string
	// StoreDomain makes a store's default host: <name>.<StoreDomain>.
	StoreDomain string
	// StoreLimit is how many stores (not deleted) one tenant may have.
	StoreLimit int
	// Kube reads the stores' Secrets for GET .../credentials.
	Kube kubernetes.Interface
	// Audit records who created, deleted, retried, operated or read the
	// credentials of which store, and who started or signalled which
	// rollout.
	Audit Auditor
	// RatePerSecond and RateBurst limit each token's requests (defaults 10
	// and 40); past them the API answers 429 with Retry-After.
	RatePerSecond float64
	RateBurst     int
	// MaxStreamsPerToken and MaxStreams cap the open event streams of one
	// token (default 8; past it 429) and of the process (default 1000;
	// past it 503), both with Retry-After.
	MaxStreamsPerToken int
	MaxStreams         int
	// MetricsToken, when set, is a bearer token that may read GET /metrics
	// besides admins' tokens (for a Prometheus scraper, which needs no
	// tenant's token).
	MetricsToken string
	// Stop, when closed, ends the event streams, so that a graceful
	// shutdown does not wait for clients that never hang up.
	Stop <-chan struct{}
	// Dashboard, when set, answers the GET requests outside /api that no
	// route matches: the dashboard's files and client-side pages.
	Dashboard http.Handler
	// TemporalUIURL is the Temporal Web UI's address, for the dashboard's
	// links to workflows ("" for no links); TemporalNamespace its namespace.
	TemporalUIURL     string
	TemporalNamespace string
	// StoreURLNotice is GET /api/me's storeUrlNotice: a note the dashboard
	// shows beside every ready store's URL, which it then does not link
	// (STORE_URL_NOTICE; storeplatform-dev sets it on simulated nodes).
	StoreURLNotice string
	// Releases reads the stores' Helm release history; Profile is the
	// chart profile whose sizes GET /api/sizes lists. Without Releases the
	// history and rollback routes are not served.
	Releases ReleaseHistory
	Profile  storechart.Profile
	// Versions are the store chart versions rollouts may install; without
	// them the rollout routes are not served.
	Versions *storechart.Versions
	// Timeouts are given to the operations' workflows (zero: their
	// defaults), e.g. how long a change may take to become ready before it
	// is rolled back.
	Timeouts workflows.Timeouts
	// StartWorkers is how many goroutines start creation workflows after
	// POST /api/stores has answered (default 8); below zero, each request
	// starts its workflow before answering.
	StartWorkers int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Codec, when set, is served to admins at POST /codec/decode, for the
	// Temporal Web UI and CLI to show encrypted payloads (internal/codec).
	Codec converter.PayloadCodec
	// DataConverter reads the memos of workflows that the API lists; it
	// must be the Temporal client's (converter.GetDefaultDataConverter()
	// when nil).
	DataConverter converter.DataConverter
}

// Router returns the API's routes.
func Router(o Options) *mux.Router {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StoreLimit == 0 {
		o.StoreLimit = 5
	}
	if o.StoreDomain == "" {
		o.StoreDomain = "stores.localhost"
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond, o.RateBurst = 10, 40
	}
	if o.MaxStreamsPerToken == 0 {
		o.MaxStreamsPerToken = defaultStreamsPerToken
	}
	if o.MaxStreams == 0 {
		o.MaxStreams = defaultStreams
	}
	if o.DataConverter == nil {
		o.DataConverter = converter.GetDefaultDataConverter()
	}
	s := &server{o: o, limits: newLimits(o.RatePerSecond, o.RateBurst, o.Now), metrics: newMetrics(), uiOrigin: origin(o.TemporalUIURL),
		streams: newStreamSlots(o.MaxStreamsPerToken, o.MaxStreams)}
	s.svc = newService(o, s.metrics)
	// The feed, the progress cache and the streams measure real time
	// between the streams' ticks, not o.Now's.
	if o.Stores != nil {
		s.feed = newChangeFeed(o.Stores.Changed, eventPoll, time.Now, o.Logger)
	}
	if o.Temporal != nil {
		s.progressCache = newProgressCache(s.svc.QueryProgress, s.svc.WorkflowClosed, eventPoll, time.Now)
	}
	// SkipClean: a path with dot segments or doubled slashes names no route
	// (404 problem+json); cleaning it would answer 301, which a client may
	// follow with another method.
	r := mux.NewRouter().SkipClean(true)
	r.Use(s.logRequests)
	s.routeProblems(r)
	r.Handle("/health", s.health(o.Checks)).Methods(http.MethodGet)
	r.Handle("/openapi.json", serveStatic("application/json", openAPISpec)).Methods(http.MethodGet)
	r.Handle("/docs", serveStatic("text/html; charset=utf-8", docsPage)).Methods(http.MethodGet)
	if o.Stores != nil {
		r.Handle("/metrics", s.serveMetrics()).Methods(http.MethodGet)
	}
	if o.Stores != nil && o.Tokens != nil && o.Temporal != nil {
		authed := func(h http.HandlerFunc) http.Handler { return s.authenticate(h) }
		r.Handle("/api/me", authed(s.me)).Methods(http.MethodGet)
		r.Handle("/api/stores", authed(s.createStore)).Methods(http.MethodPost)
		r.Handle("/api/stores", authed(s.listStores)).Methods(http.MethodGet)
		r.Handle("/api/stores/{name}", authed(s.getStore)).Methods(http.MethodGet)
		r.Handle("/api/stores/{name}", authed(s.deleteStore)).Methods(http.MethodDelete)
		r.Handle("/api/stores/{name}", authed(s.changeStore)).Methods(http.MethodPatch)
		r.Handle("/api/stores/{name}/retry", authed(s.retryStore)).Methods(http.MethodPost)
		r.Handle("/api/stores/{name}/suspend", authed(s.suspendStore)).Methods(http.MethodPost)
		r.Handle("/api/stores/{name}/resume", authed(s.resumeStore)).Methods(http.MethodPost)
		r.Handle("/api/sizes", authed(s.listSizes)).Methods(http.MethodGet)
		r.Handle("/api/stores/{name}/credentials", authed(s.getCredentials)).Methods(http.MethodGet)
		r.Handle("/api/stores/{name}/kubernetes-events", authed(s.getKubeEvents)).Methods(http.MethodGet)
		r.Handle("/api/stores/{name}/events", authed(s.limitStreams(s.storeEvents))).Methods(http.MethodGet)
		r.Handle("/api/events", authed(s.limitStreams(s.allEvents))).Methods(http.MethodGet)
		if o.Versions != nil {
			r.Handle("/api/chart-versions", authed(s.listChartVersions)).Methods(http.MethodGet)
			r.Handle("/api/rollouts", authed(s.startRollout)).Methods(http.MethodPost)
			r.Handle("/api/rollouts", authed(s.listRollouts)).Methods(http.MethodGet)
			r.Handle("/api/rollouts/{id:"+rolloutID+"}", authed(s.getRollout)).Methods(http.MethodGet)
			r.Handle("/api/rollouts/{id:"+rolloutID+"}/events", authed(s.limitStreams(s.rolloutEvents))).Methods(http.MethodGet)
			for _, sig := range []string{workflows.SignalPause, workflows.SignalResume, workflows.SignalAbort} {
				r.Handle("/api/rollouts/{id:"+rolloutID+"}/"+sig, authed(s.signalRollout(sig))).Methods(http.MethodPost)
			}
		}
		if o.Releases != nil {
			r.Handle("/api/stores/{name}/history", authed(s.storeHistory)).Methods(http.MethodGet)
			r.Handle("/api/stores/{name}/rollback", authed(s.rollbackStore)).Methods(http.MethodPost)
		}
	}
	if o.Codec != nil && o.Tokens != nil {
		r.Handle("/codec/decode", s.withUIOrigin(s.authenticateLimited(http.HandlerFunc(s.decodePayloads), true))).Methods(http.MethodPost)
		r.Handle("/codec/decode", http.HandlerFunc(s.codecPreflight)).Methods(http.MethodOptions)
		r.Handle("/codec/encode", s.withUIOrigin(http.HandlerFunc(s.refuseEncode))).Methods(http.MethodPost)
	}
	return r
}

// newService is the service behind the handlers, made from o.
func newService(o Options, m *metrics) *service.Service {
	return service.New(service.Config{Stores: o.Stores, Temporal: o.Temporal, TaskQueue: o.TaskQueue, StoreDomain: o.StoreDomain,
		StoreLimit: o.StoreLimit, Kube: o.Kube, Audit: o.Audit, Releases: o.Releases, Versions: o.Versions, Timeouts: o.Timeouts,
		StartWorkers: o.StartWorkers, DataConverter: o.DataConverter, Started: m.started, Now: o.Now, Logger: o.Logger})
}

// routeProblems answers unknown routes and methods with problems.
func (s *server) routeProblems(r *mux.Router) {
	r.NotFoundHandler = s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.o.Dashboard != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
			r.URL.Path != "/api" && !strings.HasPrefix(r.URL.Path, "/api/") {
			s.o.Dashboard.ServeHTTP(w, r)
			return
		}
		notFound(w, r, "no such route")
	}))
	r.MethodNotAllowedHandler = s.logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, r, newProblem(ProblemMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path))
	}))
}

// rolloutID is what a rollout ID in a path may hold: printable ASCII but
// "/" (Temporal refuses other bytes in a workflow ID's request metadata, so
// such a path names no rollout: 404).
const rolloutID = "[!-.0-~]+"

// server holds the handlers' dependencies.
type server struct {
	o       Options
	limits  *limits
	metrics *metrics
	feed    *changeFeed
	// streams caps the open event streams; progressCache shares each
	// workflow's progress among them.
	streams       *streamSlots
	progressCache *progressCache
	svc           *service.Service
	// uiOrigin is the Temporal Web UI's origin, the one origin allowed
	// to call the codec endpoint from a browser ("" for none).
	uiOrigin string
}

// origin is the scheme://host[:port] of an http(s) URL, "" for another.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// writeJSON answers status with v as indented JSON.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	unsent(r, enc.Encode(v))
}

// unsent logs, at debug level with the request's logger, a response body
// that could not be written: the client has gone, and there is no one
// left to answer.
func unsent(r *http.Request, err error) {
	if err != nil {
		requestLogger(r.Context()).DebugContext(r.Context(), "response not sent", "error", err.Error())
	}
}

// Me is the caller as GET /api/me shows it.
type Me struct {
	Tenant    string    `json:"tenant"`
	Role      auth.Role `json:"role"`
	TokenID   string    `json:"tokenId"`
	TokenName string    `json:"tokenName,omitempty"`
	// TemporalWorkflowURL is the Temporal Web UI page of a workflow, with
	// {workflowId} to be replaced by the URL-escaped workflow ID; absent
	// when no Web UI is configured.
	TemporalWorkflowURL string `json:"temporalWorkflowUrl,omitempty"`
	// StoreURLNotice, when set, is shown beside every ready store's URL,
	// which the dashboard then does not link (Options.StoreURLNotice).
	StoreURLNotice string `json:"storeUrlNotice,omitempty"`
	// StoreCount is how many stores (not deleted) the tenant has, and
	// StoreLimit how many it may have (the dashboard's "3 of 5 stores").
	StoreCount int `json:"storeCount"`
	StoreLimit int `json:"storeLimit"`
}

// me handles GET /api/me: who the token belongs to, for the dashboard.
func (s *server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	m := Me{Tenant: p.Tenant, Role: p.Role, TokenID: p.ID, TokenName: p.Name, StoreURLNotice: s.o.StoreURLNotice}
	var err error
	if m.StoreCount, m.StoreLimit, err = s.svc.Usage(r.Context(), caller(r)); err != nil {
		fail(w, r, err)
		return
	}
	if s.o.TemporalUIURL != "" {
		ns := s.o.TemporalNamespace
		if ns == "" {
			ns = "default"
		}
		m.TemporalWorkflowURL = strings.TrimRight(s.o.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(ns) + "/workflows/{workflowId}"
	}
	writeJSON(w, r, http.StatusOK, m)
}
