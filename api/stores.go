package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/service"
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

// caller is who sends the request, for the service: computed once per
// request.
func caller(r *http.Request) service.Caller {
	return service.Caller{Token: principal(r), RequestID: requestID(r)}
}

// createStore handles POST /api/stores: the record is written, and the
// creation workflow started, by the service (service.CreateStore).
func (s *server) createStore(w http.ResponseWriter, r *http.Request) {
	req, p := decodeCreateStore(w, r)
	if p != nil {
		fail(w, r, p)
		return
	}
	rec, err := s.svc.CreateStore(r.Context(), caller(r), store.Spec{Name: req.Name, Engine: req.Engine, Title: req.Title,
		AdminEmail: req.AdminEmail, Host: req.Host, MedusaImage: req.MedusaImage, Size: req.Size})
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(rec.Name))
	writeJSON(w, r, http.StatusAccepted, StoreResponse{Record: rec})
}

// getStore handles GET /api/stores/{name}: the record and the progress of
// its workflow, read fresh (the event streams share theirs, progressOf).
func (s *server) getStore(w http.ResponseWriter, r *http.Request) {
	rec, err := s.svc.VisibleStore(r.Context(), caller(r), mux.Vars(r)["name"])
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, StoreResponse{Record: rec, Progress: s.svc.Progress(r.Context(), rec)})
}

// listStores handles GET /api/stores.
func (s *server) listStores(w http.ResponseWriter, r *http.Request) {
	lq, p := listQuery(r)
	if p != nil {
		fail(w, r, p)
		return
	}
	recs, next, err := s.svc.ListStores(r.Context(), caller(r), lq)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, StoreList{Items: recs, NextCursor: next})
}

// listQuery decodes and validates the query parameters of GET
// /api/stores.
func listQuery(r *http.Request) (store.ListQuery, *Problem) {
	q := r.URL.Query()
	var bad []FieldError
	lq := store.ListQuery{Phase: store.Phase(q.Get("status")), Engine: q.Get("engine"), Cursor: q.Get("cursor"), Limit: 20,
		NamePrefix: q.Get("name"), Owner: q.Get("owner")}
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
	if lq.NamePrefix != "" && !namePrefixRE.MatchString(lq.NamePrefix) {
		bad = append(bad, FieldError{Field: "name", Message: MsgNamePrefix})
	}
	if lq.Owner != "" {
		if err := auth.ValidateTenant(lq.Owner); err != nil {
			bad = append(bad, FieldError{Field: "owner", Message: auth.ErrInvalidTenant.Error()})
		}
	}
	if len(bad) > 0 {
		return lq, invalid("some query parameters are not valid", bad...)
	}
	return lq, nil
}

// deleteStore handles DELETE /api/stores/{name} (service.DeleteStore).
func (s *server) deleteStore(w http.ResponseWriter, r *http.Request) {
	rec, err := s.svc.DeleteStore(r.Context(), caller(r), mux.Vars(r)["name"])
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/stores/"+url.PathEscape(rec.Name))
	writeJSON(w, r, http.StatusAccepted, StoreResponse{Record: rec})
}

// RetryRequest is the optional body of POST /api/stores/{name}/retry.
type RetryRequest struct {
	// Force removes the finalizers that keep a stuck deletion (admins only).
	Force bool `json:"force,omitempty"`
}

// retryStore handles POST /api/stores/{name}/retry: the signal to the
// store's workflow (service.RetryStore).
func (s *server) retryStore(w http.ResponseWriter, r *http.Request) {
	var req RetryRequest
	if r.ContentLength != 0 {
		if p := decodeJSON(w, r, &req); p != nil {
			fail(w, r, p)
			return
		}
	}
	sg, err := s.svc.RetryStore(r.Context(), caller(r), mux.Vars(r)["name"], req.Force)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusAccepted, map[string]string{"store": sg.Name, "workflowId": sg.WorkflowID, "signal": sg.Signal})
}

// Reconcile starts the creation workflows of the records left requested
// (service.Reconcile), for the command's reconcile loop.
func Reconcile(ctx context.Context, stores StoreRepository, c client.Client, taskQueue string) (started int, err error) {
	return service.Reconcile(ctx, stores, c, taskQueue)
}
