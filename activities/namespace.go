package activities

import (
	"context"
	"fmt"
	"strconv"

	"go.temporal.io/sdk/temporal"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/store"
)

// NamespaceInput names a store's namespace.
type NamespaceInput struct {
	Spec store.Spec `json:"spec"`
}

// CreateNamespace creates the store's namespace with the platform's labels
// (this installation's identity among them) and Pod Security admission set
// to "restricted", and binds StoreAccess's ClusterRoles in it. A namespace
// that already exists is success if its labels say it belongs to this
// store of this installation; one without the platform's labels for the
// store is a permanent NamespaceConflict, one with them but made by another
// installation or by none (see ours), a permanent NamespaceNotOurs, and
// one still being deleted (an earlier store of the same name) is retried
// until it is gone.
func (a *Activities) CreateNamespace(ctx context.Context, in NamespaceInput) error {
	if err := in.Spec.Validate(); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrInvalidSpec, err)
	}
	id, err := a.installation()
	if err != nil {
		return err
	}
	name := in.Spec.Namespace()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: name,
		Labels: map[string]string{
			LabelStore:                           in.Spec.Name,
			LabelGeneration:                      strconv.Itoa(in.Spec.Generation),
			LabelManagedBy:                       ManagedBy,
			LabelInstallation:                    id,
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
			"pod-security.kubernetes.io/audit":   "restricted",
		},
	}}
	_, err = a.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err == nil {
		a.log(ctx).Info("namespace created", "namespace", name)
		return a.ensureStoreAccess(ctx, name, in.Spec.Name)
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	cur, err := a.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	if !ownedBy(cur, in.Spec.Name) {
		msg := fmt.Sprintf("namespace %s exists and does not belong to store %s", name, in.Spec.Name)
		return temporal.NewNonRetryableApplicationError(msg, ErrNamespaceConflict, nil)
	}
	if cur.DeletionTimestamp != nil {
		// Waiting hands nothing over, whoever made it.
		return fmt.Errorf("namespace %s is still being deleted", name)
	}
	if g := cur.Labels[LabelGeneration]; g != strconv.Itoa(in.Spec.Generation) {
		msg := fmt.Sprintf("namespace %s belongs to generation %s of store %s, not %d", name, g, in.Spec.Name, in.Spec.Generation)
		return temporal.NewNonRetryableApplicationError(msg, ErrNamespaceConflict, nil)
	}
	if err := a.ours(ctx, cur, in.Spec); err != nil {
		return err
	}
	// A retry after the namespace was made but before its bindings were.
	return a.ensureStoreAccess(ctx, name, in.Spec.Name)
}

func ownedBy(ns *corev1.Namespace, storeName string) bool {
	return ns.Labels[LabelManagedBy] == ManagedBy && ns.Labels[LabelStore] == storeName
}
