package activities

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/storeplatform/storeplatform/internal/kubewatch"
	"github.com/storeplatform/storeplatform/internal/store"
)

// WaitProgress is WaitReady's heartbeat and result: the readiness of every
// workload of the store.
type WaitProgress struct {
	Ready     int              `json:"ready"`
	Total     int              `json:"total"`
	Workloads []store.Workload `json:"workloads"`
	// Summary reads like "2/3 ready: mariadb waiting".
	Summary string `json:"summary"`
}

// permanentReasons are container waiting reasons that no amount of waiting
// fixes.
var permanentReasons = map[string]bool{
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
}

// WaitReady waits until every Deployment and StatefulSet of the store is
// ready, heartbeating its progress (also written to the store's record when
// it changes). With a Watcher it wakes on every change of the store's
// objects and reads them from the shared cache, confirming a verdict (ready
// or failed) with a read of its own, since the cache may lag behind the
// API server; every few seconds it reads the API server anyway. Without one
// it reads the API server every PollInterval. It honours cancellation. A
// pod that cannot pull its image or start its container, or that
// crash-loops past CrashLoopLimit, fails it permanently with
// WorkloadFailed. Not being ready yet is never an error: the activity's
// StartToCloseTimeout is the deadline.
func (a *Activities) WaitReady(ctx context.Context, in NamespaceInput) (WaitProgress, error) {
	start := time.Now()
	p, err := a.waitReady(ctx, in.Spec)
	if a.Metrics != nil {
		a.Metrics.WaitReady(time.Since(start), err)
	}
	return p, err
}

func (a *Activities) waitReady(ctx context.Context, spec store.Spec) (WaitProgress, error) {
	ns := spec.Namespace()
	var wake <-chan struct{}
	if a.Watch != nil {
		ch, unsubscribe := a.Watch.Subscribe(ns)
		defer unsubscribe()
		wake = ch
	}
	var (
		last   string
		direct = true // the first look, and every verdict, is a read of the API server
	)
	for {
		lists, err := a.workloads(ctx, ns, spec.Name, direct)
		var p WaitProgress
		if err != nil {
			// The API server may be briefly unavailable: keep heartbeating and
			// try again rather than burn an attempt.
			a.log(ctx).Warn("reading workloads", "store", spec.Name, "error", err)
			activity.RecordHeartbeat(ctx, "reading workloads: "+err.Error())
		} else {
			var failure string
			p, failure = readiness(spec, lists, a.crashLoopLimit())
			done := failure != "" || p.Total > 0 && p.Ready == p.Total
			if done && !direct {
				direct = true // confirm the cache's verdict
				continue
			}
			activity.RecordHeartbeat(ctx, p)
			if failure != "" {
				return p, temporal.NewNonRetryableApplicationError(failure, ErrWorkloadFailed, nil)
			}
			if p.Summary != last {
				last = p.Summary
				_ = a.Stores.UpdateStatus(ctx, store.StatusUpdate{
					Name: spec.Name, Generation: spec.Generation, Message: p.Summary, Workloads: p.Workloads, At: time.Now().UTC(),
				})
			}
			if done {
				return p, nil
			}
		}
		next := a.pollInterval()
		if wake != nil {
			next = a.watchFallback()
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return p, ctx.Err()
		case <-wake:
			timer.Stop()
			direct = !a.Watch.Synced()
		case <-timer.C:
			direct = true
		}
	}
}

// watchFallback is how often a wait with a Watcher reads the API server
// anyway: five times PollInterval, at most 5 s (well within the heartbeat
// timeout).
func (a *Activities) watchFallback() time.Duration {
	return min(5*a.pollInterval(), 5*time.Second)
}

// workloads lists the store's Deployments, StatefulSets and Pods: from
// the API server when direct (or without a Watcher), else from the cache.
func (a *Activities) workloads(ctx context.Context, ns, name string, direct bool) (kubewatch.Lists, error) {
	selector := "app.kubernetes.io/instance=" + name
	if !direct && a.Watch != nil {
		sel, err := labels.Parse(selector)
		if err != nil {
			return kubewatch.Lists{}, err
		}
		return a.Watch.List(ns, sel)
	}
	var l kubewatch.Lists
	opts := metav1.ListOptions{LabelSelector: selector}
	deps, err := a.Kube.AppsV1().Deployments(ns).List(ctx, opts)
	if err != nil {
		return l, err
	}
	sts, err := a.Kube.AppsV1().StatefulSets(ns).List(ctx, opts)
	if err != nil {
		return l, err
	}
	pods, err := a.Kube.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return l, err
	}
	l.Deployments, l.StatefulSets, l.Pods = deps.Items, sts.Items, pods.Items
	return l, nil
}

// readiness judges the store's workloads. failure is non-empty when a
// workload can never become ready.
func readiness(spec store.Spec, l kubewatch.Lists, crashLoopLimit int32) (p WaitProgress, failure string) {
	for _, d := range l.Deployments {
		// Like `kubectl rollout status`: the newest ReplicaSet has every
		// replica, they are available, and no pod of an older one is left.
		w := workload("Deployment", d.Name, d.Spec.Replicas, d.Status.AvailableReplicas, d.Status.ObservedGeneration, d.Generation)
		if w.Reason == "" && (d.Status.UpdatedReplicas < w.Desired || d.Status.Replicas > d.Status.UpdatedReplicas) {
			w.Reason = "rolling out"
		}
		p.Workloads = append(p.Workloads, w)
	}
	for _, s := range l.StatefulSets {
		w := workload("StatefulSet", s.Name, s.Spec.Replicas, s.Status.ReadyReplicas, s.Status.ObservedGeneration, s.Generation)
		if w.Reason == "" && (s.Status.UpdatedReplicas < w.Desired || s.Status.Replicas > w.Desired ||
			(s.Status.UpdateRevision != "" && s.Status.CurrentRevision != s.Status.UpdateRevision && w.Desired > 0)) {
			w.Reason = "rolling out"
		}
		p.Workloads = append(p.Workloads, w)
	}
	sort.Slice(p.Workloads, func(i, j int) bool { return p.Workloads[i].Name < p.Workloads[j].Name })
	failure = classifyPods(l.Pods, crashLoopLimit)
	var waiting []string
	for _, w := range p.Workloads {
		p.Total++
		if w.Reason == "" {
			p.Ready++
		} else {
			waiting = append(waiting, strings.TrimPrefix(w.Name, spec.Name+"-")+" "+w.Reason)
		}
	}
	p.Summary = fmt.Sprintf("%d/%d ready", p.Ready, p.Total)
	if len(waiting) > 0 {
		p.Summary += ": " + strings.Join(waiting, ", ")
	}
	if p.Total == 0 {
		p.Summary = "no workloads yet"
	}
	if spec.Suspended {
		// Suspended: done when every workload is scaled to zero and no pod is
		// left (not even a terminating one).
		failure = ""
		if n := runningPods(l.Pods); n > 0 || p.Ready < p.Total {
			p.Ready, p.Summary = 0, fmt.Sprintf("suspending: %d pods left", n)
		} else {
			p.Summary = "suspended: no pods"
		}
	}
	return p, failure
}

// runningPods counts the pods that have not ended: a finished Job's pod
// (the WP-Cron job's, kept for its logs) runs nothing.
func runningPods(pods []corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			n++
		}
	}
	return n
}

// workload is ready when its controller has seen the newest spec and every
// desired replica is ready; the callers add the checks of their kind's
// rollout.
func workload(kind, name string, replicas *int32, ready int32, observed, generation int64) store.Workload {
	want := int32(1)
	if replicas != nil {
		want = *replicas
	}
	w := store.Workload{Kind: kind, Name: name, Ready: ready, Desired: want}
	if observed < generation || ready < want {
		w.Reason = "waiting"
	}
	return w
}

func (a *Activities) crashLoopLimit() int32 {
	if a.CrashLoopLimit <= 0 {
		return 5
	}
	return a.CrashLoopLimit
}

// classifyPods returns why a pod can never become ready, or "".
func classifyPods(pods []corev1.Pod, crashLimit int32) string {
	for _, pod := range pods {
		statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
		for _, cs := range statuses {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			if permanentReasons[w.Reason] {
				return fmt.Sprintf("pod %s container %s: %s: %s", pod.Name, cs.Name, w.Reason, w.Message)
			}
			if w.Reason == "CrashLoopBackOff" && cs.RestartCount >= crashLimit {
				return fmt.Sprintf("pod %s container %s: CrashLoopBackOff after %d restarts", pod.Name, cs.Name, cs.RestartCount)
			}
		}
	}
	return ""
}
