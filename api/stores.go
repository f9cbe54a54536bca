package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// StoreResponse is a store as the API shows it: its record and, while a
// workflow works on it, that workflow's progress.
type StoreResponse struct {
	store.Record
	Progress *workflows.Progress `json:"progress,omitempty"`
}

// StoreList is a page of stores.
type StoreList struct {
	Items      []store.Record `json:"items"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// hostAllowed says why who may not serve a store on host: a tenant's
// stores live under STORE_DOMAIN; only an admin may choose any host.
func (s *server) hostAllowed(who auth.Token, host string) *FieldError {
	if who.Role == auth.RoleAdmin || strings.HasSuffix(host, "."+s.o.StoreDomain) {
		return nil
	}
	return &FieldError{Field: "host", Message: "must end in ." + s.o.StoreDomain + " (only an admin may choose another domain)"}
}

// createStore handles POST /api/stores. The record is written first (phase
// requested), then the workflow is started with an ID derived from the
// record; a request repeated after a crash in between finds the record and
// starts the same workflow, and so does the reconciler (Reconcile).
func (s *server) createStore(w http.ResponseWriter, r *http.Request) {
	req, p := decodeCreateStore(w, r)
	if p != nil {
		fail(w, r, p)
		return
	}
	who := principal(r)
	version, err := s.defaultChartVersion(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	if fe := s.hostAllowed(who, req.Host); req.Host != "" && fe != nil {
		fail(w, r, invalid("the host is not allowed", *fe))
		return
	}
	spec := s.withDefaults(store.Spec{Name: req.Name, Engine: req.Engine, Title: req.Title, AdminEmail: req.AdminEmail,
		Host: req.Host, MedusaImage: req.MedusaImage, Size: req.Size, ChartVersion: version, Tenant: who.Tenant})
	rec, err := s.ensureRecord(r.Context(), who, spec)
	if err != nil {
		fail(w, r, err)
		return
	}
	if decide(rec, store.RequestCreate).Start == store.WorkflowCreate {
		s.startCreateLater(r.Context(), func(ctx context.Context) error { return s.startCreate(ctx, rec) }, func(ctx context.Context, err error) {
			// The record stays "requested"; the reconciler starts the workflow
			// once Temporal answers again.
			requestLogger(ctx).WarnContext(ctx, "start CreateStore", "store", rec.Name, "error", err.Error())
		})
	}
	_ = s.audit(r, "create", rec.Name)
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(rec.Name))
	writeJSON(w, http.StatusAccepted, StoreResponse{Record: rec})
}

// withDefaults fills what a client may leave out: the host
// (<name>.<StoreDomain>), the title (the name) and the size (small).
func (s *server) withDefaults(spec store.Spec) store.Spec {
	if spec.Host == "" {
		spec.Host = spec.Name + "." + s.o.StoreDomain
	}
	if spec.Title == "" {
		spec.Title = spec.Name
	}
	spec.Size = spec.SizeOrDefault()
	return spec
}

// ensureRecord returns the record of spec's store, creating it (or taking
// the place of a deleted store of that name) when there is none. The same
// request twice gives the same record.
//
// The first try assumes a new name (the common case) and inserts at once
// with a slot picked at random, reading nothing first: the unique indexes
// decide, and on the embedded store every read by something other than
// _id reads the whole collection. Only a conflict makes the next try read
// the name's record and the tenant's free slots.
func (s *server) ensureRecord(ctx context.Context, who auth.Token, spec store.Spec) (store.Record, error) {
	for attempt := 0; attempt < s.o.StoreLimit+3; attempt++ {
		var cur store.Record
		found := false
		var slot string
		var ok bool
		if attempt == 0 {
			slot, ok = store.PickFreeSlot(who.Tenant, s.o.StoreLimit, nil)
		} else {
			var err error
			cur, err = s.o.Stores.Get(ctx, spec.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return store.Record{}, err
			}
			found = err == nil
			if found && !cur.Phase.Gone() {
				if cur.Owner != who.Tenant {
					return store.Record{}, store.Errorf(store.CodeConflict, "the name %s is taken", spec.Name)
				}
				if !sameSpec(cur.Spec, spec) {
					return store.Record{}, store.Errorf(store.CodeConflict, "store %s exists with a different spec", spec.Name)
				}
				if d := decide(cur, store.RequestCreate); d.Refused != nil {
					return store.Record{}, d.Refused
				}
				return cur, nil
			}
			// The record claims a free slot of the tenant's limit and its
			// host, both under unique indexes: two concurrent requests never
			// take the same one, so the limit and the host hold however
			// many race.
			if slot, ok, err = s.o.Stores.FreeSlot(ctx, who.Tenant, s.o.StoreLimit); err != nil {
				return store.Record{}, err
			}
		}
		if !ok {
			return store.Record{}, store.Errorf(store.CodeLimit, "tenant %s already has %d stores, the most allowed; delete one first", who.Tenant, s.o.StoreLimit)
		}
		spec.Generation = 1
		if found {
			spec.Generation = cur.Generation + 1
		}
		now := s.o.Now().UTC().Truncate(time.Millisecond) // as MongoDB keeps it
		rec := store.Record{Spec: spec, Owner: who.Tenant, Claim: store.Claim{LiveHost: spec.Host, Slot: slot},
			Phase: store.Decide(spec.Name, "", store.RequestCreate).Next, Message: "waiting for the workflow to start",
			Namespace: spec.Namespace(), CreatedAt: now, UpdatedAt: now,
			CreateWorkflowID: workflows.CreateWorkflowID(spec.Name, spec.Generation)}
		var err error
		if found {
			err = s.o.Stores.ReplaceDeleted(ctx, cur, rec)
		} else {
			err = s.o.Stores.Insert(ctx, rec)
		}
		switch {
		case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrSlotTaken):
			continue // the name has a record, or a concurrent request took the slot first: read, then try again
		case errors.Is(err, store.ErrHostTaken):
			return store.Record{}, hostTaken(spec.Host)
		case err != nil:
			return store.Record{}, err
		}
		return rec, nil
	}
	return store.Record{}, store.Errorf(store.CodeConflict, "store %s is being changed by another request; try again", spec.Name)
}

// hostTaken is the conflict of a host another store serves or holds.
func hostTaken(host string) error {
	return store.Errorf(store.CodeConflict, "the host %s is taken by another store", host)
}

// sameSpec compares what a client asked for (generation aside).
func sameSpec(a, b store.Spec) bool {
	a.Generation, b.Generation = 0, 0
	return a == b
}

// startCreate starts (or finds) the record's creation workflow. A queued
// start may run after a DELETE of the store: it does not read the record
// again (on the embedded store a read by name reads the whole collection:
// with it, make bench measured 50.7 ms of FerretDB's CPU per POST, 7.5 ms
// without); the
// creation's first write asks the state machine, which refuses it, and
// the workflow ends StoreSuperseded having made nothing
// (TestQueuedStartAfterDeleteDoesNotResurrect).
func (s *server) startCreate(ctx context.Context, rec store.Record) error {
	_, err := workflows.StartCreate(ctx, s.o.Temporal, s.o.TaskQueue, workflows.CreateStoreInput{Spec: rec.Spec})
	if errors.Is(err, workflows.ErrAlreadyCreated) {
		err = nil
	}
	s.metrics.started("CreateStore", err)
	return err
}

// Reconcile starts the creation workflow of every record still in phase
// requested whose creation is not running: the API may have died between
// writing a record and starting its workflow. The running creations are
// listed once from Temporal's visibility, so that a backlog of queued
// creations (a worker down, a burst) costs one list, not a start each.
// Starting is idempotent, so a creation that visibility does not show yet
// is found, not started twice.
func Reconcile(ctx context.Context, stores StoreRepository, c client.Client, taskQueue string) (started int, err error) {
	recs, err := stores.Requested(ctx)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	running, err := workflows.RunningCreations(ctx, c)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, rec := range recs {
		if running[workflows.CreateWorkflowID(rec.Name, rec.Generation)] {
			continue
		}
		_, err := workflows.StartCreate(ctx, c, taskQueue, workflows.CreateStoreInput{Spec: rec.Spec})
		if err != nil && !errors.Is(err, workflows.ErrAlreadyCreated) {
			errs = append(errs, fmt.Errorf("store %s: %w", rec.Name, err))
			continue
		}
		started++
	}
	return started, errors.Join(errs...)
}

// visibleStore returns the record of {name} if the caller may see it; a
// store of another tenant is "not found", not "forbidden", so that names
// of other tenants' stores do not leak.
func (s *server) visibleStore(w http.ResponseWriter, r *http.Request) (store.Record, bool) {
	rec, err := s.record(r.Context(), mux.Vars(r)["name"])
	who := principal(r)
	if err == nil && who.Role != auth.RoleAdmin && rec.Owner != who.Tenant {
		err = noStore(rec.Name)
	}
	if err != nil {
		fail(w, r, err)
		return rec, false
	}
	return rec, true
}

// record reads the record of name; a name without one is CodeNotFound.
func (s *server) record(ctx context.Context, name string) (store.Record, error) {
	rec, err := s.o.Stores.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		err = noStore(name)
	}
	return rec, err
}

// noStore is the error of a name without a store.
func noStore(name string) error { return store.Errorf(store.CodeNotFound, "no store named %s", name) }

func (s *server) getStore(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, StoreResponse{Record: rec, Progress: s.progress(r.Context(), rec)})
}

// progress asks the workflow working on the store, if any, for its
// progress; nil when none runs or it does not answer. A GET reads it
// fresh; the event streams share theirs (progressOf).
func (s *server) progress(ctx context.Context, rec store.Record) *workflows.Progress {
	id := activeWorkflow(rec)
	if id == "" {
		return nil
	}
	p, err := s.queryProgress(ctx, id)
	if err != nil {
		return nil
	}
	return p
}

// activeWorkflow is the workflow working on the store, if any.
func activeWorkflow(rec store.Record) string {
	return workflows.WorkflowID(store.ActiveWorkflow(rec.Phase), rec.Name, rec.Generation)
}

// decide asks the store's state machine about req; a refusal names the
// workflow that has the store.
func decide(rec store.Record, req store.Request) store.Decision {
	d := store.Decide(rec.Name, rec.Phase, req)
	if d.Refused != nil && d.Refused.Workflow != store.WorkflowNone {
		d.Refused.WorkflowID = workflows.WorkflowID(d.Refused.Workflow, rec.Name, rec.Generation)
	}
	return d
}

func (s *server) listStores(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var bad []FieldError
	lq := store.ListQuery{Phase: store.Phase(q.Get("status")), Engine: q.Get("engine"), Cursor: q.Get("cursor"), Limit: 20}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			bad = append(bad, FieldError{Field: "limit", Message: "must be a number from 1 to 100"})
		}
		lq.Limit = n
	}
	if lq.Phase != "" && !slices.Contains(store.Phases(), lq.Phase) {
		bad = append(bad, FieldError{Field: "status", Message: "is not a store phase"})
	}
	if lq.Engine != "" && lq.Engine != store.EngineWooCommerce && lq.Engine != store.EngineMedusa {
		bad = append(bad, FieldError{Field: "engine", Message: MsgEngine})
	}
	if len(bad) > 0 {
		fail(w, r, invalid("some query parameters are not valid", bad...))
		return
	}
	if who := principal(r); who.Role != auth.RoleAdmin {
		lq.Owner = who.Tenant
	}
	recs, next, err := s.o.Stores.List(r.Context(), lq)
	if errors.Is(err, store.ErrBadCursor) {
		err = invalid("the cursor is not valid", FieldError{Field: "cursor", Message: "is not a cursor this API gave"})
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	if recs == nil {
		recs = []store.Record{}
	}
	writeJSON(w, http.StatusOK, StoreList{Items: recs, NextCursor: next})
}

// deleteStore handles DELETE /api/stores/{name}. Deleting a store that is
// being created is allowed: DeleteStore cancels the creation, waits for it
// to undo its work, then deletes. A deleted store is 404.
func (s *server) deleteStore(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return
	}
	d := decide(rec, store.RequestDelete)
	if d.Refused != nil {
		fail(w, r, d.Refused)
		return
	}
	_, err := workflows.StartDelete(r.Context(), s.o.Temporal, s.o.TaskQueue, workflows.DeleteStoreInput{Spec: rec.Spec})
	s.metrics.started("DeleteStore", err)
	if err != nil {
		fail(w, r, err)
		return
	}
	// The workflow writes the phase (its first step); the answer shows
	// the phase it enters.
	if d.Next != "" {
		rec.Phase, rec.Message = d.Next, "deletion requested"
	}
	rec.DeleteWorkflowID = workflows.DeleteWorkflowID(rec.Name, rec.Generation)
	_ = s.audit(r, "delete", rec.Name)
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(rec.Name))
	writeJSON(w, http.StatusAccepted, StoreResponse{Record: rec})
}

// RetryRequest is the optional body of POST /api/stores/{name}/retry.
type RetryRequest struct {
	// Force removes the finalizers that keep a stuck deletion (admins only).
	Force bool `json:"force,omitempty"`
}

// retryStore signals the workflow of a failed creation (retry) or a stuck
// deletion (retry, or force for admins): what an operator does with
// `temporal workflow signal`.
func (s *server) retryStore(w http.ResponseWriter, r *http.Request) {
	var req RetryRequest
	if r.ContentLength != 0 {
		if p := decodeJSON(w, r, &req); p != nil {
			fail(w, r, p)
			return
		}
	}
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return
	}
	if req.Force && principal(r).Role != auth.RoleAdmin {
		fail(w, r, newProblem(ProblemForbidden, "only an admin may force a deletion"))
		return
	}
	asked := store.RequestRetry
	if req.Force {
		asked = store.RequestForce
	}
	d := decide(rec, asked)
	if d.Refused != nil {
		fail(w, r, d.Refused)
		return
	}
	id, signal := workflows.WorkflowID(d.Start, rec.Name, rec.Generation), d.Signal
	if err := s.o.Temporal.SignalWorkflow(r.Context(), id, "", signal, nil); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			err = newProblem(ProblemConflict, "the store's workflow is no longer waiting for a signal: "+err.Error())
		}
		fail(w, r, err)
		return
	}
	_ = s.audit(r, signal, rec.Name)
	writeJSON(w, http.StatusAccepted, map[string]string{"store": rec.Name, "workflowId": id, "signal": signal})
}
