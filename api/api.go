// Package api is Store Platform's HTTP API. Router shows every route in one
// block; handlers take their context from the request and answer every error
// with a JSON body.
package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// Options are the API's dependencies.
type Options struct {
	// Logger receives request and error logs.
	Logger *slog.Logger
	// Checks are the dependencies GET /health probes.
	Checks []Check
}

// Router returns the API's routes.
func Router(o Options) *mux.Router {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := mux.NewRouter()
	r.Handle("/health", health(o.Checks)).Methods(http.MethodGet)
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
