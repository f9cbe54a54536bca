package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/store"
)

// Intervals of the event streams.
const (
	eventPoll      = time.Second
	eventKeepAlive = 15 * time.Second
)

// storeEvents handles GET /api/stores/{name}/events: Server-Sent Events of
// one store's record and, while a workflow runs, its progress.
func (s *server) storeEvents(w http.ResponseWriter, r *http.Request) {
	who := caller(r)
	rec, err := s.svc.VisibleStore(r.Context(), who, mux.Vars(r)["name"])
	if err != nil {
		fail(w, r, err)
		return
	}
	// Every event is checked against the caller's tenant, not only the
	// first: the store may be deleted and its name taken by another tenant
	// while the stream is open.
	q := store.ChangeQuery{Name: rec.Name}
	if who.Role != auth.RoleAdmin {
		q.Owner = who.Tenant
	}
	s.stream(w, r, q, true)
}

// allEvents handles GET /api/events: Server-Sent Events of every store the
// caller may see.
func (s *server) allEvents(w http.ResponseWriter, r *http.Request) {
	q := store.ChangeQuery{}
	if who := principal(r); who.Role != auth.RoleAdmin {
		q.Owner = who.Tenant
	}
	s.stream(w, r, q, false)
}

// stream sends an event "store" for each record change, with the change's
// time (Unix milliseconds) as the event ID. A client that reconnects with
// Last-Event-ID gets the changes after it; a new client first gets every
// current record (the snapshot). With progress, the running workflow's
// progress is sent as event "progress" whenever it changes.
//
// A record's stamp may be older than one already sent (its write committed
// late; see changeFeed), so a stream sends every version the feed or its
// own reads bring that it has not sent, whatever its stamp; an event ID is
// that version's stamp, so a client that resumes from it is sent again
// what changed after it rather than less.
func (s *server) stream(w http.ResponseWriter, r *http.Request, q store.ChangeQuery, progress bool) {
	since, p := lastEventID(r)
	if p != nil {
		fail(w, r, p)
		return
	}
	q.Since = since
	// Subscribe before the first read, so that nothing changed between the
	// two is missed; what both bring is sent once.
	sub, unsubscribe := s.feed.subscribe(r.Context())
	defer unsubscribe()
	flusher, ok := s.openEventStream(w, r)
	if !ok {
		return
	}
	es := &eventStream{s: s, w: w, flusher: flusher, q: q, sent: newSentVersions(time.Now)}
	if progress {
		es.cur = s.streamedStore(r.Context(), q)
	}
	es.catchUp(r.Context(), q.Since) // the snapshot, or what changed since Last-Event-ID
	es.follow(r.Context(), sub, progress)
}

// lastEventID is the time of the Last-Event-ID header (or the lastEventId
// query parameter) a client resumes from; zero when it sent none.
func lastEventID(r *http.Request) (time.Time, *Problem) {
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	if last == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(last, 10, 64)
	if err != nil || ms < 0 {
		return time.Time{}, invalid("the Last-Event-ID is not valid", FieldError{Field: "Last-Event-ID", Message: "is not an event ID this API sent"})
	}
	return time.UnixMilli(ms), nil
}

// streamedStore is the record of one store's stream as it is now, if q's
// owner may see it; nil for a stream of every store.
func (s *server) streamedStore(ctx context.Context, q store.ChangeQuery) *store.Record {
	if q.Name == "" {
		return nil
	}
	if rec, err := s.o.Stores.Get(ctx, q.Name); err == nil && (q.Owner == "" || rec.Owner == q.Owner) {
		return &rec
	}
	return nil
}

// eventStream is one open stream of store events.
type eventStream struct {
	s       *server
	w       http.ResponseWriter
	flusher http.Flusher
	// q selects the records sent; its Since is the newest stamp sent.
	q    store.ChangeQuery
	sent *sentVersions
	// cur is the streamed store as last seen (one store's stream only):
	// its running workflow's progress is sent with it, lastProgress the
	// progress last sent.
	cur          *store.Record
	lastProgress []byte
}

// send sends each record of recs that q selects and the stream has not
// sent.
func (es *eventStream) send(recs []store.Record) {
	q := es.q
	for _, rec := range recs {
		if (q.Owner != "" && rec.Owner != q.Owner) || (q.Name != "" && rec.Name != q.Name) || !es.sent.add(rec) {
			continue
		}
		data, _ := json.Marshal(rec)
		fmt.Fprintf(es.w, "id: %d\nevent: store\ndata: %s\n\n", rec.UpdatedAt.UnixMilli(), data)
		if rec.UpdatedAt.After(es.q.Since) {
			es.q.Since = rec.UpdatedAt
		}
		if q.Name != "" {
			es.cur = &rec
		}
	}
}

// catchUp reads and sends what changed since since, page by page; a read
// that fails is logged and the stream goes on with what the feed brings.
func (es *eventStream) catchUp(ctx context.Context, since time.Time) {
	cq := es.q
	cq.Since = since
	for ctx.Err() == nil {
		recs, err := es.s.o.Stores.Changed(ctx, cq)
		if err != nil && ctx.Err() == nil {
			requestLogger(ctx).WarnContext(ctx, "event stream", "error", err.Error())
		}
		es.send(recs)
		if len(recs) < store.ChangedLimit || !recs[len(recs)-1].UpdatedAt.After(cq.Since) {
			return
		}
		cq.Since = recs[len(recs)-1].UpdatedAt // a full page: read on
	}
}

// sendProgress sends the streamed store's workflow progress when it
// changed since it was last sent.
func (es *eventStream) sendProgress(ctx context.Context) {
	if es.cur == nil {
		return
	}
	p := es.s.progressOf(ctx, *es.cur)
	if p == nil {
		return
	}
	data, _ := json.Marshal(p)
	if string(data) != string(es.lastProgress) {
		es.lastProgress = data
		fmt.Fprintf(es.w, "event: progress\ndata: %s\n\n", data)
	}
}

// follow sends the feed's batches (and, with progress, the progress)
// and a keep-alive comment every eventKeepAlive, until the client leaves
// or the server stops. A stream the feed marked lagged reads back what it
// missed itself.
func (es *eventStream) follow(ctx context.Context, sub *feedSub, progress bool) {
	keepAlive := time.NewTicker(eventKeepAlive)
	defer keepAlive.Stop()
	for {
		if progress {
			es.sendProgress(ctx)
		}
		es.flusher.Flush()
		select {
		case <-ctx.Done():
			return
		case <-es.s.o.Stop:
			return
		case <-keepAlive.C:
			fmt.Fprint(es.w, ": keep-alive\n\n")
		case recs := <-sub.batches:
			if sub.lagged.Swap(false) {
				// The batches missed may hold writes stamped well before
				// the latest one sent: read back as far as the feed does.
				es.catchUp(ctx, es.q.Since.Add(-es.s.feed.longLookBack))
			} else {
				es.send(recs)
			}
		}
	}
}

// sentVersions are the record versions one stream sent lately, so that a
// version its own read and the feed both bring is sent once. A version is
// forgotten a while after it was sent: by then the feed has read it.
type sentVersions struct {
	now       func() time.Time
	m         map[string]sentVersion
	lastSweep time.Time
}

type sentVersion struct {
	version uint64
	at      time.Time
}

// sentFor is how long a stream remembers a version it sent: longer than a
// feed's read takes to follow the stream's own (a tick and its timeout).
const sentFor = time.Minute

func newSentVersions(now func() time.Time) *sentVersions {
	return &sentVersions{now: now, m: map[string]sentVersion{}, lastSweep: now()}
}

// add reports whether rec's version is new to the stream, and remembers it.
func (sv *sentVersions) add(rec store.Record) bool {
	v, now := recordVersion(rec), sv.now()
	if old, ok := sv.m[rec.Name]; ok && old.version == v {
		return false
	}
	sv.m[rec.Name] = sentVersion{version: v, at: now}
	if now.Sub(sv.lastSweep) >= sentFor {
		for name, e := range sv.m {
			if now.Sub(e.at) >= sentFor {
				delete(sv.m, name)
			}
		}
		sv.lastSweep = now
	}
	return true
}

// openEventStream starts a text/event-stream answer: unbuffered, uncached,
// with the reconnection delay for the client. It answers 500 and returns
// false when the response cannot stream.
func (s *server) openEventStream(w http.ResponseWriter, r *http.Request) (http.Flusher, bool) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		fail(w, r, errors.New("response writer cannot stream"))
		return nil, false
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	return flusher, true
}
