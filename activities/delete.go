package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
)

// DeleteNamespaceInput asks for a store's namespace to be deleted.
type DeleteNamespaceInput struct {
	NamespaceInput
	// StuckAfter is how long after the deletion started the namespace counts
	// as stuck; then the activity returns with Gone false and the blockers.
	StuckAfter time.Duration `json:"stuckAfter"`
}

// DeleteNamespaceResult says whether the namespace is gone, and if not,
// what holds it.
type DeleteNamespaceResult struct {
	Gone bool `json:"gone"`
	// Conditions are the namespace's NamespaceContentRemaining and
	// NamespaceFinalizersRemaining messages.
	Conditions []string `json:"conditions,omitempty"`
	// Blockers name the objects whose finalizers hold the namespace, as
	// "resource.group/name (finalizer, ...)".
	Blockers []string `json:"blockers,omitempty"`
}

// DeleteNamespace deletes the store's namespace and waits until it and every
// volume bound to it are gone, heartbeating the namespace's conditions. It
// refuses (permanently) to delete a namespace the platform does not own. When
// the namespace is still there StuckAfter after its deletion began, it
// returns Gone false with the blocking objects; it never removes finalizers
// itself (ForceFinalize does, on an operator's request).
func (a *Activities) DeleteNamespace(ctx context.Context, in DeleteNamespaceInput) (DeleteNamespaceResult, error) {
	name := in.Spec.Namespace()
	nss := a.Kube.CoreV1().Namespaces()
	for {
		ns, err := nss.Get(ctx, name, metav1.GetOptions{})
		var foreign error
		if err == nil {
			foreign = a.ours(ctx, ns, in.Spec)
		}
		switch {
		case apierrors.IsNotFound(err):
			left, err := a.volumesOf(ctx, name)
			if err != nil {
				return DeleteNamespaceResult{}, err
			}
			if len(left) == 0 {
				return DeleteNamespaceResult{Gone: true}, nil
			}
			activity.RecordHeartbeat(ctx, DeleteNamespaceResult{Conditions: []string{"volumes not yet deleted: " + strings.Join(left, ", ")}})
		case err != nil:
			return DeleteNamespaceResult{}, fmt.Errorf("get namespace %s: %w", name, err)
		case foreign != nil:
			return DeleteNamespaceResult{}, foreign
		case ns.DeletionTimestamp == nil:
			// Preconditions make sure we delete the namespace we checked.
			uid := ns.UID
			err := nss.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) {
				return DeleteNamespaceResult{}, fmt.Errorf("delete namespace %s: %w", name, err)
			}
			a.log(ctx).Info("namespace deletion started", "namespace", name)
		default:
			res := DeleteNamespaceResult{Conditions: namespaceConditions(ns)}
			activity.RecordHeartbeat(ctx, res)
			if err := a.releaseWhenLast(ctx, ns); err != nil {
				return res, err
			}
			// The clock starts when the deletion began, or when this activity
			// was scheduled (after an operator's retry), whichever is later.
			since := ns.DeletionTimestamp.Time
			if sched := activity.GetInfo(ctx).ScheduledTime; sched.After(since) {
				since = sched
			}
			if in.StuckAfter > 0 && time.Since(since) > in.StuckAfter {
				blockers, err := a.finalizedObjects(ctx, name)
				if err != nil {
					return res, err
				}
				for _, b := range blockers {
					if !isStoreAccess(b) {
						res.Blockers = append(res.Blockers, b.String())
					}
				}
				return res, nil
			}
		}
		select {
		case <-ctx.Done():
			return DeleteNamespaceResult{}, ctx.Err()
		case <-time.After(a.pollInterval()):
		}
	}
}

// ForceResult lists the objects whose finalizers ForceFinalize removed.
type ForceResult struct {
	Removed []string `json:"removed"`
}

// ForceFinalize removes the finalizers of every object in the store's
// namespace that still has some, so that a stuck deletion can finish. It
// only acts on a namespace that the platform owns and that is already being
// deleted. Running it again finds nothing left to do.
func (a *Activities) ForceFinalize(ctx context.Context, in NamespaceInput) (ForceResult, error) {
	name := in.Spec.Namespace()
	ns, err := a.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ForceResult{}, nil
	}
	if err != nil {
		return ForceResult{}, err
	}
	if err := a.ours(ctx, ns, in.Spec); err != nil {
		return ForceResult{}, err
	}
	if ns.DeletionTimestamp == nil {
		return ForceResult{}, errors.New("namespace " + name + " is not being deleted")
	}
	objs, err := a.finalizedObjects(ctx, name)
	if err != nil {
		return ForceResult{}, err
	}
	var res ForceResult
	patch := []byte(`{"metadata":{"finalizers":null}}`)
	for _, o := range objs {
		if isStoreAccess(o) {
			continue // the worker's own access goes last, below
		}
		_, err := a.Metadata.Resource(o.gvr).Namespace(name).Patch(ctx, o.name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return res, fmt.Errorf("remove finalizers of %s: %w", o, err)
		}
		a.log(ctx).Warn("removed finalizers on operator request", "namespace", name, "object", o.String())
		res.Removed = append(res.Removed, o.String())
	}
	released, err := a.releaseStoreAccess(ctx, name, objs, true)
	if err != nil {
		return res, err
	}
	if len(res.Removed) > 0 && !released {
		if err := a.nudge(ctx, name); err != nil {
			return res, err
		}
	}
	return res, nil
}

// releaseWhenLast releases the worker's store access (FinalizerStoreAccess)
// in the terminating namespace ns once the namespace controller reports
// finalizers remaining and they are only that one.
func (a *Activities) releaseWhenLast(ctx context.Context, ns *corev1.Namespace) error {
	if len(a.StoreAccess) == 0 {
		return nil
	}
	held := false
	for _, c := range ns.Status.Conditions {
		if c.Type == corev1.NamespaceFinalizersRemaining && c.Status == corev1.ConditionTrue && strings.Contains(c.Message, FinalizerStoreAccess) {
			held = true
		}
	}
	if !held {
		return nil
	}
	objs, err := a.finalizedObjects(ctx, ns.Name)
	if err != nil {
		return err
	}
	if released, err := a.releaseStoreAccess(ctx, ns.Name, objs, false); err != nil || !released {
		return err
	}
	a.log(ctx).Info("released the worker's access to a namespace with nothing else left", "namespace", ns.Name)
	return nil
}

// AnnotationForcedAt is set on a namespace when ForceFinalize removed
// finalizers in it (or DeleteNamespace the worker's own, last): when, in
// RFC 3339.
const AnnotationForcedAt = "storeplatform.io/forced-at"

// AwaitWorkflowClosed waits until the workflow with workflowID (its latest
// run) is no longer running; a workflow that never existed counts as closed.
func (a *Activities) AwaitWorkflowClosed(ctx context.Context, workflowID string) error {
	for {
		d, err := a.Workflows.DescribeWorkflow(ctx, workflowID, "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("describe workflow %s: %w", workflowID, err)
		}
		if d.Status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return nil
		}
		activity.RecordHeartbeat(ctx, "waiting for "+workflowID)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(a.pollInterval()):
		}
	}
}

// blockingObject is an object with finalizers in a terminating namespace.
type blockingObject struct {
	gvr        schema.GroupVersionResource
	name       string
	finalizers []string
}

func (o blockingObject) String() string {
	res := o.gvr.Resource
	if o.gvr.Group != "" {
		res += "." + o.gvr.Group
	}
	return fmt.Sprintf("%s/%s (%s)", res, o.name, strings.Join(o.finalizers, ", "))
}

// finalizedObjects lists, over every namespaced resource the API server
// serves, the objects of the namespace that have finalizers.
func (a *Activities) finalizedObjects(ctx context.Context, namespace string) ([]blockingObject, error) {
	lists, err := a.Kube.Discovery().ServerPreferredNamespacedResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("discover resources: %w", err)
	}
	var out []blockingObject
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			gvr := gv.WithResource(r.Name)
			activity.RecordHeartbeat(ctx, "looking for finalizers in "+gvr.String())
			items, err := a.Metadata.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue // a resource we may not list, or an unavailable API
			}
			for _, it := range items.Items {
				if len(it.Finalizers) > 0 {
					out = append(out, blockingObject{gvr: gvr, name: it.Name, finalizers: it.Finalizers})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// volumesOf names the PersistentVolumes still bound to claims of namespace
// whose reclaim policy deletes them; Retain volumes are the cluster
// administrator's to clean up and are not waited for.
func (a *Activities) volumesOf(ctx context.Context, namespace string) ([]string, error) {
	pvs, err := a.Kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list persistent volumes: %w", err)
	}
	var left []string
	for _, pv := range pvs.Items {
		if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == namespace &&
			pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete {
			left = append(left, pv.Name)
		}
	}
	return left, nil
}

func namespaceConditions(ns *corev1.Namespace) []string {
	var out []string
	for _, c := range ns.Status.Conditions {
		if (c.Type == corev1.NamespaceContentRemaining || c.Type == corev1.NamespaceFinalizersRemaining) && c.Status == corev1.ConditionTrue {
			out = append(out, string(c.Type)+": "+c.Message)
		}
	}
	return out
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}
