package helmclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestFenceRefusesWritesItRefuses: through a fenced config, reads always
// reach the API server and writes only while the fence allows them; a
// refused write never reaches it.
func TestFenceRefusesWritesItRefuses(t *testing.T) {
	var writes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"ns"}}`))
	}))
	defer srv.Close()
	lost := errors.New("lease lost")
	var refuse atomic.Bool
	kube, err := kubernetes.NewForConfig(fenced(&rest.Config{Host: srv.URL}, func() error {
		if refuse.Load() {
			return lost
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	secrets := kube.CoreV1().Secrets("ns")
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}}
	if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("write while held: %v", err)
	}
	refuse.Store(true)
	if _, err := secrets.Get(ctx, "s", metav1.GetOptions{}); err != nil {
		t.Fatalf("read after the fence closed: %v", err)
	}
	for name, write := range map[string]func() error{
		"create": func() error { _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); return err },
		"update": func() error { _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); return err },
		"delete": func() error { return secrets.Delete(ctx, "s", metav1.DeleteOptions{}) },
	} {
		if err := write(); err == nil || !strings.Contains(err.Error(), lost.Error()) {
			t.Errorf("%s after the fence closed: %v, want refused with %q", name, err, lost)
		}
	}
	if n := writes.Load(); n != 1 {
		t.Fatalf("the server got %d writes, want only the one made while held", n)
	}
}
