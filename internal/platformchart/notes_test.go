package platformchart_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/storeplatform/storeplatform/internal/helmclient"
	"github.com/storeplatform/storeplatform/internal/storechart"
)

// The opening words of the two warnings of NOTES.txt.
const (
	issuerWarning = "WARNING: store TLS certificates will not be issued"
	plainWarning  = "WARNING: the dashboard and the API are served over plain http"
)

// notes renders the chart without a cluster (lookup answers nothing) and
// returns its NOTES.txt.
func notes(t *testing.T, vals map[string]any) string {
	t.Helper()
	rel, err := storechart.Render(loadChart(t), "sp", "platform", storechart.Merge(baseValues(), vals))
	if err != nil {
		t.Fatal(err)
	}
	return rel.Info.Notes
}

// TestNotesWarn: without a cluster to ask, the prod profile warns that
// store certificates will not be issued and the local profile does not;
// an Ingress without TLS warns that tokens travel in the clear, and one
// with TLS (or none: the local profile's case) does not.
func TestNotesWarn(t *testing.T) {
	ingress := func(tlsSecret string) map[string]any {
		return map[string]any{"api": map[string]any{"ingress": map[string]any{"enabled": true, "host": "platform.shop.example", "tlsSecret": tlsSecret}}}
	}
	local := map[string]any{"store": map[string]any{"profile": "local"}}
	for _, tt := range []struct {
		name       string
		vals       map[string]any
		issuer     bool
		plainHTTP  bool
		wantInText []string
	}{
		{"prod profile", map[string]any{"store": map[string]any{"profile": "prod", "domain": "shops.example.org"}}, true, false,
			[]string{`ClusterIssuer "letsencrypt-prod"`, "cert-manager is not installed", "*.shops.example.org"}},
		{"local profile", local, false, false, nil},
		{"ingress without TLS", storechart.Merge(local, ingress("")), false, true,
			[]string{"http://platform.shop.example/", "--set api.ingress.tlsSecret="}},
		{"ingress with TLS", storechart.Merge(local, ingress("platform-tls")), false, false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := notes(t, tt.vals)
			if strings.Contains(got, issuerWarning) != tt.issuer || strings.Contains(got, plainWarning) != tt.plainHTTP {
				t.Fatalf("issuer warning %v, plain http warning %v; notes:\n%s", tt.issuer, tt.plainHTTP, got)
			}
			for _, want := range tt.wantInText {
				if !strings.Contains(got, want) {
					t.Errorf("notes lack %q:\n%s", want, got)
				}
			}
		})
	}
}

// TestIssuerWarningNamesTheProfilesIssuer: the ClusterIssuer NOTES.txt
// looks for is the one the store chart's prod profile asks for.
func TestIssuerWarningNamesTheProfilesIssuer(t *testing.T) {
	prod, err := storechart.ValuesFile(filepath.Join(repoRoot(t), "charts", "store"), "values-prod.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tls, _ := prod["ingress"].(map[string]any)["tls"].(map[string]any)
	issuer, _ := tls["clusterIssuer"].(string)
	if issuer == "" {
		t.Fatal("charts/store/values-prod.yaml names no ingress.tls.clusterIssuer")
	}
	if got := notes(t, nil); !strings.Contains(got, `ClusterIssuer "`+issuer+`"`) {
		t.Fatalf("notes do not name the prod profile's ClusterIssuer %q:\n%s", issuer, got)
	}
}

// Minimal stand-ins for cert-manager's CRD and a ClusterIssuer: the
// warning asks only whether the object exists.
var (
	crdGVR    = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	issuerGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
)

func clusterIssuerCRD() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "clusterissuers.cert-manager.io"},
		"spec": map[string]any{
			"group": "cert-manager.io",
			"scope": "Cluster",
			"names": map[string]any{"kind": "ClusterIssuer", "listKind": "ClusterIssuerList", "plural": "clusterissuers", "singular": "clusterissuer"},
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
}

// serverNotes runs `helm install --dry-run=server` of the chart against
// the local stack's API server, where lookup asks the cluster, and returns
// its NOTES.txt. Each call has its own discovery, so a CRD made since is
// seen.
func serverNotes(t *testing.T, vals map[string]any) string {
	t.Helper()
	const name, ns = "notes", "platform-notes"
	ac, err := helmclient.ActionConfig(env.RESTConfig, ns, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(ac)
	install.ReleaseName, install.Namespace = name, ns
	install.DryRun, install.DryRunOption = true, "server"
	rel, err := install.RunWithContext(t.Context(), loadChart(t), storechart.Merge(baseValues(), vals))
	if err != nil {
		t.Fatalf("helm install --dry-run=server: %v", err)
	}
	return rel.Info.Notes
}

// TestIssuerWarningAsksTheCluster: on a real API server the prod profile's
// warning shows while cert-manager is not installed (and the install does
// not fail on the unknown kind), still shows with cert-manager's CRD but no
// ClusterIssuer "letsencrypt-prod", and is gone once that ClusterIssuer
// exists.
func TestIssuerWarningAsksTheCluster(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	dyn, err := dynamic.NewForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	prod := map[string]any{"store": map[string]any{"profile": "prod"}}

	if got := serverNotes(t, prod); !strings.Contains(got, issuerWarning) || !strings.Contains(got, "cert-manager is not installed") {
		t.Fatalf("without cert-manager: want the warning that it is not installed; notes:\n%s", got)
	}

	if _, err := dyn.Resource(crdGVR).Create(ctx, clusterIssuerCRD(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := dyn.Resource(crdGVR).Delete(context.Background(), "clusterissuers.cert-manager.io", metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete the ClusterIssuer CRD: %v", err)
		}
	})
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		rl, err := env.Kube.Discovery().ServerResourcesForGroupVersion("cert-manager.io/v1")
		if err != nil {
			return false, nil // not served yet
		}
		return slices.ContainsFunc(rl.APIResources, func(r metav1.APIResource) bool { return r.Kind == "ClusterIssuer" }), nil
	})
	if err != nil {
		t.Fatalf("ClusterIssuer never served: %v", err)
	}
	if got := serverNotes(t, prod); !strings.Contains(got, issuerWarning) || !strings.Contains(got, "this cluster has no ClusterIssuer of that name") {
		t.Fatalf("with cert-manager's CRD but no ClusterIssuer: want the warning that it is missing; notes:\n%s", got)
	}

	issuer := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1",
		"kind":       "ClusterIssuer",
		"metadata":   map[string]any{"name": "letsencrypt-prod"},
		"spec":       map[string]any{"selfSigned": map[string]any{}},
	}}
	if _, err := dyn.Resource(issuerGVR).Create(ctx, issuer, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := serverNotes(t, prod); strings.Contains(got, issuerWarning) {
		t.Fatalf("with ClusterIssuer letsencrypt-prod: want no warning; notes:\n%s", got)
	}
}
