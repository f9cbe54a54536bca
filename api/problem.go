package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
	"go.temporal.io/api/serviceerror"

	"github.com/storeplatform/storeplatform/internal/store"
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
	// Operation and WorkflowID name the operation that runs on the store,
	// in an operation-running problem.
	Operation  string `json:"operation,omitempty"`
	WorkflowID string `json:"workflowId,omitempty"`
	// cause, on a 500, is the error that fail logs.
	cause error
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
	ProblemForbidden               = problemBase + "forbidden"
	ProblemMethodNotAllowed        = problemBase + "method-not-allowed"
	ProblemOperationRunning        = problemBase + "operation-running"
	ProblemUnavailable             = problemBase + "unavailable"
	ProblemInternal                = problemBase + "internal"
	problemContentType             = "application/problem+json"
	maxBodyBytes             int64 = 64 << 10
)

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// because sets the cause that fail logs, and returns p.
func (p *Problem) because(err error) *Problem {
	p.cause = err
	return p
}

// newProblem returns a problem of type typ with its title and status: the
// one table of every problem type the API answers with.
func newProblem(typ, detail string) *Problem {
	p := &Problem{Type: typ, Detail: detail}
	switch typ {
	case ProblemValidation:
		p.Title, p.Status = "Invalid request", http.StatusBadRequest
	case ProblemMalformed:
		p.Title, p.Status = "Malformed request body", http.StatusBadRequest
	case ProblemTooLarge:
		p.Title, p.Status = "Request body too large", http.StatusRequestEntityTooLarge
	case ProblemUnsupportedMedia:
		p.Title, p.Status = "Unsupported media type", http.StatusUnsupportedMediaType
	case ProblemUnauthorized:
		p.Title, p.Status = "Unauthorized", http.StatusUnauthorized
	case ProblemForbidden:
		p.Title, p.Status = "Forbidden", http.StatusForbidden
	case ProblemNotFound:
		p.Title, p.Status = "Not found", http.StatusNotFound
	case ProblemMethodNotAllowed:
		p.Title, p.Status = "Method not allowed", http.StatusMethodNotAllowed
	case ProblemConflict:
		p.Title, p.Status = "Conflict", http.StatusConflict
	case ProblemStoreLimitReached:
		p.Title, p.Status = "Store limit reached", http.StatusConflict
	case ProblemOperationRunning:
		p.Title, p.Status = "Another operation is running", http.StatusConflict
	case ProblemRateLimited:
		p.Title, p.Status = "Too many requests", http.StatusTooManyRequests
	case ProblemUnavailable:
		p.Title, p.Status = "Service unavailable", http.StatusServiceUnavailable
	default:
		p.Type, p.Title, p.Status = ProblemInternal, "Internal error", http.StatusInternalServerError
	}
	return p
}

// invalid is a validation problem listing the bad fields.
func invalid(detail string, fields ...FieldError) *Problem {
	p := newProblem(ProblemValidation, detail)
	p.Errors = fields
	return p
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	unsent(r, json.NewEncoder(w).Encode(p))
}

// fail answers a handler's error: the one mapping of errors to problems.
// A *Problem is sent as it is, its cause logged if it has one; an error
// with a store code (store.Error) becomes that code's problem
// (codeProblem); a dependency that does not answer is a 503 with
// Retry-After; anything else is a 500 whose cause is only logged. The
// logs go to the request's logger, with the ID the response carries.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	code := store.ErrorCode(err)
	switch {
	case errors.As(err, &p):
		if p.cause != nil {
			requestLogger(r.Context()).ErrorContext(r.Context(), "internal error", "error", p.cause.Error())
		}
	case code == store.CodeUnavailable || code == store.CodeInternal && dependencyDown(err):
		// MongoDB or Temporal does not answer: nothing was done, and the
		// same request later will work.
		requestLogger(r.Context()).WarnContext(r.Context(), "dependency unavailable", "error", err.Error())
		w.Header().Set("Retry-After", "5")
		p = newProblem(ProblemUnavailable, "the platform's database or workflow service does not answer; retry in a few seconds")
	case code != store.CodeInternal:
		p = codeProblem(err)
	default:
		requestLogger(r.Context()).ErrorContext(r.Context(), "internal error", "error", err.Error())
		p = newProblem(ProblemInternal, "the request failed; quote the request ID when you report it")
	}
	p.RequestID = requestID(r)
	writeProblem(w, r, p)
}

// codeProblem is the problem of an error with a store code: its message is
// the problem's detail.
func codeProblem(err error) *Problem {
	var e *store.Error
	errors.As(err, &e)
	switch e.Code {
	case store.CodeNotFound:
		return newProblem(ProblemNotFound, e.Message)
	case store.CodeBusy:
		p := newProblem(ProblemOperationRunning, e.Message)
		p.Operation, p.WorkflowID = e.Operation, e.WorkflowID
		return p
	case store.CodeLimit:
		return newProblem(ProblemStoreLimitReached, e.Message)
	case store.CodeForbidden:
		return newProblem(ProblemForbidden, e.Message)
	case store.CodeInvalid:
		if e.Field == "" {
			return invalid(e.Message)
		}
		return invalid(e.Message, FieldError{Field: e.Field, Message: e.Reason})
	}
	return newProblem(ProblemConflict, e.Message)
}

// dependencyDown reports whether err says MongoDB or Temporal could not
// be reached (down, restarting, unreachable), as opposed to a request it
// refused.
func dependencyDown(err error) bool {
	var sel topology.ServerSelectionError
	var unavailable *serviceerror.Unavailable
	// A request in flight when MongoDB went away gets the driver's "pool
	// cleared" error, which carries no network label.
	var poolCleared driver.RetryablePoolError
	return mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, &sel) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.As(err, &unavailable) ||
		errors.As(err, &poolCleared) && poolCleared.Retryable()
}

// notFound answers 404 with detail.
func notFound(w http.ResponseWriter, r *http.Request, detail string) {
	p := newProblem(ProblemNotFound, detail)
	p.RequestID = requestID(r)
	writeProblem(w, r, p)
}
