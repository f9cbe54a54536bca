package store

import (
	"errors"
	"fmt"
)

// Code classifies an error of the store domain, in the manner of
// benbjohnson/wtf's error codes: code that meets an error asks its code
// (ErrorCode), never its text, and the API maps each code to one HTTP
// problem in one place.
type Code string

// Error codes.
const (
	// CodeNotFound: there is no such store (or rollout), or it is deleted.
	CodeNotFound Code = "not_found"
	// CodeConflict: the store's phase or another store's claim does not
	// allow the request.
	CodeConflict Code = "conflict"
	// CodeBusy: a workflow has the store; Operation and WorkflowID name it.
	CodeBusy Code = "busy"
	// CodeLimit: the tenant has as many stores as it may.
	CodeLimit Code = "limit"
	// CodeInvalid: the request is not valid; Field and Reason say which
	// field and why, when one field is at fault.
	CodeInvalid Code = "invalid"
	// CodeForbidden: the caller may not ask this.
	CodeForbidden Code = "forbidden"
	// CodeUnavailable: a dependency did not answer in time; the same
	// request later may work.
	CodeUnavailable Code = "unavailable"
	// CodeInternal: any error without a code of its own.
	CodeInternal Code = "internal"
)

// Error is an error with a code and a message for the caller. A request
// the state machine refuses (Decide) is one, and so are the repository's
// sentinel errors below.
type Error struct {
	Code    Code
	Message string
	// Workflow is the workflow that has the store (CodeBusy from Decide);
	// Operation is what runs, as the caller is told (a workflow, an
	// operation's kind, or "rollout"), and WorkflowID its ID when known.
	Workflow   Workflow
	Operation  string
	WorkflowID string
	// Field and Reason name the field at fault of a CodeInvalid error, and
	// what is wrong with it.
	Field  string
	Reason string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an error of code with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode is the code of err: that of the first *Error in its chain,
// CodeInternal for any other error, "" for nil.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage is the message of the first *Error in err's chain; for any
// other error, a message that gives nothing of its cause away.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Errors of the repository.
var (
	ErrNotFound = &Error{Code: CodeNotFound, Message: "store not found"}
	// ErrConflict means a record of that name exists.
	ErrConflict = &Error{Code: CodeConflict, Message: "a store of that name exists"}
	// ErrNotOperable means the store is being created or deleted: an
	// operation may not touch it.
	ErrNotOperable = &Error{Code: CodeBusy, Message: "the store is being created or deleted"}
	// ErrHostTaken: another live store serves the host.
	ErrHostTaken = &Error{Code: CodeConflict, Message: "another store has that host"}
	// ErrSlotTaken: the slot of the tenant's store limit is held by
	// another of its stores.
	ErrSlotTaken = &Error{Code: CodeConflict, Message: "the slot is taken"}
	// ErrSpecChanged: the store's spec changed after the operation was
	// asked for.
	ErrSpecChanged = &Error{Code: CodeConflict, Message: "the store was changed after the operation was asked for"}
	// ErrBadCursor is returned for a cursor this repository did not make.
	ErrBadCursor = &Error{Code: CodeInvalid, Message: "invalid cursor"}
	// ErrMoved is the error of a write the state machine refuses: the
	// record has moved on (another writer took the store, or its
	// generation is gone).
	ErrMoved = &Error{Code: CodeConflict, Message: "the store's record has moved on"}
)
