package api

import (
	_ "embed"
	"net/http"
)

// openAPISpec describes every route (checked by TestOpenAPICoversEveryRoute).
//
//go:embed openapi.json
var openAPISpec []byte

// docsPage renders openAPISpec in the browser, with no external requests.
//
//go:embed docs.html
var docsPage []byte

func serveStatic(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'")
		_, err := w.Write(body)
		unsent(r, err)
	}
}
