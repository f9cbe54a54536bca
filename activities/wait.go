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

// WaitReady polls the store's Deployments and StatefulSets until every one
// is ready, heartbeating its progress (also written to the store's record
// when it changes). It honours cancellation. A pod that cannot pull its
// image or start its container, or that crash-loops past CrashLoopLimit,
// fails it permanently with WorkloadFailed. Not being ready yet is never an
// error: the activity's StartToCloseTimeout is the deadline.
func (a *Activities) WaitReady(ctx context.Context, in NamespaceInput) (WaitProgress, error) {
	spec := in.Spec
	var last string
	for {
		p, failure, err := a.readiness(ctx, spec)
		if err != nil {
			// The API server may be briefly unavailable: keep heartbeating and
			// try again rather than burn an attempt.
			a.logger().Warn("reading workloads", "store", spec.Name, "error", err)
		} else {
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
			if p.Total > 0 && p.Ready == p.Total {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(a.pollInterval()):
		}
	}
}

// readiness reads the store's workloads and pods once. failure is non-empty
// when a workload can never become ready.
func (a *Activities) readiness(ctx context.Context, spec store.Spec) (p WaitProgress, failure string, err error) {
	ns := spec.Namespace()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + spec.Name}
	deps, err := a.Kube.AppsV1().Deployments(ns).List(ctx, sel)
	if err != nil {
		return p, "", err
	}
	sts, err := a.Kube.AppsV1().StatefulSets(ns).List(ctx, sel)
	if err != nil {
		return p, "", err
	}
	pods, err := a.Kube.CoreV1().Pods(ns).List(ctx, sel)
	if err != nil {
		return p, "", err
	}
	for _, d := range deps.Items {
		// Like `kubectl rollout status`: the newest ReplicaSet has every
		// replica, they are available, and no pod of an older one is left.
		w := workload("Deployment", d.Name, d.Spec.Replicas, d.Status.AvailableReplicas, d.Status.ObservedGeneration, d.Generation)
		if w.Reason == "" && (d.Status.UpdatedReplicas < w.Desired || d.Status.Replicas > d.Status.UpdatedReplicas) {
			w.Reason = "rolling out"
		}
		p.Workloads = append(p.Workloads, w)
	}
	for _, s := range sts.Items {
		w := workload("StatefulSet", s.Name, s.Spec.Replicas, s.Status.ReadyReplicas, s.Status.ObservedGeneration, s.Generation)
		if w.Reason == "" && (s.Status.UpdatedReplicas < w.Desired || s.Status.Replicas > w.Desired ||
			(s.Status.UpdateRevision != "" && s.Status.CurrentRevision != s.Status.UpdateRevision && w.Desired > 0)) {
			w.Reason = "rolling out"
		}
		p.Workloads = append(p.Workloads, w)
	}
	sort.Slice(p.Workloads, func(i, j int) bool { return p.Workloads[i].Name < p.Workloads[j].Name })
	failure = classifyPods(pods.Items, a.crashLoopLimit())
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
		if n := runningPods(pods.Items); n > 0 || p.Ready < p.Total {
			p.Ready, p.Summary = 0, fmt.Sprintf("suspending: %d pods left", n)
		} else {
			p.Summary = "suspended: no pods"
		}
	}
	return p, failure, nil
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
