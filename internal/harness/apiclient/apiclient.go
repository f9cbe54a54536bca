// Package apiclient is the one client of the platform's HTTP API that the
// suites driving it from outside (make chaos, make bench) use: a bearer
// token and a JSON body a request, each answer timed and its status kept
// (so that a 5xx anywhere is seen), a 429 waited out as its Retry-After
// says.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Client sends requests to one API.
type Client struct {
	base  string
	hc    *http.Client
	limit int64

	mu       sync.Mutex
	statuses map[int]int
	// bad describes each 5xx, and each error answer that is not
	// application/problem+json.
	bad []string
}

// Options change a Client.
type Options struct {
	// Timeout bounds one request (default 90 s).
	Timeout time.Duration
	// MaxIdleConns is how many idle connections are kept for the API
	// (default: net/http's 2): a load of many requests at once wants more.
	MaxIdleConns int
	// Limit is how much of an answer is read (default 1 MiB).
	Limit int64
}

// New returns a client of the API at base (http://host:port).
func New(base string, o Options) *Client {
	if o.Timeout == 0 {
		o.Timeout = 90 * time.Second
	}
	if o.Limit == 0 {
		o.Limit = 1 << 20
	}
	hc := &http.Client{Timeout: o.Timeout}
	if o.MaxIdleConns > 0 {
		hc.Transport = &http.Transport{MaxIdleConns: o.MaxIdleConns, MaxIdleConnsPerHost: o.MaxIdleConns, IdleConnTimeout: time.Minute}
	}
	return &Client{base: base, hc: hc, limit: o.Limit, statuses: map[int]int{}}
}

// Answer is one HTTP answer and how long it took.
type Answer struct {
	Status  int
	Body    []byte
	Header  http.Header
	Elapsed time.Duration
	// RetryAfter is the Retry-After header in seconds (0: none).
	RetryAfter int
	// ContentType is the Content-Type header.
	ContentType string
}

// Raw is a request body sent as it is (a test's own JSON, or not JSON at
// all); an empty Raw sends no body.
type Raw string

// encode is body as the request's: nil for none, Raw as it is, anything
// else as JSON.
func encode(body any) (io.Reader, error) {
	switch b := body.(type) {
	case nil:
		return nil, nil
	case Raw:
		if b == "" {
			return nil, nil
		}
		return strings.NewReader(string(b)), nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// send sends method path with token as bearer and body (see encode) as
// JSON, and reads at most c.limit bytes of the answer. err is a failure to
// get an answer (Status 0), or to read it (then the Answer holds what was
// read).
func (c *Client) send(ctx context.Context, token, method, path string, body any) (Answer, error) {
	rd, err := encode(body)
	if err != nil {
		return Answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.limit))
	a := Answer{Status: resp.StatusCode, Body: data, Header: resp.Header, Elapsed: time.Since(t0), ContentType: resp.Header.Get("Content-Type")}
	a.RetryAfter, _ = strconv.Atoi(resp.Header.Get("Retry-After")) // absent or a date: 0
	return a, err
}

// Once sends one request and records its answer; err is a transport error
// (no answer).
func (c *Client) Once(ctx context.Context, token, method, path string, body any) (Answer, error) {
	a, err := c.send(ctx, token, method, path, body)
	if a.Status == 0 { // no answer (a read error after the status still counts as one)
		c.record(0, method+" "+path+": no answer: "+err.Error())
		return Answer{}, err
	}
	var note string
	switch {
	case a.Status >= 500:
		note = fmt.Sprintf("%s %s: %d %s after %s: %.300s", method, path, a.Status, a.ContentType, a.Elapsed.Round(time.Millisecond), strings.TrimSpace(string(a.Body)))
	case a.Status >= 400 && !strings.HasPrefix(a.ContentType, "application/problem+json"):
		note = fmt.Sprintf("%s %s: %d with Content-Type %q, not problem+json", method, path, a.Status, a.ContentType)
	}
	c.record(a.Status, note)
	return a, nil
}

func (c *Client) record(status int, note string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses[status]++
	if note != "" {
		c.bad = append(c.bad, note)
	}
}

// attempts is how many times Do sends a request that gets 429s.
const attempts = 100

// Do sends a request until it gets an answer other than 429, waiting as
// Retry-After says (at least a second), and retrying a request that got no
// answer up to 5 times.
func (c *Client) Do(ctx context.Context, token, method, path string, body any) (Answer, error) {
	var lastErr error
	for attempt := 0; attempt < attempts; attempt++ {
		a, err := c.Once(ctx, token, method, path, body)
		switch {
		case err != nil:
			lastErr = err
			if ctx.Err() != nil || attempt >= 5 {
				return a, err
			}
			Sleep(ctx, time.Second)
		case a.Status == http.StatusTooManyRequests:
			lastErr = fmt.Errorf("%s %s: 429", method, path)
			Sleep(ctx, time.Duration(max(a.RetryAfter, 1))*time.Second)
		default:
			return a, nil
		}
	}
	return Answer{}, fmt.Errorf("%s %s: gave up: %v", method, path, lastErr)
}

// TakeStats returns the statuses and bad answers since the last call, and
// starts counting afresh.
func (c *Client) TakeStats() (map[int]int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, b := c.statuses, c.bad
	c.statuses, c.bad = map[int]int{}, nil
	return s, b
}

// StatusSummary is "202×50 409×3" in the order of the statuses, with
// "no answer" for requests that got none (status 0).
func StatusSummary(s map[int]int) string {
	var codes []int
	for k := range s {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	var parts []string
	for _, k := range codes {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, s[k]))
	}
	return strings.Join(parts, " ")
}

// CreateStore asks for a small WooCommerce store named name, its title
// and admin e-mail saying who asked (e.g. "Chaos").
func (c *Client) CreateStore(ctx context.Context, token, who, name string) (Answer, error) {
	return c.Do(ctx, token, http.MethodPost, "/api/stores", map[string]any{
		"name": name, "engine": store.EngineWooCommerce, "title": who + " " + name, "adminEmail": strings.ToLower(who) + "@example.com"})
}

// DeleteStore asks for a store's deletion; an answer other than 200 or
// 202 is an error.
func (c *Client) DeleteStore(ctx context.Context, token, name string) error {
	a, err := c.Do(ctx, token, http.MethodDelete, "/api/stores/"+name, nil)
	if err == nil && a.Status != http.StatusAccepted && a.Status != http.StatusOK {
		err = fmt.Errorf("DELETE /api/stores/%s: %d %.300s", name, a.Status, a.Body)
	}
	return err
}

// GetStore reads one store's record.
func (c *Client) GetStore(ctx context.Context, token, name string) (store.Record, error) {
	a, err := c.Do(ctx, token, http.MethodGet, "/api/stores/"+name, nil)
	if err != nil {
		return store.Record{}, err
	}
	if a.Status != http.StatusOK {
		return store.Record{}, fmt.Errorf("GET /api/stores/%s: %d %.300s", name, a.Status, a.Body)
	}
	var rec store.Record
	err = json.Unmarshal(a.Body, &rec)
	return rec, err
}

// List reads every page of the stores the token sees, in phase status
// ("" for every phase but deleted), 100 a page.
func (c *Client) List(ctx context.Context, token, status string) ([]store.Record, error) {
	var out []store.Record
	cursor := ""
	for {
		page, err := c.listPage(ctx, token, status, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

// page is one page of GET /api/stores.
type page struct {
	Items      []store.Record `json:"items"`
	NextCursor string         `json:"nextCursor"`
}

// listPage reads the page of stores after cursor.
func (c *Client) listPage(ctx context.Context, token, status, cursor string) (page, error) {
	q := url.Values{"limit": {"100"}}
	if status != "" {
		q.Set("status", status)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var p page
	a, err := c.Do(ctx, token, http.MethodGet, "/api/stores?"+q.Encode(), nil)
	if err != nil {
		return p, err
	}
	if a.Status != http.StatusOK {
		return p, fmt.Errorf("GET /api/stores: %d %.300s", a.Status, a.Body)
	}
	return p, json.Unmarshal(a.Body, &p)
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
