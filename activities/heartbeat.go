package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
)

// keepAlive heartbeats every quarter of the activity's HeartbeatTimeout
// until the returned stop is called. A Helm action runs for many seconds
// with no point at which to report progress; its heartbeats are how
// Temporal learns within seconds that the worker running it died (and how
// a cancellation reaches it), instead of at the end of its
// StartToCloseTimeout.
func keepAlive(ctx context.Context, what string) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	every := activity.GetInfo(ctx).HeartbeatTimeout / 4
	if every <= 0 {
		return func() {} // no heartbeat timeout: nobody is listening
	}
	every = max(every, 200*time.Millisecond)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, what)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
