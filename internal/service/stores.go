package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// CreateStore makes the record of spec's store for who, then has its
// creation workflow started (after the answer, see starter). spec holds
// what the client asked; the chart version and the tenant are set here,
// and the host, title and size default (withDefaults). The record is
// written first (phase requested), then the workflow is started with an
// ID derived from the record: a request repeated after a crash in between
// finds the record and starts the same workflow, and so does the
// reconciler (Reconcile).
func (s *Service) CreateStore(ctx context.Context, who Caller, spec store.Spec) (store.Record, error) {
	version, err := s.DefaultChartVersion(ctx)
	if err != nil {
		return store.Record{}, err
	}
	if spec.Host != "" {
		if err := s.hostAllowed(who, spec.Host); err != nil {
			return store.Record{}, err
		}
	}
	spec.ChartVersion, spec.Tenant = version, who.Tenant
	rec, err := s.ensureRecord(ctx, who, s.withDefaults(spec))
	if err != nil {
		return store.Record{}, err
	}
	if decide(rec, store.RequestCreate).Start == store.WorkflowCreate {
		s.startCreateLater(ctx, func(ctx context.Context) error { return s.startCreate(ctx, rec) }, func(ctx context.Context, err error) {
			// The record stays "requested"; the reconciler starts the workflow
			// once Temporal answers again.
			s.logger(ctx).WarnContext(ctx, "start CreateStore", "store", rec.Name, "error", err.Error())
		})
	}
	s.note(ctx, who, "create", rec.Name)
	return rec, nil
}

// hostAllowed refuses a host who may not serve a store on: a tenant's
// stores live under StoreDomain; only an admin may choose any host.
func (s *Service) hostAllowed(who Caller, host string) *store.Error {
	if who.admin() || strings.HasSuffix(host, "."+s.c.StoreDomain) {
		return nil
	}
	return &store.Error{Code: store.CodeInvalid, Message: "the host is not allowed", Field: "host",
		Reason: "must end in ." + s.c.StoreDomain + " (only an admin may choose another domain)"}
}

// withDefaults fills what a client may leave out: the host
// (<name>.<StoreDomain>), the title (the name) and the size (small).
func (s *Service) withDefaults(spec store.Spec) store.Spec {
	if spec.Host == "" {
		spec.Host = spec.Name + "." + s.c.StoreDomain
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
// the name's record and the tenant's free slots (existing).
func (s *Service) ensureRecord(ctx context.Context, who Caller, spec store.Spec) (store.Record, error) {
	for attempt := 0; attempt < s.c.StoreLimit+3; attempt++ {
		var (
			cur  *store.Record // the deleted store whose place the new one takes
			slot string
			ok   bool
		)
		if attempt == 0 {
			slot, ok = store.PickFreeSlot(who.Tenant, s.c.StoreLimit, nil)
		} else {
			var err error
			if cur, err = s.lookup(ctx, spec.Name); err != nil {
				return store.Record{}, err
			}
			if cur != nil && !cur.Phase.Gone() {
				return sameRequest(who, spec, *cur)
			}
			// The record claims a free slot of the tenant's limit and its
			// host, both under unique indexes: two concurrent requests never
			// take the same one, so the limit and the host hold however
			// many race.
			if slot, ok, err = s.c.Stores.FreeSlot(ctx, who.Tenant, s.c.StoreLimit); err != nil {
				return store.Record{}, err
			}
		}
		if !ok {
			return store.Record{}, store.Errorf(store.CodeLimit, "tenant %s already has %d stores, the most allowed; delete one first", who.Tenant, s.c.StoreLimit)
		}
		rec := s.newRecord(who, spec, slot, cur)
		err := s.insert(ctx, cur, rec)
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

// lookup reads the record of name; nil when there is none.
func (s *Service) lookup(ctx context.Context, name string) (*store.Record, error) {
	rec, err := s.c.Stores.Get(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &rec, nil
}

// sameRequest answers a create request whose name has a live record: that
// record when it is the same request again, else the conflict.
func sameRequest(who Caller, spec store.Spec, cur store.Record) (store.Record, error) {
	switch {
	case cur.Owner != who.Tenant:
		return store.Record{}, store.Errorf(store.CodeConflict, "the name %s is taken", spec.Name)
	case !sameSpec(cur.Spec, spec):
		return store.Record{}, store.Errorf(store.CodeConflict, "store %s exists with a different spec", spec.Name)
	}
	if d := decide(cur, store.RequestCreate); d.Refused != nil {
		return store.Record{}, d.Refused
	}
	return cur, nil
}

// sameSpec compares what a client asked for (generation aside).
func sameSpec(a, b store.Spec) bool {
	a.Generation, b.Generation = 0, 0
	return a == b
}

// newRecord is the record of a new store of spec in slot: generation 1,
// or the one after the deleted store it replaces (cur).
func (s *Service) newRecord(who Caller, spec store.Spec, slot string, cur *store.Record) store.Record {
	spec.Generation = 1
	if cur != nil {
		spec.Generation = cur.Generation + 1
	}
	now := s.c.Now().UTC().Truncate(time.Millisecond) // as MongoDB keeps it
	return store.Record{Spec: spec, Owner: who.Tenant, Claim: store.Claim{LiveHost: spec.Host, Slot: slot},
		Phase: store.Decide(spec.Name, "", store.RequestCreate).Next, Message: "waiting for the workflow to start",
		Namespace: spec.Namespace(), CreatedAt: now, UpdatedAt: now,
		CreateWorkflowID: workflows.CreateWorkflowID(spec.Name, spec.Generation)}
}

// insert writes rec, in the place of the deleted store cur if there is one.
func (s *Service) insert(ctx context.Context, cur *store.Record, rec store.Record) error {
	if cur != nil {
		return s.c.Stores.ReplaceDeleted(ctx, *cur, rec)
	}
	return s.c.Stores.Insert(ctx, rec)
}

// hostTaken is the conflict of a host another store serves or holds.
func hostTaken(host string) error {
	return store.Errorf(store.CodeConflict, "the host %s is taken by another store", host)
}

// startCreate starts (or finds) the record's creation workflow. A queued
// start may run after a DELETE of the store: it does not read the record
// again (on the embedded store a read by name reads the whole collection:
// with it, make bench measured 50.7 ms of FerretDB's CPU per POST, 7.5 ms
// without); the creation's first write asks the state machine, which
// refuses it, and the workflow ends StoreSuperseded having made nothing
// (TestQueuedStartAfterDeleteDoesNotResurrect).
func (s *Service) startCreate(ctx context.Context, rec store.Record) error {
	_, err := workflows.StartCreate(ctx, s.c.Temporal, s.c.TaskQueue, workflows.CreateStoreInput{Spec: rec.Spec})
	if errors.Is(err, workflows.ErrAlreadyCreated) {
		err = nil
	}
	s.c.Started("CreateStore", err)
	return err
}

// record reads the record of name; a name without one is CodeNotFound.
func (s *Service) record(ctx context.Context, name string) (store.Record, error) {
	rec, err := s.c.Stores.Get(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		err = noStore(name)
	}
	return rec, err
}

// noStore is the error of a name without a store.
func noStore(name string) error { return store.Errorf(store.CodeNotFound, "no store named %s", name) }

// VisibleStore returns the record of name if who may see it; a store of
// another tenant is "not found", not "forbidden", so that names of other
// tenants' stores do not leak.
func (s *Service) VisibleStore(ctx context.Context, who Caller, name string) (store.Record, error) {
	rec, err := s.record(ctx, name)
	if err == nil && !who.admin() && rec.Owner != who.Tenant {
		err = noStore(name)
	}
	return rec, err
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

// decided returns the record of name, if who may see it, and the state
// machine's decision of req; a refusal is the error.
func (s *Service) decided(ctx context.Context, who Caller, name string, req store.Request) (store.Record, store.Decision, error) {
	rec, err := s.VisibleStore(ctx, who, name)
	if err != nil {
		return rec, store.Decision{}, err
	}
	d := decide(rec, req)
	if d.Refused != nil {
		return rec, d, d.Refused
	}
	return rec, d, nil
}

// Usage is how many stores (not deleted) who's tenant has, and how many
// it may have.
func (s *Service) Usage(ctx context.Context, who Caller) (count, limit int, err error) {
	count, err = s.c.Stores.CountActive(ctx, who.Tenant)
	return count, s.c.StoreLimit, err
}

// ListStores lists the stores who may see that q selects. A cursor this
// service did not give is CodeInvalid; q.Owner naming another tenant is
// CodeForbidden unless who is an admin (admins filter by owner).
func (s *Service) ListStores(ctx context.Context, who Caller, q store.ListQuery) ([]store.Record, string, error) {
	if !who.admin() {
		if q.Owner != "" && q.Owner != who.Tenant {
			return nil, "", store.Errorf(store.CodeForbidden, "only admins list the stores of another tenant")
		}
		q.Owner = who.Tenant
	}
	recs, next, err := s.c.Stores.List(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		err = &store.Error{Code: store.CodeInvalid, Message: "the cursor is not valid", Field: "cursor", Reason: "is not a cursor this API gave"}
	}
	if recs == nil {
		recs = []store.Record{}
	}
	return recs, next, err
}

// DeleteStore starts (or finds) the deletion of name. Deleting a store
// that is being created is allowed: DeleteStore cancels the creation,
// waits for it to undo its work, then deletes. A deleted store is
// CodeNotFound. The record returned shows the phase the store enters (the
// workflow writes it, as its first step).
func (s *Service) DeleteStore(ctx context.Context, who Caller, name string) (store.Record, error) {
	rec, d, err := s.decided(ctx, who, name, store.RequestDelete)
	if err != nil {
		return rec, err
	}
	_, err = workflows.StartDelete(ctx, s.c.Temporal, s.c.TaskQueue, workflows.DeleteStoreInput{Spec: rec.Spec})
	s.c.Started("DeleteStore", err)
	if err != nil {
		return rec, err
	}
	if d.Next != "" {
		rec.Phase, rec.Message = d.Next, "deletion requested"
	}
	rec.DeleteWorkflowID = workflows.DeleteWorkflowID(rec.Name, rec.Generation)
	s.note(ctx, who, "delete", rec.Name)
	return rec, nil
}

// Signalled says which signal was sent to which workflow of a store or a
// rollout (Name).
type Signalled struct {
	Name, WorkflowID, Signal string
}

// RetryStore signals the workflow of a failed creation or a degraded
// operation (retry), or of a stuck deletion (retry, or force for admins):
// what an operator does with `temporal workflow signal`.
func (s *Service) RetryStore(ctx context.Context, who Caller, name string, force bool) (Signalled, error) {
	rec, err := s.VisibleStore(ctx, who, name)
	if err != nil {
		return Signalled{}, err
	}
	asked := store.RequestRetry
	if force {
		if !who.admin() {
			return Signalled{}, store.Errorf(store.CodeForbidden, "only an admin may force a deletion")
		}
		asked = store.RequestForce
	}
	d := decide(rec, asked)
	if d.Refused != nil {
		return Signalled{}, d.Refused
	}
	out := Signalled{Name: rec.Name, WorkflowID: workflows.WorkflowID(d.Start, rec.Name, rec.Generation), Signal: d.Signal}
	if err := s.c.Temporal.SignalWorkflow(ctx, out.WorkflowID, "", out.Signal, nil); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			err = store.Errorf(store.CodeConflict, "the store's workflow is no longer waiting for a signal: %s", err.Error())
		}
		return Signalled{}, err
	}
	s.note(ctx, who, out.Signal, rec.Name)
	return out, nil
}
