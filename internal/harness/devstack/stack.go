// Package devstack builds nothing and downloads nothing: it starts the local
// stack from the binaries that `make tools` built into ./bin — a real
// Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) with kwok-simulated nodes, the Temporal dev server, and an
// embedded FerretDB — and stops every process it started. With
// Options.RealNode the cluster also gets one real node (containerd, a
// kubelet and kube-proxy on this machine; realnode.go), whose images it
// assembles from files in bin/ (internal/harness/nodeimage).
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/nodeimage"
)

// Options configure a Stack. The zero value of each port picks a free port,
// which is what tests want; `storeplatform-dev` passes the well-known ports.
type Options struct {
	// Dir holds the stack's data (etcd, Temporal and FerretDB files, PKI,
	// kubeconfig, logs). Reused across runs.
	Dir string
	// BinDir holds the binaries built by `make tools`.
	BinDir string
	// Kubeconfig, when set, names a cluster the user chose: no local control
	// plane is started.
	Kubeconfig string
	// Nodes is the number of kwok nodes (default 3).
	Nodes int
	// Cluster holds the control plane's ports.
	Cluster ClusterPorts
	// TemporalPort is the dev server's gRPC port; TemporalUIPort its Web UI
	// port, -1 to run it headless.
	TemporalPort, TemporalUIPort int
	// SearchAttributes are registered at server start, as "Name=Type".
	SearchAttributes []string
	// MongoPort is FerretDB's port.
	MongoPort int
	// FerretDBCommand, when set, runs FerretDB as a child process of this
	// command (followed by -listen and -dir; see ServeFerretDB) instead of
	// in this process, so that it can be killed and restarted like the
	// stack's other parts (internal/chaos).
	FerretDBCommand []string
	// RealNode adds one real node to the local cluster (docs/real-node.md):
	// containerd, a kubelet and kube-proxy on this machine, from the binaries
	// `make node-tools` built. It needs root and is one per machine.
	RealNode bool
	// IngressHTTPPort and IngressHTTPSPort are the real node's ingress's
	// loopback ports; StoreDomain (default DefaultStoreDomain) is the
	// domain its default certificate names (*.StoreDomain).
	IngressHTTPPort, IngressHTTPSPort int
	StoreDomain                       string
	// NetworkPolicy enforces NetworkPolicy on the real node with
	// kube-router's firewall (`make netpol-tools`; netpol.go).
	NetworkPolicy bool
	// StartTimeout bounds the whole start (default 3 minutes).
	StartTimeout time.Duration
	// Logger receives progress lines; nil discards them.
	Logger *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	opts           Options
	procs          *processSet
	cluster        *cluster
	temporalPort   int
	temporalUIPort int
	mongoURI       string
	stopFerret     func()
	node           *realNode
}

// Start brings the stack up and waits until every part of it is ready. On
// error everything it had started is stopped again.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Dir == "" || o.BinDir == "" {
		return nil, errors.New("devstack: Dir and BinDir are required")
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 3 * time.Minute
	}
	if o.StoreDomain == "" {
		o.StoreDomain = DefaultStoreDomain
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return nil, err
	}
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	for _, b := range []string{"temporal", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if b != "temporal" && o.Kubeconfig != "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
			return nil, fmt.Errorf("devstack: %s not found in %s: run `make tools` first", b, o.BinDir)
		}
	}
	if o.RealNode {
		if o.Kubeconfig != "" {
			return nil, errors.New("devstack: a real node joins the local cluster; it cannot be added to KUBECONFIG's")
		}
		if err := checkRealNode(o.BinDir); err != nil {
			return nil, fmt.Errorf("devstack: %w", err)
		}
	} else if o.NetworkPolicy {
		return nil, errors.New("devstack: NetworkPolicy is enforced on the real node only (Options.RealNode)")
	}
	s := &Stack{
		opts:  o,
		procs: &processSet{runDir: filepath.Join(o.Dir, "run"), logDir: filepath.Join(o.Dir, "logs"), logger: o.Logger},
	}
	if err := os.MkdirAll(s.procs.runDir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.StartTimeout, fmt.Errorf("stack not ready after %s", o.StartTimeout))
	defer cancel()
	if err := s.start(ctx); err != nil {
		s.Stop()
		return nil, fmt.Errorf("devstack: %w (logs in %s)", err, s.procs.logDir)
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	log := s.opts.Logger
	t0 := time.Now()
	if err := s.startFerretDB(ctx); err != nil {
		return err
	}
	log.Info("mongodb (embedded FerretDB) ready", "uri", s.mongoURI)
	if err := s.startTemporal(ctx); err != nil {
		return err
	}
	log.Info("temporal dev server ready", "address", s.TemporalAddress(), "ui", s.TemporalUIURL(), "elapsed", time.Since(t0).Round(time.Millisecond))
	if s.opts.Kubeconfig != "" {
		log.Info("using the kubernetes cluster of KUBECONFIG", "kubeconfig", s.opts.Kubeconfig)
		return nil
	}
	s.cluster = &cluster{
		dir: s.path("kube"), bin: s.opts.BinDir, nodes: s.opts.Nodes, ports: s.opts.Cluster, procs: s.procs,
		kcfg: s.path("kubeconfig"),
	}
	if err := s.cluster.start(ctx); err != nil {
		return err
	}
	log.Info("kubernetes control plane ready", "nodes", s.opts.Nodes, "kubeconfig", s.Kubeconfig(), "elapsed", time.Since(t0).Round(time.Millisecond))
	if !s.opts.RealNode {
		return nil
	}
	s.node = &realNode{
		dir: s.path("node"), bin: s.opts.BinDir, pki: s.cluster.pki, kubeconfig: s.cluster.kcfg,
		client: s.cluster.client, procs: s.procs,
	}
	no := nodeOptions{
		httpPort: s.opts.IngressHTTPPort, httpsPort: s.opts.IngressHTTPSPort, domain: s.opts.StoreDomain,
		networkPolicy: s.opts.NetworkPolicy,
	}
	if err := s.node.start(ctx, s.cluster.server(), no); err != nil {
		return err
	}
	log.Info("real node ready", "node", RealNodeName, "address", s.node.ip, "ingress", s.node.ingressHTTP,
		"ingress_tls", s.node.ingressHTTPS, "elapsed", time.Since(t0).Round(time.Millisecond))
	return nil
}

// ImportImages imports imgs into the real node's containerd, where its
// pods find them; it fails when the stack has no real node.
func (s *Stack) ImportImages(ctx context.Context, imgs ...nodeimage.Image) error {
	if s.node == nil {
		return errors.New("devstack: the stack has no real node (Options.RealNode)")
	}
	return s.node.ImportImages(ctx, imgs...)
}

// Kubeconfig is the path of the kubeconfig of the stack's cluster: the local
// one, or the user's.
func (s *Stack) Kubeconfig() string {
	if s.cluster == nil {
		return s.opts.Kubeconfig
	}
	return s.cluster.kcfg
}

// Dir is the stack's data directory.
func (s *Stack) Dir() string { return s.opts.Dir }

// Stop stops every process the stack started, newest first. It is safe to
// call more than once.
func (s *Stack) Stop() {
	if s.node != nil {
		s.node.stop(10 * time.Second)
		s.node = nil
	}
	s.procs.stopAll(10 * time.Second)
	if s.stopFerret != nil {
		s.stopFerret()
		s.stopFerret = nil
	}
}

func (s *Stack) path(elem ...string) string {
	return filepath.Join(append([]string{s.opts.Dir}, elem...)...)
}

func (s *Stack) bin(name string) string { return filepath.Join(s.opts.BinDir, name) }

// Crictl runs crictl with args against the real node's containerd and
// returns its output; it fails when the stack has no real node.
func (s *Stack) Crictl(ctx context.Context, args ...string) (string, error) {
	if s.node == nil {
		return "", errors.New("devstack: the stack has no real node (Options.RealNode)")
	}
	return s.node.run(ctx, "crictl", args...)
}
