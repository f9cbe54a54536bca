package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
)

// APIUse is what one at-once creation cost the machine: kube-apiserver's
// requests, and the CPU time of every process of the stack (and, for the
// platform, of its api and worker) by name.
type APIUse struct {
	Requests apiCounts
	CPU      map[string]time.Duration
}

// cpuTotal is the CPU time of every process measured.
func (u APIUse) cpuTotal() time.Duration {
	var t time.Duration
	for _, d := range u.CPU {
		t += d
	}
	return t
}

// apiCounts are kube-apiserver's requests (its apiserver_request_total
// counter) by "VERB resource[/subresource]", from every client: what the
// whole cluster did, the platform's or the peer's own requests and those
// of the controllers and kwok they cause.
type apiCounts map[string]float64

// writeVerbs are the verbs that change something.
var writeVerbs = []string{"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"}

// apiRequests reads kube-apiserver's request counters from its /metrics.
func (e *env) apiRequests(ctx context.Context) (apiCounts, error) {
	raw, err := e.kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("kube-apiserver /metrics: %w", err)
	}
	return parseAPICounts(raw)
}

// parseAPICounts sums apiserver_request_total of Prometheus's text format
// by verb, resource and subresource.
func parseAPICounts(raw []byte) (apiCounts, error) {
	out := apiCounts{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	const name = "apiserver_request_total{"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		end := strings.LastIndex(line, "}")
		if end < 0 {
			return nil, fmt.Errorf("metrics line %q", line)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(line[len(name):end], ",") {
			k, val, ok := strings.Cut(kv, "=")
			if ok {
				labels[k] = strings.Trim(val, `"`)
			}
		}
		key := labels["verb"] + " " + labels["resource"]
		if s := labels["subresource"]; s != "" {
			key += "/" + s
		}
		out[key] += v
	}
	return out, sc.Err()
}

// since is a - before.
func (a apiCounts) since(before apiCounts) apiCounts {
	out := apiCounts{}
	for k, v := range a {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// total is the sum of every request, or of the writes only.
func (a apiCounts) total(writesOnly bool) float64 {
	var n float64
	for k, v := range a {
		verb, _, _ := strings.Cut(k, " ")
		if !writesOnly || slices.Contains(writeVerbs, verb) {
			n += v
		}
	}
	return n
}

// top are the n largest kinds of request, largest first.
func (a apiCounts) top(n int) []string {
	keys := slices.Collect(maps.Keys(a))
	slices.SortFunc(keys, func(x, y string) int {
		if a[x] != a[y] {
			if a[x] > a[y] {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	return keys[:min(n, len(keys))]
}

// apiMeter measures the requests and the CPU of one at-once creation.
type apiMeter struct {
	e      *env
	before apiCounts
	cpu    *cpuMeter
}

// stackProcs are the stack's processes whose CPU an at-once creation
// counts.
var stackProcs = []string{devstack.ProcEtcd, devstack.ProcKubeAPIServer, devstack.ProcControllerManager,
	devstack.ProcScheduler, devstack.ProcKwok, devstack.ProcTemporal, devstack.ProcFerretDB}

// startAPIMeter starts measuring; extra are more processes to count (the
// platform's api and worker).
func (e *env) startAPIMeter(ctx context.Context, extra map[string]int) *apiMeter {
	m := &apiMeter{e: e}
	m.before, _ = e.apiRequests(ctx)
	pids := map[string]int{}
	for _, p := range stackProcs {
		if pid := e.stack.PID(p); pid > 0 {
			pids[p] = pid
		}
	}
	maps.Copy(pids, extra)
	m.cpu = startCPU(pids)
	return m
}

// stop returns what was measured; a part that could not be read is left
// out.
func (m *apiMeter) stop(ctx context.Context) APIUse {
	u := APIUse{CPU: m.cpu.used()}
	if after, err := m.e.apiRequests(ctx); err == nil && m.before != nil {
		u.Requests = after.since(m.before)
	}
	return u
}

// createStarts is how many CreateStore workflows the api process has
// started or joined, from its /metrics (storeplatform_workflow_starts_total).
func (e *env) createStarts(ctx context.Context) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.apiURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+e.adminTok) // /metrics needs an admin's token (#20)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var n float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "storeplatform_workflow_starts_total{") || !strings.Contains(line, `workflow="CreateStore"`) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndex(line, "}")+1:]), 64); err == nil {
			n += v
		}
	}
	return n, sc.Err()
}

// postMeter measures the CPU of a POST row until every store it requested
// has its workflow started (the API starts them after answering).
func (e *env) postMeter(ctx context.Context) func(requested int) APIUse {
	before, _ := e.createStarts(ctx)
	am := e.startAPIMeter(ctx, map[string]int{"api": e.api.PID()})
	return func(requested int) APIUse {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
			if n, err := e.createStarts(ctx); err == nil && n-before >= float64(requested) {
				break
			}
			apiclient.Sleep(ctx, 200*time.Millisecond)
		}
		return am.stop(ctx)
	}
}
