package devstack

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/storeplatform/storeplatform/internal/harness/nodeimage"
)

// The real node: a kubelet and containerd on this machine, joined to the
// local control plane beside the kwok nodes, whose pods run real containers
// (runc), on a CNI bridge, with kube-proxy routing Services to them.
const (
	// RealNodeName is the real node's name.
	RealNodeName = "real-node-0"
	// RealNodeLabel (= RealNodeLabelValue) is on the real node only; a pod
	// that must run for real selects it.
	RealNodeLabel      = "storeplatform.io/node"
	RealNodeLabelValue = "real"
	// RealNodeTaint (NoSchedule) keeps every pod off the real node but
	// those that tolerate it: stores land on kwok nodes unless they ask.
	RealNodeTaint = "storeplatform.io/real-node"
	// PauseImage is the sandbox image containerd pins, built from
	// bin/pause (internal/harness/cmd/pause).
	PauseImage = "docker.io/storeplatform/pause:local"

	realNodeBridge  = "sp-cni0"
	realNodePodCIDR = "10.88.0.0/16"
	// The kubelet's and kube-proxy's ports. There is one real node per
	// machine (a lock says so): they are fixed.
	realNodeKubeletPort      = 10250
	realNodeHealthzPort      = 10248
	realNodeProxyHealthzPort = 10256
	realNodeProxyMetricsPort = 10249
	// realNodeNamespace is containerd's namespace of the CRI.
	realNodeNamespace = "k8s.io"
)

// realNodeBinaries are what `make node-tools` builds into bin/ (the CNI
// plugins into bin/cni/).
func realNodeBinaries() []string {
	return []string{
		"kubelet", "kube-proxy", "containerd", "containerd-shim-runc-v2", "ctr", "runc", "crictl", "coredns", "pause",
		"cni/bridge", "cni/host-local", "cni/loopback", "cni/portmap",
	}
}

// realNode runs containerd, the kubelet and kube-proxy for one node of the
// local cluster.
type realNode struct {
	dir        string // the node's directory (.local/node)
	bin        string
	ip         string // the node's InternalIP: this machine's address
	pki        PKI
	kubeconfig string // the admin's, for CoreDNS
	client     kubernetes.Interface
	procs      *processSet
	lock       *os.File

	// The cluster DNS's loopback ports.
	dnsHealthPort, dnsReadyPort int

	containerd, kubelet, kubeProxy, dns *Process
	// netpol is kube-router's network policy controller (netpol.go), when
	// the node enforces NetworkPolicy.
	netpol *Process

	// stopVolumes ends the volume provisioner; volumesDone is closed once
	// it has.
	stopVolumes context.CancelFunc
	volumesDone chan struct{}

	// The ingress's addresses; stopIngress ends it, ingressDone is closed
	// once it has.
	ingressHTTP, ingressHTTPS string
	stopIngress               context.CancelFunc
	ingressDone               chan struct{}
}

// nodeOptions are the ingress's loopback ports (0: free ones), the store
// domain its default certificate names, and whether NetworkPolicy is
// enforced.
type nodeOptions struct {
	httpPort, httpsPort int
	domain              string
	networkPolicy       bool
}

// path is a path in the node's directory.
func (n *realNode) path(elem ...string) string {
	return filepath.Join(append([]string{n.dir}, elem...)...)
}

// socket is containerd's gRPC socket.
func (n *realNode) socket() string { return n.path("containerd.sock") }

// checkRealNode fails unless what a real node needs is in bin and on PATH.
func checkRealNode(bin string) error {
	var missing []string
	for _, b := range realNodeBinaries() {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("real node: %s not found in %s: run `make node-tools` first", strings.Join(missing, ", "), bin)
	}
	for _, tool := range []string{"iptables", "ip", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("real node: %s not found on PATH (Debian's iptables and iproute2 packages)", tool)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("real node: containerd and the kubelet run as root; run as root")
	}
	return nil
}

// start brings the node up, each step once the one before is ready: its
// address, certificates and configuration; containerd (leftover pods of an
// earlier run removed, the pause image imported); the cluster DNS; the
// kubelet and kube-proxy; kube-router's firewall when o asks for it; the
// volume provisioner and the ingress. It
// returns once the node is Ready.
func (n *realNode) start(ctx context.Context, server string, o nodeOptions) error {
	if err := n.prepare(server); err != nil {
		return err
	}
	if err := n.startContainerd(ctx); err != nil {
		return err
	}
	if err := n.ImportImages(ctx, nodeimage.Image{
		Ref:    PauseImage,
		Files:  []nodeimage.File{{Path: "/pause", Source: filepath.Join(n.bin, "pause"), Mode: 0o755}},
		Config: nodeimage.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
	}); err != nil {
		return err
	}
	if err := n.writeStoreValues(); err != nil {
		return err
	}
	if err := n.startDNS(ctx); err != nil {
		return err
	}
	if err := n.startKubelet(ctx); err != nil {
		return err
	}
	if o.networkPolicy {
		if err := n.startNetworkPolicy(ctx); err != nil {
			return err
		}
	}
	if err := n.startVolumes(ctx); err != nil {
		return err
	}
	return n.startIngress(ctx, o.httpPort, o.httpsPort, o.domain)
}

// prepare takes the machine's lock, picks the node's address and the DNS's
// ports, issues the certificates and writes the configuration.
func (n *realNode) prepare(server string) error {
	if err := n.takeLock(); err != nil {
		return err
	}
	ip, ok := hostAddress()
	if !ok {
		return errors.New("real node: this machine has no non-loopback IPv4 address for the node")
	}
	n.ip = ip
	if err := n.ensureCerts(); err != nil {
		return err
	}
	var err error
	for _, p := range []*int{&n.dnsHealthPort, &n.dnsReadyPort} {
		if *p, err = freePort(); err != nil {
			return err
		}
	}
	return n.writeConfigs(server)
}

// startKubelet starts the kubelet and kube-proxy and waits until the node
// is Ready.
func (n *realNode) startKubelet(ctx context.Context) error {
	var err error
	if n.kubelet, err = n.procs.start("kubelet", filepath.Join(n.bin, "kubelet"),
		"--config="+n.path("kubelet.yaml"), "--kubeconfig="+n.path("kubelet.kubeconfig"),
		"--root-dir="+n.path("kubelet"), "--cert-dir="+n.path("kubelet", "pki"),
		"--hostname-override="+RealNodeName, "--node-ip="+n.ip, "--node-labels="+nodeLabels(), "--v=1"); err != nil {
		return err
	}
	if n.kubeProxy, err = n.procs.start("kube-proxy", filepath.Join(n.bin, "kube-proxy"),
		"--config="+n.path("kube-proxy.yaml"), "--v=1"); err != nil {
		return err
	}
	return n.procs.poll(ctx, "real node Ready", 500*time.Millisecond, []*Process{n.containerd, n.dns, n.kubelet, n.kubeProxy}, n.ready)
}

// startVolumes creates the real node's StorageClass and starts its
// provisioner, which runs until stop.
func (n *realNode) startVolumes(ctx context.Context) error {
	if err := ignoreExists(n.client.StorageV1().StorageClasses().Create(ctx, realNodeStorageClass(), metav1.CreateOptions{})); err != nil {
		return fmt.Errorf("create storage class: %w", err)
	}
	v := &volumes{client: n.client, dir: n.path("volumes"), logger: n.procs.logger}
	if err := os.MkdirAll(v.dir, 0o755); err != nil {
		return err
	}
	run, cancel := context.WithCancel(context.Background())
	n.stopVolumes, n.volumesDone = cancel, make(chan struct{})
	go func() {
		defer close(n.volumesDone)
		v.run(run)
	}()
	return nil
}

// startDNS starts the cluster DNS (CoreDNS on the node's address, port 53)
// and waits until it has read the cluster's Services.
func (n *realNode) startDNS(ctx context.Context) error {
	var err error
	if n.dns, err = n.procs.start("coredns", filepath.Join(n.bin, "coredns"), "-conf", n.path("Corefile")); err != nil {
		return err
	}
	ready := "http://127.0.0.1:" + strconv.Itoa(n.dnsReadyPort) + "/ready"
	return n.procs.poll(ctx, "cluster DNS ready", 200*time.Millisecond, []*Process{n.dns}, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, ready)
	})
}

// takeLock holds the machine's real-node lock: the bridge, the kubelet's
// ports and the iptables rules are the machine's, so one stack at a time
// runs a real node.
func (n *realNode) takeLock() error {
	path := filepath.Join(os.TempDir(), "storeplatform-real-node.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("real node: another stack on this machine runs one (lock %s): %w", path, err)
	}
	n.lock = f
	return nil
}

// ensureCerts issues the kubelet's and kube-proxy's client certificates.
func (n *realNode) ensureCerts() error {
	if err := ensureClientCert(n.pki, kubeletClientCert, kubeletClientKey,
		pkix.Name{CommonName: "system:node:" + RealNodeName, Organization: []string{"system:nodes"}}); err != nil {
		return err
	}
	return ensureClientCert(n.pki, kubeProxyCert, kubeProxyKey, pkix.Name{CommonName: "system:kube-proxy"})
}

// startContainerd starts containerd with bin/ first on its PATH (it runs
// containerd-shim-runc-v2 from there), waits for its socket, and removes
// the pods an earlier run left behind.
func (n *realNode) startContainerd(ctx context.Context) error {
	var err error
	n.containerd, err = n.procs.startEnv("containerd", filepath.Join(n.bin, "containerd"),
		[]string{"PATH=" + n.bin + ":" + os.Getenv("PATH")}, "--config="+n.path("containerd.toml"), "--log-level=warn")
	if err != nil {
		return err
	}
	if err := n.procs.poll(ctx, "containerd", 200*time.Millisecond, []*Process{n.containerd}, func(ctx context.Context) error {
		_, err := n.run(ctx, "ctr", "version")
		return err
	}); err != nil {
		return err
	}
	return n.removePods(ctx)
}

// removePods stops and removes every pod sandbox containerd has, with
// their containers and networks.
func (n *realNode) removePods(ctx context.Context) error {
	out, err := n.run(ctx, "crictl", "pods", "-q")
	if err != nil || strings.TrimSpace(out) == "" {
		return err
	}
	_, err = n.run(ctx, "crictl", "rmp", "--force", "--all")
	return err
}

// ImportImages streams one archive of imgs (a layer they share is sent
// once) into containerd's CRI namespace, where the kubelet finds them (pods
// name them with imagePullPolicy Never or IfNotPresent).
func (n *realNode) ImportImages(ctx context.Context, imgs ...nodeimage.Image) error {
	refs := make([]string, len(imgs))
	for i, img := range imgs {
		refs[i] = img.Ref
	}
	pr, pw := io.Pipe()
	wrote := make(chan error, 1)
	go func() {
		err := nodeimage.WriteArchive(pw, imgs...)
		pw.CloseWithError(err)
		wrote <- err
	}()
	_, err := n.runIn(ctx, pr, "ctr", "images", "import", "-")
	pr.Close() // unblocks the writer if ctr stopped reading
	if werr := <-wrote; werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return fmt.Errorf("import %s: %w", strings.Join(refs, ", "), werr)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", strings.Join(refs, ", "), err)
	}
	return nil
}

// run runs one of containerd's clients (ctr, crictl) against the node's
// containerd and returns its output.
func (n *realNode) run(ctx context.Context, tool string, args ...string) (string, error) {
	return n.runIn(ctx, nil, tool, args...)
}

// runIn is run with stdin as the tool's standard input.
func (n *realNode) runIn(ctx context.Context, stdin io.Reader, tool string, args ...string) (string, error) {
	switch tool {
	case "ctr":
		args = append([]string{"--address", n.socket(), "--namespace", realNodeNamespace}, args...)
	case "crictl":
		endpoint := "unix://" + n.socket()
		args = append([]string{"--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "30s"}, args...)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(n.bin, tool), args...)
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// ready fails until the node is registered and Ready.
func (n *realNode) ready(ctx context.Context) error {
	node, err := n.client.CoreV1().Nodes().Get(ctx, RealNodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				return nil
			}
			return fmt.Errorf("node %s not Ready: %s", RealNodeName, c.Message)
		}
	}
	return fmt.Errorf("node %s has no Ready condition yet", RealNodeName)
}

// stop stops the node and undoes what it did to the machine: the ingress,
// the volume provisioner, kube-router, the kubelet, kube-proxy and the DNS
// first, then every pod (containers, sandboxes, their networks),
// containerd, kube-proxy's, the kubelet's and kube-router's rules (and its
// ipsets), the mounts under the node's directory, the bridge, and the Node
// object. The volumes' directories stay, like the cluster's data, for
// the next run. It is safe to call more than once and after a failed start.
func (n *realNode) stop(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if n.stopIngress != nil {
		n.stopIngress()
		<-n.ingressDone
		n.stopIngress = nil
	}
	if n.stopVolumes != nil {
		n.stopVolumes()
		<-n.volumesDone
		n.stopVolumes = nil
	}
	n.stopNetworkPolicy(grace)
	for _, p := range []*Process{n.kubeProxy, n.kubelet, n.dns} {
		if p != nil {
			n.procs.stop(p, grace)
		}
	}
	n.kubeProxy, n.kubelet, n.dns = nil, nil, nil
	if n.containerd != nil {
		if err := n.removePods(ctx); err != nil {
			n.procs.logger.Warn("real node: removing its pods", "err", err)
		}
		n.procs.stop(n.containerd, grace)
		n.containerd = nil
	}
	if out, err := exec.CommandContext(ctx, filepath.Join(n.bin, "kube-proxy"), "--cleanup").CombinedOutput(); err != nil {
		n.procs.logger.Warn("real node: kube-proxy --cleanup", "err", err, "output", string(out))
	}
	removeKubeletRules(ctx)
	if err := removeNetworkPolicyRules(ctx); err != nil {
		n.procs.logger.Warn("real node: removing kube-router's rules", "err", err)
	}
	unmountUnder(n.dir)
	for _, p := range machinePaths() {
		_ = os.Remove(p) // a directory only once it is empty
	}
	_ = exec.CommandContext(ctx, "ip", "link", "delete", realNodeBridge).Run()
	if n.client != nil {
		err := n.client.CoreV1().Nodes().Delete(ctx, RealNodeName, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			n.procs.logger.Warn("real node: deleting the Node", "err", err)
		}
	}
	if n.lock != nil {
		n.lock.Close()
		n.lock = nil
	}
}

// machinePaths are what the node's programs make outside its directory,
// at paths they do not let us choose: the kubelet's device-plugin socket,
// its log links, the CNI library's cache, containerd's shim sockets, the
// pods' network namespaces. stop removes them, each directory once empty,
// deepest first.
func machinePaths() []string {
	return []string{
		"/var/lib/kubelet/device-plugins/kubelet.sock", "/var/lib/kubelet/device-plugins", "/var/lib/kubelet",
		"/var/log/containers", "/var/lib/cni/results", "/var/lib/cni", "/run/containerd/s", "/run/containerd", "/run/netns",
	}
}

// kubeletRules undo the chains the kubelet adds to every node's iptables
// (kube-proxy --cleanup removes only kube-proxy's): its firewall against
// outside packets to 127.0.0.0/8 and its canaries. Each is "table args".
func kubeletRules() []string {
	return []string{
		"filter -D INPUT -j KUBE-FIREWALL", "filter -D OUTPUT -j KUBE-FIREWALL",
		"filter -F KUBE-FIREWALL", "filter -X KUBE-FIREWALL",
		"filter -X KUBE-KUBELET-CANARY", "nat -X KUBE-KUBELET-CANARY", "mangle -X KUBE-KUBELET-CANARY",
		"mangle -X KUBE-IPTABLES-HINT",
	}
}

// removeKubeletRules deletes kubeletRules from iptables and ip6tables; a
// rule or chain that is not there is no error.
func removeKubeletRules(ctx context.Context) {
	for _, tool := range []string{"iptables", "ip6tables"} {
		for _, rule := range kubeletRules() {
			table, args, _ := strings.Cut(rule, " ")
			_ = exec.CommandContext(ctx, tool, append([]string{"-w", "-t", table}, strings.Fields(args)...)...).Run()
		}
	}
}

// unmountUnder detaches every mount below dir, deepest first: the pods'
// volumes under the kubelet's directory and the containers' root
// filesystems under containerd's.
func unmountUnder(dir string) {
	points, err := mountsUnder(dir)
	if err != nil {
		return
	}
	for _, mp := range points {
		_ = syscall.Unmount(mp, syscall.MNT_DETACH)
	}
}

// mountsUnder lists this process's mount points below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	return points, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
