// Package ingress is the local stack's ingress controller: it serves the
// Ingresses of one IngressClass on this machine's loopback, over HTTP and
// HTTPS, and proxies each request to the Service its rule names, through
// that Service's cluster IP (kube-proxy routes it to a pod on the real
// node). It exists because no maintained controller builds from what this
// machine can download (docs/real-node.md says which were tried and why
// each failed); it implements the part of the Ingress API the store chart
// uses — host rules, Prefix/Exact/ImplementationSpecific paths, a backend
// Service port by name or number, TLS from the Secret an Ingress names or a
// default certificate — and nothing of any controller's annotations.
package ingress

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// backend is where a request goes: a Service's cluster IP and port.
type backend struct {
	namespace, service string
	addr               string // "clusterIP:port"
}

// routeError is why a request has no backend, with the HTTP status that
// says it: 404 when no Ingress of the class has a rule for it, 503 when
// the rule's Service or port does not exist (yet).
type routeError struct {
	status int
	msg    string
}

func (e *routeError) Error() string { return e.msg }

// services finds a Service by namespace and name; nil when there is none.
type services func(namespace, name string) *corev1.Service

// route picks, among ingresses of class, the rule for host and path with
// the longest matching path (Exact before Prefix at equal length), and
// resolves its backend Service to a cluster IP and port.
func route(ingresses []*networkingv1.Ingress, class string, svcs services, host, path string) (backend, error) {
	host = hostOnly(host)
	var (
		best      *networkingv1.IngressBackend
		bestNS    string
		bestScore = -1
	)
	for _, ing := range ingresses {
		if !ofClass(ing, class) {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			if !hostMatches(rule.Host, host) || rule.HTTP == nil {
				continue
			}
			for i := range rule.HTTP.Paths {
				p := &rule.HTTP.Paths[i]
				score, ok := pathScore(p, path)
				if ok && score > bestScore {
					best, bestNS, bestScore = &p.Backend, ing.Namespace, score
				}
			}
		}
	}
	if best == nil {
		return backend{}, &routeError{status: 404, msg: fmt.Sprintf("no Ingress of class %q has a rule for %s%s", class, host, path)}
	}
	if best.Service == nil {
		return backend{}, &routeError{status: 503, msg: "the rule's backend is not a Service"}
	}
	svc := svcs(bestNS, best.Service.Name)
	if svc == nil || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return backend{}, &routeError{status: 503, msg: fmt.Sprintf("Service %s/%s has no cluster IP", bestNS, best.Service.Name)}
	}
	for _, sp := range svc.Spec.Ports {
		if (best.Service.Port.Name != "" && sp.Name == best.Service.Port.Name) ||
			(best.Service.Port.Name == "" && sp.Port == best.Service.Port.Number) {
			return backend{namespace: bestNS, service: svc.Name, addr: fmt.Sprintf("%s:%d", svc.Spec.ClusterIP, sp.Port)}, nil
		}
	}
	return backend{}, &routeError{status: 503, msg: fmt.Sprintf("Service %s/%s has no port %s", bestNS, svc.Name, portName(best.Service.Port))}
}

// tlsSecret names the Secret (namespace, name) of the first Ingress of
// class whose TLS section lists host; ok is false when none does.
func tlsSecret(ingresses []*networkingv1.Ingress, class, host string) (namespace, name string, ok bool) {
	host = hostOnly(host)
	for _, ing := range ingresses {
		if !ofClass(ing, class) {
			continue
		}
		for _, t := range ing.Spec.TLS {
			for _, h := range t.Hosts {
				if t.SecretName != "" && hostMatches(h, host) {
					return ing.Namespace, t.SecretName, true
				}
			}
		}
	}
	return "", "", false
}

// ofClass: the Ingress names class in spec.ingressClassName, or in the
// older annotation.
func ofClass(ing *networkingv1.Ingress, class string) bool {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName == class
	}
	return ing.Annotations["kubernetes.io/ingress.class"] == class
}

// hostMatches follows the Ingress API: an empty rule host matches every
// host, "*.example.com" one label before example.com, anything else
// exactly (without case).
func hostMatches(rule, host string) bool {
	switch {
	case rule == "":
		return true
	case strings.HasPrefix(rule, "*."):
		first, rest, ok := strings.Cut(host, ".")
		return ok && first != "" && strings.EqualFold(rest, rule[2:])
	default:
		return strings.EqualFold(rule, host)
	}
}

// pathScore says whether p matches path and how specific it is: its
// length, doubled, plus one for Exact, so that the longest path wins and
// Exact wins a tie. Prefix matches whole path elements ("/foo" matches
// "/foo" and "/foo/bar", not "/foobar"); ImplementationSpecific is Prefix
// here.
func pathScore(p *networkingv1.HTTPIngressPath, path string) (int, bool) {
	want := p.Path
	if want == "" {
		want = "/"
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return 2*len(want) + 1, path == want
	}
	prefix := strings.TrimSuffix(want, "/")
	if prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/") {
		return 2 * len(prefix), true
	}
	return 0, false
}

// hostOnly drops a port from a Host header's value.
func hostOnly(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
}

func portName(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprint(p.Number)
}
