// Package helmclient gives the Helm SDK the cluster connection the rest of
// the platform already has. Helm builds its own Kubernetes clients from a
// RESTClientGetter; this one is built from a *rest.Config, so it works the
// same with a kubeconfig file (kind, k3d, a cloud cluster, the local stack)
// and in-cluster.
package helmclient

import (
	"log/slog"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Getter is a genericclioptions.RESTClientGetter for one namespace. The
// Runner makes one per action, sharing its discovery cache.
type Getter struct {
	config    *rest.Config
	namespace string
	discovery discovery.CachedDiscoveryInterface
}

var _ genericclioptions.RESTClientGetter = (*Getter)(nil)

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
// release records as Secrets in that namespace, for callers that need an
// action the Runner does not wrap. Helm resources are created in the
// getter's namespace, not in the one given to action.Configuration.Init:
// both are namespace here.
func ActionConfig(cfg *rest.Config, namespace string, logger *slog.Logger) (*action.Configuration, error) {
	r, err := NewRunner(cfg, logger)
	if err != nil {
		return nil, err
	}
	return r.actionLogging(logger, namespace)
}
