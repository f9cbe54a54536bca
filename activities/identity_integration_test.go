package activities_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/storeplatform/storeplatform/activities"
	"github.com/storeplatform/storeplatform/internal/store"
)

// otherInstallation is a second platform installation on the same cluster.
const otherInstallation = "fedcba9876543210fedcba9876543210"

// secretReads records the requests for Secrets a client made.
type secretReads struct {
	mu    sync.Mutex
	paths []string
}

func (s *secretReads) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if strings.Contains(r.URL.Path, "/secrets") {
			s.mu.Lock()
			s.paths = append(s.paths, r.Method+" "+r.URL.Path)
			s.mu.Unlock()
		}
		return rt.RoundTrip(r)
	})
}

func (s *secretReads) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// watchSecrets points a's Kubernetes client at one that records every
// request for a Secret.
func watchSecrets(t *testing.T, a *activities.Activities) *secretReads {
	t.Helper()
	reads := &secretReads{}
	cfg := rest.CopyConfig(env.RESTConfig)
	cfg.Wrap(reads.wrap)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Kube = kube
	return reads
}

// plantStore makes, as someone other than the platform, what the platform
// makes for store spec: its namespace with the platform's labels (and
// installation, when not ""), and a credentials Secret with the same labels.
func plantStore(t *testing.T, spec store.Spec, installation string) {
	t.Helper()
	labels := map[string]string{
		activities.LabelManagedBy:  activities.ManagedBy,
		activities.LabelStore:      spec.Name,
		activities.LabelGeneration: "1",
	}
	if installation != "" {
		labels[activities.LabelInstallation] = installation
	}
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: spec.Namespace(), Labels: labels}}
	if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), spec.Namespace(), metav1.DeleteOptions{})
	})
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: spec.SecretName(), Labels: labels},
		Data: map[string][]byte{"admin-password": []byte("planted")}}
	if _, err := env.Kube.CoreV1().Secrets(spec.Namespace()).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// wantNotOurs fails t unless err is a NamespaceNotOurs naming namespace.
func wantNotOurs(t *testing.T, err error, namespace string) {
	t.Helper()
	if errType(err) != activities.ErrNamespaceNotOurs || !strings.Contains(err.Error(), namespace) {
		t.Fatalf("want %s naming %s, got %v", activities.ErrNamespaceNotOurs, namespace, err)
	}
}

// plantedBy are the makers of a planted store that the platform must not
// adopt: nobody's installation, and another's.
var plantedBy = []struct {
	name, installation string
}{
	{"without an installation", ""},
	{"of another installation", otherInstallation},
}

func TestCreateNamespaceRefusesStoreNamespacesNotOurs(t *testing.T) {
	for i, tt := range plantedBy {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newActivities(t)
			spec := store.Spec{Name: "planted-ns-" + string(rune('a'+i)), Generation: 1, Engine: store.EngineWooCommerce, Host: "p.example.com"}
			plantStore(t, spec, tt.installation)
			wantNotOurs(t, run(t, a.CreateNamespace, activities.NamespaceInput{Spec: spec}), spec.Namespace())
		})
	}
}

func TestEnsureCredentialsDoesNotReadSecretsNotOurs(t *testing.T) {
	for i, tt := range plantedBy {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newActivities(t)
			spec := store.Spec{Name: "planted-sec-" + string(rune('a'+i)), Generation: 1, Engine: store.EngineWooCommerce, Host: "p.example.com"}
			plantStore(t, spec, tt.installation)
			reads := watchSecrets(t, a)
			wantNotOurs(t, run(t, a.EnsureCredentials, activities.NamespaceInput{Spec: spec}), spec.Namespace())
			if got := reads.all(); len(got) != 0 {
				t.Fatalf("the planted Secret was requested: %v", got)
			}
		})
	}
}

// TestSecondInstallationRefusesTheFirstsStore: two platforms on one
// cluster; the second neither adopts, uninstalls nor deletes the first's
// store, and the first still owns it.
func TestSecondInstallationRefusesTheFirstsStore(t *testing.T) {
	first, _ := newActivities(t)
	spec := store.Spec{Name: "first-inst", Generation: 1, Engine: store.EngineWooCommerce, Host: "fi.example.com"}
	in := activities.NamespaceInput{Spec: spec}
	if err := run(t, first.CreateNamespace, in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = env.Kube.CoreV1().Namespaces().Delete(context.Background(), spec.Namespace(), metav1.DeleteOptions{})
	})
	if err := run(t, first.EnsureCredentials, in); err != nil {
		t.Fatal(err)
	}
	second, _ := newActivities(t)
	second.Installation = otherInstallation
	steps := []struct {
		name string
		do   func(t *testing.T) error
	}{
		{"CreateNamespace", func(t *testing.T) error { return run(t, second.CreateNamespace, in) }},
		{"EnsureCredentials", func(t *testing.T) error { return run(t, second.EnsureCredentials, in) }},
		{"UninstallRelease", func(t *testing.T) error { return run(t, second.UninstallRelease, in) }},
		{"DeleteNamespace", func(t *testing.T) error { _, err := runDelete(t, second, in); return err }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) { wantNotOurs(t, s.do(t), spec.Namespace()) })
	}
	ns, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), spec.Namespace(), metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil || ns.Labels[activities.LabelInstallation] != testInstallation {
		t.Fatalf("the first installation's namespace was changed: %v %v", ns.Labels, err)
	}
	if err := run(t, first.CreateNamespace, in); err != nil {
		t.Fatalf("the first installation lost its store: %v", err)
	}
}

// records is a RecordReader of one store record.
type records struct{ rec *store.Record }

func (r records) Get(_ context.Context, name string) (store.Record, error) {
	if r.rec == nil || r.rec.Name != name {
		return store.Record{}, store.ErrNotFound
	}
	return *r.rec, nil
}

// TestNamespacesMadeBeforeIdentitiesAreAdoptedOnlyWithTheirRecord: a
// store namespace with the platform's labels and no installation identity
// is adopted, and stamped, only when this installation's record of the
// store has its generation and was written before the namespace was made.
func TestNamespacesMadeBeforeIdentitiesAreAdoptedOnlyWithTheirRecord(t *testing.T) {
	tests := []struct {
		name   string
		record func(nsMade time.Time) *store.Record // nil: no record
		adopt  bool
	}{
		{"the platform's own, its record written first", func(made time.Time) *store.Record {
			return &store.Record{CreatedAt: made.Add(-time.Minute)}
		}, true},
		{"no record", func(time.Time) *store.Record { return nil }, false},
		{"made ahead of the record", func(made time.Time) *store.Record {
			return &store.Record{CreatedAt: made.Add(time.Minute)}
		}, false},
		{"record of another generation", func(made time.Time) *store.Record {
			return &store.Record{Spec: store.Spec{Generation: 2}, CreatedAt: made.Add(-time.Minute)}
		}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newActivities(t)
			spec := store.Spec{Name: "legacy-" + string(rune('a'+i)), Generation: 1, Engine: store.EngineWooCommerce, Host: "l.example.com"}
			plantStore(t, spec, "")
			ns, err := env.Kube.CoreV1().Namespaces().Get(t.Context(), spec.Namespace(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			rec := tt.record(ns.CreationTimestamp.Time)
			if rec != nil {
				rec.Name = spec.Name
				if rec.Generation == 0 {
					rec.Generation = 1
				}
			}
			a.Records = records{rec}
			in := activities.NamespaceInput{Spec: spec}
			err = errors.Join(run(t, a.CreateNamespace, in), run(t, a.EnsureCredentials, in))
			if !tt.adopt {
				wantNotOurs(t, err, spec.Namespace())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ns, err = env.Kube.CoreV1().Namespaces().Get(t.Context(), spec.Namespace(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sec, err := env.Kube.CoreV1().Secrets(spec.Namespace()).Get(t.Context(), spec.SecretName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ns.Labels[activities.LabelInstallation] != testInstallation || sec.Labels[activities.LabelInstallation] != testInstallation {
				t.Fatalf("not stamped: namespace %v, Secret %v", ns.Labels, sec.Labels)
			}
		})
	}
}
