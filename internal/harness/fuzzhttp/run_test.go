package fuzzhttp

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// toyDoc describes toyAPI: one route per planted bug, and a create.
const toyDoc = `{"openapi":"3.1.0","security":[{"bearer":[]}],"paths":{
 "/api/panic":{"get":{}},
 "/api/redirect":{"get":{}},
 "/api/plain":{"get":{}},
 "/api/leak":{"get":{}},
 "/api/events":{"get":{}},
 "/api/stores":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object","required":["name"],
   "properties":{"name":{"type":"string","pattern":"^[a-z][-a-z0-9]{1,38}[a-z0-9]$"}}}}}}}}
}}`

// toyAPI has a bug behind each route but /api/stores and /api/events, and
// remembers every target and body it got.
type toyAPI struct {
	mu     sync.Mutex
	got    map[string]int // request target -> body length
	stores int
}

func (a *toyAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.got[r.RequestURI] = len(body)
	a.mu.Unlock()
	problem := func(status int) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"t","title":"T","status":%d}`, status)
	}
	if r.Method != http.MethodGet && r.URL.Path != "/api/stores" {
		problem(http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/api/panic":
		panic("planted")
	case "/api/redirect":
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	case "/api/plain":
		http.Error(w, "nope", http.StatusBadRequest)
	case "/api/leak":
		fmt.Fprint(w, `{"items":[{"name":"globex-secret"}]}`)
	case "/api/events":
		w.Header().Set("Content-Type", "text/event-stream")
		for {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	case "/api/stores":
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer sp_acme" {
			problem(http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.stores++
		n := a.stores
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"name": fmt.Sprintf("s%d", n), "owner": "acme", "generation": 1})
	default:
		problem(http.StatusNotFound)
	}
}

func startToy(t *testing.T) (*toyAPI, *httptest.Server) {
	t.Helper()
	api := &toyAPI{got: map[string]int{}}
	srv := httptest.NewUnstartedServer(api)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the planted panic
	srv.Start()
	t.Cleanup(srv.Close)
	return api, srv
}

func toyGenerator(t *testing.T, seed uint64) *Generator {
	t.Helper()
	routes, err := ParseOpenAPI([]byte(toyDoc))
	if err != nil {
		t.Fatal(err)
	}
	return newTestGenerator(t, Config{Seed: seed, Routes: routes, MaxBody: 256 << 10,
		Tokens: []Token{{Label: "acme", Value: "sp_acme", Tenant: "acme"}}, Names: []string{"globex-secret"}})
}

// TestRunnerFindsPlantedBugs: each planted bug is found, the healthy event
// stream is not, and the server got every target and body as generated.
func TestRunnerFindsPlantedBugs(t *testing.T) {
	api, srv := startToy(t)
	gen := toyGenerator(t, 21)
	r := &Runner{BaseURL: srv.URL, Gen: gen, Owners: Owners{"globex-secret": "globex"}, StreamFor: 50 * time.Millisecond, Timeout: 5 * time.Second}
	res, err := r.Run(t.Context(), 600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 600 {
		t.Fatalf("sent %d", res.Sent)
	}
	want := map[string]string{
		KindNoAnswer:    "/api/panic",
		KindRedirect:    "/api/redirect",
		KindNotProblem:  "/api/plain",
		KindCrossTenant: "/api/leak",
	}
	for kind, path := range want {
		n := 0
		for _, f := range res.Findings {
			if f.Kind == kind {
				// The server decodes the path: /api%2Fplain is /api/plain.
				if p, _ := url.PathUnescape(f.Path()); p != path {
					t.Errorf("%s at %s", kind, f.Target)
				}
				n++
			}
		}
		if n == 0 {
			t.Errorf("no %s found", kind)
		}
	}
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Target, "/api/events") {
			t.Errorf("the event stream: %s %s", f.Kind, f.Detail)
		}
	}
	for i := range 600 {
		req := gen.Request(i)
		n, ok := api.got[req.Target]
		if !ok {
			t.Errorf("request %d: the server never got %q", i, req.Target)
			continue
		}
		if n != len(req.Body) && len(api.got) == 600 {
			t.Errorf("request %d: the server got %d body bytes of %d", i, n, len(req.Body))
		}
	}
}

func TestRunnerKeepsToTheCreateBudget(t *testing.T) {
	api, srv := startToy(t)
	r := &Runner{BaseURL: srv.URL, Gen: toyGenerator(t, 4), Workers: 1, MaxCreates: 2, StreamFor: 10 * time.Millisecond}
	res, err := r.Run(t.Context(), 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 2 || api.stores != 2 || res.Skipped == 0 {
		t.Fatalf("created %v, the server made %d, skipped %d", res.Created, api.stores, res.Skipped)
	}
	if res.Sent+res.Skipped != 400 {
		t.Fatalf("sent %d + skipped %d", res.Sent, res.Skipped)
	}
}

func TestRunnerSendsOnlyTheIndicesAsked(t *testing.T) {
	api, srv := startToy(t)
	gen := toyGenerator(t, 5)
	r := &Runner{BaseURL: srv.URL, Gen: gen, StreamFor: 10 * time.Millisecond}
	res, err := r.Run(t.Context(), 1000, []int{17, 401})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2 || len(api.got) > 2 {
		t.Fatalf("sent %d, server got %v", res.Sent, api.got)
	}
	for _, i := range []int{17, 401} {
		if _, ok := api.got[gen.Request(i).Target]; !ok {
			t.Errorf("request %d not sent", i)
		}
	}
}
