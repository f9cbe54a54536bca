package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/logctx"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	requestIDKey
	logStateKey
)

// logState lets inner handlers add the tenant to the request's log line.
type logState struct{ tenant string }

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes flushes through, for streamed responses.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests gives every request an ID (returned as X-Request-ID) and logs
// one line per request: method, route, status, duration, tenant. It never
// logs headers or bodies, so tokens and passwords stay out of the logs.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(requestIDKey) != nil {
			next.ServeHTTP(w, r)
			return
		}
		b := make([]byte, 8)
		_, _ = rand.Read(b) // crypto/rand.Read never fails: it ends the program instead
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-ID", id)
		ls := &logState{}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), logStateKey, ls)
		ctx = logctx.With(ctx, s.o.Logger.With("request_id", id))
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(ctx))
		// Unmatched paths share one label: arbitrary paths must not grow the
		// metrics without bound.
		route := "(unmatched)"
		if m := mux.CurrentRoute(r); m != nil {
			if tpl, err := m.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		s.metrics.observe(route, r.Method, rec.status, time.Since(start))
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.o.Logger.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)), slog.String("tenant", ls.tenant))
	})
}

// authenticate requires a valid bearer token and puts its principal in the
// request's context.
func (s *server) authenticate(next http.Handler) http.Handler {
	return s.authenticateLimited(next, false)
}

// authenticateLimited is authenticate, with admins' tokens exempt from the
// rate limit or not: the codec endpoint is called once per event of a
// history by the Temporal CLI and Web UI, which do not retry a 429, and
// answers admins only (other tokens stay limited there).
func (s *server) authenticateLimited(next http.Handler, adminsExempt bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			s.unauthorized(w, r, "send Authorization: Bearer <token>")
			return
		}
		p, err := s.o.Tokens.Verify(r.Context(), strings.TrimSpace(token))
		if errors.Is(err, auth.ErrInvalidToken) {
			s.unauthorized(w, r, "the token is invalid or revoked")
			return
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		if ls, ok := r.Context().Value(logStateKey).(*logState); ok {
			ls.tenant = p.Tenant
		}
		if !adminsExempt || p.Role != auth.RoleAdmin {
			if wait, ok := s.limits.allow(p.ID); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				fail(w, r, newProblem(ProblemRateLimited, "this token sent too many requests; retry after the time in Retry-After"))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

func principal(r *http.Request) auth.Token {
	p, _ := r.Context().Value(principalKey).(auth.Token)
	return p
}

// requestLogger is the request's logger, which logRequests puts in its
// context with the request's ID; the default logger outside a request.
func requestLogger(ctx context.Context) *slog.Logger { return logctx.From(ctx, slog.Default()) }

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

func (s *server) unauthorized(w http.ResponseWriter, r *http.Request, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="storeplatform"`)
	fail(w, r, newProblem(ProblemUnauthorized, detail))
}

// limits holds one token bucket per token. A bucket left alone long
// enough to refill completely is the same as a new one, so such buckets are
// dropped: the map holds only the tokens seen within one refill time, not
// every token ever seen.
type limits struct {
	mu        sync.Mutex
	perSec    float64
	burst     int
	now       func() time.Time
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time // the last request
}

// sweepAbove is the number of buckets above which allow looks for full ones
// (at most once per refill time).
const sweepAbove = 1024

func newLimits(perSec float64, burst int, now func() time.Time) *limits {
	return &limits{perSec: perSec, burst: burst, now: now, buckets: map[string]*bucket{}}
}

// refill is how long an empty bucket takes to fill up.
func (l *limits) refill() time.Duration {
	if l.perSec <= 0 {
		return time.Hour
	}
	return time.Duration(float64(l.burst) / l.perSec * float64(time.Second))
}

// allow takes one request from id's bucket; when it is empty it returns how
// long until a request would be allowed.
func (l *limits) allow(id string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	if len(l.buckets) > sweepAbove && now.Sub(l.lastSweep) >= l.refill() {
		l.sweep(now)
	}
	b, ok := l.buckets[id]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.perSec), l.burst)}
		l.buckets[id] = b
	}
	b.last = now
	res := b.lim.ReserveN(now, 1)
	l.mu.Unlock()
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep drops the buckets that have refilled completely since their last
// request. l.mu is held.
func (l *limits) sweep(now time.Time) {
	full := l.refill()
	for id, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, id)
		}
	}
	l.lastSweep = now
}

// size is the number of buckets held.
func (l *limits) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
