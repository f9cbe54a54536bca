package testenv_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/storeplatform/storeplatform/internal/harness/testenv"
	"github.com/storeplatform/storeplatform/internal/helmclient"
)

var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// The tests below prove that the harness runs the real components: they
// would fail against a stub.

func TestKubernetesNodesAndNamespace(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	nodes, err := env.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 3 {
		t.Fatalf("want 3 kwok nodes, got %d", len(nodes.Items))
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "harness-ns"}}
	created, err := env.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.Status.Phase != corev1.NamespaceActive {
		t.Fatalf("namespace not created by an API server: uid=%q phase=%q", created.UID, created.Status.Phase)
	}
	// The apiserver enforces its own rules: a second create conflicts.
	if _, err := env.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: want AlreadyExists, got %v", err)
	}
	deleteNamespace(t, "harness-ns")
}

func TestHelmInstallWaitUninstall(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	const ns, release = "harness-helm", "mini"
	chrt, err := loader.Load(filepath.Join("testdata", "minichart"))
	if err != nil {
		t.Fatal(err)
	}
	ac, err := helmclient.ActionConfig(env.RESTConfig, ns, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(ac)
	install.ReleaseName, install.Namespace, install.CreateNamespace = release, ns, true
	install.Wait, install.Timeout = true, 2*time.Minute
	rel, err := install.RunWithContext(ctx, chrt, map[string]any{"replicas": 2})
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	if rel.Info.Status != "deployed" {
		t.Fatalf("release status %q", rel.Info.Status)
	}
	dep, err := env.Kube.AppsV1().Deployments(ns).Get(ctx, release+"-web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("deployment not in the release namespace: %v", err)
	}
	if dep.Status.ReadyReplicas != 2 {
		t.Fatalf("ready replicas %d, want 2", dep.Status.ReadyReplicas)
	}
	pods, err := env.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning {
			t.Fatalf("pod %s: node %q phase %s", p.Name, p.Spec.NodeName, p.Status.Phase)
		}
	}

	un := action.NewUninstall(ac)
	un.Wait, un.Timeout = true, time.Minute
	if _, err := un.Run(release); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	if _, err := env.Kube.AppsV1().Deployments(ns).Get(ctx, release+"-web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("deployment after uninstall: want NotFound, got %v", err)
	}
	deleteNamespace(t, ns)
}

func TestMongoRoundTripAndUniqueIndex(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	coll := env.Mongo.Database("harness").Collection("things")
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.M{"name": "alpha", "n": 1}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name string `bson:"name"`
		N    int    `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.M{"name": "alpha"}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "alpha" || got.N != 1 {
		t.Fatalf("read back %+v", got)
	}
	_, err := coll.InsertOne(ctx, bson.M{"name": "alpha", "n": 2})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("duplicate insert: want a duplicate key error, got %v", err)
	}
}

func TestTemporalWorkflowRunsOnDevServer(t *testing.T) {
	env.Require(t)
	ctx := t.Context()
	queue := fmt.Sprintf("harness-%d", time.Now().UnixNano())
	w := sdkworker.New(env.Temporal, queue, sdkworker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greet)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := env.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, greetWorkflow, "store")
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	if out != "hello, store" {
		t.Fatalf("workflow result %q", out)
	}
	// The server kept the history: the activity really ran through it.
	desc, err := env.Temporal.DescribeWorkflow(ctx, queue, run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if n := desc.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength(); n < 8 {
		t.Fatalf("history length %d: the activity did not go through the server", n)
	}
}

func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &out)
	return out, err
}

func greet(_ context.Context, name string) (string, error) { return "hello, " + name, nil }

// deleteNamespace deletes ns and waits until the API server has removed it.
func deleteNamespace(t *testing.T, ns string) {
	t.Helper()
	ctx := t.Context()
	if err := env.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := env.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("namespace %s not gone: %v", ns, err)
	}
}
