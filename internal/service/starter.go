package service

import (
	"context"
	"time"
)

// Bounds of the background starts of creation workflows.
const (
	defaultStartWorkers = 8
	startQueue          = 2000
	startTimeout        = 30 * time.Second
	// startPatience is how long a POST waits for its queued start before
	// it answers anyway.
	startPatience = 50 * time.Millisecond
)

// starter starts creation workflows after CreateStore has returned (and
// POST /api/stores has answered). The record, written before, is what
// makes a create durable: a start that is queued when the API dies is made
// by the reconciler (Reconcile), which starts every record still
// "requested", as it does when Temporal was down. Starting in the request
// tied each POST to Temporal's start latency (the dev server starts about
// 70 workflows a second, one at a time, so 50 concurrent POSTs waited
// seconds); queued, a POST costs its record and, unless starts are queued
// before it, at most startPatience of waiting for its start.
//
// Up to workers goroutines drain the queue and end when it is empty; a
// full queue makes the request start its workflow itself, so a burst
// beyond the queue slows requests down instead of dropping starts.
type starter struct {
	jobs  chan func()
	slots chan struct{}
}

func newStarter(workers, queue int) *starter {
	return &starter{jobs: make(chan func(), queue), slots: make(chan struct{}, workers)}
}

// enqueue queues start; false when the queue is full.
func (st *starter) enqueue(start func()) bool {
	select {
	case st.jobs <- start:
	default:
		return false
	}
	select {
	case st.slots <- struct{}{}:
		go st.drain()
	default: // the running goroutines take it
	}
	return true
}

// backlog reports whether starts wait in the queue for a goroutine.
func (st *starter) backlog() bool { return len(st.jobs) > 0 }

// drain runs queued starts until there are none; a start queued while it
// gave its slot back is taken by it again or by the goroutine that holds
// the slot then.
func (st *starter) drain() {
	for {
		for done := false; !done; {
			select {
			case start := <-st.jobs:
				start()
			default:
				done = true
			}
		}
		<-st.slots
		if len(st.jobs) == 0 {
			return
		}
		select {
		case st.slots <- struct{}{}:
		default:
			return
		}
	}
}

// startCreateLater runs start after the response, with the request's
// values (its logger) but not its cancellation; when the queue is full, or
// there is no queue, now. A failed start is given to onErr.
func (s *Service) startCreateLater(ctx context.Context, start func(context.Context) error, onErr func(context.Context, error)) {
	run := func(ctx context.Context) {
		if err := start(ctx); err != nil {
			onErr(ctx, err)
		}
	}
	if s.starts == nil {
		run(ctx)
		return
	}
	bg := context.WithoutCancel(ctx)
	done := make(chan struct{})
	if !s.starts.enqueue(func() {
		defer close(done)
		sctx, cancel := context.WithTimeout(bg, startTimeout)
		defer cancel()
		run(sctx)
	}) {
		run(ctx)
		return
	}
	// Most starts take a few milliseconds: the request waits that long, so
	// that a client usually finds the workflow as soon as it is answered;
	// not when starts are queued before it (a burst), which would make
	// every request of the burst wait the whole startPatience.
	if s.starts.backlog() {
		return
	}
	t := time.NewTimer(startPatience)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}
