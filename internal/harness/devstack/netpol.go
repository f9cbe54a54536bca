package devstack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// NetworkPolicy on the real node is enforced by kube-router's network
// policy controller alone (no routing, no service proxy: the CNI bridge
// and kube-proxy do those), in iptables and ipsets, as a process beside
// the kubelet. kube-router v2.1.0 is the one version the module proxy
// serves, and it has reported security flaws: it runs here to prove the
// store chart's policies, never in a cluster of users (docs/real-node.md).
// sigs.k8s.io/kube-network-policies, the other candidate, cannot run on
// this kernel: it queues packets with nftables' "queue" expression, which
// needs CONFIG_NFT_QUEUE, and this kernel lacks it.
const kubeRouterHealthPort = 20244

// startNetworkPolicy starts kube-router's firewall for the real node and
// waits until it answers its health check.
func (n *realNode) startNetworkPolicy(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(n.bin, "kube-router")); err != nil {
		return fmt.Errorf("real node: kube-router not found in %s: run `make netpol-tools` first", n.bin)
	}
	for _, tool := range []string{"ipset", "iptables-save", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("real node: %s not found on PATH (Debian's ipset and iptables packages)", tool)
		}
	}
	var err error
	n.netpol, err = n.procs.start("kube-router", filepath.Join(n.bin, "kube-router"),
		"--kubeconfig="+n.kubeconfig, "--hostname-override="+RealNodeName,
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false",
		"--enable-ipv6=false", "--service-cluster-ip-range="+serviceCIDR,
		"--health-port="+strconv.Itoa(kubeRouterHealthPort), "--iptables-sync-period=1m", "--v=1")
	if err != nil {
		return err
	}
	health := "http://127.0.0.1:" + strconv.Itoa(kubeRouterHealthPort) + "/healthz"
	return n.procs.poll(ctx, "network policy controller healthy", 250*time.Millisecond, []*Process{n.netpol}, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, health)
	})
}

// stopNetworkPolicy stops kube-router; removeNetworkPolicyRules, once the
// kubelet and kube-proxy have stopped too, removes what it left.
func (n *realNode) stopNetworkPolicy(grace time.Duration) {
	if n.netpol == nil {
		return
	}
	n.procs.stop(n.netpol, grace)
	n.netpol = nil
}

// kubeRouterPrefixes are the prefixes of the iptables chains and ipsets
// kube-router's network policy controller makes (all in the filter table).
func kubeRouterPrefixes() []string {
	return []string{"KUBE-ROUTER-", "KUBE-POD-FW-", "KUBE-NWPLCY-", "KUBE-SRC-", "KUBE-DST-"}
}

// removeNetworkPolicyRules removes kube-router's chains, the rules that
// jump to them, and its ipsets, from a run that stopped or was killed.
// `kube-router --cleanup-config` cannot: in v2.1.0 it claims success
// having removed nothing (its cleanup has no iptables handlers), then
// panics in the service proxy's cleanup. The filter table is saved,
// filtered (withoutKubeRouter) and restored whole, in one step; it runs
// after the kubelet and kube-proxy have stopped, so no other writer races
// it.
func removeNetworkPolicyRules(ctx context.Context) error {
	for _, tool := range []string{"iptables", "ip6tables"} {
		saved, err := exec.CommandContext(ctx, tool+"-save", "-t", "filter").Output()
		if err != nil {
			continue // no such table (or no ip6tables): nothing of ours in it
		}
		kept, changed := withoutKubeRouter(string(saved))
		if !changed {
			continue
		}
		restore := exec.CommandContext(ctx, tool+"-restore", "-w")
		restore.Stdin = strings.NewReader(kept)
		if out, err := restore.CombinedOutput(); err != nil {
			return fmt.Errorf("%s-restore without kube-router's chains: %w: %s", tool, err, out)
		}
	}
	if _, err := exec.LookPath("ipset"); err != nil {
		return nil
	}
	names, err := exec.CommandContext(ctx, "ipset", "list", "-n").Output()
	if err != nil {
		return fmt.Errorf("ipset list: %w", err)
	}
	for _, name := range strings.Fields(string(names)) {
		if kubeRouterName(strings.TrimPrefix(name, "inet6:")) {
			if out, err := exec.CommandContext(ctx, "ipset", "destroy", name).CombinedOutput(); err != nil {
				return fmt.Errorf("ipset destroy %s: %w: %s", name, err, out)
			}
		}
	}
	return nil
}

// withoutKubeRouter is iptables-save's output of one table without
// kube-router's chains, their rules, and the rules that jump to them;
// changed says whether anything was removed.
func withoutKubeRouter(saved string) (kept string, changed bool) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(saved, "\n") {
		fields := strings.Fields(line)
		drop := false
		switch {
		case len(fields) > 0 && strings.HasPrefix(fields[0], ":"):
			drop = kubeRouterName(fields[0][1:])
		case len(fields) > 1 && fields[0] == "-A":
			drop = kubeRouterName(fields[1])
			for i := 2; i < len(fields)-1 && !drop; i++ {
				if fields[i] == "-j" || fields[i] == "-g" {
					drop = kubeRouterName(fields[i+1])
				}
			}
		}
		if drop {
			changed = true
			continue
		}
		b.WriteString(line)
	}
	return b.String(), changed
}

// kubeRouterName: a chain's or ipset's name is kube-router's.
func kubeRouterName(name string) bool {
	for _, p := range kubeRouterPrefixes() {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
