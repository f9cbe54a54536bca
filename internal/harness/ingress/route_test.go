package ingress

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ingressOf(t *testing.T, ns, class string, tlsSecretName string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	t.Helper()
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec:       networkingv1.IngressSpec{IngressClassName: &class, Rules: rules},
	}
	if tlsSecretName != "" {
		for _, r := range rules {
			ing.Spec.TLS = append(ing.Spec.TLS, networkingv1.IngressTLS{Hosts: []string{r.Host}, SecretName: tlsSecretName})
		}
	}
	return ing
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths},
	}}
}

func path(p string, typ networkingv1.PathType, svc, port string, number int32) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &typ, Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: port, Number: number}},
	}}
}

func TestRoute(t *testing.T) {
	prefix, exact := networkingv1.PathTypePrefix, networkingv1.PathTypeExact
	ings := []*networkingv1.Ingress{
		ingressOf(t, "store-shop", "local", "", rule("shop.stores.localhost",
			path("/", prefix, "shop-web", "http", 0),
			path("/admin", prefix, "shop-admin", "", 9000),
			path("/admin/login", exact, "shop-login", "http", 0),
		)),
		ingressOf(t, "store-other", "nginx", "", rule("other.stores.localhost", path("/", prefix, "other-web", "http", 0))),
		ingressOf(t, "store-wild", "local", "", rule("*.wild.localhost", path("/", prefix, "wild-web", "http", 0))),
		ingressOf(t, "store-gone", "local", "", rule("gone.stores.localhost", path("/", prefix, "missing", "http", 0))),
		ingressOf(t, "store-port", "local", "", rule("port.stores.localhost", path("/", prefix, "shop-web", "grpc", 0))),
	}
	svc := func(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
	}
	all := []*corev1.Service{
		svc("store-shop", "shop-web", "10.96.0.10", corev1.ServicePort{Name: "http", Port: 80}),
		svc("store-shop", "shop-admin", "10.96.0.11", corev1.ServicePort{Name: "api", Port: 9000}),
		svc("store-shop", "shop-login", "10.96.0.12", corev1.ServicePort{Name: "http", Port: 8080}),
		svc("store-other", "other-web", "10.96.0.13", corev1.ServicePort{Name: "http", Port: 80}),
		svc("store-wild", "wild-web", "10.96.0.14", corev1.ServicePort{Name: "http", Port: 80}),
		svc("store-port", "shop-web", "10.96.0.15", corev1.ServicePort{Name: "http", Port: 80}),
	}
	lookup := func(ns, name string) *corev1.Service {
		for _, s := range all {
			if s.Namespace == ns && s.Name == name {
				return s
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name, host, path string
		addr             string
		status           int
	}{
		{"root", "shop.stores.localhost", "/", "10.96.0.10:80", 0},
		{"host with port, any case", "Shop.Stores.Localhost:8443", "/health", "10.96.0.10:80", 0},
		{"longer prefix wins", "shop.stores.localhost", "/admin/products", "10.96.0.11:9000", 0},
		{"prefix is whole elements", "shop.stores.localhost", "/administrator", "10.96.0.10:80", 0},
		{"exact", "shop.stores.localhost", "/admin/login", "10.96.0.12:8080", 0},
		{"exact is not a prefix", "shop.stores.localhost", "/admin/login/x", "10.96.0.11:9000", 0},
		{"wildcard host", "a.wild.localhost", "/", "10.96.0.14:80", 0},
		{"wildcard is one label", "a.b.wild.localhost", "/", "", 404},
		{"another class", "other.stores.localhost", "/", "", 404},
		{"unknown host", "nope.stores.localhost", "/", "", 404},
		{"missing service", "gone.stores.localhost", "/", "", 503},
		{"missing port", "port.stores.localhost", "/", "", 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := route(ings, "local", lookup, tc.host, tc.path)
			if tc.status != 0 {
				re, ok := err.(*routeError)
				if !ok || re.status != tc.status {
					t.Fatalf("route(%s%s) = %+v, %v; want status %d", tc.host, tc.path, b, err, tc.status)
				}
				return
			}
			if err != nil || b.addr != tc.addr {
				t.Fatalf("route(%s%s) = %q, %v; want %q", tc.host, tc.path, b.addr, err, tc.addr)
			}
		})
	}
}

func TestTLSSecret(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	ings := []*networkingv1.Ingress{
		ingressOf(t, "store-a", "local", "a-tls", rule("a.stores.localhost", path("/", prefix, "a", "http", 0))),
		ingressOf(t, "store-b", "nginx", "b-tls", rule("b.stores.localhost", path("/", prefix, "b", "http", 0))),
		ingressOf(t, "store-c", "local", "", rule("c.stores.localhost", path("/", prefix, "c", "http", 0))),
	}
	for _, tc := range []struct {
		host, ns, name string
		ok             bool
	}{
		{"a.stores.localhost", "store-a", "a-tls", true},
		{"b.stores.localhost", "", "", false}, // another class
		{"c.stores.localhost", "", "", false}, // no TLS section
		{"", "", "", false},                   // no SNI
	} {
		ns, name, ok := tlsSecret(ings, "local", tc.host)
		if ns != tc.ns || name != tc.name || ok != tc.ok {
			t.Errorf("tlsSecret(%q) = %q, %q, %v; want %q, %q, %v", tc.host, ns, name, ok, tc.ns, tc.name, tc.ok)
		}
	}
}
