package devstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Names of the cluster-scoped objects the local cluster is given.
const (
	// StorageClassName is the default StorageClass; kwok's volume stages bind
	// its PVCs at once.
	StorageClassName = "kwok-volume"
	// IngressClassName is the default IngressClass. No ingress controller runs
	// locally: Ingress objects are stored and validated, not served.
	IngressClassName = "nginx"
	// kwokNodeAnnotation marks the nodes that kwok simulates.
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	serviceCIDR        = "10.96.0.0/16"
)

// ClusterPorts are the loopback ports of the control plane. Zero picks a
// free port.
type ClusterPorts struct {
	APIServer  int
	EtcdClient int
	EtcdPeer   int
	Kwok       int
}

// cluster starts etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok, then gives the cluster its nodes, StorageClass and
// IngressClass.
type cluster struct {
	dir    string
	bin    string
	nodes  int
	ports  ClusterPorts
	procs  *processSet
	pki    PKI
	kcfg   string
	client kubernetes.Interface
}

// start brings the cluster up, each step once the one before is ready: its
// PKI, ports and kubeconfig, etcd, kube-apiserver, the controllers, the
// scheduler and kwok, then its nodes, StorageClass and IngressClass. It
// returns once the nodes are Ready and pods can be created.
func (c *cluster) start(ctx context.Context) error {
	if err := c.prepare(); err != nil {
		return err
	}
	etcd, err := c.startEtcd(ctx)
	if err != nil {
		return err
	}
	apiserver, err := c.startAPIServer(ctx, etcd)
	if err != nil {
		return err
	}
	rest, err := c.startControllers()
	if err != nil {
		return err
	}
	if err := c.connect(ctx); err != nil {
		return err
	}
	return c.awaitUsable(ctx, append([]*Process{etcd, apiserver}, rest...))
}

// prepare makes the cluster's PKI, picks the ports left zero and writes
// the admin kubeconfig.
func (c *cluster) prepare() error {
	var err error
	if c.pki, err = EnsurePKI(filepath.Join(c.dir, "pki")); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	// kube-apiserver's identity towards kubelets (pod logs, exec): a real
	// node's kubelet authenticates it by the CA and authorizes the group.
	if err := ensureClientCert(c.pki, apiserverKubeletCert, apiserverKubeletKey,
		pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}}); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	for _, p := range []*int{&c.ports.APIServer, &c.ports.EtcdClient, &c.ports.EtcdPeer, &c.ports.Kwok} {
		if *p == 0 {
			if *p, err = freePort(); err != nil {
				return err
			}
		}
	}
	return c.writeKubeconfig()
}

// etcdURL is the URL of etcd's client port.
func (c *cluster) etcdURL() string { return "http://127.0.0.1:" + strconv.Itoa(c.ports.EtcdClient) }

// startEtcd starts etcd and waits until it is healthy.
func (c *cluster) startEtcd(ctx context.Context) (*Process, error) {
	etcdURL := c.etcdURL()
	peerURL := "http://127.0.0.1:" + strconv.Itoa(c.ports.EtcdPeer)
	etcd, err := c.procs.start("etcd", c.binary("etcd"),
		"--name=local", "--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=local="+peerURL,
		// Local data only: losing the last writes on a power cut is acceptable.
		"--unsafe-no-fsync=true", "--quota-backend-bytes=4294967296", "--log-level=warn")
	if err != nil {
		return nil, err
	}
	return etcd, c.procs.poll(ctx, "etcd", 100*time.Millisecond, []*Process{etcd}, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, etcdURL+"/health")
	})
}

// startAPIServer starts kube-apiserver on etcd and waits until its /readyz
// answers OK.
func (c *cluster) startAPIServer(ctx context.Context, etcd *Process) (*Process, error) {
	p := c.pki.Path
	apiserver, err := c.procs.start("kube-apiserver", c.binary("kube-apiserver"),
		"--etcd-servers="+c.etcdURL(),
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.APIServer),
		// Written only into the "kubernetes" Endpoints object; must not be loopback.
		"--advertise-address="+advertiseAddress(),
		"--tls-cert-file="+p(apiserverCert), "--tls-private-key-file="+p(apiserverKey),
		"--client-ca-file="+p(caCert),
		"--requestheader-client-ca-file="+p(frontProxyCACert), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+p(frontProxyClientCert), "--proxy-client-key-file="+p(frontProxyClientKey),
		"--service-account-key-file="+p(serviceAccountPub), "--service-account-signing-key-file="+p(serviceAccountKey),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--authorization-mode=Node,RBAC", "--allow-privileged=true",
		// Pod logs are fetched from kwok's server at the nodes' InternalIP
		// (loopback); their Hostname resolves nowhere.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-client-certificate="+p(apiserverKubeletCert), "--kubelet-client-key="+p(apiserverKubeletKey),
		"--service-cluster-ip-range="+serviceCIDR, "--profiling=false", "--v=1")
	if err != nil {
		return nil, err
	}
	hc, err := c.adminHTTPClient()
	if err != nil {
		return nil, err
	}
	readyz := "https://127.0.0.1:" + strconv.Itoa(c.ports.APIServer) + "/readyz"
	return apiserver, c.procs.poll(ctx, "kube-apiserver /readyz", 200*time.Millisecond, []*Process{etcd, apiserver}, func(ctx context.Context) error {
		return httpOK(ctx, hc, readyz)
	})
}

// startControllers starts kube-controller-manager, kube-scheduler and
// kwok, without waiting for them.
func (c *cluster) startControllers() ([]*Process, error) {
	p := c.pki.Path
	kcm, err := c.procs.start("kube-controller-manager", c.binary("kube-controller-manager"),
		"--kubeconfig="+c.kcfg, "--secure-port=0", "--leader-elect=false",
		"--service-account-private-key-file="+p(serviceAccountKey), "--root-ca-file="+p(caCert),
		"--cluster-signing-cert-file="+p(caCert), "--cluster-signing-key-file="+p(caKey),
		"--use-service-account-credentials=true", "--service-cluster-ip-range="+serviceCIDR,
		"--controllers=*,bootstrapsigner,tokencleaner", "--profiling=false", "--v=1")
	if err != nil {
		return nil, err
	}
	sched, err := c.procs.start("kube-scheduler", c.binary("kube-scheduler"),
		"--kubeconfig="+c.kcfg, "--secure-port=0", "--leader-elect=false", "--profiling=false", "--v=1")
	if err != nil {
		return nil, err
	}
	kwok, err := c.startKwok()
	if err != nil {
		return nil, err
	}
	return []*Process{kcm, sched, kwok}, nil
}

// connect makes the cluster's client from its kubeconfig and seeds the
// cluster.
func (c *cluster) connect(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kcfg)
	if err != nil {
		return err
	}
	if c.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	return c.seed(ctx)
}

// awaitUsable waits, while every process of all runs, until the nodes are
// Ready and the "default" ServiceAccount exists.
func (c *cluster) awaitUsable(ctx context.Context, all []*Process) error {
	if err := c.procs.poll(ctx, "nodes Ready", 200*time.Millisecond, all, c.nodesReady); err != nil {
		return err
	}
	// Pods can be created only once the ServiceAccount controller made the
	// "default" ServiceAccount.
	return c.procs.poll(ctx, "default ServiceAccount", 200*time.Millisecond, all, func(ctx context.Context) error {
		_, err := c.client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// binary is the path of the program called name in the bin directory.
func (c *cluster) binary(name string) string { return filepath.Join(c.bin, name) }

// seed creates the kwok nodes, the default StorageClass and the default
// IngressClass; existing ones are kept.
func (c *cluster) seed(ctx context.Context) error {
	for i := 0; i < c.nodes; i++ {
		if err := c.seedNode(ctx, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return err
		}
	}
	if err := ignoreExists(c.client.StorageV1().StorageClasses().Create(ctx, storageClass(), metav1.CreateOptions{})); err != nil {
		return fmt.Errorf("create storage class: %w", err)
	}
	if err := ignoreExists(c.client.NetworkingV1().IngressClasses().Create(ctx, ingressClass(), metav1.CreateOptions{})); err != nil {
		return fmt.Errorf("create ingress class: %w", err)
	}
	return nil
}

// seedNode creates the kwok node called name, or points the one of an
// earlier run at this run's kwok.
func (c *cluster) seedNode(ctx context.Context, name string) error {
	node := c.kwokNode(name)
	_, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// A node of an earlier run: its kubelet endpoint (kwok's port,
		// the address of older versions) may have changed.
		err = c.patchNodeEndpoint(ctx, name, node.Status)
	}
	if err != nil {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return nil
}

// kwokNode is the node called name that kwok simulates, its kubelet
// endpoint at kwok's server.
func (c *cluster) kwokNode(name string) *corev1.Node {
	qty := resource.MustParse
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: qty("8"), corev1.ResourceMemory: qty("32Gi"),
		corev1.ResourcePods: qty("110"), corev1.ResourceEphemeralStorage: qty("200Gi"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux",
				"kubernetes.io/hostname": name, "type": "kwok",
				"node-role.kubernetes.io/agent": "",
			},
		},
		Status: corev1.NodeStatus{
			Capacity: capacity, Allocatable: capacity,
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}, {Type: corev1.NodeHostName, Address: name}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(c.ports.Kwok)}},
		},
	}
}

// storageClass is the default StorageClass, whose volumes kwok binds at
// once.
func storageClass() *storagev1.StorageClass {
	bindImmediate := storagev1.VolumeBindingImmediate
	reclaimDelete := corev1.PersistentVolumeReclaimDelete
	expand := true
	return &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        StorageClassName,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       "kwok.x-k8s.io/volume",
		ReclaimPolicy:     &reclaimDelete,
		VolumeBindingMode: &bindImmediate,
		// Resizing a store to a larger size grows its content volume.
		AllowVolumeExpansion: &expand,
	}
}

// ingressClass is the default IngressClass (no controller serves it).
func ingressClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        IngressClassName,
			Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"},
		},
		Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"},
	}
}

// patchNodeEndpoint sets the addresses and kubelet port of an existing node
// to those of status (a JSON merge patch replaces the whole address list).
func (c *cluster) patchNodeEndpoint(ctx context.Context, name string, status corev1.NodeStatus) error {
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"addresses": status.Addresses, "daemonEndpoints": status.DaemonEndpoints,
	}})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// nodesReady fails until every node the cluster was given is Ready.
func (c *cluster) nodesReady(ctx context.Context) error {
	nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ready := 0
	for _, n := range nodes.Items {
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready < c.nodes {
		return fmt.Errorf("%d of %d nodes Ready", ready, c.nodes)
	}
	return nil
}

// writeKubeconfig writes the kubeconfig of the cluster's admin.
func (c *cluster) writeKubeconfig() error {
	return writeClientKubeconfig(c.kcfg, c.server(), c.pki, adminCert, adminKey)
}

// server is kube-apiserver's URL.
func (c *cluster) server() string { return "https://127.0.0.1:" + strconv.Itoa(c.ports.APIServer) }

// writeClientKubeconfig writes a kubeconfig at path for the client whose
// certificate and key are the PKI's files cert and key, trusting the PKI's
// CA for server.
func writeClientKubeconfig(path, server string, p PKI, cert, key string) error {
	read := func(name string) ([]byte, error) { return os.ReadFile(p.Path(name)) }
	ca, err := read(caCert)
	if err != nil {
		return err
	}
	crt, err := read(cert)
	if err != nil {
		return err
	}
	k, err := read(key)
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	user := strings.TrimSuffix(cert, ".crt") // "admin" for the admin
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: k}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user}
	cfg.CurrentContext = "local"
	return clientcmd.WriteToFile(*cfg, path)
}

// adminHTTPClient is an HTTPS client trusting the local CA and presenting the
// admin certificate, for /readyz before client-go is useful.
func (c *cluster) adminHTTPClient() (*http.Client, error) {
	ca, err := os.ReadFile(c.pki.Path(caCert))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(c.pki.Path(adminCert), c.pki.Path(adminKey))
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}},
	}, nil
}

// httpOK fails unless a GET of url through hc answers 200 OK.
func httpOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// ignoreExists is the error of a create, nil when the object exists.
func ignoreExists[T any](_ T, err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// advertiseAddress returns the first non-loopback IPv4 address of the host,
// or a documentation address (RFC 5737) when there is none.
func advertiseAddress() string {
	if ip, ok := hostAddress(); ok {
		return ip
	}
	return "192.0.2.1"
}

// hostAddress is the first non-loopback IPv4 address of the host.
func hostAddress() (string, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", false
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String(), true
		}
	}
	return "", false
}

// freePort picks an unused loopback port below the kernel's ephemeral range
// (32768-60999 by default). A port the kernel hands out for ":0" is free
// only until the next outgoing connection or ":0" listener takes it — the
// Temporal dev server opens several of those while it starts — so a port
// chosen that way was sometimes gone by the time kube-apiserver bound it.
// Randomising in 20000-32767 leaves only the much rarer clash with another
// stack started at the same moment, which testenv retries.
func freePort() (int, error) {
	for range 200 {
		port := 20000 + rand.IntN(12768)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
