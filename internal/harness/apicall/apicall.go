// Package apicall sends one request to the platform's HTTP API as the
// suites that drive it from outside (make chaos, make bench) do: a bearer
// token, a JSON body, the answer read up to a limit and timed.
package apicall

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Answer is one HTTP answer and how long it took.
type Answer struct {
	Status  int
	Body    []byte
	Header  http.Header
	Elapsed time.Duration
}

// Send sends method url with token as bearer and body (nil: none) as
// JSON, and reads at most limit bytes of the answer. err is a failure to
// get an answer (Status 0), or to read it (then Answer holds what was
// read).
func Send(ctx context.Context, hc *http.Client, token, method, url string, body any, limit int64) (Answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return Answer{Status: resp.StatusCode, Body: data, Header: resp.Header, Elapsed: time.Since(t0)}, err
}
