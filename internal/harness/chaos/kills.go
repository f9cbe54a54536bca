package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/childproc"
)

// pendingActivity is one activity a workflow waits for, from
// DescribeWorkflowExecution.
type pendingActivity struct {
	workflowID, runID string
	id, kind          string
	started           bool
	attempt           int32
	identity          string
	lastStarted       time.Time
}

// describeAll returns the pending activities of the running workflows ids
// (latest runs), eight at a time.
func describeAll(ctx context.Context, c *conns, ids []string) []pendingActivity {
	var (
		mu  sync.Mutex
		out []pendingActivity
		wg  sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pas := describe(ctx, c, id, "")
			mu.Lock()
			out = append(out, pas...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func describe(ctx context.Context, c *conns, id, runID string) []pendingActivity {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	desc, err := c.Temporal.DescribeWorkflow(dctx, id, runID)
	if err != nil || desc.RawResponse == nil {
		return nil
	}
	d := desc.RawResponse
	run := d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	var out []pendingActivity
	for _, pa := range d.GetPendingActivities() {
		out = append(out, pendingActivity{
			workflowID: id, runID: run, id: pa.GetActivityId(), kind: pa.GetActivityType().GetName(),
			started: pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED, attempt: pa.GetAttempt(),
			identity: pa.GetLastWorkerIdentity(), lastStarted: pa.GetLastStartedTime().AsTime(),
		})
	}
	return out
}

// kill is one SIGKILL of a worker and what it interrupted.
type kill struct {
	at       time.Time
	slot     int
	identity string
	// aimed is the activity type the victim was chosen for ("" when no
	// worker ran an activity).
	aimed string
	// replacementUp is when the worker started in the victim's place said
	// it was polling.
	replacementUp time.Time
	// otherAlive: the other worker was up when the victim died.
	otherAlive  bool
	interrupted []*interruption
}

// interruption is an activity that ran on a killed worker, and when its
// store moved again: the activity started again on a live worker, or
// completed.
type interruption struct {
	pendingActivity
	moving time.Time // zero: not seen moving before the tracking gave up
}

// killer SIGKILLs the platform's workers at chosen moments and measures how
// soon the interrupted activities move again.
type killer struct {
	p     *platform
	rng   *rand.Rand
	log   *slog.Logger
	label string
	// workflows lists the workflow IDs whose activities may be interrupted
	// (those still running).
	workflows func() []string

	mu     sync.Mutex
	kills  []*kill
	byType map[string]int
	wg     sync.WaitGroup
}

func newKiller(p *platform, rng *rand.Rand, log *slog.Logger, label string, workflows func() []string) *killer {
	return &killer{p: p, rng: rng, log: log, label: label, workflows: workflows, byType: map[string]int{}}
}

// killOnce picks a worker running the activity type killed least so far
// (so that every kill hits another activity where it can), SIGKILLs it,
// starts a new worker in its place at once, and tracks the activities the
// dead worker left.
func (k *killer) killOnce(ctx context.Context) {
	c := k.p.c
	ids := k.workflows()
	before := describeAll(ctx, c, ids)
	type target struct {
		slot int
		kind string
	}
	var targets []target
	for slot := range workers {
		w := k.p.worker(slot)
		if w == nil || !w.Alive() {
			continue
		}
		kinds := map[string]bool{}
		for _, pa := range before {
			if pa.started && strings.HasPrefix(pa.identity, identity(w)) {
				kinds[pa.kind] = true
			}
		}
		for kind := range kinds {
			targets = append(targets, target{slot, kind})
		}
	}
	sort.Slice(targets, func(i, j int) bool {
		if targets[i].kind != targets[j].kind {
			return targets[i].kind < targets[j].kind
		}
		return targets[i].slot < targets[j].slot
	})
	k.mu.Lock()
	var pick target
	if len(targets) == 0 {
		pick = target{slot: k.rng.IntN(workers)}
	} else {
		least := slices.MinFunc(targets, func(a, b target) int { return k.byType[a.kind] - k.byType[b.kind] })
		var best []target
		for _, t := range targets {
			if k.byType[t.kind] == k.byType[least.kind] {
				best = append(best, t)
			}
		}
		pick = best[k.rng.IntN(len(best))]
	}
	k.byType[pick.kind]++
	k.mu.Unlock()

	victim := k.p.worker(pick.slot)
	other := k.p.worker(1 - pick.slot)
	kl := &kill{slot: pick.slot, identity: identity(victim), aimed: pick.kind}
	kl.at = time.Now()
	victim.Kill()
	kl.otherAlive = other != nil && other.Alive()
	if err := k.p.startWorker(pick.slot); err != nil {
		k.log.Error(k.label+": restart worker", "error", err)
	}
	replacement := k.p.worker(pick.slot)
	after := describeAll(ctx, c, ids)
	for _, pa := range after {
		if pa.started && strings.HasPrefix(pa.identity, kl.identity) {
			kl.interrupted = append(kl.interrupted, &interruption{pendingActivity: pa})
		}
	}
	k.log.Info(k.label+": SIGKILLed a worker", "slot", pick.slot+1, "aimed_at", orNone(pick.kind), "interrupted", len(kl.interrupted),
		"other_worker_up", kl.otherAlive)
	k.mu.Lock()
	k.kills = append(k.kills, kl)
	k.mu.Unlock()
	k.wg.Go(func() {
		if replacement.WaitUp(2*time.Minute) == nil {
			k.mu.Lock()
			kl.replacementUp = replacement.UpTime()
			k.mu.Unlock()
		}
	})
	for _, in := range kl.interrupted {
		k.wg.Go(func() { k.track(ctx, kl, in) })
	}
}

// track polls the workflow of an interrupted activity until the activity
// runs again on another worker (its start time) or has completed (the
// start time of its last attempt, from the history), for up to 3 minutes.
func (k *killer) track(ctx context.Context, kl *kill, in *interruption) {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		found := false
		for _, pa := range describe(ctx, k.p.c, in.workflowID, in.runID) {
			if pa.id != in.id {
				continue
			}
			found = true
			if pa.started && (pa.attempt > in.attempt || !strings.HasPrefix(pa.identity, kl.identity)) {
				k.setMoving(in, pa.lastStarted)
				return
			}
		}
		if !found {
			if t, ok := activityStart(ctx, k.p.c, in.workflowID, in.runID, in.id); ok && t.After(kl.at) {
				k.setMoving(in, t)
			} else {
				k.setMoving(in, time.Now())
			}
			return
		}
		apiclient.Sleep(ctx, 250*time.Millisecond)
	}
}

func (k *killer) setMoving(in *interruption, t time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	in.moving = t
}

// activityStart is the start time of the last attempt of activity id in a
// workflow run's history.
func activityStart(ctx context.Context, c *conns, workflowID, runID, id string) (time.Time, bool) {
	hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	it := c.Temporal.GetWorkflowHistory(hctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var scheduled int64 = -1
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return time.Time{}, false
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityId() == id {
			scheduled = ev.GetEventId()
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetScheduledEventId() == scheduled {
			return ev.GetEventTime().AsTime(), true
		}
	}
	return time.Time{}, false
}

// wait waits for the trackers.
func (k *killer) wait() { k.wg.Wait() }

// recoveries are, for every interrupted activity, the time from the
// replacement worker being up (fromUp; 0 when another worker took the
// activity before the replacement polled) and from the kill (fromKill)
// until it moved again; stuck counts those never seen moving.
func (k *killer) recoveries() (fromUp, fromKill []time.Duration, stuck int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, kl := range k.kills {
		for _, in := range kl.interrupted {
			if in.moving.IsZero() {
				stuck++
				continue
			}
			fromKill = append(fromKill, in.moving.Sub(kl.at))
			up := kl.replacementUp
			if up.IsZero() {
				up = kl.at
			}
			fromUp = append(fromUp, max(in.moving.Sub(up), 0))
		}
	}
	return fromUp, fromKill, stuck
}

// recoveriesByType is, for each activity type, the times from the kill
// until its interrupted activities moved again.
func (k *killer) recoveriesByType() map[string][]time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string][]time.Duration{}
	for _, kl := range k.kills {
		for _, in := range kl.interrupted {
			if !in.moving.IsZero() {
				out[in.kind] = append(out[in.kind], in.moving.Sub(kl.at))
			}
		}
	}
	return out
}

// replacementDelays is, for each kill, how long the new worker took to poll.
func (k *killer) replacementDelays() []time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []time.Duration
	for _, kl := range k.kills {
		if !kl.replacementUp.IsZero() {
			out = append(out, kl.replacementUp.Sub(kl.at))
		}
	}
	return out
}

// count is the number of kills.
func (k *killer) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.kills)
}

// summary is "12 worker SIGKILLs aimed at InstallRelease×3, WaitReady×4, …;
// 17 activities interrupted (…)".
func (k *killer) summary() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	aimed, hit := map[string]int{}, map[string]int{}
	n := 0
	for _, kl := range k.kills {
		aimed[orNone(kl.aimed)]++
		for _, in := range kl.interrupted {
			hit[in.kind]++
			n++
		}
	}
	return fmt.Sprintf("%d worker SIGKILLs aimed at %s; %d running activities interrupted (%s)", len(k.kills), countList(aimed), n, countList(hit))
}

func orNone(kind string) string {
	if kind == "" {
		return "(none running)"
	}
	return kind
}

// countList is "a×2, b×1", largest first.
func countList(m map[string]int) string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var parts []string
	for _, key := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", key, m[key]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// identity is how the Temporal SDK's default worker identity begins for
// process c ("<pid>@host@...").
func identity(c *childproc.Process) string { return fmt.Sprintf("%d@", c.PID()) }
