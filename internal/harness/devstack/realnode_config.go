package devstack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The real node's configuration files, written into its directory on every
// start from what the stack chose (directories, addresses, names).

// containerdConfig is containerd's configuration (version 3): everything it
// keeps under the node's directory, runc v1.5.3 from bin/, the CNI plugins
// and configuration of the node, and the local pause image pinned as the
// sandbox image (nothing can be pulled here). restrict_oom_score_adj: root
// lacks CAP_SYS_RESOURCE on these machines, so lowering a process's
// oom_score_adj (the kubelet asks -998 for a sandbox) is refused and every
// sandbox failed to start until it was set.
const containerdConfig = `version = 3
root = %[1]q
state = %[2]q
# No NRI plugins run here; its socket would be the machine's (/run/nri).
disabled_plugins = ["io.containerd.nri.v1.nri"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = %[6]q
        Root = %[7]q
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [%[8]q]
    conf_dir = %[9]q

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = %[10]q
`

// kubeletConfig is the KubeletConfiguration. failCgroupV1: these machines
// have cgroup v1, which kubelets from 1.35 on refuse unless told otherwise.
// The kubelet authenticates callers by the stack's CA (kube-apiserver
// presents apiserver-kubelet-client) and asks kube-apiserver whether they
// may (webhook), as kubeadm's nodes do.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: %[1]q
address: %[2]q
port: %[3]d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %[4]d
podLogsDir: %[5]q
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %[6]q
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS:
- %[8]q
registerWithTaints:
- key: %[7]q
  value: "true"
  effect: NoSchedule
# The machine's disk is shared with everything else: evict only when it is
# nearly full, and keep images until then.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
`

// kubeProxyConfig is the KubeProxyConfiguration: iptables mode, the pods'
// range for masquerading, its ports on loopback, and the conntrack table
// left as the machine has it (maxPerCore 0).
const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %[1]q
hostnameOverride: %[2]q
mode: iptables
clusterCIDR: %[3]q
healthzBindAddress: 127.0.0.1:%[4]d
metricsBindAddress: 127.0.0.1:%[5]d
conntrack:
  maxPerCore: 0
`

// corefile is the cluster DNS's configuration: CoreDNS on the node's
// address (port 53, which the kubelet gives pods as their nameserver),
// answering cluster.local from the API and forwarding everything else to
// the machine's resolvers.
const corefile = `.:53 {
    bind %[1]s
    errors
    health 127.0.0.1:%[2]d
    ready 127.0.0.1:%[3]d
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %[4]q local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
}
`

// cniConfig is the node's CNI network: a bridge with the pods' gateway on
// it, host-local addresses kept in the node's directory, masquerading out
// of the pods' range, and host ports.
func cniConfig(ipamDir string) ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"cniVersion": "1.0.0",
		"name":       "storeplatform",
		"plugins": []map[string]any{
			{
				"type": "bridge", "bridge": realNodeBridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": realNodePodCIDR}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": ipamDir,
				},
			},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
}

// writeConfigs writes containerd's, the kubelet's, kube-proxy's and the CNI
// configuration, and the kubelet's and kube-proxy's kubeconfigs.
func (n *realNode) writeConfigs(server string) error {
	for _, d := range []string{"containerd", "cni/net.d", "cni/ipam", "kubelet", "pod-logs", "runc", "opt"} {
		if err := os.MkdirAll(n.path(d), 0o755); err != nil {
			return err
		}
	}
	cni, err := cniConfig(n.path("cni", "ipam"))
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data string
	}{
		{"containerd.toml", fmt.Sprintf(containerdConfig,
			n.path("containerd", "root"), n.path("containerd", "state"), n.socket(), n.path("containerd", "ttrpc.sock"),
			n.path("opt"), filepath.Join(n.bin, "runc"), n.path("runc"), filepath.Join(n.bin, "cni"),
			n.path("cni", "net.d"), PauseImage)},
		{"cni/net.d/10-storeplatform.conflist", string(cni)},
		{"kubelet.yaml", fmt.Sprintf(kubeletConfig,
			"unix://"+n.socket(), n.ip, realNodeKubeletPort, realNodeHealthzPort, n.path("pod-logs"),
			n.pki.Path(caCert), RealNodeTaint, n.ip)},
		{"Corefile", fmt.Sprintf(corefile, n.ip, n.dnsHealthPort, n.dnsReadyPort, n.kubeconfig)},
		{"kube-proxy.yaml", fmt.Sprintf(kubeProxyConfig,
			n.path("kube-proxy.kubeconfig"), RealNodeName, realNodePodCIDR, realNodeProxyHealthzPort, realNodeProxyMetricsPort)},
	}
	for _, f := range files {
		if err := os.WriteFile(n.path(f.name), []byte(f.data), 0o644); err != nil {
			return err
		}
	}
	if err := writeClientKubeconfig(n.path("kubelet.kubeconfig"), server, n.pki, kubeletClientCert, kubeletClientKey); err != nil {
		return err
	}
	return writeClientKubeconfig(n.path("kube-proxy.kubeconfig"), server, n.pki, kubeProxyCert, kubeProxyKey)
}

// nodeLabels is the kubelet's --node-labels value. (A kubelet may not
// set node-role.kubernetes.io/ labels on itself.)
func nodeLabels() string { return RealNodeLabel + "=" + RealNodeLabelValue }
