package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/storeplatform/storeplatform/internal/auth"
)

// TestCreateAnswersBeforeTheWorkflowStarts: POST /api/stores answers once
// the record is written, while Temporal has not yet started (here: is
// held from starting) the workflow; each workflow is started once after.
func TestCreateAnswersBeforeTheWorkflowStarts(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 10)
	temporal := &mocks.Client{}
	run := &mocks.WorkflowRun{}
	temporal.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		<-release
		started <- args.Get(1).(client.StartWorkflowOptions).ID
	}).Return(run, nil).Times(3)
	h := Router(Options{
		Logger: slog.New(slog.DiscardHandler), Stores: newFakeStores(), Temporal: temporal, TaskQueue: "q", StoreLimit: 5,
		Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: auth.RoleTenant}}, StartWorkers: 2,
		Versions: chartVersionsOfRepo(t), Releases: unreachableReleases(t),
	})
	names := []string{"shop-a", "shop-b", "shop-c"}
	answered := make(chan int, len(names))
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/api/stores", strings.NewReader(`{"name":"`+n+`","engine":"woocommerce"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+acmeToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			answered <- rec.Code
		})
	}
	for range names {
		select {
		case code := <-answered:
			if code != http.StatusAccepted {
				t.Fatalf("POST: %d, want 202", code)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("POST /api/stores waited for the workflow's start")
		}
	}
	wg.Wait()
	close(release)
	got := map[string]bool{}
	for range names {
		got[<-started] = true
	}
	for _, n := range names {
		if !got["store/"+n+"/1/create"] {
			t.Errorf("no start of %s's workflow: %v", n, got)
		}
	}
	temporal.AssertExpectations(t)
}
