package store

import (
	"fmt"
	"slices"
	"strings"
)

// The store's state machine, in one place: which request a store may take
// in which phase (Decide), and which writer may move its record from which
// phase to which (MayWrite). The API asks Decide before it starts or
// signals a workflow; the repositories ask MayWrite before every write of a
// workflow, so that a late, repeated or out-of-order writer changes nothing.
//
// Who writes what:
//   - The API inserts a record (phase requested), or puts a new generation
//     in the place of a deleted one. It never writes a phase after that:
//     it asks a workflow, and the workflow writes.
//   - CreateStore writes provisioning, ready and failed, and progress
//     messages, only while the store is being created.
//   - DeleteStore writes deleting from any phase but deleted, then
//     deletion_stuck and deleted. A deleted record is final: nothing writes
//     it again, and its host and slot are released exactly once.
//   - OperateStore writes updating, ready, suspended and degraded, only while
//     the store is operable (never over a creation or a deletion).

// Request is something asked of a store.
type Request string

// The requests a store can be asked.
const (
	// RequestCreate is a POST of a store whose name has a record.
	RequestCreate Request = "create"
	RequestDelete Request = "delete"
	// RequestRetry retries a failed creation, a degraded operation or a
	// stuck deletion.
	RequestRetry Request = "retry"
	// RequestForce removes the finalizers that keep a stuck deletion.
	RequestForce    Request = "force"
	RequestChange   Request = OpChange
	RequestRollback Request = OpRollback
	RequestSuspend  Request = OpSuspend
	RequestResume   Request = OpResume
	RequestUpgrade  Request = OpUpgrade
	// RequestCredentials reads the store's admin login.
	RequestCredentials Request = "credentials"
)

// Workflow names the workflow a request starts or signals.
type Workflow string

// The workflows of a store.
const (
	WorkflowNone      Workflow = ""
	WorkflowCreate    Workflow = "create"
	WorkflowDelete    Workflow = "delete"
	WorkflowOperation Workflow = "operation"
)

// Decision is the state machine's answer to a request in a phase.
type Decision struct {
	// Refused, when set, is why the request is refused (CodeNotFound,
	// CodeConflict or CodeBusy); nothing is started or signalled.
	Refused *Error
	// Next is the phase the store enters when the workflow takes the
	// request ("" when the phase stays as it is).
	Next Phase
	// Start is the workflow the request starts (or finds running); Signal,
	// when set, is sent to Start's workflow instead of starting it.
	Start  Workflow
	Signal string
}

// Signals the workflows handle (workflows.SignalRetry, SignalForce).
const (
	signalRetry = "retry"
	signalForce = "force"
)

// Decide answers request req of store name in phase p. Operations that the
// phase allows may still be refused by Temporal when another operation
// runs (one workflow ID per store).
func Decide(name string, p Phase, req Request) Decision {
	busy := func(w Workflow, what string) Decision {
		return Decision{Refused: &Error{Code: CodeBusy, Workflow: w, Operation: string(w),
			Message: fmt.Sprintf("store %s is %s: a %s must wait until that ends", name, what, req)}}
	}
	conflict := func(msg string) Decision {
		return Decision{Refused: &Error{Code: CodeConflict, Message: msg}}
	}
	if p == PhaseDeleted && req != RequestCreate {
		return Decision{Refused: &Error{Code: CodeNotFound, Message: "store " + name + " is deleted"}}
	}
	switch req {
	case RequestCreate:
		switch p {
		case PhaseDeleted, "":
			return Decision{Next: PhaseRequested, Start: WorkflowCreate} // a new generation
		case PhaseRequested, PhaseFailed:
			// Starting is idempotent: a running creation is found, a
			// failed one whose workflow has ended runs again.
			return Decision{Start: WorkflowCreate}
		case PhaseDeleting, PhaseDeletionStuck:
			return conflict("store " + name + " is being deleted: create it again once it is deleted")
		}
		return Decision{} // it exists: the same request twice gives the same store
	case RequestDelete:
		if p == PhaseDeleting || p == PhaseDeletionStuck {
			// The deletion that runs is found (a stuck one waits for a
			// signal); one canceled while stuck runs again.
			return Decision{Start: WorkflowDelete}
		}
		return Decision{Next: PhaseDeleting, Start: WorkflowDelete}
	case RequestCredentials:
		if p != PhaseReady {
			return conflict("store " + name + " is " + string(p) + ": credentials are available when it is ready")
		}
		return Decision{}
	case RequestRetry, RequestForce:
		switch {
		case p == PhaseDeletionStuck && req == RequestForce:
			return Decision{Next: PhaseDeleting, Start: WorkflowDelete, Signal: signalForce}
		case p == PhaseDeletionStuck:
			return Decision{Next: PhaseDeleting, Start: WorkflowDelete, Signal: signalRetry}
		case p == PhaseFailed && req == RequestRetry:
			return Decision{Next: PhaseProvisioning, Start: WorkflowCreate, Signal: signalRetry}
		case p == PhaseDegraded && req == RequestRetry:
			return Decision{Next: PhaseUpdating, Start: WorkflowOperation, Signal: signalRetry}
		case req == RequestForce:
			return conflict(fmt.Sprintf("store %s is %s: only a stuck deletion can be forced", name, p))
		}
		return conflict(fmt.Sprintf("store %s is %s: only a failed creation, a degraded store or a stuck deletion can be retried", name, p))
	case RequestChange, RequestRollback, RequestSuspend, RequestResume, RequestUpgrade:
		switch p {
		case PhaseRequested, PhaseProvisioning:
			return busy(WorkflowCreate, string(p))
		case PhaseDeleting, PhaseDeletionStuck:
			return busy(WorkflowDelete, string(p))
		case PhaseFailed:
			return conflict("store " + name + " failed to be created: retry its creation or delete it")
		}
		switch {
		case req == RequestSuspend && p != PhaseReady:
			return conflict(fmt.Sprintf("store %s is %s: only a ready store can be suspended", name, p))
		case req == RequestResume && p != PhaseSuspended:
			return conflict(fmt.Sprintf("store %s is %s: only a suspended store can be resumed", name, p))
		}
		return Decision{Next: PhaseUpdating, Start: WorkflowOperation}
	}
	return conflict(fmt.Sprintf("unknown request %q", req))
}

// ActiveWorkflow is the workflow that works on, or waits with, a store in
// phase p; WorkflowNone when none does.
func ActiveWorkflow(p Phase) Workflow {
	switch p {
	case PhaseRequested, PhaseProvisioning, PhaseFailed:
		return WorkflowCreate
	case PhaseDeleting, PhaseDeletionStuck:
		return WorkflowDelete
	case PhaseUpdating, PhaseDegraded:
		return WorkflowOperation
	}
	return WorkflowNone
}

// AwaitsOperator reports whether the workflow of a store in phase p waits
// for an operator's signal (a failed creation, a degraded operation, a
// stuck deletion): it may have given up waiting and closed.
func (p Phase) AwaitsOperator() bool { return Decide("", p, RequestRetry).Refused == nil }

// Gone reports whether a store in phase p is deleted: its record stays
// only as history and to guard the name's reuse.
func (p Phase) Gone() bool { return p == PhaseDeleted }

// Writer names who writes a record.
type Writer string

// The writers of a record after the API inserted it.
const (
	WriterCreate    Writer = "create"
	WriterDelete    Writer = "delete"
	WriterOperation Writer = "operation"
)

// anyPhase but deleted: where a deletion may begin.
var liveGen = []Phase{PhaseRequested, PhaseProvisioning, PhaseReady, PhaseUpdating, PhaseSuspended,
	PhaseDegraded, PhaseFailed, PhaseDeleting, PhaseDeletionStuck}

// operable: the phases an operation may write in.
var operable = []Phase{PhaseReady, PhaseSuspended, PhaseDegraded, PhaseUpdating}

// writes is the table of record writes: writer -> phase written ("" for a
// progress message without a phase) -> the phases the record may be in.
// Every phase may be written over itself, so that a retried write that
// had already committed succeeds.
var writes = map[Writer]map[Phase][]Phase{
	WriterCreate: {
		"":                {PhaseRequested, PhaseProvisioning},
		PhaseProvisioning: {PhaseRequested, PhaseProvisioning, PhaseFailed},
		PhaseReady:        {PhaseProvisioning, PhaseReady},
		PhaseFailed:       {PhaseRequested, PhaseProvisioning, PhaseFailed},
	},
	WriterDelete: {
		"":                 {PhaseDeleting, PhaseDeletionStuck},
		PhaseDeleting:      liveGen,
		PhaseDeletionStuck: {PhaseDeleting, PhaseDeletionStuck},
		PhaseDeleted:       {PhaseDeleting, PhaseDeletionStuck, PhaseDeleted},
	},
	WriterOperation: {
		"":             operable,
		PhaseUpdating:  operable,
		PhaseReady:     operable,
		PhaseSuspended: operable,
		PhaseDegraded:  operable,
	},
}

// MayWrite reports whether writer may write phase to (or a message, when
// to is "") over a record in phase cur.
func MayWrite(writer Writer, to, cur Phase) bool {
	return slices.Contains(writes[writer][to], cur)
}

// Written lists the phases writer writes, in lifecycle order.
func Written(writer Writer) []Phase {
	var out []Phase
	for _, p := range Phases() {
		if _, ok := writes[writer][p]; ok {
			out = append(out, p)
		}
	}
	return out
}

// Operable reports whether an operation (change, rollback, suspend,
// resume, upgrade) may start on a store in phase p: the store exists, is
// not being created or deleted. An operation already running is refused by
// Temporal (one workflow ID per store), not by the phase.
func (p Phase) Operable() bool { return slices.Contains(operable, p) }

// MovedError says where the record is that refused a write.
type MovedError struct {
	Name       string
	Generation int
	// Phase and CurrentGeneration are the record's now ("" and 0 when it
	// does not exist).
	Phase             Phase
	CurrentGeneration int
	// Reason says what did not match when it was not the phase.
	Reason string
}

func (e *MovedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("store %s generation %d: %s", e.Name, e.Generation, e.Reason)
	}
	return fmt.Sprintf("store %s generation %d: the record is %s (generation %d)", e.Name, e.Generation, e.Phase, e.CurrentGeneration)
}

// Unwrap makes errors.Is(err, ErrMoved) true.
func (e *MovedError) Unwrap() error { return ErrMoved }

// WriterOf is the writer of a status update: its Writer, else the
// workflow it names.
func (u StatusUpdate) WriterOf() Writer {
	switch {
	case u.Writer != "":
		return u.Writer
	case u.DeleteWorkflowID != "":
		return WriterDelete
	}
	return WriterCreate
}

// StatusAction is what a status update does to the record of its name.
type StatusAction int

// Status actions.
const (
	// StatusApply changes the record.
	StatusApply StatusAction = iota
	// StatusInsert makes the record: the API's record was lost, and the
	// update carries the spec.
	StatusInsert
	// StatusReplace puts a new generation's record in the place of a
	// deleted one.
	StatusReplace
)

// CheckStatus decides a status update against the record of its name (nil
// when there is none): a write the state machine refuses is a *MovedError.
func CheckStatus(cur *Record, u StatusUpdate) (StatusAction, error) {
	moved := &MovedError{Name: u.Name, Generation: u.Generation}
	switch {
	case cur == nil && u.Spec != nil:
		return StatusInsert, nil
	case cur == nil:
		moved.Reason = "the store has no record"
		return 0, moved
	}
	moved.Phase, moved.CurrentGeneration = cur.Phase, cur.Generation
	switch {
	case cur.Generation > u.Generation:
		return 0, moved // a late write of an older store: the name is a newer one's
	case cur.Generation < u.Generation && cur.Phase == PhaseDeleted && u.Spec != nil:
		return StatusReplace, nil
	case cur.Generation < u.Generation:
		return 0, moved
	case !MayWrite(u.WriterOf(), u.Phase, cur.Phase):
		return 0, moved
	}
	return StatusApply, nil
}

// CheckOperation decides an operation's write against the record: the
// store must be operable (never written over a creation or a deletion) and,
// on the write that starts the operation, still have the spec version the
// operation was asked for.
func CheckOperation(cur *Record, u OperationUpdate) error {
	switch {
	case cur == nil || cur.Generation != u.Generation || !MayWrite(WriterOperation, u.Phase, cur.Phase):
		return ErrNotOperable
	case u.Operation != nil && u.SpecVersion != nil && cur.SpecVersion != *u.SpecVersion:
		return ErrSpecChanged
	}
	return nil
}

// Requests lists the requests Decide answers, in the order the docs show
// them.
func Requests() []Request {
	return []Request{RequestCreate, RequestDelete, RequestRetry, RequestForce, RequestChange, RequestRollback,
		RequestSuspend, RequestResume, RequestUpgrade, RequestCredentials}
}

// Markdown renders the state machine's two tables (requests by phase, and
// writes by writer) for docs/state-machine.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| phase \\ request |")
	for _, r := range Requests() {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n|---|")
	for range Requests() {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, p := range Phases() {
		b.WriteString("| " + string(p) + " |")
		for _, r := range Requests() {
			d := Decide("s", p, r)
			cell := ""
			switch {
			case d.Refused != nil && d.Refused.Workflow != WorkflowNone:
				cell = string(d.Refused.Code) + " (" + string(d.Refused.Workflow) + ")"
			case d.Refused != nil:
				cell = string(d.Refused.Code)
			case d.Signal != "":
				cell = "signal " + d.Signal + " → " + string(d.Start)
			case d.Start != WorkflowNone:
				cell = "start " + string(d.Start)
			default:
				cell = "ok"
			}
			if d.Next != "" {
				cell += " → " + string(d.Next)
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n| writer | writes | over a record in |\n|---|---|---|\n")
	for _, w := range []Writer{WriterCreate, WriterDelete, WriterOperation} {
		for _, to := range append([]Phase{""}, Phases()...) {
			from, ok := writes[w][to]
			if !ok {
				continue
			}
			name := string(to)
			if to == "" {
				name = "a progress message"
			}
			var fs []string
			for _, f := range from {
				fs = append(fs, string(f))
			}
			b.WriteString("| " + string(w) + " | " + name + " | " + strings.Join(fs, ", ") + " |\n")
		}
	}
	return b.String()
}
