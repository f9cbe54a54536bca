package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"

	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// fieldManager owns what the floor applies.
const fieldManager = "bench-floor"

// floorCreate is the floor: every store's chart rendered once (before the
// clock starts, with the Helm SDK's client-only install, as `helm template`
// would), then, for all stores at once, the namespace and the Secret, and
// every object of the manifest server-side applied in Helm's install order,
// watched (one informer per kind for all stores) until each store's
// Deployments and StatefulSets are ready. No Helm release storage, no
// Temporal, no MongoDB.
func (e *env) floorCreate(ctx context.Context, specs []store.Spec) ([]time.Duration, error) {
	c, err := storechart.Load(e.chartDir)
	if err != nil {
		return nil, err
	}
	objs := make([][]*unstructured.Unstructured, len(specs))
	want := map[string]int{} // namespace -> workloads
	index := map[string]int{}
	for i, spec := range specs {
		rel, err := storechart.Render(c, spec.Name, spec.Namespace(), e.profile.For(spec))
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", spec.Name, err)
		}
		if objs[i], err = storechart.Objects(rel.Manifest); err != nil {
			return nil, err
		}
		for _, o := range objs[i] {
			if k := o.GetKind(); k == "Deployment" || k == "StatefulSet" {
				want[spec.Namespace()]++
			}
		}
		index[spec.Namespace()] = i
	}
	groups, err := restmapper.GetAPIGroupResources(e.kube.Discovery())
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)

	times := make([]time.Duration, len(specs))
	var t0 time.Time
	var mu sync.Mutex
	ready := map[string]map[string]bool{} // namespace -> kind/name ready
	allDone := make(chan struct{})
	left := len(specs)
	observe := func(kind, ns, name string, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		i, mine := index[ns]
		if !mine || t0.IsZero() || times[i] != 0 || !ok {
			return
		}
		if ready[ns] == nil {
			ready[ns] = map[string]bool{}
		}
		ready[ns][kind+"/"+name] = true
		if len(ready[ns]) == want[ns] {
			times[i] = time.Since(t0)
			if left--; left == 0 {
				close(allDone)
			}
		}
	}
	factory := informers.NewSharedInformerFactory(e.kube, 0)
	deps := factory.Apps().V1().Deployments().Informer()
	sts := factory.Apps().V1().StatefulSets().Informer()
	onDeploy := func(obj any) {
		if d, ok := obj.(*appsv1.Deployment); ok {
			observe("Deployment", d.Namespace, d.Name, deploymentReady(d))
		}
	}
	onSts := func(obj any) {
		if s, ok := obj.(*appsv1.StatefulSet); ok {
			observe("StatefulSet", s.Namespace, s.Name, statefulSetReady(s))
		}
	}
	if _, err := deps.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onDeploy, UpdateFunc: func(_, o any) { onDeploy(o) }}); err != nil {
		return nil, err
	}
	if _, err := sts.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onSts, UpdateFunc: func(_, o any) { onSts(o) }}); err != nil {
		return nil, err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	// Shutdown waits for the informers, which stop only once wctx ends.
	defer func() {
		stopWatch()
		factory.Shutdown()
	}()
	factory.Start(wctx.Done())
	factory.WaitForCacheSync(wctx.Done())

	mu.Lock()
	t0 = time.Now()
	mu.Unlock()
	err = inParallel(len(specs), func(i int) error {
		if err := e.prepare(ctx, specs[i]); err != nil {
			return err
		}
		for _, o := range objs[i] {
			if err := e.apply(ctx, mapper, specs[i].Namespace(), o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	select {
	case <-allDone:
	case <-time.After(time.Until(t0.Add(e.o.Timeout))):
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("floor: %d of %d stores not ready after %s", left, len(specs), e.o.Timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]time.Duration(nil), times...), nil
}

// apply server-side applies one rendered object in namespace ns (when its
// kind lives in namespaces).
func (e *env) apply(ctx context.Context, mapper meta.RESTMapper, ns string, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk, o.GetName(), err)
	}
	var ri dynamic.ResourceInterface = e.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		o.SetNamespace(ns)
		ri = e.dyn.Resource(m.Resource).Namespace(ns)
	}
	data, err := json.Marshal(o.Object)
	if err != nil {
		return err
	}
	force := true
	if _, err := ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", gvk.Kind, ns, o.GetName(), err)
	}
	return nil
}

// deploymentReady: the controller saw the Deployment's spec and every
// desired replica is updated and ready.
func deploymentReady(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas >= want && d.Status.ReadyReplicas >= want
}

// statefulSetReady: the controller saw the StatefulSet's spec and every
// desired replica is ready.
func statefulSetReady(s *appsv1.StatefulSet) bool {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	return s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas >= want
}
