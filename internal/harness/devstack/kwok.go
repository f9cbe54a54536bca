package devstack

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// SimulatedContainerLog is the one line every container of the local
// cluster logs. kwok's nodes run no containers; kwok's own server stands in
// for their kubelet and answers `kubectl logs` for every pod with this line,
// so that the command works as it would on a real cluster.
const SimulatedContainerLog = "storeplatform local stack: simulated container (kwok node); no process runs here, so this is its whole log"

// nodeIP is the InternalIP of every kwok node and the host IP of their pods.
// kube-apiserver reaches a node's "kubelet" (pod logs) at
// InternalIP:daemonEndpoints.kubeletEndpoint.Port, which is kwok's server
// on loopback.
const nodeIP = "127.0.0.1"

// kwokLogsConfig is a ClusterLogs rule with no selector (every pod, every
// container) that serves logFile without following it.
const kwokLogsConfig = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: every-pod
spec:
  logs:
  - logsFile: %q
    follow: false
`

// startKwok writes kwok's log rule and log file into the cluster's
// directory, then starts kwok with the stages `make tools` wrote and its
// server on the kubelet port the nodes advertise.
func (c *cluster) startKwok() (*Process, error) {
	stages := c.binary("kwok-stages.yaml")
	if _, err := os.Stat(stages); err != nil {
		return nil, fmt.Errorf("kwok stages: %w (run `make tools`)", err)
	}
	dir := filepath.Join(c.dir, "kwok")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "container.log")
	// The CRI log format that kubelets serve: time, stream, F(ull line), text.
	line := fmt.Sprintf("%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), SimulatedContainerLog)
	if err := os.WriteFile(logFile, []byte(line), 0o644); err != nil {
		return nil, err
	}
	logsConfig := filepath.Join(dir, "logs.yaml")
	if err := os.WriteFile(logsConfig, fmt.Appendf(nil, kwokLogsConfig, logFile), 0o644); err != nil {
		return nil, err
	}
	port := strconv.Itoa(c.ports.Kwok)
	return c.procs.start("kwok", c.binary("kwok"),
		"--kubeconfig="+c.kcfg, "--config="+stages, "--config="+logsConfig,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
		"--node-ip="+nodeIP, "--node-port="+port, "--cidr=10.244.0.1/16", "--node-lease-duration-seconds=40",
		// Without --tls-cert-file kwok serves HTTPS with a throwaway
		// certificate, which kube-apiserver accepts: it verifies kubelets
		// only when given --kubelet-certificate-authority.
		"--server-address="+net.JoinHostPort(nodeIP, port))
}
