package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/storeplatform/storeplatform/internal/store"
)

// LabelInstallation holds the identity of the platform installation that
// made a namespace, a credentials Secret or a Helm release
// (store.EnsureInstallationID). The other labels say "a store of some Store
// Platform"; this one says "of this one".
const LabelInstallation = "storeplatform.io/installation"

// legacySkew is how much earlier than its store's record a namespace
// without LabelInstallation may have been made and still be adopted: the
// API server's creation time has whole seconds, and its clock is not ours.
const legacySkew = 5 * time.Second

// RecordReader reads a store's record. store.MongoRepository implements it.
type RecordReader interface {
	Get(ctx context.Context, name string) (store.Record, error)
}

// installation is this worker's installation identity; an Activities built
// without one refuses to claim anything.
func (a *Activities) installation() (string, error) {
	if !store.ValidInstallationID(a.Installation) {
		return "", errors.New("the worker has no installation identity (Activities.Installation): it claims no namespace")
	}
	return a.Installation, nil
}

// notOurs is the permanent failure for an object another installation, or
// nobody, made.
func notOurs(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrNamespaceNotOurs, nil)
}

// ours checks that ns is the namespace of spec's store made by this
// installation: the platform's labels for that store and this
// installation's identity. It returns nil when it is, a NamespaceNotOurs
// error naming the namespace when it is not, and a plain (retried) error
// when it could not tell.
//
// A namespace with the platform's labels but no identity was made before
// installations had one. It is adopted, and stamped, only when this
// installation's record of the store has the namespace's generation and is
// older than the namespace: the platform writes the record before it makes
// the namespace, so a namespace someone made ahead of the store is refused.
func (a *Activities) ours(ctx context.Context, ns *corev1.Namespace, spec store.Spec) error {
	id, err := a.installation()
	if err != nil {
		return err
	}
	if !ownedBy(ns, spec.Name) {
		return notOurs("namespace %s does not belong to store %s", ns.Name, spec.Name)
	}
	switch other := ns.Labels[LabelInstallation]; other {
	case id:
		return nil
	case "":
	default:
		return notOurs("namespace %s belongs to another Store Platform installation (%s=%s), not this one (%s)", ns.Name, LabelInstallation, other, id)
	}
	ok, why, err := a.madeBeforeIdentity(ctx, ns, spec)
	if err != nil {
		return err
	}
	if !ok {
		return notOurs("namespace %s has no %s label and was not made by this installation: %s", ns.Name, LabelInstallation, why)
	}
	if ns.DeletionTimestamp != nil {
		return nil // going away: nothing to stamp
	}
	if err := a.stampNamespace(ctx, ns, id); err != nil {
		return err
	}
	a.log(ctx).Info("adopted a namespace made before installation identities", "namespace", ns.Name, "installation", id)
	return nil
}

// madeBeforeIdentity tells whether ns, with the platform's labels and no
// identity, was made by this installation before identities existed; why
// says what did not match.
func (a *Activities) madeBeforeIdentity(ctx context.Context, ns *corev1.Namespace, spec store.Spec) (ok bool, why string, err error) {
	if a.Records == nil {
		return false, "this worker reads no store records", nil
	}
	rec, err := a.Records.Get(ctx, spec.Name)
	if errors.Is(err, store.ErrNotFound) {
		return false, "this installation has no record of store " + spec.Name, nil
	}
	if err != nil {
		return false, "", fmt.Errorf("read the record of store %s: %w", spec.Name, err)
	}
	gen := ns.Labels[LabelGeneration]
	switch {
	case gen != strconv.Itoa(rec.Generation):
		return false, fmt.Sprintf("it is generation %s, this installation's record is generation %d", gen, rec.Generation), nil
	case rec.CreatedAt.IsZero() || ns.CreationTimestamp.Time.Before(rec.CreatedAt.Add(-legacySkew)):
		return false, fmt.Sprintf("it was made at %s, before this installation's record of the store (%s)",
			ns.CreationTimestamp.UTC().Format(time.RFC3339), rec.CreatedAt.UTC().Format(time.RFC3339)), nil
	}
	return true, "", nil
}

// stampNamespace puts LabelInstallation=id on ns, if ns has not changed
// since it was read.
func (a *Activities) stampNamespace(ctx context.Context, ns *corev1.Namespace, id string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": ns.ResourceVersion,
		"labels":          map[string]string{LabelInstallation: id},
	}})
	if err != nil {
		return err
	}
	if _, err := a.Kube.CoreV1().Namespaces().Patch(ctx, ns.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label namespace %s with %s: %w", ns.Name, LabelInstallation, err)
	}
	return nil
}

// ourNamespace reads spec's namespace and checks it is ours. gone is true
// when it does not exist.
func (a *Activities) ourNamespace(ctx context.Context, spec store.Spec) (gone bool, err error) {
	name := spec.Namespace()
	ns, err := a.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("get namespace %s: %w", name, err)
	}
	return false, a.ours(ctx, ns, spec)
}

// secretStamp checks that sec, in a namespace already found ours, is the
// credentials Secret of spec's store made by this installation. stamp is
// true when it was made before identities (the platform's labels, no
// identity) and needs the label.
func (a *Activities) secretStamp(sec *corev1.Secret, spec store.Spec) (stamp bool, err error) {
	id, err := a.installation()
	if err != nil {
		return false, err
	}
	ref := sec.Namespace + "/" + sec.Name
	if sec.Labels[LabelManagedBy] != ManagedBy || sec.Labels[LabelStore] != spec.Name {
		return false, notOurs("namespace %s: Secret %s was not made by Store Platform for store %s", spec.Namespace(), ref, spec.Name)
	}
	switch other := sec.Labels[LabelInstallation]; other {
	case id:
		return false, nil
	case "":
		return true, nil
	default:
		return false, notOurs("namespace %s: Secret %s belongs to another Store Platform installation (%s)", spec.Namespace(), ref, other)
	}
}
