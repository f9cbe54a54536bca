package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// StoreAccess grants a ServiceAccount a ClusterRole inside every store
// namespace the worker creates, with a RoleBinding there. Kubernetes RBAC
// cannot grant "Secrets in namespaces named store-*": a ClusterRole bound
// cluster-wide reaches every namespace. So the platform's chart binds the
// worker cluster-wide only to what is cluster-scoped or harmless
// (namespaces, watches of workloads), and the worker binds itself (and
// the API) to the store objects namespace by namespace, as it creates them.
type StoreAccess struct {
	ClusterRole    string `json:"clusterRole"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

// ParseStoreAccess reads STORE_ROLE_BINDINGS: a comma-separated list of
// <clusterrole>=<namespace>/<serviceaccount>; empty is none.
func ParseStoreAccess(s string) ([]StoreAccess, error) {
	var out []StoreAccess
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		role, subject, ok := strings.Cut(item, "=")
		ns, sa, ok2 := strings.Cut(subject, "/")
		if !ok || !ok2 || role == "" || ns == "" || sa == "" || strings.Contains(sa, "/") {
			return nil, fmt.Errorf("%q is not <clusterrole>=<namespace>/<serviceaccount>", item)
		}
		out = append(out, StoreAccess{ClusterRole: role, Namespace: ns, ServiceAccount: sa})
	}
	return out, nil
}

// FinalizerStoreAccess is on the first RoleBinding of StoreAccess (the
// worker's own) in a store namespace. The namespace controller deletes
// RoleBindings with everything else; without this, a worker whose binding
// went first could neither see nor force (ForceFinalize) what still holds
// the namespace. DeleteNamespace and ForceFinalize remove it once the
// binding is the last thing held.
const FinalizerStoreAccess = "storeplatform.io/store-access"

// ensureStoreAccess creates the RoleBindings of a.StoreAccess in the
// store's namespace ns; one that exists is left as it is (its roleRef
// cannot change, and the namespace is the platform's).
func (a *Activities) ensureStoreAccess(ctx context.Context, ns, storeName string) error {
	for i, g := range a.StoreAccess {
		var finalizers []string
		if i == 0 {
			finalizers = []string{FinalizerStoreAccess}
		}
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{
				Name:       g.ClusterRole,
				Labels:     map[string]string{LabelStore: storeName, LabelManagedBy: ManagedBy},
				Finalizers: finalizers,
			},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: g.ClusterRole},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: g.Namespace, Name: g.ServiceAccount}},
		}
		_, err := a.Kube.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bind %s in %s: %w", g.ClusterRole, ns, err)
		}
	}
	return nil
}

// isStoreAccess tells whether o is a RoleBinding held by FinalizerStoreAccess.
func isStoreAccess(o blockingObject) bool {
	return o.gvr.Group == rbacv1.GroupName && o.gvr.Resource == "rolebindings" && slices.Contains(o.finalizers, FinalizerStoreAccess)
}

// releaseStoreAccess removes FinalizerStoreAccess from the objects of objs
// that carry it, in the terminating namespace ns, when nothing else in objs
// has a finalizer (or when force: ForceFinalize, after the others'), and
// then nudges the namespace controller. It reports whether it released one.
func (a *Activities) releaseStoreAccess(ctx context.Context, ns string, objs []blockingObject, force bool) (bool, error) {
	var ours []blockingObject
	for _, o := range objs {
		if !isStoreAccess(o) {
			if !force {
				return false, nil // something else still holds the namespace: keep the access to see it
			}
			continue
		}
		ours = append(ours, o)
	}
	for _, o := range ours {
		rest := slices.DeleteFunc(slices.Clone(o.finalizers), func(f string) bool { return f == FinalizerStoreAccess })
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": rest}})
		if err != nil {
			return false, err
		}
		_, err = a.Metadata.Resource(o.gvr).Namespace(ns).Patch(ctx, o.name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("release %s: %w", o, err)
		}
	}
	if len(ours) == 0 {
		return false, nil
	}
	return true, a.nudge(ctx, ns)
}

// nudge annotates the namespace ns. The namespace controller retries a
// namespace whose content stays with a growing back-off (up to a minute); a
// change of the namespace queues it again within its 5 s grace period, so
// the deletion goes on now rather than at its next back-off.
func (a *Activities) nudge(ctx context.Context, ns string) error {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AnnotationForcedAt, time.Now().UTC().Format(time.RFC3339))
	if _, err := a.Kube.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("annotate namespace %s: %w", ns, err)
	}
	return nil
}
