package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/storeplatform/storeplatform/internal/helmclient"
)

// LeasePrefix names the Lease that guards a store's release:
// LeasePrefix + the release name, in the store's namespace.
const LeasePrefix = "storeplatform-release-"

// defaultLeaseDuration is the lease of a Helm action run outside an
// activity with a heartbeat timeout (tests, tools).
const defaultLeaseDuration = 30 * time.Second

// holdRelease heartbeats (keepAlive), takes the Lease that guards the
// release name in namespace ns, waiting while another holder renews it, and
// then waits for one of the worker's Helm slots (HelmSlots). The Lease is
// renewed until the returned stop is called, which gives both back. The
// Helm action must run with the returned ctx: it is canceled as soon as the
// Lease is lost, and it carries the Lease as the action's fence
// (helmclient.WithFence), so that no write of the action reaches the API
// server once this attempt cannot be sure the Lease is still its own.
//
// Temporal retries an attempt whose heartbeats stopped. When the worker
// died that is right; when it was only slow (a starved CPU) or paused (a
// stopped process, a frozen VM), the first attempt may still be inside
// Helm when the retry starts, and the two would race on the same release:
// the first, resumed or canceled halfway, could mark a revision failed or
// deployed after the retry had deployed its own. With the lease the retry
// waits until the first attempt has left Helm, or until its lease has run
// out (a dead worker renews nothing), and only then reads the release's
// history; the first attempt, from the moment its last renewal is older
// than three quarters of the lease (by its own monotonic clock, which runs
// on while the process is stopped), or the Lease names another holder,
// writes nothing more. The lease lasts as long as the activity's heartbeat
// timeout.
//
// What the fence covers and what it does not: every write request of the
// Helm action (release records and chart objects, including those Helm
// makes from its own goroutines after ctx was canceled) is checked before
// it is sent. A request that passed the check and was then held up for more
// than a quarter of the lease before reaching the API server (the process
// paused exactly there, a very slow network) still lands; the API server
// has no way to make a Secret's write depend on a Lease. Writes made
// outside the Helm action (the activities' own, WaitReady's) are not
// fenced.
//
// A namespace that does not exist or is being deleted holds no release to
// guard: the action runs without a lease.
func (a *Activities) holdRelease(ctx context.Context, ns, name, what string) (actionCtx context.Context, stop func(), err error) {
	stopBeat := keepAlive(ctx, what)
	l := &releaseLease{
		kube: a, ns: ns, name: LeasePrefix + name,
		holder: holderID(ctx), duration: leaseDuration(ctx),
		poll: min(a.pollInterval(), time.Second),
	}
	held, err := l.acquire(ctx)
	if err != nil {
		stopBeat()
		return nil, nil, err
	}
	actionCtx, cancelAction := context.WithCancelCause(ctx)
	stopLease := func() { cancelAction(nil) }
	if held {
		actionCtx = helmclient.WithFence(actionCtx, l.check)
		renewCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := l.renew(renewCtx); err != nil {
				cancelAction(err)
			}
		})
		stopLease = func() {
			cancel()
			wg.Wait()
			cancelAction(nil)
			l.end(errGivenBack) // Helm goroutines still running write nothing more
			l.giveBack(context.WithoutCancel(ctx))
		}
	}
	endTurn, err := a.helmTurn(actionCtx)
	if err != nil {
		stopLease()
		stopBeat()
		return nil, nil, err
	}
	return actionCtx, func() {
		endTurn()
		stopLease()
		stopBeat()
	}, nil
}

// errGivenBack is the fence's answer once the action is over.
var errGivenBack = errors.New("the release lease was given back: the Helm action is over")

// releaseLease is one attempt's hold on a release's Lease. What it last
// wrote (held, with its resourceVersion) and when it sent that write
// (renewed, a monotonic reading) are the whole of what it believes; a
// renewal is an update conditional on held, which fails if anyone else
// wrote the Lease in between.
type releaseLease struct {
	kube     *Activities
	ns, name string
	holder   string
	duration time.Duration
	poll     time.Duration

	mu      sync.Mutex
	held    *coordinationv1.Lease
	renewed time.Time
	lost    error // why the lease is no longer ours (nil: it may be)
}

// leaseDuration is the activity's heartbeat timeout: a holder that stops
// renewing is given up on when Temporal gives up on its attempt.
func leaseDuration(ctx context.Context) time.Duration {
	if activity.IsActivity(ctx) {
		if d := activity.GetInfo(ctx).HeartbeatTimeout; d > 0 {
			return max(d, 2*time.Second)
		}
	}
	return defaultLeaseDuration
}

// holderID names this attempt: workflow, activity and attempt, so the
// Lease shows an operator who holds it.
func holderID(ctx context.Context) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	if activity.IsActivity(ctx) {
		i := activity.GetInfo(ctx)
		return fmt.Sprintf("%s/%s#%d/%s", i.WorkflowExecution.ID, i.ActivityID, i.Attempt, suffix)
	}
	return "direct/" + suffix
}

// acquire takes the lease, waiting while another holder keeps it alive. It
// reports false when there is no namespace to put it in.
//
// Another holder's lease has run out when this attempt has seen it
// unchanged (the same resourceVersion) for the holder's
// LeaseDurationSeconds by its own clock, as client-go's leader election
// judges it: the RenewTime written by another worker's clock is not
// compared with this one's, so a skewed clock makes neither a live holder
// look dead nor a dead one look alive. A dead holder's retry therefore
// waits up to one more lease duration after Temporal started it.
func (l *releaseLease) acquire(ctx context.Context) (bool, error) {
	leases := l.kube.Kube.CoordinationV1().Leases(l.ns)
	logged := false
	var seen string      // resourceVersion of the other holder's lease
	var seenAt time.Time // when this attempt first saw it
	for {
		cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			sent := time.Now()
			got, err := leases.Create(ctx, l.spec(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
				Name: l.name, Namespace: l.ns,
				Labels: map[string]string{LabelManagedBy: ManagedBy},
			}}), metav1.CreateOptions{})
			switch {
			case err == nil:
				l.hold(got, sent)
				return true, nil
			case apierrors.IsNotFound(err) || apierrors.IsForbidden(err) && isTerminating(err):
				return false, nil // no namespace, or one being deleted: no release to race on
			case apierrors.IsAlreadyExists(err):
				continue
			default:
				return false, fmt.Errorf("create lease %s/%s: %w", l.ns, l.name, err)
			}
		case err != nil:
			return false, fmt.Errorf("read lease %s/%s: %w", l.ns, l.name, err)
		}
		if cur.ResourceVersion != seen {
			seen, seenAt = cur.ResourceVersion, time.Now()
		}
		if free(cur) || ptr.Deref(cur.Spec.HolderIdentity, "") == l.holder ||
			time.Since(seenAt) >= time.Duration(*cur.Spec.LeaseDurationSeconds)*time.Second {
			sent := time.Now()
			got, err := leases.Update(ctx, l.spec(cur.DeepCopy()), metav1.UpdateOptions{}) // conditional on what was seen
			switch {
			case err == nil:
				l.hold(got, sent)
				return true, nil
			case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
				continue // someone else moved first: look again
			default:
				return false, fmt.Errorf("take lease %s/%s: %w", l.ns, l.name, err)
			}
		}
		if !logged {
			l.kube.log(ctx).Warn("waiting for the release lease held by an earlier attempt",
				"namespace", l.ns, "lease", l.name, "holder", ptr.Deref(cur.Spec.HolderIdentity, ""))
			logged = true
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(l.poll):
		}
	}
}

// free tells whether a lease has no holder, or no duration to wait for.
func free(l *coordinationv1.Lease) bool {
	return ptr.Deref(l.Spec.HolderIdentity, "") == "" || l.Spec.LeaseDurationSeconds == nil
}

// spec writes this holder into lease, renewed now. RenewTime is for the
// operator reading the Lease; no holder judges another by it.
func (l *releaseLease) spec(lease *coordinationv1.Lease) *coordinationv1.Lease {
	now := metav1.NewMicroTime(time.Now())
	if ptr.Deref(lease.Spec.HolderIdentity, "") != l.holder {
		lease.Spec.AcquireTime = &now
		lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
	}
	lease.Spec.HolderIdentity = ptr.To(l.holder)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32((l.duration + time.Second - 1) / time.Second))
	lease.Spec.RenewTime = &now
	return lease
}

// hold records a write of the lease that the API server took; sent is when
// its request was sent.
func (l *releaseLease) hold(got *coordinationv1.Lease, sent time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held, l.renewed = got, sent
}

// end makes the lease no longer ours for the fence (the first reason
// stays).
func (l *releaseLease) end(why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost == nil {
		l.lost = why
	}
}

// validFor is how long after the sending of its last successful renewal
// this attempt trusts the lease. Another attempt takes it over no sooner
// than a whole lease duration after it first saw that renewal, which it
// cannot have seen before it was sent; the last quarter is the margin for
// a write that passed the fence to reach the API server.
func (l *releaseLease) validFor() time.Duration { return l.duration - l.duration/4 }

// check is the Helm action's fence: nil while the lease is surely ours.
func (l *releaseLease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	if age := time.Since(l.renewed); age >= l.validFor() {
		return fmt.Errorf("release lease %s/%s last renewed %s ago, past %s: another attempt may hold it",
			l.ns, l.name, age.Round(time.Millisecond), l.validFor())
	}
	return nil
}

// renew keeps the lease until ctx ends, four times a lease duration, each
// time with an update conditional on what it last wrote. It returns why
// the lease stopped being ours: another holder wrote or deleted it, or no
// renewal went through for validFor (an apiserver out of reach, or this
// process paused: after a pause the first tick finds the lease stale
// before it tries anything).
func (l *releaseLease) renew(ctx context.Context) error {
	leases := l.kube.Kube.CoordinationV1().Leases(l.ns)
	t := time.NewTicker(l.duration / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := l.check(); err != nil {
			return l.lose(ctx, err)
		}
		l.mu.Lock()
		next := l.spec(l.held.DeepCopy())
		l.mu.Unlock()
		sent := time.Now()
		got, err := leases.Update(ctx, next, metav1.UpdateOptions{})
		switch {
		case err == nil:
			l.hold(got, sent)
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
			cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
			switch {
			case err == nil && ptr.Deref(cur.Spec.HolderIdentity, "") == l.holder:
				// Someone else edited it (an operator) and left us holding
				// it: renew that at the next tick.
				l.mu.Lock()
				l.held = cur
				l.mu.Unlock()
			case err == nil:
				return l.lose(ctx, fmt.Errorf("release lease %s/%s taken over by %s", l.ns, l.name, ptr.Deref(cur.Spec.HolderIdentity, "")))
			case apierrors.IsNotFound(err):
				return l.lose(ctx, fmt.Errorf("release lease %s/%s deleted by another", l.ns, l.name))
			}
		}
		// Any other error: the API server may be back at the next tick,
		// and check counts the time until then.
	}
}

// lose ends the lease for why and logs it.
func (l *releaseLease) lose(ctx context.Context, why error) error {
	l.end(why)
	l.kube.log(ctx).Warn("lost the release lease; the Helm action is canceled and writes nothing more",
		"namespace", l.ns, "lease", l.name, "reason", why)
	return why
}

// giveBack deletes the lease if it is still ours, so the next action on
// the release need not wait for it to run out.
func (l *releaseLease) giveBack(ctx context.Context) {
	leases := l.kube.Kube.CoordinationV1().Leases(l.ns)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
	if err != nil || ptr.Deref(cur.Spec.HolderIdentity, "") != l.holder {
		return
	}
	err = leases.Delete(ctx, l.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID, ResourceVersion: &cur.ResourceVersion}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		l.kube.log(ctx).Warn("could not give back the release lease; it runs out by itself", "namespace", l.ns, "lease", l.name, "error", err)
	}
}

// isTerminating tells whether a Forbidden error says the namespace is
// being deleted.
func isTerminating(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	d := status.Status().Details
	if d != nil {
		for _, c := range d.Causes {
			if c.Type == corev1.NamespaceTerminatingCause {
				return true
			}
		}
	}
	return false
}
