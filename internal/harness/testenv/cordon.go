package testenv

import (
	"context"
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Cordon marks every node unschedulable until the test ends or the
// returned func is called, as a full cluster would be: new pods stay
// Pending, so a store cannot become ready.
func (e *Env) Cordon(t *testing.T) (uncordon func()) {
	t.Helper()
	set := func(ctx context.Context, on bool) error {
		nodes, err := e.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		patch := []byte(fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, on))
		for _, n := range nodes.Items {
			if _, err := e.Kube.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return err
			}
		}
		return nil
	}
	var once sync.Once
	uncordon = func() {
		once.Do(func() {
			if err := set(context.Background(), false); err != nil {
				t.Errorf("uncordon: %v", err)
			}
		})
	}
	t.Cleanup(uncordon)
	if err := set(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	return uncordon
}
