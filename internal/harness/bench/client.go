package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/apicall"
	"github.com/storeplatform/storeplatform/internal/store"
)

// apiClient sends the harness's requests to the platform's HTTP API.
type apiClient struct {
	base string
	hc   *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, hc: &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{
		MaxIdleConns: 200, MaxIdleConnsPerHost: 200, IdleConnTimeout: time.Minute,
	}}}
}

// answer is one HTTP answer and how long it took.
type answer struct {
	status  int
	body    []byte
	elapsed time.Duration
}

// once sends one request.
func (c *apiClient) once(ctx context.Context, token, method, path string, body any) (answer, error) {
	a, err := apicall.Send(ctx, c.hc, token, method, c.base+path, body, 16<<20)
	return answer{status: a.Status, body: a.Body, elapsed: a.Elapsed}, err
}

// do sends a request until its answer is not 429, waiting as Retry-After
// says; a request that got no answer is sent again a few times.
func (c *apiClient) do(ctx context.Context, token, method, path string, body any) (answer, error) {
	var lastErr error
	for attempt := 0; attempt < 100; attempt++ {
		a, err := c.once(ctx, token, method, path, body)
		switch {
		case err != nil:
			lastErr = err
			if ctx.Err() != nil || attempt >= 5 {
				return a, err
			}
			sleep(ctx, time.Second)
		case a.status == http.StatusTooManyRequests:
			lastErr = fmt.Errorf("%s %s: 429", method, path)
			sleep(ctx, time.Second)
		default:
			return a, nil
		}
	}
	return answer{}, fmt.Errorf("%s %s: gave up: %v", method, path, lastErr)
}

// createStore asks for a small WooCommerce store.
func (c *apiClient) createStore(ctx context.Context, token, name string) (answer, error) {
	a, err := c.do(ctx, token, http.MethodPost, "/api/stores", map[string]any{
		"name": name, "engine": store.EngineWooCommerce, "title": "Bench " + name, "adminEmail": "bench@example.com"})
	if err == nil && a.status != http.StatusAccepted && a.status != http.StatusOK && a.status != http.StatusCreated {
		err = fmt.Errorf("POST /api/stores %s: %d %.300s", name, a.status, a.body)
	}
	return a, err
}

// deleteStore asks for a store's deletion.
func (c *apiClient) deleteStore(ctx context.Context, token, name string) error {
	a, err := c.do(ctx, token, http.MethodDelete, "/api/stores/"+name, nil)
	if err == nil && a.status != http.StatusAccepted && a.status != http.StatusOK {
		err = fmt.Errorf("DELETE /api/stores/%s: %d %.300s", name, a.status, a.body)
	}
	return err
}

// getStore reads one store's record.
func (c *apiClient) getStore(ctx context.Context, token, name string) (store.Record, error) {
	a, err := c.do(ctx, token, http.MethodGet, "/api/stores/"+name, nil)
	if err != nil {
		return store.Record{}, err
	}
	if a.status != http.StatusOK {
		return store.Record{}, fmt.Errorf("GET /api/stores/%s: %d %.300s", name, a.status, a.body)
	}
	var rec store.Record
	err = json.Unmarshal(a.body, &rec)
	return rec, err
}

// list reads every page of the stores the token sees, in phase status
// ("" for every phase but deleted), 100 a page.
func (c *apiClient) list(ctx context.Context, token, status string) ([]store.Record, error) {
	var out []store.Record
	cursor := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(100)}}
		if status != "" {
			q.Set("status", status)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		a, err := c.do(ctx, token, http.MethodGet, "/api/stores?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		if a.status != http.StatusOK {
			return nil, fmt.Errorf("GET /api/stores: %d %.300s", a.status, a.body)
		}
		var page struct {
			Items      []store.Record `json:"items"`
			NextCursor string         `json:"nextCursor"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
