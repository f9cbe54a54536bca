// Package helmclient gives the Helm SDK the cluster connection the rest of
// the platform already has. Helm builds its own Kubernetes clients from a
// RESTClientGetter; this one is built from a *rest.Config, so it works the
// same with a kubeconfig file (kind, k3d, a cloud cluster, the local stack)
// and in-cluster.
package helmclient

import (
	"fmt"
	"log/slog"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Getter is a genericclioptions.RESTClientGetter for one namespace.
type Getter struct {
	config    *rest.Config
	namespace string
	discovery discovery.CachedDiscoveryInterface
}

var _ genericclioptions.RESTClientGetter = (*Getter)(nil)

// NewGetter returns a getter whose clients use cfg and whose default
// namespace is namespace. Helm creates a release's resources in the
// getter's namespace, not in the one given to action.Configuration.Init.
func NewGetter(cfg *rest.Config, namespace string) (*Getter, error) {
	cfg = rest.CopyConfig(cfg)
	// Helm's waits and large charts issue bursts of requests.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Getter{config: cfg, namespace: namespace, discovery: memory.NewMemCacheClient(dc)}, nil
}

// ToRESTConfig returns a copy of the config.
func (g *Getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

// ToDiscoveryClient returns the shared, memory-cached discovery client.
func (g *Getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

// ToRESTMapper returns a mapper that re-reads discovery when a kind is
// unknown (a CRD installed after the cache was filled).
func (g *Getter) ToRESTMapper() (meta.RESTMapper, error) {
	m := restmapper.NewDeferredDiscoveryRESTMapper(g.discovery)
	return restmapper.NewShortcutExpander(m, g.discovery, nil), nil
}

// ToRawKubeConfigLoader returns a loader whose only job is to report the
// getter's namespace; the connection itself comes from ToRESTConfig.
func (g *Getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.namespace},
	})
}

// ActionConfig returns a Helm action configuration for namespace, storing
// release records as Secrets in that namespace. Helm's debug lines go to
// logger at debug level.
func ActionConfig(cfg *rest.Config, namespace string, logger *slog.Logger) (*action.Configuration, error) {
	g, err := NewGetter(cfg, namespace)
	if err != nil {
		return nil, err
	}
	ac := new(action.Configuration)
	debug := func(format string, v ...interface{}) { logger.Debug(fmt.Sprintf(format, v...), "component", "helm") }
	if err := ac.Init(g, namespace, "secret", debug); err != nil {
		return nil, fmt.Errorf("helm init for namespace %s: %w", namespace, err)
	}
	return ac, nil
}
