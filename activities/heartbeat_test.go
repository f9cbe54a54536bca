package activities

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestKeepAliveHeartbeatsThroughALongAction: an activity that works for
// longer than its HeartbeatTimeout (4 s against 1 s: a beat every 250 ms
// leaves room for a loaded machine) without a point to report progress (a
// Helm action) stays alive through keepAlive; without it, it times out.
func TestKeepAliveHeartbeatsThroughALongAction(t *testing.T) {
	for _, tt := range []struct {
		name      string
		keepAlive bool
		wantErr   bool
	}{
		{"with keepAlive", true, false},
		{"without", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.SetTestTimeout(30 * time.Second)
			var beats atomic.Int32
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats.Add(1) })
			longAction := func(ctx context.Context) error {
				if tt.keepAlive {
					defer keepAlive(ctx, "long action")()
				}
				select {
				case <-time.After(4 * time.Second):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			env.RegisterActivityWithOptions(longAction, activity.RegisterOptions{Name: "LongAction"})
			wf := func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
					StartToCloseTimeout: time.Minute, HeartbeatTimeout: time.Second,
					RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
				})
				return workflow.ExecuteActivity(ctx, "LongAction").Get(ctx, nil)
			}
			env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "LongActionWorkflow"})
			env.ExecuteWorkflow("LongActionWorkflow")
			if err := env.GetWorkflowError(); (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error: %v", err, tt.wantErr)
			}
			if tt.keepAlive && beats.Load() < 3 {
				t.Fatalf("%d heartbeats in 4 s with a 1 s timeout", beats.Load())
			}
		})
	}
}
