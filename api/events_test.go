package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

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
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
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
	return out
}

func TestEventStreams(t *testing.T) {
	f := newFixture(t)
	seed(f)
	// MongoDB keeps milliseconds: so do the fake's times.
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i, name := range []string{"acme-1", "acme-2", "other-1"} {
		r := f.stores.recs[name]
		r.UpdatedAt = base.Add(time.Duration(i) * time.Second)
		f.stores.recs[name] = r
	}
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
