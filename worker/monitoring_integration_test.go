package worker_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/store"
)

// opsOutput is what one operator command printed and how it exited.
type opsOutput struct {
	stdout, stderr string
	code           int
}

// TestMonitoringCommands runs every command of docs/monitoring-a-store.md,
// as written there for the store "shop", through the real
// bin/kubectl and bin/helm against a store the platform created. It also
// runs the forms of the original product description that do not work here
// and asserts how they fail, so that the page's notes stay true.
func TestMonitoringCommands(t *testing.T) {
	env.Require(t)
	h := newHarness(t)
	spec := storeSpec("shop", store.EngineWooCommerce, 1)
	if err := h.create(t, spec).Get(t.Context(), nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	ns := spec.Namespace()
	chart, err := chartutil.LoadChartfile(filepath.Join(env.RepoRoot, "charts", "store", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	chartName := chart.Name + "-" + chart.Version

	pods, err := env.Kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The pods of the store's Deployments and StatefulSets; pods of Jobs
	// come and go.
	var podNames, wordpressPods []string
	for _, p := range pods.Items {
		if len(p.OwnerReferences) > 0 && p.OwnerReferences[0].Kind == "Job" {
			continue
		}
		podNames = append(podNames, p.Name)
		if p.Labels["app.kubernetes.io/component"] == "web" {
			wordpressPods = append(wordpressPods, p.Name)
		}
	}
	if len(wordpressPods) == 0 || !slices.Contains(podNames, "shop-mariadb-0") {
		t.Fatalf("pods of %s: %v; want WordPress and MariaDB", ns, podNames)
	}
	svcs, err := env.Kube.CoreV1().Services(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var svcNames []string
	for _, s := range svcs.Items {
		svcNames = append(svcNames, s.Name)
	}
	// One log line per WordPress pod: kwok serves the same line for all.
	logLines := strings.Repeat(devstack.SimulatedContainerLog+"\n", len(wordpressPods))

	cases := []struct {
		name  string
		cmd   []string // the tool in bin/, then its arguments, as on the page
		check func(t *testing.T, out opsOutput)
	}{
		{
			name: "store namespaces",
			cmd:  []string{"kubectl", "get", "namespaces", "-l", "app.kubernetes.io/managed-by=storeplatform"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				if row := findRow(t, out.stdout, ns); row[1] != "Active" {
					t.Errorf("namespace %s: status %q, want Active", ns, row[1])
				}
			},
		},
		{
			name: "one store's namespace",
			cmd:  []string{"kubectl", "get", "namespaces", "-l", "storeplatform.io/store=shop"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				wantNames(t, out.stdout, []string{ns})
			},
		},
		{
			// The description's selector: Helm labels the objects it
			// renders, but the platform makes the namespace before the
			// release and labels it as its own.
			name: "description: namespaces managed by Helm",
			cmd:  []string{"kubectl", "get", "namespaces", "-l", "app.kubernetes.io/managed-by=Helm"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				wantNothing(t, out, "No resources found\n")
			},
		},
		{
			name: "helm list",
			cmd:  []string{"helm", "list", "-A"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				row := findRow(t, out.stdout, "shop")
				// NAME NAMESPACE REVISION UPDATED(4 fields) STATUS CHART APP-VERSION
				if n := len(row); row[1] != ns || row[2] != "1" || row[n-3] != "deployed" || row[n-2] != chartName || row[n-1] != chart.AppVersion {
					t.Errorf("helm list row %q, want release shop in %s, revision 1, deployed, chart %s, app version %s", row, ns, chartName, chart.AppVersion)
				}
			},
		},
		{
			name: "helm history",
			cmd:  []string{"helm", "history", "shop", "-n", ns},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				rows := tableRows(out.stdout)
				if len(rows) != 1 {
					t.Fatalf("helm history: %d revisions, want 1:\n%s", len(rows), out.stdout)
				}
				// REVISION UPDATED(5 fields) STATUS CHART APP-VERSION DESCRIPTION(2 fields)
				row := rows[0]
				if n := len(row); row[0] != "1" || row[n-5] != "deployed" || row[n-4] != chartName || row[n-3] != chart.AppVersion || strings.Join(row[n-2:], " ") != "Install complete" {
					t.Errorf("helm history row %q, want revision 1 deployed, chart %s, Install complete", row, chartName)
				}
			},
		},
		{
			// The local stack runs no metrics-server (nor does a bare cluster).
			name: "top pods without metrics-server",
			cmd:  []string{"kubectl", "top", "pods", "-n", ns},
			check: func(t *testing.T, out opsOutput) {
				if out.code != 1 || out.stdout != "" || out.stderr != "error: Metrics API not available\n" {
					t.Errorf("kubectl top: exit %d, stdout %q, stderr %q; want exit 1 and %q", out.code, out.stdout, out.stderr, "error: Metrics API not available\n")
				}
			},
		},
		{
			// Needs the chart's `app: <program>` pod labels.
			name: "logs by app label",
			cmd:  []string{"kubectl", "logs", "-n", ns, "-l", "app=wordpress"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				if out.stdout != logLines {
					t.Errorf("kubectl logs -l app=wordpress printed %q (stderr %q), want %q: one line from each of %v", out.stdout, out.stderr, logLines, wordpressPods)
				}
			},
		},
		{
			// Works with every chart version: the chart's own labels.
			name: "logs by component label",
			cmd:  []string{"kubectl", "logs", "-n", ns, "-l", "app.kubernetes.io/component=web"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				if out.stdout != logLines {
					t.Errorf("kubectl logs -l app.kubernetes.io/component=web printed %q (stderr %q), want %q", out.stdout, out.stderr, logLines)
				}
			},
		},
		{
			name: "logs of the Deployment",
			cmd:  []string{"kubectl", "logs", "-n", ns, "deploy/shop-wordpress"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				if out.stdout != devstack.SimulatedContainerLog+"\n" {
					t.Errorf("kubectl logs deploy/shop-wordpress printed %q, want the simulated line", out.stdout)
				}
			},
		},
		{
			name: "describe pod",
			cmd:  []string{"kubectl", "describe", "pod", "-n", ns, wordpressPods[0]},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				for key, want := range map[string]string{"Name:": wordpressPods[0], "Namespace:": ns, "Status:": "Running"} {
					if got := describeField(out.stdout, key); got != want {
						t.Errorf("describe pod: %s %q, want %q", key, got, want)
					}
				}
				if node := describeField(out.stdout, "Node:"); !strings.HasPrefix(node, "kwok-node-") {
					t.Errorf("describe pod: Node: %q, want a kwok node", node)
				}
			},
		},
		{
			name: "pods",
			cmd:  []string{"kubectl", "get", "pods", "-n", ns},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				for _, name := range podNames {
					// NAME READY STATUS RESTARTS AGE
					row := findRow(t, out.stdout, name)
					if ready, total, _ := strings.Cut(row[1], "/"); ready != total || row[2] != "Running" {
						t.Errorf("pod %s: READY %s, STATUS %s; want all ready and Running", name, row[1], row[2])
					}
				}
			},
		},
		{
			name: "services",
			cmd:  []string{"kubectl", "get", "svc", "-n", ns},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				wantNames(t, out.stdout, svcNames)
				findRow(t, out.stdout, "shop-web")
				findRow(t, out.stdout, "shop-mariadb")
			},
		},
		{
			name: "ingress",
			cmd:  []string{"kubectl", "get", "ingress", "-n", ns},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				wantNames(t, out.stdout, []string{"shop"})
				// NAME CLASS HOSTS ADDRESS(none: no ingress controller) PORTS AGE
				if row := findRow(t, out.stdout, "shop"); row[1] != devstack.IngressClassName || row[2] != spec.Host || row[3] != "80" {
					t.Errorf("ingress row %q, want class %s, host %s, port 80", row, devstack.IngressClassName, spec.Host)
				}
			},
		},
		{
			// The description's `-n <store-name>`: the namespace is store-<name>.
			name: "description: namespace named like the store",
			cmd:  []string{"kubectl", "get", "pods", "-n", "shop"},
			check: func(t *testing.T, out opsOutput) {
				wantSuccess(t, out)
				wantNothing(t, out, "No resources found in shop namespace.\n")
			},
		},
	}
	// Every command of the page's shell block is one this test runs (the
	// pod's name is the page's <pod-name>), so the page cannot drift.
	ran := map[string]bool{}
	for _, tc := range cases {
		line := "bin/" + strings.Join(tc.cmd, " ")
		if len(wordpressPods) > 0 {
			line = strings.ReplaceAll(line, wordpressPods[0], "<pod-name>")
		}
		ran[line] = true
	}
	for _, line := range pageCommands(t, filepath.Join(env.RepoRoot, "docs", "monitoring-a-store.md")) {
		if !ran[line] {
			t.Errorf("docs/monitoring-a-store.md runs %q, which this test does not", line)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, runOpsCommand(t, tc.cmd[0], tc.cmd[1:]...))
		})
	}
}

// pageCommands returns the bin/ commands of the page's shell blocks, each
// without its trailing comment and with single spaces.
func pageCommands(t *testing.T, page string) []string {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	inBlock := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inBlock = true
		case strings.HasPrefix(line, "```"):
			inBlock = false
		case inBlock && strings.HasPrefix(line, "bin/"):
			line, _, _ = strings.Cut(line, "#")
			cmds = append(cmds, strings.Join(strings.Fields(line), " "))
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("%s has no bin/ commands in a sh block", page)
	}
	return cmds
}

// runOpsCommand runs bin/<tool> (kubectl or helm) with args against the
// stack's cluster, as an operator would with KUBECONFIG set. Helm's and
// kubectl's caches go to a temporary directory, not the user's home.
func runOpsCommand(t *testing.T, tool string, args ...string) opsOutput {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), filepath.Join(env.RepoRoot, "bin", tool), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig, "KUBECACHEDIR="+filepath.Join(home, "kube-cache"),
		"HELM_CACHE_HOME="+filepath.Join(home, "helm-cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "helm-config"),
		"HELM_DATA_HOME="+filepath.Join(home, "helm-data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	out := opsOutput{}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s %s: %v (run `make tools`)", tool, strings.Join(args, " "), err)
		}
		out.code = exit.ExitCode()
	}
	out.stdout, out.stderr = stdout.String(), stderr.String()
	t.Logf("$ %s %s\n%s%s(exit %d)", tool, strings.Join(args, " "), out.stdout, out.stderr, out.code)
	return out
}

func wantSuccess(t *testing.T, out opsOutput) {
	t.Helper()
	if out.code != 0 {
		t.Fatalf("exit %d: %s", out.code, out.stderr)
	}
}

// wantNothing asserts an empty listing: nothing on stdout, kubectl's
// "No resources found" message on stderr.
func wantNothing(t *testing.T, out opsOutput, stderr string) {
	t.Helper()
	if out.stdout != "" || out.stderr != stderr {
		t.Errorf("stdout %q, stderr %q; want nothing listed and %q", out.stdout, out.stderr, stderr)
	}
}

// tableRows splits a kubectl or helm table into the fields of each row,
// without the header.
func tableRows(table string) [][]string {
	var rows [][]string
	for i, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		if i > 0 && strings.TrimSpace(line) != "" {
			rows = append(rows, strings.Fields(line))
		}
	}
	return rows
}

// findRow returns the fields of the table row whose first column is name.
func findRow(t *testing.T, table, name string) []string {
	t.Helper()
	for _, row := range tableRows(table) {
		if row[0] == name {
			return row
		}
	}
	t.Fatalf("no row %q in:\n%s", name, table)
	return nil
}

// wantNames asserts that the table lists exactly the objects names.
func wantNames(t *testing.T, table string, names []string) {
	t.Helper()
	var got []string
	for _, row := range tableRows(table) {
		got = append(got, row[0])
	}
	want := slices.Clone(names)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("listed %q, want %q", got, want)
	}
}

// describeField is the value of a top-level "Key:   value" line of
// kubectl describe.
func describeField(out, key string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
