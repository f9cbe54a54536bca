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
