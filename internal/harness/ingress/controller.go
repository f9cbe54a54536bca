package ingress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
)

// ControllerName is what the IngressClass of this controller names in
// spec.controller.
const ControllerName = "storeplatform.io/local-ingress"

// backendConnectTimeout bounds the connection to a Service: until
// kube-proxy's rules follow a replaced pod, its cluster IP leads to an
// address where nothing answers, not even a refusal.
const backendConnectTimeout = 5 * time.Second

// Controller serves the Ingresses of Class.
type Controller struct {
	Client kubernetes.Interface
	// Class is the IngressClass whose Ingresses it serves.
	Class string
	// HTTP and HTTPS are the listeners it serves on (the caller opens them,
	// so that it knows their addresses before Run).
	HTTP, HTTPS net.Listener
	// DefaultCertificate answers a TLS handshake for a host whose Ingress
	// names no Secret, or a Secret that does not exist or holds no key pair.
	DefaultCertificate tls.Certificate
	Logger             *slog.Logger
}

// server is a running Controller's state: its listers and the key pair it
// parsed last of each Secret, with that Secret's resourceVersion.
type server struct {
	c         *Controller
	ingresses networkinglisters.IngressLister
	services  corelisters.ServiceLister
	secrets   corelisters.SecretLister

	// transport gives up on a backend that does not accept a connection
	// within backendConnectTimeout, as controllers do (ingress-nginx's
	// proxy-connect-timeout is 5 s).
	transport *http.Transport

	mu    sync.Mutex
	certs map[string]parsedCert // by "namespace/name"
}

// Run watches Ingresses, Services and TLS Secrets, serves until ctx ends,
// then shuts the servers down and returns.
func (c *Controller) Run(ctx context.Context) error {
	if c.Client == nil || c.Class == "" || c.HTTP == nil || c.HTTPS == nil {
		return errors.New("ingress: Client, Class, HTTP and HTTPS are required")
	}
	factory := informers.NewSharedInformerFactory(c.Client, 10*time.Minute)
	tlsOnly := informers.NewSharedInformerFactoryWithOptions(c.Client, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()
		}))
	s := &server{
		c:         c,
		ingresses: factory.Networking().V1().Ingresses().Lister(),
		services:  factory.Core().V1().Services().Lister(),
		secrets:   tlsOnly.Core().V1().Secrets().Lister(),
		certs:     map[string]parsedCert{},
		transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: backendConnectTimeout}).DialContext,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 5 * time.Minute,
		},
	}
	defer s.transport.CloseIdleConnections()
	for _, f := range []informers.SharedInformerFactory{factory, tlsOnly} {
		f.Start(ctx.Done())
		for typ, synced := range f.WaitForCacheSync(ctx.Done()) {
			if !synced {
				return fmt.Errorf("ingress: %v not synced: %w", typ, context.Cause(ctx))
			}
		}
	}
	errLog := slog.NewLogLogger(c.logger().Handler(), slog.LevelWarn)
	plain := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	secure := &http.Server{
		Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certificate},
	}
	done := make(chan error, 2)
	go func() { done <- plain.Serve(c.HTTP) }()
	go func() { done <- secure.ServeTLS(c.HTTPS, "", "") }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-done:
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = plain.Shutdown(shut)
	_ = secure.Shutdown(shut)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (c *Controller) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// ServeHTTP proxies r to its rule's Service, or answers why it cannot.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ings, err := s.ingresses.List(labels.Everything())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b, err := route(ings, s.c.Class, s.service, r.Host, r.URL.Path)
	if err != nil {
		var re *routeError
		status := http.StatusInternalServerError
		if errors.As(err, &re) {
			status = re.status
		}
		http.Error(w, err.Error(), status)
		return
	}
	proxy := &httputil.ReverseProxy{
		Transport: s.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", b.addr
			pr.Out.Host = pr.In.Host // the app sees the host it was asked for
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.c.logger().Warn("ingress: backend failed", "host", r.Host, "service", b.namespace+"/"+b.service, "err", err)
			http.Error(w, "ingress: Service "+b.namespace+"/"+b.service+" did not answer", http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, r)
}

// service is route's lookup of a Service in the lister.
func (s *server) service(namespace, name string) *corev1.Service {
	svc, err := s.services.Services(namespace).Get(name)
	if err != nil {
		return nil
	}
	return svc
}

// certificate answers a TLS handshake with the key pair of the Secret the
// host's Ingress names, else with the default certificate.
func (s *server) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	ings, err := s.ingresses.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	if ns, name, ok := tlsSecret(ings, s.c.Class, hello.ServerName); ok {
		if cert := s.secretCertificate(ns, name); cert != nil {
			return cert, nil
		}
	}
	return &s.c.DefaultCertificate, nil
}

// secretCertificate parses the TLS Secret namespace/name once per
// resourceVersion; nil when it does not exist or holds no key pair.
func (s *server) secretCertificate(namespace, name string) *tls.Certificate {
	sec, err := s.secrets.Secrets(namespace).Get(name)
	if err != nil {
		return nil
	}
	key := namespace + "/" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.certs[key]; ok && p.version == sec.ResourceVersion {
		return p.cert
	}
	pair, err := tls.X509KeyPair(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		s.c.logger().Warn("ingress: TLS Secret holds no key pair; the default certificate answers", "secret", namespace+"/"+name, "err", err)
		return nil
	}
	s.certs[key] = parsedCert{version: sec.ResourceVersion, cert: &pair}
	return &pair
}

// parsedCert is a Secret's key pair as of the Secret's version.
type parsedCert struct {
	version string
	cert    *tls.Certificate
}
