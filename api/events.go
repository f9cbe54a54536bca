package api

import (
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
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	if last != "" {
		ms, err := strconv.ParseInt(last, 10, 64)
		if err != nil || ms < 0 {
			fail(w, r, invalid("the Last-Event-ID is not valid", FieldError{Field: "Last-Event-ID", Message: "is not an event ID this API sent"}))
			return
		}
		q.Since = time.UnixMilli(ms)
	}
	// Subscribe before the first read, so that nothing changed between the
	// two is missed; what both bring is sent once.
	sub, unsubscribe := s.feed.subscribe(r.Context())
	defer unsubscribe()
	flusher, ok := s.openEventStream(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	// cur is the streamed store as last seen (one store's stream only): its
	// running workflow's progress is sent with it.
	var (
		cur          *store.Record
		lastProgress []byte
	)
	if progress && q.Name != "" {
		if rec, err := s.o.Stores.Get(ctx, q.Name); err == nil && (q.Owner == "" || rec.Owner == q.Owner) {
			cur = &rec
		}
	}
	sent := newSentVersions(time.Now)
	send := func(recs []store.Record) {
		for _, rec := range recs {
			if (q.Owner != "" && rec.Owner != q.Owner) || (q.Name != "" && rec.Name != q.Name) || !sent.add(rec) {
				continue
			}
			data, _ := json.Marshal(rec)
			fmt.Fprintf(w, "id: %d\nevent: store\ndata: %s\n\n", rec.UpdatedAt.UnixMilli(), data)
			if rec.UpdatedAt.After(q.Since) {
				q.Since = rec.UpdatedAt
			}
			if q.Name != "" {
				cur = &rec
			}
		}
	}
	catchUp := func(since time.Time) {
		cq := q
		cq.Since = since
		for ctx.Err() == nil {
			recs, err := s.o.Stores.Changed(ctx, cq)
			if err != nil && ctx.Err() == nil {
				requestLogger(ctx).WarnContext(ctx, "event stream", "error", err.Error())
			}
			send(recs)
			if len(recs) < store.ChangedLimit || !recs[len(recs)-1].UpdatedAt.After(cq.Since) {
				return
			}
			cq.Since = recs[len(recs)-1].UpdatedAt // a full page: read on
		}
	}
	catchUp(q.Since) // the snapshot, or what changed since Last-Event-ID
	keepAlive := time.NewTicker(eventKeepAlive)
	defer keepAlive.Stop()
	for {
		if progress && cur != nil {
			if p := s.progressOf(ctx, *cur); p != nil {
				data, _ := json.Marshal(p)
				if string(data) != string(lastProgress) {
					lastProgress = data
					fmt.Fprintf(w, "event: progress\ndata: %s\n\n", data)
				}
			}
		}
		flusher.Flush()
		select {
		case <-ctx.Done():
			return
		case <-s.o.Stop:
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case recs := <-sub.batches:
			if sub.lagged.Swap(false) {
				// The batches missed may hold writes stamped well before
				// the latest one sent: read back as far as the feed does.
				catchUp(q.Since.Add(-s.feed.longLookBack))
			} else {
				send(recs)
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
