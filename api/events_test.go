package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id, name string
	rec      store.Record
}

// readEvents reads "store" events from an SSE stream until n arrived or the
// context ends.
func readEvents(t *testing.T, ctx context.Context, url, token, lastID string, n int) []sseEvent {
	t.Helper()
	out, err := streamEvents(ctx, url, token, lastID, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// streamEvents is readEvents for any goroutine: it reports what went
// wrong instead of failing the test.
func streamEvents(ctx context.Context, url, token, lastID string, n int) ([]sseEvent, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		return nil, fmt.Errorf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && cur.name == "store":
			_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.rec)
		case line == "":
			if cur.name == "store" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		}
	}
	return out, nil
}

// seedChanged seeds the fixture's stores, changed an hour ago a second
// apart (acme-1, acme-2, other-1), in milliseconds as MongoDB keeps them.
func seedChanged(f *fixture) {
	seed(f)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i, name := range []string{"acme-1", "acme-2", "other-1"} {
		r := f.stores.recs[name]
		r.UpdatedAt = base.Add(time.Duration(i) * time.Second)
		f.stores.recs[name] = r
	}
}

func TestEventStreams(t *testing.T) {
	f := newFixture(t)
	seedChanged(f)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	// A new client gets a snapshot of its own stores only, oldest change first.
	evs := readEvents(t, ctx, srv.URL+"/api/events", acmeToken, "", 2)
	if len(evs) != 2 || evs[0].rec.Name != "acme-1" || evs[1].rec.Name != "acme-2" {
		t.Fatalf("snapshot %+v", evs)
	}
	// A reconnecting client gets only what changed after its last event.
	go func() {
		time.Sleep(300 * time.Millisecond)
		r := f.stores.recs["acme-1"]
		r.Phase, r.UpdatedAt = store.PhaseDeleting, time.Now().Truncate(time.Millisecond)
		f.stores.set(r)
	}()
	evs2 := readEvents(t, ctx, srv.URL+"/api/events", acmeToken, evs[1].id, 1)
	if len(evs2) != 1 || evs2[0].rec.Name != "acme-1" || evs2[0].rec.Phase != store.PhaseDeleting {
		t.Fatalf("after reconnect %+v", evs2)
	}
	if id, err := strconv.ParseInt(evs2[0].id, 10, 64); err != nil || id <= 0 {
		t.Fatalf("event id %q", evs2[0].id)
	}
	// One store's stream, with its workflow's progress; another tenant's
	// store is 404.
	f.temporal.On("QueryWorkflow", mock.Anything, mock.Anything, "", workflows.QueryProgress).Return(nil, errors.New("no worker")).Maybe()
	f.temporal.On("DescribeWorkflow", mock.Anything, mock.Anything, "").Return(nil, errors.New("no worker")).Maybe()
	one := readEvents(t, ctx, srv.URL+"/api/stores/acme-2/events", acmeToken, "", 1)
	if len(one) != 1 || one[0].rec.Name != "acme-2" {
		t.Fatalf("store stream %+v", one)
	}
	if rec := f.do(t, http.MethodGet, "/api/stores/other-1/events", acmeToken, ""); rec.Code != 404 {
		t.Fatalf("other tenant's stream: %d", rec.Code)
	}
	// The store is deleted and another tenant takes its name: a stream that
	// acme opened on it never shows the other tenant's store.
	go func() {
		time.Sleep(300 * time.Millisecond)
		r := f.stores.recs["acme-2"]
		r.Owner, r.Generation, r.Phase, r.Title = "other", r.Generation+1, store.PhaseRequested, "Other's secret launch"
		r.UpdatedAt = time.Now().Truncate(time.Millisecond)
		f.stores.set(r)
	}()
	short, cancelShort := context.WithTimeout(ctx, 3*eventPoll)
	defer cancelShort()
	if leaked := readEvents(t, short, srv.URL+"/api/stores/acme-2/events", acmeToken, one[0].id, 1); len(leaked) != 0 {
		t.Fatalf("acme's stream of acme-2 sent the other tenant's store: %+v", leaked[0].rec)
	}
	if rec := f.do(t, http.MethodGet, "/api/events?lastEventId=yesterday", acmeToken, ""); rec.Code != 400 {
		t.Fatalf("bad Last-Event-ID: %d", rec.Code)
	}
}

func TestEventStreamsEndOnStop(t *testing.T) {
	f := newFixture(t)
	stop := make(chan struct{})
	f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", Stop: stop,
		Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: "tenant"}}})
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+acmeToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	close(stop)
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end when the server stopped")
	}
}

// TestEventStreamsShareOneReadPerTick: 50 open streams cost one read of
// the changes per tick in all, besides each stream's first read (its
// snapshot), and every stream still gets a change made while they are
// open.
func TestEventStreamsShareOneReadPerTick(t *testing.T) {
	f := newFixture(t)
	seedChanged(f)
	f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", RatePerSecond: 1000, RateBurst: 1000,
		MaxStreamsPerToken: 100, Tokens: fakeTokens{acmeToken: {Tenant: "acme", Role: "tenant"}}})
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const streams = 50
	type result struct {
		evs []sseEvent
		err error
	}
	got := make(chan result, streams)
	opened := time.Now()
	for range streams {
		go func() {
			evs, err := streamEvents(ctx, srv.URL+"/api/events", acmeToken, "", 3)
			got <- result{evs, err}
		}()
	}
	// Every stream has its snapshot (acme's two stores) before the change.
	for {
		f.stores.mu.Lock()
		n := f.stores.changedCalls
		f.stores.mu.Unlock()
		if n >= streams {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(3 * eventPoll)
	r := f.stores.recs["acme-1"]
	r.Phase, r.UpdatedAt = store.PhaseDeleting, time.Now().Add(time.Second).Truncate(time.Millisecond)
	f.stores.set(r)
	for range streams {
		res := <-got
		if res.err != nil {
			t.Fatal(res.err)
		}
		if evs := res.evs; len(evs) != 3 || evs[2].rec.Name != "acme-1" || evs[2].rec.Phase != store.PhaseDeleting {
			t.Fatalf("a stream got %+v, want the snapshot and the change", evs)
		}
	}
	f.stores.mu.Lock()
	calls := f.stores.changedCalls
	f.stores.mu.Unlock()
	// The feed read once per tick since the first stream opened (about 4
	// ticks); a read per stream and tick would be 50 times as many.
	ticks := int(time.Since(opened)/eventPoll) + 1
	if reads := calls - streams; reads < 1 || reads > ticks {
		t.Fatalf("%d reads of the changes besides the %d snapshots in %d ticks, want at most one per tick", reads, streams, ticks)
	}
}

// streamFixture is the fixture's API with room for many streams and
// requests, and caps of its own.
func streamFixture(t *testing.T, perToken, total int) *fixture {
	t.Helper()
	f := newFixture(t)
	f.handler = Router(Options{Stores: f.stores, Temporal: f.temporal, TaskQueue: "q", RatePerSecond: 1000, RateBurst: 1000,
		MaxStreamsPerToken: perToken, MaxStreams: total,
		Tokens: fakeTokens{acmeToken: {ID: "t-acme", Tenant: "acme", Role: "tenant"}, otherToken: {ID: "t-other", Tenant: "other", Role: "tenant"}}})
	return f
}

// TestStoreStreamsShareProgressQueries: ten streams of one store cost at
// most one progress query per tick in all while its workflow runs, and
// one in all once its workflow has closed (a query of a closed workflow
// replays its history on a worker).
func TestStoreStreamsShareProgressQueries(t *testing.T) {
	tests := []struct {
		name   string
		phase  store.Phase
		status enumspb.WorkflowExecutionStatus // what DescribeWorkflow says
		most   func(ticks int) int
	}{
		{"running workflow", store.PhaseProvisioning, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, func(ticks int) int { return ticks + 2 }},
		{"closed workflow", store.PhaseFailed, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, func(int) int { return 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := streamFixture(t, 100, 100)
			f.stores.set(store.Record{ID: bsonID(9), Spec: store.Spec{Name: "busy", Generation: 1, Engine: "woocommerce"}, Owner: "acme",
				Phase: tt.phase, UpdatedAt: time.Now().Add(-time.Hour).Truncate(time.Millisecond)})
			var queries atomic.Int32
			val := &mocks.Value{}
			val.On("Get", mock.Anything).Run(func(args mock.Arguments) {
				*(args.Get(0).(*workflows.Progress)) = workflows.Progress{CurrentStep: "install", Phase: tt.phase}
			}).Return(nil)
			f.temporal.On("QueryWorkflow", mock.Anything, "store/busy/1/create", "", workflows.QueryProgress).
				Run(func(mock.Arguments) { queries.Add(1) }).Return(val, nil)
			f.temporal.On("DescribeWorkflow", mock.Anything, "store/busy/1/create", "").Return(
				&client.WorkflowExecutionDescription{WorkflowExecutionMetadata: client.WorkflowExecutionMetadata{Status: tt.status}}, nil).Maybe()
			srv := httptest.NewServer(f.handler)
			defer srv.Close()
			const streams = 10
			ctx, cancel := context.WithTimeout(t.Context(), 4*eventPoll)
			defer cancel()
			opened := time.Now()
			errs := make(chan error, streams)
			for range streams {
				go func() {
					_, err := streamEvents(ctx, srv.URL+"/api/stores/busy/events", acmeToken, "", 1000)
					errs <- err
				}()
			}
			for range streams {
				if err := <-errs; err != nil && ctx.Err() == nil {
					t.Fatal(err)
				}
			}
			ticks := int(time.Since(opened) / eventPoll)
			if n := int(queries.Load()); n < 1 || n > tt.most(ticks) {
				t.Fatalf("%d progress queries from %d streams in %d ticks, want 1 to %d", n, streams, ticks, tt.most(ticks))
			}
		})
	}
}

// TestEventStreamCaps: a token past its streams gets 429, a process past
// its streams 503, both a problem with Retry-After; a closed stream frees
// its slot.
func TestEventStreamCaps(t *testing.T) {
	tests := []struct {
		name            string
		perToken, total int
		open            []string // tokens whose streams stay open
		closed          []string // tokens whose streams were opened and closed
		token           string   // the stream asked for then
		wantStatus      int
		wantType        string
	}{
		{"token full", 2, 10, []string{acmeToken, acmeToken}, nil, acmeToken, http.StatusTooManyRequests, ProblemRateLimited},
		{"another token has room", 2, 10, []string{acmeToken, acmeToken}, nil, otherToken, http.StatusOK, ""},
		{"process full", 5, 2, []string{acmeToken, otherToken}, nil, acmeToken, http.StatusServiceUnavailable, ProblemUnavailable},
		{"a closed stream frees its slot", 1, 10, nil, []string{acmeToken}, acmeToken, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := streamFixture(t, tt.perToken, tt.total)
			seedChanged(f)
			srv := httptest.NewServer(f.handler)
			defer srv.Close()
			open := func(token string) *http.Response {
				t.Helper()
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/events", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			for _, tok := range tt.open {
				resp := open(tok)
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("stream %d of %d: %d", len(tt.open), tt.perToken, resp.StatusCode)
				}
			}
			for _, tok := range tt.closed {
				open(tok).Body.Close()
			}
			var resp *http.Response
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				resp = open(tt.token)
				// A closed stream's slot is freed when its handler sees the
				// client gone, a moment after it hung up.
				if resp.StatusCode == tt.wantStatus || len(tt.closed) == 0 || time.Now().After(deadline) {
					break
				}
				resp.Body.Close()
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantType == "" {
				return
			}
			var p Problem
			if ct := resp.Header.Get("Content-Type"); ct != problemContentType {
				t.Fatalf("content type %q", ct)
			}
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if p.Type != tt.wantType || p.Status != tt.wantStatus || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("problem %+v, Retry-After %q", p, resp.Header.Get("Retry-After"))
			}
		})
	}
}

// TestLateWriteIsStreamed: a write that commits after a later-stamped
// write of another store (its activity ran late) is still sent to an open
// stream.
func TestLateWriteIsStreamed(t *testing.T) {
	f := newFixture(t)
	seedChanged(f)
	srv := httptest.NewServer(f.handler)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	go func() {
		time.Sleep(2 * eventPoll) // the stream has its snapshot
		now := time.Now().Truncate(time.Millisecond)
		r := f.stores.recs["acme-1"]
		r.Phase, r.UpdatedAt = store.PhaseDeleting, now
		f.stores.set(r)
		time.Sleep(2 * eventPoll) // the feed has read past it
		r = f.stores.recs["acme-2"]
		r.Phase, r.UpdatedAt = store.PhaseProvisioning, now.Add(-2*time.Second)
		f.stores.set(r)
	}()
	evs := readEvents(t, ctx, srv.URL+"/api/events", acmeToken, "", 4)
	if len(evs) != 4 || evs[3].rec.Name != "acme-2" || evs[3].rec.Phase != store.PhaseProvisioning {
		t.Fatalf("events %+v, want the snapshot (2), acme-1 deleting, then acme-2's late write", evs)
	}
}
