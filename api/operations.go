package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"helm.sh/helm/v3/pkg/release"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
	"github.com/storeplatform/storeplatform/workflows"
)

// ReleaseHistory reads a store's Helm release history.
// helmclient.Runner implements it.
type ReleaseHistory interface {
	History(ctx context.Context, namespace, name string) ([]*release.Release, error)
}

// ChangeStoreRequest is the body of PATCH /api/stores/{name}: the fields
// to change; absent fields stay as they are. Name and Engine are here only
// to be refused with a clear message.
type ChangeStoreRequest struct {
	Title       *string `json:"title,omitempty"`
	AdminEmail  *string `json:"adminEmail,omitempty"`
	Size        *string `json:"size,omitempty"`
	MedusaImage *string `json:"medusaImage,omitempty"`
	Host        *string `json:"host,omitempty"`
	Name        *string `json:"name,omitempty"`
	Engine      *string `json:"engine,omitempty"`
}

// MsgImmutable is the message of a field a change cannot touch.
const MsgImmutable = "cannot be changed: create a new store instead"

// RollbackRequest is the body of POST /api/stores/{name}/rollback.
type RollbackRequest struct {
	Revision int `json:"revision"`
}

// OperationResponse answers a request that started an operation.
type OperationResponse struct {
	Store     store.Record    `json:"store"`
	Operation store.Operation `json:"operation"`
}

// changeStore handles PATCH /api/stores/{name}: a Helm upgrade with the
// changed spec, run by OperateStore. Nothing to change is 200 with the
// store as it is.
func (s *server) changeStore(w http.ResponseWriter, r *http.Request) {
	var req ChangeStoreRequest
	if p := decodeJSON(w, r, &req); p != nil {
		fail(w, r, p)
		return
	}
	rec, ok := s.operableStore(w, r, store.OpChange)
	if !ok {
		return
	}
	var bad []FieldError
	if req.Name != nil && *req.Name != rec.Name {
		bad = append(bad, FieldError{Field: "name", Message: MsgImmutable})
	}
	if req.Engine != nil && *req.Engine != rec.Engine {
		bad = append(bad, FieldError{Field: "engine", Message: MsgImmutable})
	}
	target := rec.Spec
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&target.Title, req.Title)
	set(&target.AdminEmail, req.AdminEmail)
	set(&target.Size, req.Size)
	set(&target.MedusaImage, req.MedusaImage)
	set(&target.Host, req.Host)
	check := CreateStoreRequest{Name: rec.Name, Engine: rec.Engine, Title: target.Title, AdminEmail: target.AdminEmail,
		Host: target.Host, Size: target.Size, MedusaImage: target.MedusaImage}
	bad = append(bad, check.Validate()...)
	if len(bad) > 0 {
		fail(w, r, invalid("some fields are not valid", bad...))
		return
	}
	target = s.withDefaults(target)
	current := s.withDefaults(rec.Spec)
	if target == current {
		writeJSON(w, http.StatusOK, StoreResponse{Record: rec})
		return
	}
	in := workflows.OperateStoreInput{Kind: store.OpChange, Spec: current, Target: &target}
	if target.Host != current.Host {
		if fe := s.hostAllowed(principal(r), target.Host); fe != nil {
			fail(w, r, invalid("the host is not allowed", *fe))
			return
		}
		// The operation holds the new host before its upgrade and keeps
		// the old one until it ends (OperateStore); a host taken now is
		// refused at once.
		if !s.hostFree(w, r, rec.Name, target.Host) {
			return
		}
		in.Hosts = []string{target.Host}
	}
	s.startOperation(w, r, rec, in)
}

// hostFree answers 409 naming host, and returns false, when a store other
// than name serves or holds it.
func (s *server) hostFree(w http.ResponseWriter, r *http.Request, name, host string) bool {
	holder, err := s.o.Stores.HostHolder(r.Context(), host)
	if err != nil {
		fail(w, r, err)
		return false
	}
	if holder != "" && holder != name {
		fail(w, r, hostTaken(host))
		return false
	}
	return true
}

// suspendStore handles POST /api/stores/{name}/suspend: every workload
// scaled to zero; volumes, Secret and release stay.
func (s *server) suspendStore(w http.ResponseWriter, r *http.Request) {
	s.toggleSuspended(w, r, store.OpSuspend, true)
}

// resumeStore handles POST /api/stores/{name}/resume.
func (s *server) resumeStore(w http.ResponseWriter, r *http.Request) {
	s.toggleSuspended(w, r, store.OpResume, false)
}

func (s *server) toggleSuspended(w http.ResponseWriter, r *http.Request, kind string, suspended bool) {
	rec, ok := s.operableStore(w, r, kind)
	if !ok {
		return
	}
	current := s.withDefaults(rec.Spec)
	target := current
	target.Suspended = suspended
	s.startOperation(w, r, rec, workflows.OperateStoreInput{Kind: kind, Spec: current, Target: &target})
}

// rollbackStore handles POST /api/stores/{name}/rollback: the release goes
// back to an earlier revision's chart and values (a new revision).
func (s *server) rollbackStore(w http.ResponseWriter, r *http.Request) {
	var req RollbackRequest
	if p := decodeJSON(w, r, &req); p != nil {
		fail(w, r, p)
		return
	}
	if req.Revision < 1 {
		fail(w, r, invalid("the revision is not valid", FieldError{Field: "revision", Message: "must be a revision number from the store's history (1 or more)"}))
		return
	}
	rec, ok := s.operableStore(w, r, store.OpRollback)
	if !ok {
		return
	}
	hist, err := s.o.Releases.History(r.Context(), rec.Namespace, rec.Name)
	if err != nil {
		fail(w, r, err)
		return
	}
	var target, deployed *release.Release
	for _, rel := range hist {
		if rel.Version == req.Revision {
			target = rel
		}
		if rel.Info != nil && rel.Info.Status == release.StatusDeployed {
			deployed = rel
		}
	}
	switch {
	case target == nil:
		fail(w, r, invalid("the release has no such revision", FieldError{Field: "revision",
			Message: fmt.Sprintf("store %s has no revision %d: see GET /api/stores/%s/history", rec.Name, req.Revision, rec.Name)}))
		return
	case deployed != nil && deployed.Version == req.Revision:
		fail(w, r, invalid("the store runs that revision", FieldError{Field: "revision", Message: fmt.Sprintf("revision %d is the one deployed now", req.Revision)}))
		return
	}
	in := workflows.OperateStoreInput{Kind: store.OpRollback, Spec: s.withDefaults(rec.Spec), Revision: req.Revision}
	// The revision's host is served again: a tenant may return only to a
	// host it may choose, and the operation holds it before the rollback.
	if host := storechart.SpecFromValues(target.Config).Host; host != "" && host != rec.Host {
		if fe := s.hostAllowed(principal(r), host); fe != nil {
			fail(w, r, invalid("the revision's host is not allowed", FieldError{Field: "revision",
				Message: fmt.Sprintf("revision %d serves %s, which %s", req.Revision, host, fe.Message)}))
			return
		}
		if !s.hostFree(w, r, rec.Name, host) {
			return
		}
		in.Hosts = []string{host}
	}
	s.startOperation(w, r, rec, in)
}

// operableStore returns the store of {name} when an operation may be asked
// of it: it exists, is visible to the caller, and is not being created or
// deleted. Otherwise it answers the problem and returns false.
func (s *server) operableStore(w http.ResponseWriter, r *http.Request, kind string) (store.Record, bool) {
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return rec, false
	}
	if d := decide(rec, store.Request(kind)); d.Refused != nil {
		fail(w, r, d.Refused)
		return rec, false
	}
	return rec, true
}

// startOperation starts OperateStore; an operation already running on the
// store is 409 naming it.
func (s *server) startOperation(w http.ResponseWriter, r *http.Request, rec store.Record, in workflows.OperateStoreInput) {
	in.Timeouts = s.o.Timeouts
	version := rec.SpecVersion
	in.SpecVersion = &version
	_, err := workflows.StartOperation(r.Context(), s.o.Temporal, s.o.TaskQueue, in)
	var busy *workflows.OperationBusy
	// An operation records its end as its last step, then closes: for that
	// moment the record says nothing runs while the workflow ID is still
	// taken. Try again briefly rather than answer 409 for nothing.
	// The record is read again each time: once it shows the running
	// operation, the answer is 409 at once.
	now := rec
	for try := 0; try < 20 && errors.As(err, &busy) && now.Operation == nil && store.ActiveWorkflow(now.Phase) != store.WorkflowOperation; try++ {
		select {
		case <-r.Context().Done():
			fail(w, r, r.Context().Err())
			return
		case <-time.After(100 * time.Millisecond):
		}
		if now, err = s.record(r.Context(), rec.Name); err != nil {
			fail(w, r, err)
			return
		}
		_, err = workflows.StartOperation(r.Context(), s.o.Temporal, s.o.TaskQueue, in)
	}
	if !errors.As(err, &busy) {
		s.metrics.started("OperateStore", err)
	}
	if err != nil {
		fail(w, r, operationBusy(err))
		return
	}
	_ = s.audit(r, in.Kind, rec.Name)
	op := store.Operation{Kind: in.Kind, WorkflowID: workflows.OperationWorkflowID(rec.Name, rec.Generation), StartedAt: s.o.Now().UTC()}
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(rec.Name))
	writeJSON(w, http.StatusAccepted, OperationResponse{Store: rec, Operation: op})
}

// operationBusy is err, or the CodeBusy error naming the operation that
// runs when err is StartOperation's *workflows.OperationBusy.
func operationBusy(err error) error {
	var busy *workflows.OperationBusy
	if !errors.As(err, &busy) {
		return err
	}
	return &store.Error{Code: store.CodeBusy, Message: busy.Error() + ": wait for it to end, or see its progress",
		Operation: busy.Kind, WorkflowID: busy.WorkflowID}
}

// Revision is one revision of a store's release as GET .../history shows
// it. It carries no values: only the spec fields that changed.
type Revision struct {
	Revision     int       `json:"revision"`
	ChartVersion string    `json:"chartVersion"`
	AppVersion   string    `json:"appVersion,omitempty"`
	Status       string    `json:"status"`
	UpdatedAt    time.Time `json:"updatedAt"`
	Description  string    `json:"description,omitempty"`
	// Size is the size this revision ran with.
	Size string `json:"size"`
	// Suspended is true for a revision that suspended the store.
	Suspended bool `json:"suspended,omitempty"`
	// Changes lists what changed in the spec since the revision before,
	// as "field: old -> new".
	Changes []string `json:"changes"`
}

// History is the answer of GET /api/stores/{name}/history, newest first.
type History struct {
	Store string     `json:"store"`
	Items []Revision `json:"items"`
}

// storeHistory handles GET /api/stores/{name}/history.
func (s *server) storeHistory(w http.ResponseWriter, r *http.Request) {
	rec, ok := s.visibleStore(w, r)
	if !ok {
		return
	}
	out := History{Store: rec.Name, Items: []Revision{}}
	if rec.Phase.Gone() {
		writeJSON(w, http.StatusOK, out)
		return
	}
	hist, err := s.o.Releases.History(r.Context(), rec.Namespace, rec.Name)
	if err != nil {
		fail(w, r, err)
		return
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].Version < hist[j].Version })
	var prev *store.Spec
	for _, rel := range hist {
		spec := storechart.SpecFromValues(rel.Config)
		rv := Revision{Revision: rel.Version, Size: spec.SizeOrDefault(), Suspended: spec.Suspended, Changes: []string{}}
		if rel.Chart != nil && rel.Chart.Metadata != nil {
			rv.ChartVersion, rv.AppVersion = rel.Chart.Metadata.Version, rel.Chart.Metadata.AppVersion
		}
		if rel.Info != nil {
			rv.Status, rv.Description, rv.UpdatedAt = rel.Info.Status.String(), rel.Info.Description, rel.Info.LastDeployed.Time
		}
		if prev != nil {
			rv.Changes = append(rv.Changes, storechart.SpecChanges(*prev, spec)...)
		}
		prev = &spec
		out.Items = append(out.Items, rv)
	}
	for i, j := 0, len(out.Items)-1; i < j; i, j = i+1, j-1 {
		out.Items[i], out.Items[j] = out.Items[j], out.Items[i]
	}
	writeJSON(w, http.StatusOK, out)
}

// Sizes is the answer of GET /api/sizes.
type Sizes struct {
	Profile string            `json:"profile"`
	Default string            `json:"default"`
	Items   []storechart.Size `json:"items"`
}

func (s *server) listSizes(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Sizes{Profile: s.o.Profile.Name, Default: store.SizeSmall, Items: s.o.Profile.Describe()})
}
