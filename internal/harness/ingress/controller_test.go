package ingress_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/harness/ingress"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/harness/testpki"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// TestControllerOnTheAPI runs the controller against the local stack's
// API server (kwok's nodes: no kube-proxy, so no Service answers) and
// checks what it serves before any backend: the certificate of the Secret
// an Ingress names, a replaced Secret's new certificate, the default
// certificate for other hosts, 404 for a host of no Ingress of its class,
// and 503 for a rule whose Service does not exist. Proxying to a Service
// that answers is the real node's (internal/harness/realstore): here a
// cluster IP leads nowhere, or, while a real node's kube-proxy runs on
// this machine for another cluster, to that cluster's pods.
func TestControllerOnTheAPI(t *testing.T) {
	env.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	kube := env.Kube
	ns := fmt.Sprintf("ingress-test-%d", time.Now().UnixNano()%1e6)
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })

	ca := testpki.NewCA(t, "ingress test")
	first, second := ca.ServerFor(t, "tls.example.test"), ca.ServerFor(t, "tls.example.test")
	def := ca.ServerFor(t, "*.stores.localhost")
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-tls", Namespace: ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: first.CertPEM, corev1.TLSPrivateKeyKey: first.KeyPEM},
	}
	if _, err := kube.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	if _, err := kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mine, theirs := "test-local", "nginx"
	prefix := networkingv1.PathTypePrefix
	ing := func(name, class, host, service, tlsSecret string) *networkingv1.Ingress {
		i := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix,
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: service, Port: networkingv1.ServiceBackendPort{Name: "http"},
					}},
				}}}},
			}}},
		}
		if tlsSecret != "" {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: tlsSecret}}
		}
		return i
	}
	for _, i := range []*networkingv1.Ingress{
		ing("shop", mine, "tls.example.test", "web", "shop-tls"),
		ing("gone", mine, "gone.example.test", "missing", ""),
		ing("other", theirs, "other.example.test", "web", ""),
	} {
		if _, err := kube.NetworkingV1().Ingresses(ns).Create(ctx, i, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	listen := func() net.Listener {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	plain, secure := listen(), listen()
	c := &ingress.Controller{Client: kube, Class: mine, HTTP: plain, HTTPS: secure, DefaultCertificate: def.TLS(t)}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	served := func(serverName string) []byte {
		t.Helper()
		conn, err := tls.Dial("tcp", secure.Addr().String(), &tls.Config{ServerName: serverName, RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("TLS handshake for %s: %v", serverName, err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Raw
	}
	leaf := func(p testpki.Pair) []byte {
		t.Helper()
		c := p.TLS(t)
		return c.Certificate[0]
	}
	// The informers sync before Run serves; the Secret's certificate is
	// served from the first handshake on.
	eventually(t, ctx, "the Secret's certificate for tls.example.test", func() bool { return bytes.Equal(served("tls.example.test"), leaf(first)) })
	if !bytes.Equal(served("shop.stores.localhost"), leaf(def)) {
		t.Error("a host whose Ingress names no Secret was not answered with the default certificate")
	}
	secret.Data = map[string][]byte{corev1.TLSCertKey: second.CertPEM, corev1.TLSPrivateKeyKey: second.KeyPEM}
	if _, err := kube.CoreV1().Secrets(ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "the replaced Secret's certificate", func() bool { return bytes.Equal(served("tls.example.test"), leaf(second)) })

	for _, tc := range []struct {
		host   string
		status int
		body   string
	}{
		{"other.example.test", http.StatusNotFound, `no Ingress of class "test-local" has a rule for other.example.test/`},
		{"gone.example.test", http.StatusServiceUnavailable, "Service " + ns + "/missing has no cluster IP"},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+plain.Addr().String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET http://%s/: %v", tc.host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("GET http://%s/: %d %q, want %d %q", tc.host, resp.StatusCode, body, tc.status, tc.body)
		}
	}
}

// eventually polls ok until it holds or ctx ends.
func eventually(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not seen before %v", what, context.Cause(ctx))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
