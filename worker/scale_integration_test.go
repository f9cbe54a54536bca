package worker_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/storeplatform/storeplatform/internal/harness/childproc"
	"github.com/storeplatform/storeplatform/internal/store"
	"github.com/storeplatform/storeplatform/workflows"
)

// binaryPlatform is the real `storeplatform api` and workers on one task
// queue and database of the test stack, each with its log in logDir.
type binaryPlatform struct {
	env    []string
	logDir string
}

func newBinaryPlatform(t *testing.T, queue, dbName string) *binaryPlatform {
	t.Helper()
	cfg := env.Config(dbName, queue)
	cfg.MetricsToken = scaleMetricsToken
	// debug: Helm's own lines too, which must carry the activity's fields
	// and, like every line, no secret.
	cfg.LogLevel, cfg.LogFormat = "debug", "json"
	return &binaryPlatform{logDir: t.TempDir(), env: cfg.Environ()}
}

// start runs `storeplatform <command>` with its own listener on a free port
// (addrSetting), waits until it says upLine and its /metrics answers, and
// kills it at the end of the test. It returns the process and the
// listener's base URL.
func (p *binaryPlatform) start(t *testing.T, name, command, addrSetting, upLine string) (*childproc.Process, string) {
	t.Helper()
	bin := filepath.Join(env.RepoRoot, "bin", "storeplatform")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make build`", bin)
	}
	port, err := childproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c, err := childproc.Start(name, p.log(name), upLine, append(p.env, addrSetting+"="+addr), bin, command)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(10 * time.Second) })
	if err := c.WaitUp(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	if err := childproc.WaitHTTP(base+"/metrics", time.Minute); err != nil {
		t.Fatal(err)
	}
	return c, base
}

func (p *binaryPlatform) log(name string) string { return filepath.Join(p.logDir, name+".log") }

// series is one scrape of a /metrics: each sample's name and labels (as
// written, `name{a="b"}`) and its value.
type series map[string]float64

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$`)

// scaleMetricsToken is the api's METRICS_TOKEN: its /metrics needs a
// token (the worker's ignores it).
const scaleMetricsToken = "scale-test-metrics-token"

func scrapeMetrics(t *testing.T, url string) series {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+scaleMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s", url, resp.Status)
	}
	out := series{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", sc.Text(), err)
		}
		out[m[1]+m[2]] = v
	}
	return out
}

// sum adds the samples of name whose labels contain every one of labels
// (each as `key="value"`).
func (s series) sum(name string, labels ...string) (total float64, found bool) {
	for k, v := range s {
		n, ls, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(ls, l)
		}
		if ok {
			total += v
			found = true
		}
	}
	return total, found
}

// logLines decodes the JSON lines of a process's log.
func logLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil {
			out = append(out, line)
		}
	}
	return out
}

// TestTwoWorkersShareTheQueue runs the real API and two `storeplatform
// worker` processes on one task queue, with their metrics listeners
// (WORKER_HTTP_ADDR). Stores are created while every node is cordoned,
// so each creation stops in WaitReady after its earlier steps ran; the
// first while worker-1 runs alone, so that it holds that WaitReady. Every
// install is counted once over the two workers' metrics. Worker-1 is
// SIGKILLed and worker-2 finishes every store, the first one's WaitReady on
// a retry. Then both /metrics are scraped: the worker's has the Temporal
// SDK's series and the platform's, the API's what it always had; every
// CreateNamespace log line carries its workflowId, runId, activity and
// store, and no log holds a store's secret.
func TestTwoWorkersShareTheQueue(t *testing.T) {
	env.Require(t)
	queue := fmt.Sprintf("scale-%d", time.Now().UnixNano())
	dbName := fmt.Sprintf("scale_%d", time.Now().UnixNano())
	p := newBinaryPlatform(t, queue, dbName)
	_, apiURL := p.start(t, "api", "api", "LISTEN_ADDR", "api listening")
	first, firstURL := p.start(t, "worker-1", "worker", "WORKER_HTTP_ADDR", "worker polling")
	firstID := fmt.Sprintf("%d@", first.PID()) // the SDK's default worker identity begins so

	uncordon := env.Cordon(t)
	const stores = 4
	var specs []store.Spec
	var runs []client.WorkflowRun
	create := func(i int) {
		spec := storeSpec(fmt.Sprintf("scale-%d", i+1), store.EngineWooCommerce, 1)
		run, err := workflows.StartCreate(t.Context(), env.Temporal, queue, workflows.CreateStoreInput{Spec: spec, Timeouts: fast})
		if err != nil {
			t.Fatal(err)
		}
		specs, runs = append(specs, spec), append(runs, run)
	}
	// The first store waits on worker-1 alone, so that the kill below
	// interrupts a WaitReady for certain.
	create(0)
	awaitRunningActivity(t, runs[0], "WaitReady", firstID)
	second, secondURL := p.start(t, "worker-2", "worker", "WORKER_HTTP_ADDR", "worker polling")
	secondID := fmt.Sprintf("%d@", second.PID())
	for i := 1; i < stores; i++ {
		create(i)
	}
	// Every step before WaitReady has run, on one worker or the other.
	for _, run := range runs {
		awaitRunningActivity(t, run, "WaitReady", "")
	}
	// An attempt is recorded before the worker reports it done, so what
	// ran before WaitReady is in these scrapes.
	var installs, helmInstalls float64
	for _, w := range []struct{ name, url string }{{"worker-1", firstURL}, {"worker-2", secondURL}} {
		got := scrapeMetrics(t, w.url)
		n, _ := got.sum("storeplatform_activity_duration_seconds_count", `activity="InstallRelease"`, `outcome="ok"`)
		installs += n
		n, _ = got.sum("storeplatform_helm_action_duration_seconds_count", `action="install"`, `outcome="ok"`)
		helmInstalls += n
	}
	if installs != stores || helmInstalls != stores {
		t.Fatalf("InstallRelease attempts %v and Helm installs %v on the two workers, want %d each", installs, helmInstalls, stores)
	}
	if n, _ := scrapeMetrics(t, firstURL).sum("storeplatform_activity_duration_seconds_count", `outcome="ok"`); n == 0 {
		t.Fatal("worker-1's metrics count no activity, though it ran the first store's")
	}
	first.Kill()
	uncordon()

	ctx := untilExit(t, second.Done())
	for i, run := range runs {
		if err := run.Get(ctx, nil); err != nil {
			t.Fatalf("create %s after worker-1 was killed: %v", specs[i].Name, err)
		}
	}
	// The survivor ran every WaitReady, the first store's on a retry after
	// the kill: both workers executed activities.
	for i, run := range runs {
		for _, a := range activityEnds(t, run) {
			if a.Type == "WaitReady" && (!a.Completed || !strings.HasPrefix(a.Identity, secondID) || i == 0 && a.Attempt < 2) {
				t.Errorf("%s's WaitReady %+v, want completed by worker-2 (%s), the first store's on a retry", specs[i].Name, a, secondID)
			}
		}
	}
	if n, _ := scrapeMetrics(t, secondURL).sum("storeplatform_activity_duration_seconds_count", `activity="WaitReady"`, `outcome="ok"`); n != stores {
		t.Errorf("worker-2 counts %v WaitReady attempts ok, want %d", n, stores)
	}
	repo := store.NewMongoRepository(env.Mongo.Database(dbName))
	for _, spec := range specs {
		rec, err := repo.Get(t.Context(), spec.Name)
		if err != nil || rec.Phase != store.PhaseReady {
			t.Fatalf("record of %s: %+v %v", spec.Name, rec, err)
		}
	}

	t.Run("worker metrics", func(t *testing.T) {
		got := scrapeMetrics(t, secondURL)
		for _, want := range []struct {
			name   string
			labels []string
		}{
			// The Temporal SDK's, through the client's metrics handler.
			{"temporal_request", []string{`namespace="default"`}},
			{"temporal_workflow_completed", []string{`workflow_type="CreateStore"`}},
			{"temporal_activity_execution_latency_count", []string{`activity_type="WaitReady"`, `task_queue="` + queue + `"`}},
			{"temporal_activity_schedule_to_start_latency_count", []string{`activity_type="WaitReady"`}},
			{"temporal_worker_task_slots_available", []string{`worker_type="ActivityWorker"`}},
			// The platform's.
			{"storeplatform_activity_duration_seconds_count", []string{`activity="WaitReady"`, `outcome="ok"`}},
			{"storeplatform_wait_ready_duration_seconds_count", []string{`outcome="ok"`}},
			{"storeplatform_stores", []string{`phase="ready"`}},
			{"go_goroutines", nil},
			{"process_cpu_seconds_total", nil},
		} {
			if n, ok := got.sum(want.name, want.labels...); !ok || n == 0 {
				t.Errorf("worker-2's /metrics has no %s%v above 0", want.name, want.labels)
			}
		}
		if n, _ := got.sum("storeplatform_stores", `phase="ready"`); n != stores {
			t.Errorf(`storeplatform_stores{phase="ready"} = %v, want %d`, n, stores)
		}
	})

	t.Run("api metrics", func(t *testing.T) {
		if err := childproc.WaitHTTP(apiURL+"/health", time.Minute); err != nil {
			t.Fatal(err)
		}
		got := scrapeMetrics(t, apiURL)
		for _, want := range []struct {
			name   string
			labels []string
		}{
			{"storeplatform_http_requests_total", []string{`route="/health"`}},
			{"storeplatform_http_request_duration_seconds_count", nil},
			{"storeplatform_stores", []string{`phase="ready"`}},
		} {
			if n, ok := got.sum(want.name, want.labels...); !ok || n == 0 {
				t.Errorf("the API's /metrics has no %s%v above 0", want.name, want.labels)
			}
		}
	})

	t.Run("activity log lines", func(t *testing.T) {
		created := map[string]int{}
		helmLines := 0
		for _, name := range []string{"worker-1", "worker-2"} {
			for _, l := range logLines(t, p.log(name)) {
				if l["component"] == "helm" {
					helmLines++
					s, _ := l["store"].(string)
					if s == "" || l["namespace"] != "store-"+s || l["workflowId"] == nil || l["runId"] == nil || l["activity"] == nil {
						t.Errorf("%s: Helm's log line %v has not its activity's workflowId, runId, activity and store", name, l)
					}
				}
				if l["msg"] != "namespace created" {
					continue
				}
				s, _ := l["store"].(string)
				created[s]++
				if want := workflows.CreateWorkflowID(s, 1); l["workflowId"] != want || l["activity"] != "CreateNamespace" || l["runId"] == "" || l["runId"] == nil {
					t.Errorf("%s: log line %v, want workflowId %s, a runId, activity CreateNamespace", name, l, want)
				}
			}
		}
		if helmLines == 0 {
			t.Error("no Helm log line at LOG_LEVEL=debug")
		}
		for _, spec := range specs {
			if created[spec.Name] != 1 {
				t.Errorf("%d \"namespace created\" lines for %s, want 1 (lines by store: %v)", created[spec.Name], spec.Name, created)
			}
		}
	})

	t.Run("no secret in the logs", func(t *testing.T) {
		var logs []byte
		for _, name := range []string{"api", "worker-1", "worker-2"} {
			b, err := os.ReadFile(p.log(name))
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, b...)
		}
		for _, spec := range specs {
			for k, v := range secretValues(t, spec) {
				if len(v) >= 8 && strings.Contains(string(logs), v) {
					t.Errorf("the logs hold %s's secret %s", spec.Name, k)
				}
			}
		}
	})

	for _, spec := range specs {
		del, err := workflows.StartDelete(t.Context(), env.Temporal, queue, workflows.DeleteStoreInput{Spec: spec, Timeouts: fast})
		if err != nil {
			t.Fatal(err)
		}
		if err := del.Get(ctx, nil); err != nil {
			t.Fatalf("delete %s: %v", spec.Name, err)
		}
	}
}
