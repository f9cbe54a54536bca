package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/storeplatform/storeplatform/internal/service"
)

// Credentials is the store's admin login, read from its Secret on demand.
type Credentials = service.Credentials

// getCredentials handles GET /api/stores/{name}/credentials: the owner or
// an admin reads the admin login from the store's Secret; every read is
// audited (service.Credentials).
func (s *server) getCredentials(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.Credentials(r.Context(), caller(r), mux.Vars(r)["name"])
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, r, http.StatusOK, c)
}

// KubeEvent is a Kubernetes event of a store's namespace.
type KubeEvent = service.KubeEvent

// KubeEventList is the body of GET /api/stores/{name}/kubernetes-events.
type KubeEventList struct {
	Items []KubeEvent `json:"items"`
}

// getKubeEvents handles GET /api/stores/{name}/kubernetes-events: the
// events of the store's namespace, warnings first, so that an owner sees
// why a pod is pending (service.StoreKubeEvents).
func (s *server) getKubeEvents(w http.ResponseWriter, r *http.Request) {
	evs, err := s.svc.StoreKubeEvents(r.Context(), caller(r), mux.Vars(r)["name"])
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, KubeEventList{Items: evs})
}
