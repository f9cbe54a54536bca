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
	objs, w, err := e.renderFloor(specs)
	if err != nil {
		return nil, err
	}
	mapper, err := e.restMapper()
	if err != nil {
		return nil, err
	}
	stop, err := e.watchWorkloads(ctx, w)
	if err != nil {
		return nil, err
	}
	defer stop()
	w.start()
	if err := e.applyFloor(ctx, mapper, specs, objs); err != nil {
		return nil, err
	}
	return w.wait(ctx, e.o.Timeout)
}

// renderFloor renders every store's chart into its objects, and makes the
// watch that times the stores by their workloads.
func (e *env) renderFloor(specs []store.Spec) ([][]*unstructured.Unstructured, *floorWatch, error) {
	c, err := storechart.Load(e.chartDir)
	if err != nil {
		return nil, nil, err
	}
	objs := make([][]*unstructured.Unstructured, len(specs))
	w := newFloorWatch(len(specs))
	for i, spec := range specs {
		rel, err := storechart.Render(c, spec.Name, spec.Namespace(), e.profile.For(spec))
		if err != nil {
			return nil, nil, fmt.Errorf("render %s: %w", spec.Name, err)
		}
		if objs[i], err = storechart.Objects(rel.Manifest); err != nil {
			return nil, nil, err
		}
		w.expect(i, spec.Namespace(), objs[i])
	}
	return objs, w, nil
}

// restMapper maps the cluster's kinds to their resources, as discovery
// finds them now.
func (e *env) restMapper() (meta.RESTMapper, error) {
	groups, err := restmapper.GetAPIGroupResources(e.kube.Discovery())
	if err != nil {
		return nil, err
	}
	return restmapper.NewDiscoveryRESTMapper(groups), nil
}

// watchWorkloads starts one informer on Deployments and one on
// StatefulSets, which tell w of every change, and waits for their caches;
// stop ends them.
func (e *env) watchWorkloads(ctx context.Context, w *floorWatch) (stop func(), err error) {
	factory := informers.NewSharedInformerFactory(e.kube, 0)
	deps := factory.Apps().V1().Deployments().Informer()
	sts := factory.Apps().V1().StatefulSets().Informer()
	onDeploy := func(obj any) {
		if d, ok := obj.(*appsv1.Deployment); ok {
			w.observe("Deployment", d.Namespace, d.Name, deploymentReady(d))
		}
	}
	onSts := func(obj any) {
		if s, ok := obj.(*appsv1.StatefulSet); ok {
			w.observe("StatefulSet", s.Namespace, s.Name, statefulSetReady(s))
		}
	}
	if _, err := deps.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onDeploy, UpdateFunc: func(_, o any) { onDeploy(o) }}); err != nil {
		return nil, err
	}
	if _, err := sts.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onSts, UpdateFunc: func(_, o any) { onSts(o) }}); err != nil {
		return nil, err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	factory.Start(wctx.Done())
	factory.WaitForCacheSync(wctx.Done())
	// Shutdown waits for the informers, which stop only once wctx ends.
	return func() {
		stopWatch()
		factory.Shutdown()
	}, nil
}

// applyFloor makes every store at once: its namespace and Secret, then
// each of its objs in order.
func (e *env) applyFloor(ctx context.Context, mapper meta.RESTMapper, specs []store.Spec, objs [][]*unstructured.Unstructured) error {
	return inParallel(len(specs), func(i int) error {
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
}

// floorWatch times the stores of a floor run: each store's time from the
// start until every Deployment and StatefulSet of its namespace is ready.
type floorWatch struct {
	mu    sync.Mutex
	t0    time.Time
	index map[string]int             // namespace -> store
	want  map[string]int             // namespace -> workloads
	ready map[string]map[string]bool // namespace -> kind/name ready
	times []time.Duration
	// left counts the stores not ready yet; allDone closes when it is 0.
	left    int
	allDone chan struct{}
}

// newFloorWatch is the watch of n stores, none of them expected yet.
func newFloorWatch(n int) *floorWatch {
	return &floorWatch{index: map[string]int{}, want: map[string]int{}, ready: map[string]map[string]bool{},
		times: make([]time.Duration, n), left: n, allDone: make(chan struct{})}
}

// expect makes store i, in namespace ns, ready once the workloads among
// objs are.
func (w *floorWatch) expect(i int, ns string, objs []*unstructured.Unstructured) {
	for _, o := range objs {
		if k := o.GetKind(); k == "Deployment" || k == "StatefulSet" {
			w.want[ns]++
		}
	}
	w.index[ns] = i
}

// start starts the clock: changes before it are not counted.
func (w *floorWatch) start() {
	w.mu.Lock()
	w.t0 = time.Now()
	w.mu.Unlock()
}

// observe notes that workload kind/name of namespace ns is ready (ok), and
// times its store once all of the store's workloads are.
func (w *floorWatch) observe(kind, ns, name string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i, mine := w.index[ns]
	if !mine || w.t0.IsZero() || w.times[i] != 0 || !ok {
		return
	}
	if w.ready[ns] == nil {
		w.ready[ns] = map[string]bool{}
	}
	w.ready[ns][kind+"/"+name] = true
	if len(w.ready[ns]) == w.want[ns] {
		w.times[i] = time.Since(w.t0)
		if w.left--; w.left == 0 {
			close(w.allDone)
		}
	}
}

// wait waits until every store is ready, and returns their times; an error
// when timeout after the start passes first, or ctx ends.
func (w *floorWatch) wait(ctx context.Context, timeout time.Duration) ([]time.Duration, error) {
	select {
	case <-w.allDone:
	case <-time.After(time.Until(w.t0.Add(timeout))):
		w.mu.Lock()
		defer w.mu.Unlock()
		return nil, fmt.Errorf("floor: %d of %d stores not ready after %s", w.left, len(w.times), timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.times...), nil
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
