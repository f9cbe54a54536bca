package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/storeplatform/storeplatform/internal/store"
)

// Step statuses: a step runs, then is done or failed; a creation's step
// that was undone after a failure is compensated.
const (
	StepRunning     = "running"
	StepDone        = "done"
	StepFailed      = "failed"
	StepCompensated = "compensated"
)

// Step is one step of a workflow as the progress query reports it.
type Step struct {
	Name        string     `json:"name"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"startedAt"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	Error       string     `json:"error,omitempty"`
	// Attempt is the run's attempt the step belongs to (1, then one more
	// per retry signal of a failed creation or a degraded operation).
	Attempt int `json:"attempt"`
}

// Progress is the answer to the progress query.
type Progress struct {
	// Workflow is "create", "delete", or the operation: "change",
	// "upgrade", "rollback", "suspend", "resume".
	Workflow   string      `json:"workflow"`
	Store      string      `json:"store"`
	Generation int         `json:"generation"`
	Phase      store.Phase `json:"phase"`
	// CurrentStep is the step running now, or "" between steps.
	CurrentStep string `json:"currentStep,omitempty"`
	Steps       []Step `json:"steps"`
	LastError   string `json:"lastError,omitempty"`
	// Blockers name what keeps a stuck deletion's namespace.
	Blockers []string `json:"blockers,omitempty"`
	// WaitingFor says which operator signal the workflow waits for, if any.
	WaitingFor string `json:"waitingFor,omitempty"`
	// Attempt is the run's attempt now (see Step.Attempt).
	Attempt int `json:"attempt"`
}

// tracker keeps the Progress of a run and serves the progress query.
type tracker struct {
	p Progress
}

// newTracker starts the Progress of a run of kind on spec's store and
// serves it as the progress query.
func newTracker(ctx workflow.Context, kind string, spec store.Spec) (*tracker, error) {
	t := &tracker{p: Progress{Workflow: kind, Store: spec.Name, Generation: spec.Generation, Attempt: 1, Steps: []Step{}}}
	err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) {
		p := t.p
		p.Steps = append([]Step(nil), t.p.Steps...)
		return p, nil
	})
	return t, err
}

// start opens step name as running.
func (t *tracker) start(ctx workflow.Context, name string) {
	t.p.CurrentStep = name
	t.p.Steps = append(t.p.Steps, Step{Name: name, Status: StepRunning, StartedAt: workflow.Now(ctx), Attempt: t.p.Attempt})
}

// end closes the current step as done or failed.
func (t *tracker) end(ctx workflow.Context, err error) {
	if len(t.p.Steps) == 0 {
		return
	}
	s := &t.p.Steps[len(t.p.Steps)-1]
	now := workflow.Now(ctx)
	s.CompletedAt = &now
	s.Status = StepDone
	if err != nil {
		s.Status, s.Error = StepFailed, errorText(err)
		t.p.LastError = s.Error
	}
	t.p.CurrentStep = ""
}

// enter moves the run into phase, in this order: the progress query, the
// StorePhase search attribute, then write (the store's record), if any.
// Every phase change of the workflows goes through here but DeleteStore's
// first, deleting, whose progress phase it sets and whose record it writes
// directly (each workflow sets its first phase's search attribute as it
// starts, searchAttributes). In histories from before versionEnterPhase,
// CreateStore's ready and DeleteStore's deleted are written first, then
// entered without a write. A write that keeps the phase (a message; a
// stuck deletion canceled) does not come here.
func (t *tracker) enter(ctx workflow.Context, phase store.Phase, write func() error) error {
	t.p.Phase = phase
	setPhase(ctx, phase)
	if write == nil {
		return nil
	}
	return write()
}

// run runs one step: start, fn, end.
func (t *tracker) run(ctx workflow.Context, name string, fn func() error) error {
	t.start(ctx, name)
	err := fn()
	t.end(ctx, err)
	return err
}
