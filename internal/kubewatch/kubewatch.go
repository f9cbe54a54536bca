// Package kubewatch keeps one watch per resource type on the objects of
// every store (Deployments, StatefulSets, Pods carrying the store label)
// and wakes whoever waits on a namespace when one of its objects changes.
// It replaces polling: a worker with a hundred stores in flight holds three
// watches instead of sending three LISTs per store every two seconds.
package kubewatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersappsv1 "k8s.io/client-go/listers/apps/v1"
	listerscorev1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Watcher holds the shared informers and the namespaces' subscribers.
type Watcher struct {
	deps   listersappsv1.DeploymentLister
	sts    listersappsv1.StatefulSetLister
	pods   listerscorev1.PodLister
	synced []cache.InformerSynced
	logger *slog.Logger

	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

// Start watches, until ctx ends, the Deployments, StatefulSets and Pods of
// the cluster of cfg that carry the label key selector (e.g.
// "storeplatform.io/store"). It does not wait for the first list: Synced
// says when the cache is complete.
func Start(ctx context.Context, cfg *rest.Config, selector string, logger *slog.Logger) (*Watcher, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 0 // a watch is a long request: no client timeout
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	f := informers.NewSharedInformerFactoryWithOptions(kube, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	w := &Watcher{
		deps: f.Apps().V1().Deployments().Lister(), sts: f.Apps().V1().StatefulSets().Lister(), pods: f.Core().V1().Pods().Lister(),
		logger: logger, subs: map[string]map[chan struct{}]struct{}{},
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.notify(obj) },
		UpdateFunc: func(_, obj any) { w.notify(obj) },
		DeleteFunc: func(obj any) { w.notify(obj) },
	}
	for _, inf := range []cache.SharedIndexInformer{f.Apps().V1().Deployments().Informer(), f.Apps().V1().StatefulSets().Informer(), f.Core().V1().Pods().Informer()} {
		if _, err := inf.AddEventHandler(h); err != nil {
			return nil, err
		}
		w.synced = append(w.synced, inf.HasSynced)
	}
	f.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		f.Shutdown()
	}()
	return w, nil
}

// Synced tells whether every informer has its first list.
func (w *Watcher) Synced() bool {
	for _, s := range w.synced {
		if !s() {
			return false
		}
	}
	return true
}

// WaitSynced waits until Synced or ctx ends (or at most d).
func (w *Watcher) WaitSynced(ctx context.Context, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return cache.WaitForCacheSync(ctx.Done(), w.synced...)
}

// Subscribe returns a channel that receives when an object in namespace ns
// changes (several changes may come as one), and the func that ends the
// subscription.
func (w *Watcher) Subscribe(ns string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.subs[ns] == nil {
		w.subs[ns] = map[chan struct{}]struct{}{}
	}
	w.subs[ns][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs[ns], ch)
		if len(w.subs[ns]) == 0 {
			delete(w.subs, ns)
		}
	}
}

func (w *Watcher) notify(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs[m.GetNamespace()] {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Lists are the cached objects of one namespace that match a selector.
type Lists struct {
	Deployments  []appsv1.Deployment
	StatefulSets []appsv1.StatefulSet
	Pods         []corev1.Pod
}

// List reads the cache: the objects of namespace ns that match sel. The
// cache may lag behind the API server; callers confirm what they act on
// with a read of their own.
func (w *Watcher) List(ns string, sel labels.Selector) (Lists, error) {
	var l Lists
	deps, err := w.deps.Deployments(ns).List(sel)
	if err != nil {
		return l, err
	}
	sts, err := w.sts.StatefulSets(ns).List(sel)
	if err != nil {
		return l, err
	}
	pods, err := w.pods.Pods(ns).List(sel)
	if err != nil {
		return l, err
	}
	for _, d := range deps {
		l.Deployments = append(l.Deployments, *d)
	}
	for _, s := range sts {
		l.StatefulSets = append(l.StatefulSets, *s)
	}
	for _, p := range pods {
		l.Pods = append(l.Pods, *p)
	}
	return l, nil
}
