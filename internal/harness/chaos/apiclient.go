package chaos

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/apicall"
)

// apiClient sends the scenarios' requests to the platform's HTTP API and
// keeps every answer's status, so that a 5xx anywhere is seen.
type apiClient struct {
	base string
	hc   *http.Client

	mu       sync.Mutex
	statuses map[int]int
	// bad describes each 5xx, and each error answer that is not
	// application/problem+json.
	bad []string
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, hc: &http.Client{Timeout: 90 * time.Second}, statuses: map[int]int{}}
}

// answer is one HTTP answer.
type answer struct {
	status  int
	body    []byte
	elapsed time.Duration
	// retryAfter is the Retry-After header in seconds (0: none).
	retryAfter int
	ct         string // Content-Type
}

// once sends one request and records its answer; err is a transport error
// (no answer).
func (c *apiClient) once(ctx context.Context, token, method, path string, body any) (answer, error) {
	r, err := apicall.Send(ctx, c.hc, token, method, c.base+path, body, 1<<20)
	if r.Status == 0 { // no answer (a read error after the status still counts as one)
		c.record(0, method+" "+path+": no answer: "+err.Error())
		return answer{}, err
	}
	a := answer{status: r.Status, body: r.Body, elapsed: r.Elapsed, ct: r.Header.Get("Content-Type")}
	a.retryAfter, _ = strconv.Atoi(r.Header.Get("Retry-After"))
	var note string
	ct := a.ct
	switch {
	case a.status >= 500:
		note = fmt.Sprintf("%s %s: %d %s after %s: %.300s", method, path, a.status, ct, a.elapsed.Round(time.Millisecond), strings.TrimSpace(string(a.body)))
	case a.status >= 400 && !strings.HasPrefix(ct, "application/problem+json"):
		note = fmt.Sprintf("%s %s: %d with Content-Type %q, not problem+json", method, path, a.status, ct)
	}
	c.record(a.status, note)
	return a, nil
}

func (c *apiClient) record(status int, note string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses[status]++
	if note != "" {
		c.bad = append(c.bad, note)
	}
}

// do sends a request until it gets an answer other than 429, waiting as
// Retry-After says, and retrying a request that got no answer a few times.
func (c *apiClient) do(ctx context.Context, token, method, path string, body any) (answer, error) {
	var lastErr error
	for attempt := 0; attempt < 60; attempt++ {
		a, err := c.once(ctx, token, method, path, body)
		switch {
		case err != nil:
			lastErr = err
			if ctx.Err() != nil || attempt >= 5 {
				return a, err
			}
			sleep(ctx, time.Second)
		case a.status == http.StatusTooManyRequests:
			sleep(ctx, time.Duration(max(a.retryAfter, 1))*time.Second)
		default:
			return a, nil
		}
	}
	return answer{}, fmt.Errorf("%s %s: gave up: %v", method, path, lastErr)
}

// takeStats returns the statuses and bad answers since the last call, and
// starts counting afresh.
func (c *apiClient) takeStats() (map[int]int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, b := c.statuses, c.bad
	c.statuses, c.bad = map[int]int{}, nil
	return s, b
}

// statusSummary is "202×50 409×3" in the order of the statuses.
func statusSummary(s map[int]int) string {
	var codes []int
	for k := range s {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	var parts []string
	for _, k := range codes {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "no-answer"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, s[k]))
	}
	return strings.Join(parts, " ")
}

// createStore asks for a WooCommerce store.
func (c *apiClient) createStore(ctx context.Context, token, name string) (answer, error) {
	return c.do(ctx, token, http.MethodPost, "/api/stores", map[string]any{
		"name": name, "engine": "woocommerce", "title": "Chaos " + name, "adminEmail": "chaos@example.com"})
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
