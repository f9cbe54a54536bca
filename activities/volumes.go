package activities

import (
	"context"
	"fmt"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// valuesFor returns the chart values of spec's store as they can be
// applied to what runs now: the profile's, the size's and the store's
// values, with volume sizes that only grow. A PVC the chart owns keeps its
// live size when the size asks for less (Kubernetes cannot shrink it) or
// when its StorageClass cannot expand volumes; a StatefulSet's volume
// claim template keeps its live size (it cannot change).
func (a *Activities) valuesFor(ctx context.Context, spec store.Spec) (map[string]any, error) {
	return a.withVolumeFloors(ctx, spec, a.Profile.For(spec))
}

// withVolumeFloors returns vals with the volume sizes that what runs now
// allows (see valuesFor); vals itself is not changed.
func (a *Activities) withVolumeFloors(ctx context.Context, spec store.Spec, vals map[string]any) (map[string]any, error) {
	ns := spec.Namespace()
	override := map[string]any{}
	set := func(path []string, value any) {
		m := override
		for _, k := range path[:len(path)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[path[len(path)-1]] = value
	}
	switch spec.Engine {
	case store.EngineWooCommerce:
		if err := a.keepClaimSize(ctx, ns, spec.Name+"-wp-content", vals, set, "woocommerce", "persistence", "size"); err != nil {
			return nil, err
		}
		if err := a.keepClaimTemplate(ctx, ns, spec.Name+"-mariadb", "mariadb", vals, set); err != nil {
			return nil, err
		}
	case store.EngineMedusa:
		if err := a.keepClaimSize(ctx, ns, spec.Name+"-medusa-uploads", vals, set, "medusa", "uploads", "persistence", "size"); err != nil {
			return nil, err
		}
		if err := a.keepClaimTemplate(ctx, ns, spec.Name+"-postgresql", "postgresql", vals, set); err != nil {
			return nil, err
		}
	}
	if len(override) == 0 {
		return vals, nil
	}
	return storechart.Merge(vals, override), nil
}

// keepClaimSize pins the size at path of the chart's PVC name to its live
// size when the values ask for less (Kubernetes cannot shrink a volume) or
// when its StorageClass cannot expand volumes. Values without the size (a
// chart version that has no such volume) pin nothing.
func (a *Activities) keepClaimSize(ctx context.Context, ns, name string, vals map[string]any, set func([]string, any), path ...string) error {
	if !hasValue(vals, path...) {
		return nil
	}
	want, err := quantityAt(vals, path...)
	if err != nil {
		return err
	}
	pvc, err := a.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("read volume claim: %w", err)
	}
	live := pvc.Spec.Resources.Requests.Storage()
	if live.Cmp(want) > 0 || (live.Cmp(want) < 0 && !a.canExpand(ctx, pvc.Spec.StorageClassName)) {
		set(path, live.String())
	}
	return nil
}

// hasValue reports whether vals holds a value at path.
func hasValue(vals map[string]any, path ...string) bool {
	var cur any = vals
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[k]; !ok {
			return false
		}
	}
	return cur != nil
}

// keepClaimTemplate pins the volume size and claim labels of StatefulSet
// name (values key component) to its live volume claim template, where they
// differ from what the chart renders: Kubernetes refuses any change to a
// claim template, and a chart version that labelled or sized it otherwise
// could never upgrade. Where they are the same nothing is pinned, so that
// the values, and so the release, stay the same when nothing changed.
func (a *Activities) keepClaimTemplate(ctx context.Context, ns, name, component string, vals map[string]any, set func([]string, any)) error {
	sts, err := a.Kube.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read statefulset %s: %w", name, err)
	}
	if len(sts.Spec.VolumeClaimTemplates) == 0 {
		return nil
	}
	vct := sts.Spec.VolumeClaimTemplates[0]
	want, err := quantityAt(vals, component, "persistence", "size")
	if err != nil {
		return err
	}
	if live := vct.Spec.Resources.Requests.Storage(); live.Cmp(want) != 0 {
		set([]string{component, "persistence", "size"}, live.String())
	}
	// The labels the chart gives a new claim template (store.claimLabels).
	release := sts.Labels["app.kubernetes.io/instance"]
	rendered := map[string]string{"app.kubernetes.io/instance": release, "app.kubernetes.io/component": "database", LabelStore: release}
	if !maps.Equal(vct.Labels, rendered) {
		labels := map[string]any{}
		for k, v := range vct.Labels {
			labels[k] = v
		}
		set([]string{component, "persistence", "claimLabels"}, labels)
	}
	return nil
}

// canExpand reports whether volumes of the StorageClass (the default one
// when name is nil or empty) can grow.
func (a *Activities) canExpand(ctx context.Context, name *string) bool {
	scs, err := a.Kube.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, sc := range scs.Items {
		isDefault := sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true"
		if (name != nil && *name == sc.Name) || ((name == nil || *name == "") && isDefault) {
			return sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
		}
	}
	return false
}

func quantityAt(vals map[string]any, path ...string) (resource.Quantity, error) {
	var cur any = vals
	for _, k := range path {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	q, err := resource.ParseQuantity(fmt.Sprint(cur))
	if err != nil {
		return q, fmt.Errorf("values %v: %w", path, err)
	}
	return q, nil
}
