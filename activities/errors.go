package activities

// The Temporal error types of the platform, all of them: the type of every
// temporal.NewNonRetryableApplicationError that an activity or a workflow
// (package workflows, which imports this one) fails with. Saved replay
// histories (workflows/testdata) hold these strings: never change one.

// Error types of the activities' permanent failures, used in retry
// policies (NonRetryable).
const (
	ErrInvalidSpec       = "InvalidSpec"
	ErrNamespaceConflict = "NamespaceConflict"
	ErrInvalidChart      = "InvalidChart"
	ErrWorkloadFailed    = "WorkloadFailed"
	ErrNamespaceNotOurs  = "NamespaceNotOurs"
	// ErrRevisionNotFound: a rollback to a revision the release does not
	// have (any more).
	ErrRevisionNotFound = "RevisionNotFound"
)

// Error types of the record's state machine (internal/store/lifecycle.go).
const (
	// ErrStoreMoved: the state machine refused a status write because the
	// record has moved on (a deletion took the store, or its generation is
	// gone). Its details hold the record's phase now.
	ErrStoreMoved = "StoreRecordMoved"
	// ErrSpecChanged: the store's spec changed after the operation was
	// asked for.
	ErrSpecChanged = "StoreSpecChanged"
	// ErrHostTaken: another store serves or holds a host the operation
	// would serve.
	ErrHostTaken = "HostTaken"
)

// Error types of the workflows' own failures; no activity fails with them.
const (
	// ErrStoreFailed: a creation failed and was not retried in time, or a
	// degraded operation was not retried in time.
	ErrStoreFailed = "StoreFailed"
	// ErrSuperseded: the store's state machine took the store from the
	// creation (a deletion began, or its generation is gone).
	ErrSuperseded = "StoreSuperseded"
	// ErrNotOperable: an operation asked of a store that is being created
	// or deleted (the API asks the state machine first; this covers a race
	// with a deletion).
	ErrNotOperable = "StoreNotOperable"
)

// NonRetryable lists the activities' error types, for
// RetryPolicy.NonRetryableErrorTypes.
func NonRetryable() []string {
	return []string{ErrInvalidSpec, ErrNamespaceConflict, ErrInvalidChart, ErrWorkloadFailed, ErrNamespaceNotOurs, ErrRevisionNotFound,
		ErrStoreMoved, ErrSpecChanged, ErrHostTaken}
}
