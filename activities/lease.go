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
// renewed until the returned stop is called, which gives both back.
//
// Temporal retries an attempt whose heartbeats stopped. When the worker
// died that is right; when it was only slow (a starved CPU), the first
// attempt may still be inside Helm when the retry starts, and the two would
// race on the same release: the first, canceled halfway, could mark a
// revision failed that the retry had just deployed. With the lease the
// retry waits until the first attempt has left Helm, or until its lease has
// run out (a dead worker renews nothing), and only then reads the release's
// history. The lease lasts as long as the activity's heartbeat timeout, so
// a dead holder delays its retry by nothing more than Temporal already
// waits.
//
// A namespace that does not exist or is being deleted holds no release to
// guard: the action runs without a lease.
func (a *Activities) holdRelease(ctx context.Context, ns, name, what string) (stop func(), err error) {
	stopBeat := keepAlive(ctx, what)
	l := &releaseLease{
		kube: a, ns: ns, name: LeasePrefix + name,
		holder: holderID(ctx), duration: leaseDuration(ctx),
		poll: min(a.pollInterval(), time.Second),
	}
	held, err := l.acquire(ctx)
	if err != nil {
		stopBeat()
		return nil, err
	}
	stopLease := func() {}
	if held {
		renewCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		wg.Go(func() { l.renew(renewCtx) })
		stopLease = func() {
			cancel()
			wg.Wait()
			l.giveBack(context.WithoutCancel(ctx))
		}
	}
	endTurn, err := a.helmTurn(ctx)
	if err != nil {
		stopLease()
		stopBeat()
		return nil, err
	}
	return func() {
		endTurn()
		stopLease()
		stopBeat()
	}, nil
}

type releaseLease struct {
	kube     *Activities
	ns, name string
	holder   string
	duration time.Duration
	poll     time.Duration
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
func (l *releaseLease) acquire(ctx context.Context) (bool, error) {
	leases := l.kube.Kube.CoordinationV1().Leases(l.ns)
	logged := false
	for {
		cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err := leases.Create(ctx, l.spec(&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
				Name: l.name, Namespace: l.ns,
				Labels: map[string]string{LabelManagedBy: ManagedBy},
			}}), metav1.CreateOptions{})
			switch {
			case err == nil:
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
		if free(cur, time.Now()) || ptr.Deref(cur.Spec.HolderIdentity, "") == l.holder {
			_, err := leases.Update(ctx, l.spec(cur.DeepCopy()), metav1.UpdateOptions{})
			switch {
			case err == nil:
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

// free tells whether a lease has no holder or its holder stopped renewing.
func free(l *coordinationv1.Lease, now time.Time) bool {
	if ptr.Deref(l.Spec.HolderIdentity, "") == "" || l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second))
}

// spec writes this holder into lease, renewed now.
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

// renew keeps the lease until ctx ends, four times a lease duration. It
// stops when the lease is no longer ours (a holder that could not renew for
// a whole duration has lost it; the Helm action it guards is by then being
// canceled too, since its heartbeats stopped as long).
func (l *releaseLease) renew(ctx context.Context) {
	leases := l.kube.Kube.CoordinationV1().Leases(l.ns)
	t := time.NewTicker(l.duration / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := leases.Get(ctx, l.name, metav1.GetOptions{})
		if err != nil {
			continue // the apiserver may be back at the next tick
		}
		if ptr.Deref(cur.Spec.HolderIdentity, "") != l.holder {
			l.kube.log(ctx).Warn("lost the release lease", "namespace", l.ns, "lease", l.name, "holder", ptr.Deref(cur.Spec.HolderIdentity, ""))
			return
		}
		_, _ = leases.Update(ctx, l.spec(cur), metav1.UpdateOptions{}) // a miss is retried at the next tick
	}
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
