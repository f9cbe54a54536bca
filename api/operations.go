package api

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/storeplatform/storeplatform/internal/service"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// ReleaseHistory reads a store's Helm release history (Options.Releases).
type ReleaseHistory = service.ReleaseHistory

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
// changed spec, run by OperateStore. The state machine is asked first
// (service.OperableStore), then the fields are checked against the
// store, then the service starts the change (service.ChangeStore).
// Nothing to change is 200 with the store as it is.
func (s *server) changeStore(w http.ResponseWriter, r *http.Request) {
	var req ChangeStoreRequest
	if p := decodeJSON(w, r, &req); p != nil {
		fail(w, r, p)
		return
	}
	who := caller(r)
	rec, err := s.svc.OperableStore(r.Context(), who, mux.Vars(r)["name"], store.OpChange)
	if err != nil {
		fail(w, r, err)
		return
	}
	target, p := req.target(rec)
	if p != nil {
		fail(w, r, p)
		return
	}
	op, err := s.svc.ChangeStore(r.Context(), who, rec, target)
	switch {
	case err != nil:
		fail(w, r, err)
	case op == nil:
		writeJSON(w, r, http.StatusOK, StoreResponse{Record: rec})
	default:
		writeOperation(w, r, rec, *op)
	}
}

// target is rec's spec with req's changes, or the problem listing the
// fields that are not valid.
func (req ChangeStoreRequest) target(rec store.Record) (store.Spec, *Problem) {
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
	if bad = append(bad, check.Validate()...); len(bad) > 0 {
		return target, invalid("some fields are not valid", bad...)
	}
	return target, nil
}

// suspendStore handles POST /api/stores/{name}/suspend: every workload
// scaled to zero; volumes, Secret and release stay.
func (s *server) suspendStore(w http.ResponseWriter, r *http.Request) {
	s.setSuspended(w, r, true)
}

// resumeStore handles POST /api/stores/{name}/resume.
func (s *server) resumeStore(w http.ResponseWriter, r *http.Request) {
	s.setSuspended(w, r, false)
}

func (s *server) setSuspended(w http.ResponseWriter, r *http.Request, suspended bool) {
	rec, op, err := s.svc.SetSuspended(r.Context(), caller(r), mux.Vars(r)["name"], suspended)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeOperation(w, r, rec, *op)
}

// rollbackStore handles POST /api/stores/{name}/rollback: the release goes
// back to an earlier revision's chart and values (service.RollbackStore).
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
	rec, op, err := s.svc.RollbackStore(r.Context(), caller(r), mux.Vars(r)["name"], req.Revision)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeOperation(w, r, rec, *op)
}

// writeOperation answers 202 with the store and the operation started on
// it.
func writeOperation(w http.ResponseWriter, r *http.Request, rec store.Record, op store.Operation) {
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(rec.Name))
	writeJSON(w, r, http.StatusAccepted, OperationResponse{Store: rec, Operation: op})
}

// Revision is one revision of a store's release as GET .../history shows
// it.
type Revision = service.Revision

// History is the answer of GET /api/stores/{name}/history, newest first.
type History struct {
	Store string     `json:"store"`
	Items []Revision `json:"items"`
}

// storeHistory handles GET /api/stores/{name}/history.
func (s *server) storeHistory(w http.ResponseWriter, r *http.Request) {
	rec, items, err := s.svc.StoreHistory(r.Context(), caller(r), mux.Vars(r)["name"])
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, History{Store: rec.Name, Items: items})
}

// Sizes is the answer of GET /api/sizes.
type Sizes struct {
	Profile string            `json:"profile"`
	Default string            `json:"default"`
	Items   []storechart.Size `json:"items"`
}

func (s *server) listSizes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, Sizes{Profile: s.o.Profile.Name, Default: store.SizeSmall, Items: s.o.Profile.Describe()})
}
