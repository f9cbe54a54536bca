package api

import (
	"context"
	"encoding/json"
	"hash/fnv"
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
//
// A record's updated_at is stamped by its workflow (workflow time) and
// written later by an activity, so a write may commit after a later-stamped
// write of another store. Each read therefore looks back before the latest
// stamp seen (lookBack on every tick, longLookBack every longEvery ticks)
// and sends only the versions it has not sent: a late write is sent when it
// commits, an old one is not sent again.
//
// The feed also keeps the phase of every record, for GET /metrics: it is
// filled by one full read the first time it is needed, then kept up by the
// reads above.
type changeFeed struct {
	changed func(context.Context, store.ChangeQuery) ([]store.Record, error)
	every   time.Duration
	now     func() time.Time
	logger  *slog.Logger
	// lookBack covers a write that commits within one attempt of the
	// activity that writes it (its StartToCloseTimeout, 10 s by default);
	// longLookBack covers its retries too (the short activities'
	// ScheduleToCloseTimeout, 5 min by default), read less often because a
	// burst of creates makes that window hold hundreds of records.
	lookBack, longLookBack time.Duration
	longEvery              int

	// pollMu makes one read at a time: the ticker's or a scrape's.
	pollMu sync.Mutex

	mu      sync.Mutex
	subs    map[*feedSub]struct{}
	running bool
	// known is every record's last version seen, by name, once loaded.
	known    map[string]feedEntry
	loaded   bool
	cursor   time.Time // the latest updated_at read
	polls    int
	lastPoll time.Time
}

// feedEntry is the version of a record the feed last read.
type feedEntry struct {
	version uint64
	phase   store.Phase
}

// feedSub is one stream's subscription: every tick's changes (possibly
// none, which is the stream's cue to look at its workflow's progress). A
// stream that did not keep up is marked lagged and reads what it missed
// itself.
type feedSub struct {
	batches chan []store.Record
	lagged  atomic.Bool
}

// Look-back windows of the feed's reads (see changeFeed).
const (
	feedLookBack     = 15 * time.Second
	feedLongLookBack = 5 * time.Minute
	feedLongEvery    = 30
)

func newChangeFeed(changed func(context.Context, store.ChangeQuery) ([]store.Record, error), every time.Duration, now func() time.Time, logger *slog.Logger) *changeFeed {
	return &changeFeed{changed: changed, every: every, now: now, logger: logger, subs: map[*feedSub]struct{}{},
		lookBack: feedLookBack, longLookBack: feedLongLookBack, longEvery: feedLongEvery, known: map[string]feedEntry{}}
}

// recordVersion identifies one version of a record: two reads of the same
// write give the same value, two writes (even stamped alike) do not.
func recordVersion(r store.Record) uint64 {
	data, _ := json.Marshal(r)
	h := fnv.New64a()
	_, _ = h.Write(data) // a hash.Hash's Write never fails
	return h.Sum64()
}

// subscribe adds a stream; the returned func removes it. The feed's first
// read of all records is made here, before the stream's own first read, so
// that what commits after that read is sent by the feed's next ones.
func (f *changeFeed) subscribe(ctx context.Context) (*feedSub, func()) {
	sub := &feedSub{batches: make(chan []store.Record, 8)}
	f.mu.Lock()
	f.subs[sub] = struct{}{}
	if !f.running {
		f.running = true
		go f.run()
	}
	loaded := f.loaded
	f.mu.Unlock()
	if !loaded {
		if err := f.poll(ctx, time.Hour); err != nil && ctx.Err() == nil {
			f.logger.Warn("event streams: reading the records", "error", err.Error())
		}
	}
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
		f.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := f.poll(ctx, 0); err != nil {
			f.logger.Warn("event streams: reading changes", "error", err.Error())
		}
		cancel()
	}
}

// poll reads the changes, unless the last read is younger than fresh, and
// sends the versions not sent before to every stream (an empty batch when
// there are none, or the read failed).
func (f *changeFeed) poll(ctx context.Context, fresh time.Duration) error {
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	f.mu.Lock()
	if fresh > 0 && f.loaded && f.now().Sub(f.lastPoll) < fresh {
		f.mu.Unlock()
		return nil
	}
	loaded, since, lb := f.loaded, f.cursor, f.lookBack
	if f.polls%f.longEvery == 0 {
		lb = f.longLookBack
	}
	f.polls++
	f.mu.Unlock()

	now := f.now()
	if since.After(now) {
		since = now // a stamp from a clock ahead of ours must not hide writes
	}
	if loaded {
		since = since.Add(-lb)
	} else {
		since = time.Time{} // the first read: every record
	}
	recs, err := f.readSince(ctx, since)

	f.mu.Lock()
	defer f.mu.Unlock()
	var batch []store.Record
	for _, r := range recs {
		v := recordVersion(r)
		if old, ok := f.known[r.Name]; ok && old.version == v {
			continue
		}
		f.known[r.Name] = feedEntry{version: v, phase: r.Phase}
		if r.UpdatedAt.After(f.cursor) {
			f.cursor = r.UpdatedAt
		}
		// The first read (subscribe makes it before a stream's own first
		// read) sends nothing: the streams' own reads hold it.
		if loaded {
			batch = append(batch, r)
		}
	}
	if err == nil {
		f.loaded, f.lastPoll = true, now
	}
	for sub := range f.subs {
		select {
		case sub.batches <- batch:
		default:
			sub.lagged.Store(true)
		}
	}
	return err
}

// readSince reads every record changed after since, page by page.
func (f *changeFeed) readSince(ctx context.Context, since time.Time) ([]store.Record, error) {
	var out []store.Record
	for {
		recs, err := f.changed(ctx, store.ChangeQuery{Since: since})
		out = append(out, recs...)
		if err != nil || len(recs) < store.ChangedLimit {
			return out, err
		}
		last := recs[len(recs)-1].UpdatedAt
		if !last.After(since) {
			return out, nil // a page of one stamp: the next read's look-back gets the rest
		}
		since = last
	}
}

// phases counts the records by phase from what the feed read, reading the
// changes first when its last read is older than one tick (no stream is
// open): one read of the recent changes, never a scan per phase.
func (f *changeFeed) phases(ctx context.Context) (map[store.Phase]int, error) {
	if err := f.poll(ctx, f.every); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[store.Phase]int{}
	for _, e := range f.known {
		out[e.phase]++
	}
	return out, nil
}
