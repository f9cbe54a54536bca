package apiclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
)

// TestDoWaitsOutA429: Do sends the request again after a 429 (as its
// Retry-After says, at least a second), returns the answer after it, and
// every answer is counted; a 5xx and an error answer that is not
// problem+json are noted.
func TestDoWaitsOutA429(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"name":"a"}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, Options{})
	a, err := c.Do(t.Context(), "tok", http.MethodPost, "/api/stores", map[string]string{"name": "a"})
	if err != nil || a.Status != http.StatusAccepted || string(a.Body) != `{"name":"a"}` {
		t.Fatalf("Do = %d %q %v, want 202 and the body", a.Status, a.Body, err)
	}
	if _, err := c.Once(t.Context(), "tok", http.MethodGet, "/x", nil); err != nil {
		t.Fatal(err)
	}
	statuses, bad := c.TakeStats()
	if got := StatusSummary(statuses); got != "202×1 429×1 500×1" {
		t.Errorf("statuses %q", got)
	}
	if len(bad) != 1 {
		t.Errorf("bad answers %q, want the 500", bad)
	}
	if s, b := c.TakeStats(); len(s) != 0 || len(b) != 0 {
		t.Errorf("TakeStats did not start afresh: %v %v", s, b)
	}
}

// TestBodies: nil and an empty Raw send no body and no Content-Type; Raw
// is sent as it is; anything else as JSON.
func TestBodies(t *testing.T) {
	type seen struct{ body, contentType, auth string }
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{string(b), r.Header.Get("Content-Type"), r.Header.Get("Authorization")})
	}))
	defer srv.Close()
	c := New(srv.URL, Options{})
	for _, body := range []any{nil, Raw(""), Raw("{not json"), map[string]int{"n": 1}} {
		if _, err := c.Once(t.Context(), "tok", http.MethodPost, "/", body); err != nil {
			t.Fatal(err)
		}
	}
	want := []seen{{"", "", "Bearer tok"}, {"", "", "Bearer tok"}, {"{not json", "application/json", "Bearer tok"}, {`{"n":1}`, "application/json", "Bearer tok"}}
	if !slices.Equal(got, want) {
		t.Fatalf("the server saw %q, want %q", got, want)
	}
}
