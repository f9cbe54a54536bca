package devstack

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/harness/ingress"
)

// The real node's ingress: internal/harness/ingress, run in this process
// like the volume provisioner, on the loopback, serving the Ingresses of
// IngressClass and proxying to their Services' cluster IPs (kube-proxy
// routes them to the real node's pods). Its default certificate, signed
// by the stack's CA (CACert), names every store's host.
const (
	// IngressClass is the IngressClass the stores on the real node name
	// (RealNodeStoreValues).
	IngressClass = "storeplatform-local"
	// DefaultStoreDomain is the platform's STORE_DOMAIN default: the
	// ingress's certificate names *.DefaultStoreDomain unless
	// Options.StoreDomain says otherwise.
	DefaultStoreDomain = "stores.localhost"
)

// startIngress creates the IngressClass, issues the default certificate
// and serves on the loopback until stop.
func (n *realNode) startIngress(ctx context.Context, httpPort, httpsPort int, domain string) error {
	class := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: IngressClass},
		Spec:       networkingv1.IngressClassSpec{Controller: ingress.ControllerName},
	}
	if err := ignoreExists(n.client.NetworkingV1().IngressClasses().Create(ctx, class, metav1.CreateOptions{})); err != nil {
		return fmt.Errorf("create ingress class: %w", err)
	}
	if err := ensureServingCert(n.pki, ingressCert, ingressKey, []string{"*." + domain, domain}); err != nil {
		return fmt.Errorf("ingress certificate: %w", err)
	}
	pair, err := tls.LoadX509KeyPair(n.pki.Path(ingressCert), n.pki.Path(ingressKey))
	if err != nil {
		return fmt.Errorf("ingress certificate: %w", err)
	}
	listen := func(port int) (net.Listener, error) {
		return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	plain, err := listen(httpPort)
	if err != nil {
		return fmt.Errorf("ingress: %w", err)
	}
	secure, err := listen(httpsPort)
	if err != nil {
		plain.Close()
		return fmt.Errorf("ingress: %w", err)
	}
	n.ingressHTTP, n.ingressHTTPS = plain.Addr().String(), secure.Addr().String()
	c := &ingress.Controller{
		Client: n.client, Class: IngressClass, HTTP: plain, HTTPS: secure,
		DefaultCertificate: pair, Logger: n.procs.logger,
	}
	run, cancel := context.WithCancel(context.Background())
	n.stopIngress, n.ingressDone = cancel, make(chan struct{})
	go func() {
		defer close(n.ingressDone)
		if err := c.Run(run); err != nil {
			n.procs.logger.Warn("real node ingress stopped", "err", err)
		}
	}()
	return nil
}

// IngressHTTP and IngressHTTPS are the ingress's loopback addresses
// ("127.0.0.1:port"); "" when the stack has no real node.
func (s *Stack) IngressHTTP() string {
	if s.node == nil {
		return ""
	}
	return s.node.ingressHTTP
}

// IngressHTTPS: see IngressHTTP.
func (s *Stack) IngressHTTPS() string {
	if s.node == nil {
		return ""
	}
	return s.node.ingressHTTPS
}

// CACert is the path of the stack's CA certificate, which signed the
// ingress's default certificate (and the API server's); "" for a cluster
// of KUBECONFIG.
func (s *Stack) CACert() string {
	if s.cluster == nil {
		return ""
	}
	return s.cluster.pki.Path(caCert)
}
