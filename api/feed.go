package api

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storeplatform/storeplatform/internal/store"
)

// changeFeed reads the store records' changes once per tick for every
// open event stream of the server, instead of a query per stream: 50 open
// dashboards cost the database what one does. It runs while a stream is
// open and stops at the first tick without one.
type changeFeed struct {
	changed func(context.Context, store.ChangeQuery) ([]store.Record, error)
	every   time.Duration
	now     func() time.Time
	logger  *slog.Logger

	mu      sync.Mutex
	subs    map[*feedSub]struct{}
	since   time.Time
	running bool
}

// feedSub is one stream's subscription: every tick's changes (possibly
// none, which is the stream's cue to look at its workflow's progress). A
// stream that did not keep up is marked lagged and reads what it missed
// itself.
type feedSub struct {
	batches chan []store.Record
	lagged  atomic.Bool
}

// feedLookBack is how far before its start the feed reads: a record may be
// stamped (by its workflow) a moment before it is written.
const feedLookBack = 5 * time.Second

func newChangeFeed(changed func(context.Context, store.ChangeQuery) ([]store.Record, error), every time.Duration, now func() time.Time, logger *slog.Logger) *changeFeed {
	return &changeFeed{changed: changed, every: every, now: now, logger: logger, subs: map[*feedSub]struct{}{}}
}

// subscribe adds a stream; the returned func removes it.
func (f *changeFeed) subscribe() (*feedSub, func()) {
	sub := &feedSub{batches: make(chan []store.Record, 8)}
	f.mu.Lock()
	f.subs[sub] = struct{}{}
	if !f.running {
		f.running = true
		f.since = f.now().Add(-feedLookBack)
		go f.run()
	}
	f.mu.Unlock()
	return sub, func() {
		f.mu.Lock()
		delete(f.subs, sub)
		f.mu.Unlock()
	}
}

func (f *changeFeed) run() {
	t := time.NewTicker(f.every)
	defer t.Stop()
	for range t.C {
		f.mu.Lock()
		if len(f.subs) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		since := f.since
		f.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		recs, err := f.changed(ctx, store.ChangeQuery{Since: since})
		cancel()
		if err != nil {
			f.logger.Warn("event streams: reading changes", "error", err.Error())
			recs = nil
		}

		f.mu.Lock()
		for _, r := range recs {
			if r.UpdatedAt.After(f.since) {
				f.since = r.UpdatedAt
			}
		}
		for sub := range f.subs {
			select {
			case sub.batches <- recs:
			default:
				sub.lagged.Store(true)
			}
		}
		f.mu.Unlock()
	}
}
