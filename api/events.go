package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

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
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return
	}
	// Every event is checked against the caller's tenant, not only the
	// first: the store may be deleted and its name taken by another tenant
	// while the stream is open.
	q := store.ChangeQuery{Name: rec.Name}
	if who := principal(r); who.Role != auth.RoleAdmin {
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
func (s *server) stream(w http.ResponseWriter, r *http.Request, q store.ChangeQuery, progress bool) {
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("lastEventId")
	}
	if last != "" {
		ms, err := strconv.ParseInt(last, 10, 64)
		if err != nil || ms < 0 {
			s.fail(w, r, invalid("the Last-Event-ID is not valid", FieldError{Field: "Last-Event-ID", Message: "is not an event ID this API sent"}))
			return
		}
		q.Since = time.UnixMilli(ms)
	}
	// Subscribe before the first read, so that nothing changed between the
	// two is missed; what both bring is sent once (by UpdatedAt).
	sub, unsubscribe := s.feed.subscribe()
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
	send := func(recs []store.Record) {
		for _, rec := range recs {
			if !rec.UpdatedAt.After(q.Since) || (q.Owner != "" && rec.Owner != q.Owner) || (q.Name != "" && rec.Name != q.Name) {
				continue
			}
			data, _ := json.Marshal(rec)
			fmt.Fprintf(w, "id: %d\nevent: store\ndata: %s\n\n", rec.UpdatedAt.UnixMilli(), data)
			q.Since = rec.UpdatedAt
			if q.Name != "" {
				cur = &rec
			}
		}
	}
	catchUp := func() {
		for ctx.Err() == nil {
			recs, err := s.o.Stores.Changed(ctx, q)
			if err != nil && ctx.Err() == nil {
				s.o.Logger.WarnContext(ctx, "event stream", "error", err.Error(), "request_id", requestID(r))
			}
			send(recs)
			if len(recs) < store.ChangedLimit {
				return
			}
			q.Since = recs[len(recs)-1].UpdatedAt // a full page: read on
		}
	}
	catchUp() // the snapshot, or what changed since Last-Event-ID
	keepAlive := time.NewTicker(eventKeepAlive)
	defer keepAlive.Stop()
	for {
		if progress && cur != nil {
			if p := s.progress(ctx, *cur); p != nil {
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
				catchUp()
			} else {
				send(recs)
			}
		}
	}
}

// openEventStream starts a text/event-stream answer: unbuffered, uncached,
// with the reconnection delay for the client. It answers 500 and returns
// false when the response cannot stream.
func (s *server) openEventStream(w http.ResponseWriter, r *http.Request) (http.Flusher, bool) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, errors.New("response writer cannot stream"))
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
