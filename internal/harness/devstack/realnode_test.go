package devstack_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/testenv"
)

// realNodeEnv names the variable that runs the real-node tests (make
// test-real-node sets it): they need root, `make node-tools` and a machine
// whose bridge, kubelet ports and iptables no other stack uses.
const realNodeEnv = "STOREPLATFORM_REAL_NODE"

// TestRealNode starts the local stack with its real node, runs pods there
// for real (servesAPod, keepsAVolume, runsPostgres), and stops it: no bridge, no iptables
// chain and no mount is left behind.
func TestRealNode(t *testing.T) {
	if os.Getenv(realNodeEnv) == "" {
		t.Skip(realNodeEnv + " is not set: the real node's tests run with `make test-real-node` (root, make node-tools)")
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "bin")
	// Ends before the test binary's own timeout, so that a stuck wait
	// fails the test and the stack still stops (a timeout's panic would
	// leave the node's containers running).
	deadline := time.Now().Add(15 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	dir := t.TempDir()
	s, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: bin, Nodes: 1, RealNode: true, TemporalUIPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop()
		}
	}()
	client := kubeClient(t, s.Kubeconfig())

	const image = devstack.HelloImage
	if err := s.ImportHelloImage(ctx); err != nil {
		t.Fatal(err)
	}
	ns := "real-node-smoke"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   ns,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Run("serves a pod", func(t *testing.T) { servesAPod(ctx, t, s, client, ns, image) })
	t.Run("keeps a volume", func(t *testing.T) { keepsAVolume(ctx, t, client, ns, image, dir) })
	t.Run("runs PostgreSQL", func(t *testing.T) { runsPostgres(ctx, t, s, client, ns, bin) })

	s.Stop()
	stopped = true
	if err := exec.Command("ip", "link", "show", "sp-cni0").Run(); err == nil {
		t.Error("the CNI bridge sp-cni0 is still there after Stop")
	}
	for _, save := range []string{"iptables-save", "ip6tables-save"} {
		if out, err := exec.Command(save).Output(); err != nil || strings.Contains(string(out), "KUBE-") {
			t.Errorf("%s after Stop (%v) still has the kubelet's or kube-proxy's chains:\n%s", save, err, out)
		}
	}
	if mounts, err := devstack.MountsUnder(dir); err != nil || len(mounts) > 0 {
		t.Errorf("mounts left under the stack's directory after Stop: %v (%v)", mounts, err)
	}
}

// servesAPod runs one pod on the real node: its container starts (runc),
// its readiness probe is the kubelet's own HTTP check, its address is on the
// CNI bridge, a Service routes to it through kube-proxy's rules, the cluster
// DNS answers its resolver with the Service's address, its log comes from
// the kubelet through kube-apiserver, and deleting it removes its container.
func servesAPod(ctx context.Context, t *testing.T, s *devstack.Stack, client kubernetes.Interface, ns, image string) {
	pod := devstack.HelloPod(ns)
	if _, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		// Not the pod's name, which /etc/hosts resolves to the pod itself.
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "hello"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	ready := waitPodReady(ctx, t, client, ns, pod.Name)
	if ready.Spec.NodeName != devstack.RealNodeName {
		t.Errorf("pod ran on %q, want %q", ready.Spec.NodeName, devstack.RealNodeName)
	}
	_, pods, _ := net.ParseCIDR("10.88.0.0/16")
	if ip := net.ParseIP(ready.Status.PodIP); ip == nil || !pods.Contains(ip) {
		t.Errorf("pod IP %q, want one of the bridge's %s", ready.Status.PodIP, pods)
	}
	if id := ready.Status.ContainerStatuses[0].ContainerID; !strings.HasPrefix(id, "containerd://") {
		t.Errorf("container ID %q, want one of containerd's", id)
	}

	body := getWithin(ctx, t, "http://"+net.JoinHostPort(svc.Spec.ClusterIP, "80")+"/")
	if want := "hello from " + pod.Name + "\n"; body != want {
		t.Errorf("GET through the Service answered %q, want %q", body, want)
	}
	// The cluster DNS, as the pod's resolver asks it: by the Service's
	// short name (the pod's search path) and by its full name.
	for _, name := range []string{"web", "web." + ns + ".svc.cluster.local"} {
		got := getWithin(ctx, t, "http://"+net.JoinHostPort(svc.Spec.ClusterIP, "80")+"/resolve?name="+name)
		if want := svc.Spec.ClusterIP + "\n"; got != want {
			t.Errorf("the pod resolved %s to %q, want %q", name, got, want)
		}
	}
	logs, err := client.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("pod logs through kube-apiserver and the kubelet: %v", err)
	}
	if !strings.Contains(string(logs), "hello: serving on :8080 as "+pod.Name) {
		t.Errorf("pod log %q does not say what the container printed", logs)
	}

	if err := client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodGone(ctx, t, client, ns, pod.Name)
	byPod := "io.kubernetes.pod.name=" + pod.Name
	if out, err := s.Crictl(ctx, "ps", "--quiet", "--label", byPod); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("running containers of the deleted pod: %q (%v), want none", out, err)
	}
	// The kubelet stops a deleted pod's containers at once and removes
	// them at its next container garbage collection (every minute).
	waitNone(ctx, t, "containers of the deleted pod", func() (string, error) {
		return s.Crictl(ctx, "ps", "--all", "--quiet", "--label", byPod)
	})
	waitNone(ctx, t, "sandboxes of the deleted pod", func() (string, error) {
		return s.Crictl(ctx, "pods", "--quiet", "--label", byPod)
	})

}

// keepsAVolume writes a file through a pod into a claim of the real node's
// StorageClass, and reads it back through another pod after the first is
// gone: the claim is a directory on this machine, owned by the pods'
// fsGroup. Deleting the claim removes its volume and its directory.
func keepsAVolume(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, image, dir string) {
	class := devstack.RealNodeStorageClass
	claim, err := client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("16Mi")}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writer := withVolume(devstack.HelloPod(ns), "writer", claim.Name)
	if _, err := client.CoreV1().Pods(ns).Create(ctx, writer, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ip := waitPodReady(ctx, t, client, ns, writer.Name).Status.PodIP
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+net.JoinHostPort(ip, "8080")+"/data/row", strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /data/row: %s", resp.Status)
	}
	bound, err := client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	onDisk := filepath.Join(dir, "node", "volumes", bound.Spec.VolumeName, "row")
	if data, err := os.ReadFile(onDisk); err != nil || string(data) != "kept" {
		t.Errorf("%s holds %q (%v), want what the pod wrote", onDisk, data, err)
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, writer.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodGone(ctx, t, client, ns, writer.Name)

	reader := withVolume(devstack.HelloPod(ns), "reader", claim.Name)
	if _, err := client.CoreV1().Pods(ns).Create(ctx, reader, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ip = waitPodReady(ctx, t, client, ns, reader.Name).Status.PodIP
	if got := getWithin(ctx, t, "http://"+net.JoinHostPort(ip, "8080")+"/data/row"); got != "kept" {
		t.Errorf("the second pod read %q, want %q", got, "kept")
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, reader.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodGone(ctx, t, client, ns, reader.Name)
	if err := client.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, claim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNone(ctx, t, "the claim's volume", func() (string, error) {
		_, err := client.CoreV1().PersistentVolumes().Get(ctx, bound.Spec.VolumeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return bound.Spec.VolumeName, err
	})
	if _, err := os.Stat(filepath.Dir(onDisk)); !os.IsNotExist(err) {
		t.Errorf("the volume's directory %s: %v, want it removed", filepath.Dir(onDisk), err)
	}
}

// runsPostgres runs the local PostgreSQL image as the store chart runs the
// official one (UID 999, the POSTGRES_* environment, PGDATA below the
// volume's mount, pg_isready as the readiness probe), writes a row over TCP
// with the password, and reads it back from a second pod on the same claim.
func runsPostgres(ctx context.Context, t *testing.T, s *devstack.Stack, client kubernetes.Interface, ns, bin string) {
	if err := s.ImportServiceImages(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "s3cret-for-the-test"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	class := devstack.RealNodeStorageClass
	if _, err := client.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "pgdata"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("256Mi")}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// What the client in the container runs: psql over TCP with the password.
	const psql = `PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -tAc "$0"`
	for i, sql := range []string{"CREATE TABLE kept (v text); INSERT INTO kept VALUES ('a row')", "SELECT v FROM kept"} {
		name := fmt.Sprintf("postgres-%d", i)
		if _, err := client.CoreV1().Pods(ns).Create(ctx, postgresPod(ns, name, "pgdata"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitPodReady(ctx, t, client, ns, name)
		out := kubectl(ctx, t, bin, s.Kubeconfig(), "exec", "-n", ns, name, "--", "sh", "-c", psql, sql)
		if want := map[int]string{0: "CREATE TABLE\nINSERT 0 1", 1: "a row"}[i]; strings.TrimSpace(out) != want {
			t.Errorf("%s in %s answered %q, want %q", sql, name, out, want)
		}
		if err := client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitPodGone(ctx, t, client, ns, name)
	}
}

// postgresPod runs devstack.PostgresImage on claim as the store chart runs
// PostgreSQL.
func postgresPod(ns, name, claim string) *corev1.Pod {
	uid, no, yes := int64(999), false, true
	onRootMismatch := corev1.FSGroupChangeOnRootMismatch
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			NodeSelector:                 devstack.RealNodeSelector(),
			Tolerations:                  devstack.RealNodeTolerations(),
			AutomountServiceAccountToken: &no,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid, FSGroupChangePolicy: &onRootMismatch,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
			}}},
			Containers: []corev1.Container{{
				Name: "postgresql", Image: devstack.PostgresImage, ImagePullPolicy: corev1.PullNever,
				Env: []corev1.EnvVar{
					{Name: "POSTGRES_DB", Value: "medusa"},
					{Name: "POSTGRES_USER", Value: "medusa"},
					{Name: "POSTGRES_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password",
					}}},
					{Name: "PGDATA", Value: "/var/lib/postgresql/data/pgdata"},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{
						"sh", "-c", `pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"`,
					}}},
					PeriodSeconds: 1,
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &no,
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql/data"}},
			}},
		},
	}
	return pod
}

// kubectl runs bin/kubectl with args against the stack and returns its
// standard output.
func kubectl(ctx context.Context, t *testing.T, bin, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// withVolume renames pod and mounts the claim at /data, its files
// written as the pod's fsGroup, and tells hello to keep data there.
func withVolume(pod *corev1.Pod, name, claim string) *corev1.Pod {
	group := int64(65534)
	pod.Name = name
	pod.Labels = map[string]string{"app": name}
	pod.Spec.SecurityContext.FSGroup = &group
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
	}}}
	c := &pod.Spec.Containers[0]
	c.Env = []corev1.EnvVar{{Name: "DATA_DIR", Value: "/data"}}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	return pod
}

func kubeClient(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// waitPodReady waits until the pod is Ready and returns it; on timeout it
// fails with the pod's status and events.
func waitPodReady(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	for {
		pod, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, c := range pod.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					return pod
				}
			}
		}
		select {
		case <-ctx.Done():
			events, _ := client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
			var lines []string
			for _, e := range events.Items {
				lines = append(lines, e.Reason+": "+e.Message)
			}
			t.Fatalf("pod %s/%s not Ready: %v; status %+v; events:\n%s", ns, name, err, pod.Status, strings.Join(lines, "\n"))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitPodGone waits until the pod no longer exists.
func waitPodGone(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, name string) {
	t.Helper()
	for {
		_, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod %s/%s still there: %v", ns, name, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitNone waits until list answers nothing.
func waitNone(ctx context.Context, t *testing.T, what string, list func() (string, error)) {
	t.Helper()
	for {
		out, err := list()
		if err == nil && strings.TrimSpace(out) == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %q (%v), want none", what, out, err)
		case <-time.After(time.Second):
		}
	}
}

// getWithin GETs url until it answers 200 (kube-proxy writes a new
// Service's rules within a second or so) and returns the body.
func getWithin(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		resp, err := hc.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(body)
			}
			last = rerr
			if last == nil {
				last = &statusError{resp.Status}
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s: %v", url, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

type statusError struct{ status string }

func (e *statusError) Error() string { return e.status }
