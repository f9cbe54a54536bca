package service

import (
	"cmp"
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxKubeEvents is the most Kubernetes events StoreKubeEvents returns.
const MaxKubeEvents = 50

// KubeEvent is one Kubernetes event of a store's namespace, as the store
// page shows it: why a pod is pending, an image that does not pull, a
// probe that fails.
type KubeEvent struct {
	// Type is Warning or Normal.
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Object is the event's object as Kind/name, e.g. Pod/medusa-7c9d.
	Object    string    `json:"object"`
	Count     int32     `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// StoreKubeEvents returns the Kubernetes events of the namespace of the
// store name, if who may see it: warnings first, then the newest first, at
// most MaxKubeEvents. A store whose namespace is gone (deleted) has none.
// The events are read as they are, from the cluster; nothing is kept.
func (s *Service) StoreKubeEvents(ctx context.Context, who Caller, name string) ([]KubeEvent, error) {
	rec, err := s.VisibleStore(ctx, who, name)
	if err != nil {
		return nil, err
	}
	list, err := s.c.Kube.CoreV1().Events(rec.Spec.Namespace()).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return kubeEvents(list.Items), nil
}

// kubeEvents orders evs for the store page (warnings first, then the
// newest first, then by object) and keeps the first MaxKubeEvents.
func kubeEvents(evs []corev1.Event) []KubeEvent {
	out := make([]KubeEvent, 0, len(evs))
	for _, e := range evs {
		first, last := e.FirstTimestamp.Time, lastSeen(e)
		if first.IsZero() {
			first = last
		}
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		if count == 0 {
			count = 1
		}
		out = append(out, KubeEvent{
			Type: e.Type, Reason: e.Reason, Message: e.Message,
			Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
			Count:  count, FirstSeen: first.UTC(), LastSeen: last.UTC(),
		})
	}
	slices.SortStableFunc(out, func(a, b KubeEvent) int {
		if wa, wb := a.Type == corev1.EventTypeWarning, b.Type == corev1.EventTypeWarning; wa != wb {
			if wa {
				return -1
			}
			return 1
		}
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Object+a.Reason, b.Object+b.Reason)
	})
	if len(out) > MaxKubeEvents {
		out = out[:MaxKubeEvents]
	}
	return out
}

// lastSeen is when e was last seen: events.k8s.io writers set the series
// or the event time, core/v1 writers the last timestamp.
func lastSeen(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
