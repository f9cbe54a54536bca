package activities

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// ensureStoreAccess creates the RoleBindings of a.StoreAccess in the
// store's namespace ns; one that exists is left as it is (its roleRef
// cannot change, and the namespace is the platform's).
func (a *Activities) ensureStoreAccess(ctx context.Context, ns, storeName string) error {
	for _, g := range a.StoreAccess {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{
				Name:   g.ClusterRole,
				Labels: map[string]string{LabelStore: storeName, LabelManagedBy: ManagedBy},
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
