package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/storeplatform/storeplatform/internal/service"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// Default caps of the event streams (Options.MaxStreamsPerToken and
// Options.MaxStreams).
const (
	defaultStreamsPerToken = 8
	defaultStreams         = 1000
)

// Retry-After of a refused stream, in seconds: a token's streams end when
// its clients close them, a full process's when any client does.
const (
	streamRetryToken   = "30"
	streamRetryProcess = "10"
)

// streamSlots counts the open event streams, per token and in all: each
// holds a goroutine, a subscription to the feed and possibly a share of a
// workflow query, so neither one token nor all of them may open any
// number.
type streamSlots struct {
	perToken, total int

	mu   sync.Mutex
	open map[string]int // token ID -> open streams
	n    int
}

func newStreamSlots(perToken, total int) *streamSlots {
	return &streamSlots{perToken: perToken, total: total, open: map[string]int{}}
}

// acquire takes a slot for the token, or returns the problem that refuses
// it; release gives the slot back.
func (l *streamSlots) acquire(token string) (release func(), p *Problem) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open[token] >= l.perToken:
		return nil, newProblem(ProblemRateLimited, "this token has "+strconv.Itoa(l.perToken)+" event streams open, the most it may; close one, or retry after the time in Retry-After")
	case l.n >= l.total:
		return nil, newProblem(ProblemUnavailable, "the API serves as many event streams as it may; retry after the time in Retry-After")
	}
	l.open[token]++
	l.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.open[token]--; l.open[token] <= 0 {
				delete(l.open, token)
			}
			l.n--
		})
	}, nil
}

// limitStreams serves next, an event stream behind authenticate, only
// when the caller's token and the process have a stream to spare: 429 (the
// token's) or 503 (the process's) with Retry-After otherwise.
func (s *server) limitStreams(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		release, p := s.streams.acquire(principal(r).ID)
		if p != nil {
			retry := streamRetryToken
			if p.Type == ProblemUnavailable {
				retry = streamRetryProcess
			}
			w.Header().Set("Retry-After", retry)
			fail(w, r, p)
			return
		}
		defer release()
		next(w, r)
	}
}

// progressCache shares the progress of each workflow among the streams
// that show it: one query per workflow and tick, however many streams
// watch the store, and none at all, after the first, of a workflow that
// has closed (a query of a closed workflow replays its whole history on a
// worker).
type progressCache struct {
	query    func(ctx context.Context, workflowID string) (*workflows.Progress, error)
	describe func(ctx context.Context, workflowID string) (closed bool, err error)
	ttl      time.Duration
	now      func() time.Time

	mu       sync.Mutex
	entries  map[string]*progressEntry
	inFlight map[string]chan struct{}
}

// progressEntry is a workflow's progress as last read, for a version of
// its store's record.
type progressEntry struct {
	at       time.Time
	progress *workflows.Progress
	// closed holds while the record is the one (stamp and phase) with
	// which the workflow was seen closed: a retry that starts the workflow
	// again changes the record.
	closed      bool
	recordAt    time.Time
	recordPhase store.Phase
}

// progressEntriesSwept is the number of entries above which a miss drops
// the stale ones.
const progressEntriesSwept = 1024

func newProgressCache(query func(context.Context, string) (*workflows.Progress, error), describe func(context.Context, string) (bool, error), ttl time.Duration, now func() time.Time) *progressCache {
	return &progressCache{query: query, describe: describe, ttl: ttl, now: now,
		entries: map[string]*progressEntry{}, inFlight: map[string]chan struct{}{}}
}

// mayHaveClosed reports whether a workflow may have closed while its
// store's record is in phase p: a failed creation waits for a retry only
// for a while, and an operation or deletion that gave up leaves its
// phase behind. In the other phases the record says the workflow runs.
func mayHaveClosed(p store.Phase) bool { return p.AwaitsOperator() }

// get returns the progress of rec's workflow (nil when none is known),
// reading it only when no stream did within the TTL, and once for all the
// streams that ask at the same time.
func (c *progressCache) get(ctx context.Context, rec store.Record) *workflows.Progress {
	id := service.ActiveWorkflowID(rec)
	if id == "" {
		return nil
	}
	for {
		c.mu.Lock()
		if e := c.entries[id]; e != nil && (c.now().Sub(e.at) < c.ttl ||
			(e.closed && e.recordAt.Equal(rec.UpdatedAt) && e.recordPhase == rec.Phase)) {
			c.mu.Unlock()
			return e.progress
		}
		wait, busy := c.inFlight[id]
		if !busy {
			done := make(chan struct{})
			c.inFlight[id] = done
			c.mu.Unlock()
			e := c.fetch(ctx, id, rec)
			c.mu.Lock()
			c.entries[id] = e
			delete(c.inFlight, id)
			c.sweep()
			c.mu.Unlock()
			close(done)
			return e.progress
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil
		}
	}
}

// fetch reads the workflow's progress, on a context of its own: the
// streams waiting for it must not fail with the one that asked.
func (c *progressCache) fetch(ctx context.Context, id string, rec store.Record) *progressEntry {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	e := &progressEntry{at: c.now(), recordAt: rec.UpdatedAt, recordPhase: rec.Phase}
	if mayHaveClosed(rec.Phase) {
		if closed, err := c.describe(ctx, id); err == nil {
			e.closed = closed
		}
	}
	if p, err := c.query(ctx, id); err == nil {
		e.progress = p
	}
	return e
}

// sweep drops the entries older than a minute once there are many.
// c.mu is held.
func (c *progressCache) sweep() {
	if len(c.entries) <= progressEntriesSwept {
		return
	}
	for id, e := range c.entries {
		if c.now().Sub(e.at) >= time.Minute {
			delete(c.entries, id)
		}
	}
}

// progressOf is the progress an event stream shows for rec.
func (s *server) progressOf(ctx context.Context, rec store.Record) *workflows.Progress {
	return s.progressCache.get(ctx, rec)
}
