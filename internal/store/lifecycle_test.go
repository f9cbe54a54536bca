package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storeplatform/storeplatform/internal/harness/docsection"
	"github.com/storeplatform/storeplatform/internal/store"
)

// TestDecide is the state machine's request table, row by row.
func TestDecide(t *testing.T) {
	type want struct {
		code   store.Code // "" when allowed
		next   store.Phase
		start  store.Workflow
		signal string
	}
	ok := func(next store.Phase, start store.Workflow, signal string) want {
		return want{next: next, start: start, signal: signal}
	}
	refused := func(c store.Code) want { return want{code: c} }
	op := ok(store.PhaseUpdating, store.WorkflowOperation, "")
	busyCreate, busyDelete := refused(store.CodeBusy), refused(store.CodeBusy)
	tests := []struct {
		phase store.Phase
		req   store.Request
		want  want
	}{
		{store.PhaseDeleted, store.RequestCreate, ok(store.PhaseRequested, store.WorkflowCreate, "")},
		{store.PhaseRequested, store.RequestCreate, ok("", store.WorkflowCreate, "")},
		{store.PhaseFailed, store.RequestCreate, ok("", store.WorkflowCreate, "")},
		{store.PhaseProvisioning, store.RequestCreate, ok("", store.WorkflowNone, "")},
		{store.PhaseReady, store.RequestCreate, ok("", store.WorkflowNone, "")},
		{store.PhaseDeleting, store.RequestCreate, refused(store.CodeConflict)},
		{store.PhaseDeletionStuck, store.RequestCreate, refused(store.CodeConflict)},

		{store.PhaseRequested, store.RequestDelete, ok(store.PhaseDeleting, store.WorkflowDelete, "")},
		{store.PhaseProvisioning, store.RequestDelete, ok(store.PhaseDeleting, store.WorkflowDelete, "")},
		{store.PhaseUpdating, store.RequestDelete, ok(store.PhaseDeleting, store.WorkflowDelete, "")},
		{store.PhaseDeletionStuck, store.RequestDelete, ok("", store.WorkflowDelete, "")},
		{store.PhaseDeleting, store.RequestDelete, ok("", store.WorkflowDelete, "")},
		{"", store.RequestCreate, ok(store.PhaseRequested, store.WorkflowCreate, "")},
		{store.PhaseReady, store.RequestCredentials, ok("", store.WorkflowNone, "")},
		{store.PhaseSuspended, store.RequestCredentials, refused(store.CodeConflict)},
		{store.PhaseDeleted, store.RequestDelete, refused(store.CodeNotFound)},

		{store.PhaseFailed, store.RequestRetry, ok(store.PhaseProvisioning, store.WorkflowCreate, "retry")},
		{store.PhaseDegraded, store.RequestRetry, ok(store.PhaseUpdating, store.WorkflowOperation, "retry")},
		{store.PhaseDeletionStuck, store.RequestRetry, ok(store.PhaseDeleting, store.WorkflowDelete, "retry")},
		{store.PhaseDeletionStuck, store.RequestForce, ok(store.PhaseDeleting, store.WorkflowDelete, "force")},
		{store.PhaseFailed, store.RequestForce, refused(store.CodeConflict)},
		{store.PhaseReady, store.RequestRetry, refused(store.CodeConflict)},
		{store.PhaseDeleted, store.RequestRetry, refused(store.CodeNotFound)},

		{store.PhaseReady, store.RequestChange, op},
		{store.PhaseSuspended, store.RequestChange, op},
		{store.PhaseDegraded, store.RequestRollback, op},
		{store.PhaseUpdating, store.RequestChange, op}, // Temporal refuses a second operation
		{store.PhaseRequested, store.RequestChange, busyCreate},
		{store.PhaseProvisioning, store.RequestRollback, busyCreate},
		{store.PhaseDeleting, store.RequestChange, busyDelete},
		{store.PhaseDeletionStuck, store.RequestSuspend, busyDelete},
		{store.PhaseFailed, store.RequestChange, refused(store.CodeConflict)},
		{store.PhaseDeleted, store.RequestChange, refused(store.CodeNotFound)},
		{store.PhaseReady, store.RequestSuspend, op},
		{store.PhaseSuspended, store.RequestSuspend, refused(store.CodeConflict)},
		{store.PhaseSuspended, store.RequestResume, op},
		{store.PhaseReady, store.RequestResume, refused(store.CodeConflict)},
		{store.PhaseReady, store.RequestUpgrade, op},
	}
	for _, tt := range tests {
		t.Run(string(tt.phase)+"/"+string(tt.req), func(t *testing.T) {
			d := store.Decide("shop", tt.phase, tt.req)
			var code store.Code
			if d.Refused != nil {
				code = d.Refused.Code
				if d.Refused.Message == "" {
					t.Error("a refusal without a message")
				}
			}
			got := want{code: code, next: d.Next, start: d.Start, signal: d.Signal}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if d := store.Decide("shop", store.PhaseProvisioning, store.RequestChange); d.Refused.Workflow != store.WorkflowCreate {
		t.Errorf("busy with %q, want the creation", d.Refused.Workflow)
	}
}

// TestMayWrite is the state machine's write table: who may write which
// phase over which.
func TestMayWrite(t *testing.T) {
	tests := []struct {
		w        store.Writer
		to       store.Phase
		allowed  []store.Phase
		writable bool // false: writer never writes to
	}{
		{store.WriterCreate, store.PhaseProvisioning, []store.Phase{store.PhaseRequested, store.PhaseProvisioning, store.PhaseFailed}, true},
		{store.WriterCreate, store.PhaseReady, []store.Phase{store.PhaseProvisioning, store.PhaseReady}, true},
		{store.WriterCreate, store.PhaseFailed, []store.Phase{store.PhaseRequested, store.PhaseProvisioning, store.PhaseFailed}, true},
		{store.WriterCreate, "", []store.Phase{store.PhaseRequested, store.PhaseProvisioning}, true},
		{store.WriterCreate, store.PhaseDeleted, nil, false},
		{store.WriterDelete, store.PhaseDeleting, []store.Phase{store.PhaseRequested, store.PhaseProvisioning, store.PhaseReady,
			store.PhaseUpdating, store.PhaseSuspended, store.PhaseDegraded, store.PhaseFailed, store.PhaseDeleting, store.PhaseDeletionStuck}, true},
		{store.WriterDelete, store.PhaseDeletionStuck, []store.Phase{store.PhaseDeleting, store.PhaseDeletionStuck}, true},
		{store.WriterDelete, store.PhaseDeleted, []store.Phase{store.PhaseDeleting, store.PhaseDeletionStuck, store.PhaseDeleted}, true},
		{store.WriterDelete, store.PhaseReady, nil, false},
		{store.WriterOperation, store.PhaseUpdating, []store.Phase{store.PhaseReady, store.PhaseUpdating, store.PhaseSuspended, store.PhaseDegraded}, true},
		{store.WriterOperation, store.PhaseReady, []store.Phase{store.PhaseReady, store.PhaseUpdating, store.PhaseSuspended, store.PhaseDegraded}, true},
		{store.WriterOperation, store.PhaseFailed, nil, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.w)+"/"+string(tt.to), func(t *testing.T) {
			in := map[store.Phase]bool{}
			for _, p := range tt.allowed {
				in[p] = true
			}
			for _, cur := range store.Phases() {
				if got := store.MayWrite(tt.w, tt.to, cur); got != in[cur] {
					t.Errorf("over %s: %v, want %v", cur, got, in[cur])
				}
			}
		})
	}
}

// TestCheckStatus: generations and missing records.
func TestCheckStatus(t *testing.T) {
	spec := &store.Spec{Name: "shop", Generation: 2, Engine: store.EngineWooCommerce, Host: "h"}
	rec := func(gen int, p store.Phase) *store.Record {
		return &store.Record{Spec: store.Spec{Name: "shop", Generation: gen}, Phase: p}
	}
	tests := []struct {
		name string
		cur  *store.Record
		u    store.StatusUpdate
		want store.StatusAction
		err  bool
	}{
		{"no record, spec", nil, store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseProvisioning, Spec: spec}, store.StatusInsert, false},
		{"no record, no spec", nil, store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseReady}, 0, true},
		{"older generation deleted", rec(1, store.PhaseDeleted), store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseProvisioning, Spec: spec}, store.StatusReplace, false},
		{"older generation live", rec(1, store.PhaseReady), store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseProvisioning, Spec: spec}, 0, true},
		{"late write of an older store", rec(3, store.PhaseRequested), store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseProvisioning, Spec: spec}, 0, true},
		{"same generation allowed", rec(2, store.PhaseRequested), store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseProvisioning}, store.StatusApply, false},
		{"same generation refused", rec(2, store.PhaseDeleting), store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseFailed}, 0, true},
		{"a delete writer by its workflow ID", rec(2, store.PhaseReady), store.StatusUpdate{Name: "shop", Generation: 2, Phase: store.PhaseDeleting, DeleteWorkflowID: "x"}, store.StatusApply, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := store.CheckStatus(tt.cur, tt.u)
			if tt.err {
				if !errors.Is(err, store.ErrMoved) {
					t.Fatalf("err %v, want ErrMoved", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v %v, want %v", got, err, tt.want)
			}
		})
	}
}

// TestCheckOperation: operations never write over a creation or a
// deletion, and start only on the spec version they were asked for.
func TestCheckOperation(t *testing.T) {
	v := func(n int) *int { return &n }
	cur := &store.Record{Spec: store.Spec{Name: "shop", Generation: 1}, Phase: store.PhaseReady, SpecVersion: 2}
	start := &store.Operation{Kind: store.OpChange}
	tests := []struct {
		name string
		cur  *store.Record
		u    store.OperationUpdate
		want error
	}{
		{"start on its version", cur, store.OperationUpdate{Generation: 1, Phase: store.PhaseUpdating, Operation: start, SpecVersion: v(2)}, nil},
		{"start on an older version", cur, store.OperationUpdate{Generation: 1, Phase: store.PhaseUpdating, Operation: start, SpecVersion: v(1)}, store.ErrSpecChanged},
		{"start from before versions", cur, store.OperationUpdate{Generation: 1, Phase: store.PhaseUpdating, Operation: start}, nil},
		{"end, version not checked", cur, store.OperationUpdate{Generation: 1, Phase: store.PhaseReady, SpecVersion: v(1)}, nil},
		{"over a deletion", &store.Record{Spec: store.Spec{Generation: 1}, Phase: store.PhaseDeleting}, store.OperationUpdate{Generation: 1, Phase: store.PhaseReady}, store.ErrNotOperable},
		{"another generation", cur, store.OperationUpdate{Generation: 2, Phase: store.PhaseReady}, store.ErrNotOperable},
		{"no record", nil, store.OperationUpdate{Generation: 1, Phase: store.PhaseReady}, store.ErrNotOperable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := store.CheckOperation(tt.cur, tt.u); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStateMachineDocumented: docs/state-machine.md shows the tables the
// code decides by; STOREPLATFORM_UPDATE_DOCS=1 writes them.
func TestStateMachineDocumented(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "state-machine.md")
	m := docsection.For("state-tables", "internal/store TestStateMachineDocumented")
	if os.Getenv("STOREPLATFORM_UPDATE_DOCS") != "" {
		if err := docsection.Write(path, m, store.Markdown(), "A store's state machine"); err != nil {
			t.Fatal(err)
		}
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), m.Begin+"\n"+store.Markdown()+m.End) {
		t.Fatal("docs/state-machine.md does not show the state machine's tables: run STOREPLATFORM_UPDATE_DOCS=1 go test -run TestStateMachineDocumented ./internal/store/")
	}
}
