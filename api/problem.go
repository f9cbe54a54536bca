package api

import (
	"encoding/json"
	"net/http"
)

// Problem is an error body in the form of RFC 9457 (application/problem+json).
type Problem struct {
	// Type identifies the kind of problem, e.g. ProblemValidation.
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// RequestID lets an operator find the request in the logs.
	RequestID string `json:"requestId,omitempty"`
	// Errors lists the bad fields of a validation problem.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one bad field of a request body.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem types. They are identifiers (RFC 9457 "type"), documented in the
// OpenAPI description.
const (
	problemBase                    = "https://storeplatform.io/problems/"
	ProblemValidation              = problemBase + "validation"
	ProblemMalformed               = problemBase + "malformed-request"
	ProblemTooLarge                = problemBase + "request-too-large"
	ProblemUnsupportedMedia        = problemBase + "unsupported-media-type"
	ProblemNotFound                = problemBase + "not-found"
	ProblemConflict                = problemBase + "conflict"
	ProblemStoreLimitReached       = problemBase + "store-limit-reached"
	ProblemUnauthorized            = problemBase + "unauthorized"
	ProblemRateLimited             = problemBase + "rate-limited"
	ProblemInternal                = problemBase + "internal"
	problemContentType             = "application/problem+json"
	maxBodyBytes             int64 = 64 << 10
)

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// notFound answers 404 with detail.
func notFound(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, &Problem{Type: ProblemNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: detail, RequestID: requestID(r)})
}

// conflict answers 409 with detail.
func conflict(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, &Problem{Type: ProblemConflict, Title: "Conflict", Status: http.StatusConflict, Detail: detail, RequestID: requestID(r)})
}
