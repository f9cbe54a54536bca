package fuzzhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Runner sends a Generator's requests and checks the answers.
type Runner struct {
	// BaseURL is the API's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	Gen     *Generator
	// Owners are the stores whose names must not reach other tenants;
	// the runner adds the stores that 2xx creates make.
	Owners Owners
	// Workers send requests in parallel (default 4).
	Workers int
	// Timeout bounds each request (default 20 s); StreamFor is how long an
	// event stream is read before the runner hangs up (default 300 ms).
	Timeout   time.Duration
	StreamFor time.Duration
	// MaxCreates is how many stores 2xx creates may make: a request that
	// could create one is skipped when the stores made and such requests in
	// flight reach it (0: no limit).
	MaxCreates int
	// Client sends the requests; by default one that follows no redirect
	// and asks for no compression.
	Client *http.Client
	// Progress, when set, is called every so many requests.
	Progress func(done, total int)
}

// Created is a store that a 2xx create answer made.
type Created struct {
	Name, Owner string
	Generation  int
	Index       int
}

// Result is what a run found.
type Result struct {
	Seed uint64
	// Sent counts requests sent; Skipped, those not sent because the
	// create budget was spent.
	Sent, Skipped int
	// ByClass counts answers by status class: "2xx", ..., "none".
	ByClass map[string]int
	// ByStatus counts answers by status.
	ByStatus map[int]int
	Findings []Finding
	Created  []Created
	Duration time.Duration
}

const maxResponseBody = 8 << 20

// Run sends requests 0..n-1 (or, when only is not empty, those), and
// returns when all are answered or ctx ends.
func (r *Runner) Run(ctx context.Context, n int, only []int) (*Result, error) {
	base, err := url.Parse(r.BaseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("fuzzhttp: base URL %q: %v", r.BaseURL, err)
	}
	x := &run{Runner: r, base: base, workers: r.Workers, timeout: r.Timeout, streamFor: r.StreamFor, client: r.Client,
		res: &Result{Seed: r.Gen.cfg.Seed, ByClass: map[string]int{}, ByStatus: map[int]int{}}, owners: maps.Clone(r.Owners)}
	if x.workers <= 0 {
		x.workers = 4
	}
	if x.timeout <= 0 {
		x.timeout = 20 * time.Second
	}
	if x.streamFor <= 0 {
		x.streamFor = 300 * time.Millisecond
	}
	if x.client == nil {
		x.client = &http.Client{
			Transport:     &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: x.workers},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if x.owners == nil {
		x.owners = Owners{}
	}
	indices := only
	if len(indices) == 0 {
		indices = make([]int, n)
		for i := range indices {
			indices[i] = i
		}
	}
	x.total = len(indices)
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range x.workers {
		wg.Go(func() {
			for i := range work {
				x.one(ctx, i)
			}
		})
	}
feed:
	for _, i := range indices {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	res := x.res
	res.Duration = time.Since(start)
	sort.Slice(res.Findings, func(i, j int) bool { return res.Findings[i].Index < res.Findings[j].Index })
	sort.Slice(res.Created, func(i, j int) bool { return res.Created[i].Index < res.Created[j].Index })
	return res, ctx.Err()
}

// run is one Run's settings with defaults and its shared state.
type run struct {
	*Runner
	base               *url.URL
	client             *http.Client
	workers            int
	timeout, streamFor time.Duration

	mu     sync.Mutex
	res    *Result
	owners Owners
	// creating counts the requests in flight that could create a store:
	// with the stores made, they may not pass MaxCreates.
	creating, done, total int
}

// one sends request i, unless it could create a store past the budget,
// and checks its answer.
func (x *run) one(ctx context.Context, i int) {
	req := x.Gen.Request(i)
	x.mu.Lock()
	if req.MayCreate && x.MaxCreates > 0 {
		if len(x.res.Created)+x.creating >= x.MaxCreates {
			x.res.Skipped++
			x.mu.Unlock()
			return
		}
		x.creating++
	}
	x.mu.Unlock()

	resp := send(ctx, x.client, x.base, req, x.timeout, x.streamFor)

	x.mu.Lock()
	defer x.mu.Unlock()
	if req.MayCreate && x.MaxCreates > 0 {
		x.creating--
	}
	res := x.res
	res.Sent++
	res.ByClass[class(resp)]++
	res.ByStatus[resp.Status]++
	if c, ok := createdBy(req, resp); ok && !madeBefore(res.Created, c) {
		c.Index = i
		res.Created = append(res.Created, c)
		x.owners[c.Name] = c.Owner
	}
	res.Findings = append(res.Findings, Check(req, resp, x.owners)...)
	x.done++
	if x.Progress != nil && x.done%500 == 0 {
		x.Progress(x.done, x.total)
	}
}

// send sends one request and reads its answer.
func send(ctx context.Context, client *http.Client, base *url.URL, req Request, timeout, streamFor time.Duration) Response {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	path, query, _ := strings.Cut(req.Target, "?")
	// Opaque sends the path byte for byte: Go would otherwise re-encode
	// it, and undo the encodings under test.
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Opaque: path, RawQuery: query}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
		if req.Chunked {
			body = io.MultiReader(body) // not a *bytes.Reader: no Content-Length
		}
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, base.String(), body)
	if err != nil {
		return Response{Err: err}
	}
	hr.URL = u
	hr.Header = req.Header.Clone()
	if req.Chunked {
		hr.ContentLength = -1
	}
	resp, err := client.Do(hr)
	if err != nil {
		return Response{Err: err}
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode, Header: resp.Header}
	streaming := false
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/event-stream" {
		streaming = true
		stop := time.AfterFunc(streamFor, cancel)
		defer stop.Stop()
	}
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil && !(streaming && errors.Is(err, context.Canceled)) {
		out.Err = fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)
	}
	return out
}

func class(resp Response) string {
	if resp.Err != nil && resp.Status == 0 {
		return "none"
	}
	return fmt.Sprintf("%dxx", resp.Status/100)
}

// createdBy reads the store a 2xx answer to a POST made: any such answer
// whose body is a store record (a create, or a path that should not have
// been one).
func createdBy(req Request, resp Response) (Created, bool) {
	if req.Method != http.MethodPost || resp.Status < 200 || resp.Status >= 300 {
		return Created{}, false
	}
	var rec struct {
		Name       string `json:"name"`
		Owner      string `json:"owner"`
		Generation int    `json:"generation"`
	}
	if json.Unmarshal(resp.Body, &rec) != nil || rec.Name == "" || rec.Owner == "" || rec.Generation == 0 {
		return Created{}, false
	}
	return Created{Name: rec.Name, Owner: rec.Owner, Generation: rec.Generation}, true
}

// madeBefore reports whether c is a store already counted: a create
// repeated with the same spec answers with the same record.
func madeBefore(made []Created, c Created) bool {
	for _, m := range made {
		if m.Name == c.Name && m.Generation == c.Generation {
			return true
		}
	}
	return false
}
