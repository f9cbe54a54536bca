package service

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubeEventsTimes: the last time seen comes from whichever field the
// event's writer set (core/v1: the timestamps; events.k8s.io: the series
// or the event time), and so does the count.
func TestKubeEventsTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	tests := []struct {
		name        string
		ev          corev1.Event
		first, last time.Time
		count       int32
	}{
		{"core/v1", corev1.Event{FirstTimestamp: metav1.NewTime(at(1)), LastTimestamp: metav1.NewTime(at(5)), Count: 3}, at(1), at(5), 3},
		{"event time only", corev1.Event{EventTime: metav1.NewMicroTime(at(7))}, at(7), at(7), 1},
		{"series", corev1.Event{EventTime: metav1.NewMicroTime(at(2)), Series: &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(at(9))}}, at(9), at(9), 4},
		{"creation only", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(at(4))}}, at(4), at(4), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kubeEvents([]corev1.Event{tt.ev})[0]
			if !got.FirstSeen.Equal(tt.first) || !got.LastSeen.Equal(tt.last) || got.Count != tt.count {
				t.Fatalf("first %v last %v count %d; want %v %v %d", got.FirstSeen, got.LastSeen, got.Count, tt.first, tt.last, tt.count)
			}
		})
	}
}

// TestKubeEventsKeepsTheWarningsOfMany: of more events than the page
// holds, every warning is kept before any normal event.
func TestKubeEventsKeepsTheWarningsOfMany(t *testing.T) {
	var evs []corev1.Event
	for i := range MaxKubeEvents + 20 {
		typ := corev1.EventTypeNormal
		if i%10 == 0 {
			typ = corev1.EventTypeWarning
		}
		evs = append(evs, corev1.Event{Type: typ, Reason: fmt.Sprint(i), LastTimestamp: metav1.NewTime(time.Unix(int64(i), 0))})
	}
	got := kubeEvents(evs)
	if len(got) != MaxKubeEvents {
		t.Fatalf("%d events, want %d", len(got), MaxKubeEvents)
	}
	for i, want := range []string{"60", "50", "40", "30", "20", "10", "0", "69", "68"} {
		if got[i].Reason != want {
			t.Fatalf("event %d is %s, want %s", i, got[i].Reason, want)
		}
	}
}
