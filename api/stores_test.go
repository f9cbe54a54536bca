package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

const (
	acmeToken  = "sp_acme"
	otherToken = "sp_other"
	adminToken = "sp_admin"
)

type fixture struct {
	stores   *fakeStores
	temporal *mocks.Client
	handler  http.Handler
	logs     *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{stores: newFakeStores(), temporal: &mocks.Client{}, logs: &bytes.Buffer{}}
	f.handler = Router(Options{
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
		Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", StoreLimit: 2,
		// Starts in the request, so that a test sees them when it is
		// answered (TestCreateAnswersBeforeTheWorkflowStarts tests the queue).
		StartWorkers: -1,
		Tokens: fakeTokens{
			acmeToken:  {Tenant: "acme", Role: auth.RoleTenant},
			otherToken: {Tenant: "other", Role: auth.RoleTenant},
			adminToken: {Tenant: "ops", Role: auth.RoleAdmin},
		},
		Now:      func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Releases: unreachableReleases(t),
		Versions: chartVersionsOfRepo(t),
		Codec:    testCodec(t),
	})
	return f
}

// expectStart makes ExecuteWorkflow succeed n times.
func (f *fixture) expectStart(n int) {
	run := &mocks.WorkflowRun{}
	run.On("GetID").Return("id").Maybe()
	run.On("GetRunID").Return("run").Maybe()
	f.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(run, nil).Times(n)
}

func (f *fixture) do(t *testing.T, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with content type %q: %s", rec.Code, ct, rec.Body)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != rec.Code || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v for status %d", p, rec.Code)
	}
	return p
}

const wooBody = `{"name":"shop","engine":"woocommerce","title":"Shop"}`

func TestCreateStore(t *testing.T) {
	f := newFixture(t)
	f.expectStart(2)
	rec := f.do(t, http.MethodPost, "/api/stores", acmeToken, wooBody)
	if rec.Code != http.StatusAccepted || rec.Header().Get("Location") != "/api/stores/shop" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var got StoreResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if got.Phase != store.PhaseRequested || got.Owner != "acme" || got.Generation != 1 || got.Host != "shop.stores.localhost" ||
		got.CreateWorkflowID != "store/shop/1/create" {
		t.Fatalf("record %+v", got.Record)
	}
	// The same request again: the same store, the start is repeated (the
	// conflict policy makes it join the running workflow).
	rec = f.do(t, http.MethodPost, "/api/stores", acmeToken, wooBody)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("repeat: %d %s", rec.Code, rec.Body)
	}
	if len(f.stores.recs) != 1 {
		t.Fatalf("%d records", len(f.stores.recs))
	}
	f.temporal.AssertExpectations(t)
}

func TestCreateStoreErrors(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		body       string
		setup      func(f *fixture)
		wantStatus int
		wantType   string
	}{
		{"no token", "", wooBody, nil, 401, ProblemUnauthorized},
		{"bad token", "sp_nope", wooBody, nil, 401, ProblemUnauthorized},
		{"invalid body", acmeToken, `{"name":"Shop!","engine":"woocommerce"}`, nil, 400, ProblemValidation},
		{"same name, other spec", acmeToken, `{"name":"shop","engine":"woocommerce","title":"Other"}`, func(f *fixture) {
			f.stores.recs["shop"] = store.Record{Spec: store.Spec{Name: "shop", Generation: 1, Engine: "woocommerce", Title: "Shop", Host: "shop.stores.localhost"}, Owner: "acme", Phase: store.PhaseReady}
		}, 409, ProblemConflict},
		{"name of another tenant", otherToken, wooBody, func(f *fixture) {
			f.stores.recs["shop"] = store.Record{Spec: store.Spec{Name: "shop", Generation: 1, Engine: "woocommerce", Title: "Shop", Host: "shop.stores.localhost"}, Owner: "acme", Phase: store.PhaseReady}
		}, 409, ProblemConflict},
		{"limit reached", acmeToken, wooBody, func(f *fixture) {
			for k, n := range []string{"a-1", "a-2"} {
				f.stores.recs[n] = store.Record{Spec: store.Spec{Name: n, Generation: 1}, Owner: "acme", Phase: store.PhaseReady,
					Claim: store.Claim{LiveHost: n + ".stores.localhost", Slot: store.SlotOf("acme", k)}}
			}
		}, 409, ProblemStoreLimitReached},
		{"database down", acmeToken, wooBody, func(f *fixture) { f.stores.fail = errors.New("connection refused to 10.0.0.5") }, 500, ProblemInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			rec := f.do(t, http.MethodPost, "/api/stores", tt.token, tt.body)
			p := problemOf(t, rec)
			if rec.Code != tt.wantStatus || p.Type != tt.wantType {
				t.Fatalf("got %d %s, want %d %s", rec.Code, p.Type, tt.wantStatus, tt.wantType)
			}
			if rec.Code == 500 && (strings.Contains(rec.Body.String(), "10.0.0.5") || p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-ID")) {
				t.Fatalf("500 leaks the error or lacks the request ID: %s", rec.Body)
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			f.temporal.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
		})
	}
}

func TestCreateAfterDeletionUsesNextGeneration(t *testing.T) {
	f := newFixture(t)
	f.stores.recs["shop"] = store.Record{Spec: store.Spec{Name: "shop", Generation: 3, Engine: "woocommerce"}, Owner: "other", Phase: store.PhaseDeleted}
	f.expectStart(1)
	rec := f.do(t, http.MethodPost, "/api/stores", acmeToken, wooBody)
	var got StoreResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != 202 || got.Generation != 4 || got.Owner != "acme" {
		t.Fatalf("%d %+v", rec.Code, got.Record)
	}
}

func TestCreateWhenTemporalIsDownKeepsTheRecordForTheReconciler(t *testing.T) {
	f := newFixture(t)
	f.temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, errors.New("unavailable")).Once()
	rec := f.do(t, http.MethodPost, "/api/stores", acmeToken, wooBody)
	if rec.Code != 202 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	f.expectStart(1)
	f.temporal.On("ListWorkflow", mock.Anything, mock.Anything).Return(&workflowservice.ListWorkflowExecutionsResponse{}, nil).Once()
	n, err := Reconcile(t.Context(), f.stores, f.temporal, "q")
	if err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	f.temporal.AssertExpectations(t)
}

// TestReconcileStartsOnlyMissingCreations: the reconciler lists the running
// creations once and starts only the requested stores that have none (it
// used to start every requested record every 30 s: 550 at once in make
// bench, most of the API's CPU per POST).
func TestReconcileStartsOnlyMissingCreations(t *testing.T) {
	f := newFixture(t)
	for i, name := range []string{"queued-1", "queued-2", "lost"} {
		f.stores.recs[name] = store.Record{ID: bsonID(byte(10 + i)), Spec: store.Spec{Name: name, Generation: 1, Engine: "woocommerce", Host: name + ".x"},
			Owner: "acme", Phase: store.PhaseRequested}
	}
	running := &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{
		{Execution: &commonpb.WorkflowExecution{WorkflowId: workflows.CreateWorkflowID("queued-1", 1)}},
		{Execution: &commonpb.WorkflowExecution{WorkflowId: workflows.CreateWorkflowID("queued-2", 1)}},
	}}
	f.temporal.On("ListWorkflow", mock.Anything, mock.Anything).Return(running, nil).Once()
	f.temporal.On("ExecuteWorkflow", mock.Anything, mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
		return o.ID == workflows.CreateWorkflowID("lost", 1)
	}), mock.Anything, mock.Anything).Return(nil, nil).Once()
	n, err := Reconcile(t.Context(), f.stores, f.temporal, "q")
	if err != nil || n != 1 {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	f.temporal.AssertExpectations(t)
}

func seed(f *fixture) {
	f.stores.recs["acme-1"] = store.Record{ID: bsonID(1), Spec: store.Spec{Name: "acme-1", Generation: 1, Engine: "woocommerce"}, Owner: "acme", Phase: store.PhaseReady}
	f.stores.recs["acme-2"] = store.Record{ID: bsonID(2), Spec: store.Spec{Name: "acme-2", Generation: 1, Engine: "medusa"}, Owner: "acme", Phase: store.PhaseFailed}
	f.stores.recs["acme-3"] = store.Record{ID: bsonID(3), Spec: store.Spec{Name: "acme-3", Generation: 1, Engine: "woocommerce"}, Owner: "acme", Phase: store.PhaseDeletionStuck}
	f.stores.recs["other-1"] = store.Record{ID: bsonID(4), Spec: store.Spec{Name: "other-1", Generation: 1, Engine: "woocommerce"}, Owner: "other", Phase: store.PhaseReady}
}

func TestListStores(t *testing.T) {
	tests := []struct {
		name, token, query string
		want               []string
		wantStatus         int
	}{
		{"own stores newest first", acmeToken, "", []string{"acme-3", "acme-2", "acme-1"}, 200},
		{"admin sees all", adminToken, "", []string{"other-1", "acme-3", "acme-2", "acme-1"}, 200},
		{"filter engine", acmeToken, "?engine=medusa", []string{"acme-2"}, 200},
		{"filter status", acmeToken, "?status=ready", []string{"acme-1"}, 200},
		{"page", acmeToken, "?limit=2", []string{"acme-3", "acme-2"}, 200},
		{"limit too big", acmeToken, "?limit=101", nil, 400},
		{"bad status", acmeToken, "?status=happy", nil, 400},
		{"bad engine", acmeToken, "?engine=shopify", nil, 400},
		{"name prefix", acmeToken, "?name=acme-", []string{"acme-3", "acme-2", "acme-1"}, 200},
		{"name prefix of one", acmeToken, "?name=acme-2", []string{"acme-2"}, 200},
		{"name prefix of another tenant's store", acmeToken, "?name=other", nil, 200},
		{"name prefix, admin", adminToken, "?name=o", []string{"other-1"}, 200},
		{"name prefix with capitals", acmeToken, "?name=Acme", nil, 400},
		{"name prefix too long", acmeToken, "?name=" + strings.Repeat("a", 41), nil, 400},
		{"admin filters by owner", adminToken, "?owner=other", []string{"other-1"}, 200},
		{"admin filters by owner and name", adminToken, "?owner=acme&name=acme-1", []string{"acme-1"}, 200},
		{"tenant names itself as owner", acmeToken, "?owner=acme", []string{"acme-3", "acme-2", "acme-1"}, 200},
		{"tenant names another owner", acmeToken, "?owner=other", nil, 403},
		{"owner not a tenant name", adminToken, "?owner=a%20b", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			seed(f)
			rec := f.do(t, http.MethodGet, "/api/stores"+tt.query, tt.token, "")
			if rec.Code != tt.wantStatus {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if tt.wantStatus != 200 {
				problemOf(t, rec)
				return
			}
			var list StoreList
			_ = json.Unmarshal(rec.Body.Bytes(), &list)
			var names []string
			for _, r := range list.Items {
				names = append(names, r.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %v, want %v", names, tt.want)
			}
			if tt.query == "?limit=2" {
				rec = f.do(t, http.MethodGet, "/api/stores?limit=2&cursor="+list.NextCursor, tt.token, "")
				var rest StoreList
				_ = json.Unmarshal(rec.Body.Bytes(), &rest)
				if len(rest.Items) != 1 || rest.Items[0].Name != "acme-1" || rest.NextCursor != "" {
					t.Fatalf("second page %+v", rest)
				}
			}
		})
	}
}

func TestGetStoreHidesOtherTenantsAndAddsProgress(t *testing.T) {
	f := newFixture(t)
	seed(f)
	if rec := f.do(t, http.MethodGet, "/api/stores/other-1", acmeToken, ""); rec.Code != 404 {
		t.Fatalf("another tenant's store: %d", rec.Code)
	} else {
		problemOf(t, rec)
	}
	if rec := f.do(t, http.MethodGet, "/api/stores/nope", acmeToken, ""); rec.Code != 404 {
		t.Fatalf("missing store: %d", rec.Code)
	}
	val := &mocks.Value{}
	val.On("Get", mock.Anything).Run(func(args mock.Arguments) {
		*(args.Get(0).(*workflows.Progress)) = workflows.Progress{CurrentStep: "retry-wait", Phase: store.PhaseFailed}
	}).Return(nil)
	f.temporal.On("QueryWorkflow", mock.Anything, "store/acme-2/1/create", "", workflows.QueryProgress).Return(val, nil).Once()
	rec := f.do(t, http.MethodGet, "/api/stores/acme-2", acmeToken, "")
	var got StoreResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != 200 || got.Progress == nil || got.Progress.CurrentStep != "retry-wait" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// A ready store has no running workflow to ask.
	if rec := f.do(t, http.MethodGet, "/api/stores/acme-1", adminToken, ""); rec.Code != 200 {
		t.Fatalf("admin get: %d", rec.Code)
	}
	f.temporal.AssertExpectations(t)
}

func TestDeleteStore(t *testing.T) {
	f := newFixture(t)
	seed(f)
	f.stores.recs["gone"] = store.Record{Spec: store.Spec{Name: "gone", Generation: 1}, Owner: "acme", Phase: store.PhaseDeleted}
	f.expectStart(1)
	rec := f.do(t, http.MethodDelete, "/api/stores/acme-1", acmeToken, "")
	var got StoreResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	// The answer shows the phase the deletion enters; the record is the
	// workflow's to write (only workflows write phases).
	if rec.Code != 202 || got.Phase != store.PhaseDeleting || f.stores.recs["acme-1"].Phase != store.PhaseReady {
		t.Fatalf("%d %s (record %s)", rec.Code, rec.Body, f.stores.recs["acme-1"].Phase)
	}
	for _, tt := range []struct{ name, token string }{{"gone", acmeToken}, {"other-1", acmeToken}, {"nope", adminToken}} {
		if rec := f.do(t, http.MethodDelete, "/api/stores/"+tt.name, tt.token, ""); rec.Code != 404 {
			t.Errorf("delete %s: %d", tt.name, rec.Code)
		}
	}
	f.temporal.AssertExpectations(t)
}

func TestRetryStore(t *testing.T) {
	tests := []struct {
		name, store, token, body string
		wantStatus               int
		wantSignal, wantID       string
	}{
		{"failed creation", "acme-2", acmeToken, "", 202, workflows.SignalRetry, "store/acme-2/1/create"},
		{"stuck deletion", "acme-3", acmeToken, "", 202, workflows.SignalRetry, "store/acme-3/1/delete"},
		{"force by admin", "acme-3", adminToken, `{"force":true}`, 202, workflows.SignalForce, "store/acme-3/1/delete"},
		{"force by tenant", "acme-3", acmeToken, `{"force":true}`, 403, "", ""},
		{"ready store", "acme-1", acmeToken, "", 409, "", ""},
		{"unknown field", "acme-2", acmeToken, `{"please":true}`, 400, "", ""},
		{"other tenant", "other-1", acmeToken, "", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			seed(f)
			if tt.wantSignal != "" {
				f.temporal.On("SignalWorkflow", mock.Anything, tt.wantID, "", tt.wantSignal, nil).Return(nil).Once()
			}
			rec := f.do(t, http.MethodPost, "/api/stores/"+tt.store+"/retry", tt.token, tt.body)
			if rec.Code != tt.wantStatus {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				problemOf(t, rec)
			}
			f.temporal.AssertExpectations(t)
		})
	}
}

func TestRetryWhenWorkflowIsGone(t *testing.T) {
	f := newFixture(t)
	seed(f)
	f.temporal.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, nil).Return(serviceerror.NewNotFound("workflow completed")).Once()
	if rec := f.do(t, http.MethodPost, "/api/stores/acme-2/retry", acmeToken, ""); rec.Code != 409 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	f := newFixture(t)
	if rec := f.do(t, http.MethodGet, "/nope", "", ""); rec.Code != 404 {
		t.Fatalf("%d", rec.Code)
	} else {
		problemOf(t, rec)
	}
	if rec := f.do(t, http.MethodPut, "/api/stores", acmeToken, wooBody); rec.Code != 405 {
		t.Fatalf("%d", rec.Code)
	} else {
		problemOf(t, rec)
	}
}

func TestLogsCarryNoToken(t *testing.T) {
	f := newFixture(t)
	f.expectStart(1)
	f.do(t, http.MethodPost, "/api/stores", acmeToken, wooBody)
	logs := f.logs.String()
	if strings.Contains(logs, acmeToken) || !strings.Contains(logs, `"tenant":"acme"`) || !strings.Contains(logs, `"route":"/api/stores"`) {
		t.Fatalf("logs: %s", logs)
	}
}

var _ client.Client = (*mocks.Client)(nil)

func TestCreateStoreBodyErrorsThroughTheRouter(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    int
		wantType                string
	}{
		{"not json", "text/plain", wooBody, 415, ProblemUnsupportedMedia},
		{"too large", "application/json", `{"name":"shop","engine":"woocommerce","title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, ProblemTooLarge},
		{"wrong type", "application/json", `{"name":["shop"],"engine":"woocommerce"}`, 400, ProblemValidation},
		{"unknown field", "application/json", `{"name":"shop","engine":"woocommerce","plan":"gold"}`, 400, ProblemValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			req := httptest.NewRequest(http.MethodPost, "/api/stores", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("Authorization", "Bearer "+acmeToken)
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, req)
			if p := problemOf(t, rec); rec.Code != tt.want || p.Type != tt.wantType || p.RequestID == "" {
				t.Fatalf("got %d %+v", rec.Code, p)
			}
			if len(f.stores.recs) != 0 {
				t.Fatal("a rejected request wrote a record")
			}
		})
	}
}

// unreachableReleases is a real Helm runner for a cluster that is not
// there: the routes it enables are served, and any use of it fails.
func unreachableReleases(t *testing.T) *helmclient.Runner {
	t.Helper()
	r, err := helmclient.NewRunner(&rest.Config{Host: "http://127.0.0.1:1"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// chartVersionsOfRepo is the repository's store chart as the only version.
func chartVersionsOfRepo(t *testing.T) *storechart.Versions {
	t.Helper()
	c, err := storechart.Load(filepath.Join("..", "charts", "store"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := storechart.LoadVersions(c, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}
