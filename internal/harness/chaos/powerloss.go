package chaos

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/storeplatform/storeplatform/internal/auth"
	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/childproc"
	"github.com/storeplatform/storeplatform/internal/store"
)

// The ports `storeplatform-dev` always uses for the control plane (it has
// no flags for them): scenario 6 needs them free.
var devFixedPorts = []int{6443, 2379, 2380, 10247}

// devInstance is one `storeplatform-dev` process (the API, a worker and
// the whole stack in one) on a data directory.
type devInstance struct {
	dir                             string
	listen, temporalPort, mongoPort int
	proc                            *childproc.Process
	c                               *conns
}

func (d *devInstance) apiURL() string { return "http://127.0.0.1:" + strconv.Itoa(d.listen) }

// start runs `storeplatform-dev` on d's directory and ports and waits until
// it prints that the platform is running.
func (d *devInstance) start(ctx context.Context, o Options) error {
	args := []string{"--dir", d.dir, "--bin", o.BinDir,
		"--listen", "127.0.0.1:" + strconv.Itoa(d.listen),
		"--temporal-port", strconv.Itoa(d.temporalPort), "--temporal-ui-port", "-1", "--mongo-port", strconv.Itoa(d.mongoPort),
		"--chart-dir", filepath.Join(o.RepoRoot, "charts", "store"), "--web-dir="}
	proc, err := childproc.Start("dev", filepath.Join(d.dir, "dev.log"), "Store Platform is running",
		[]string{"KUBECONFIG="}, filepath.Join(o.BinDir, "storeplatform-dev"), args...)
	if err != nil {
		return err
	}
	d.proc = proc
	if err := proc.WaitUp(5 * time.Minute); err != nil {
		return err
	}
	if d.c == nil {
		d.c, err = dial(ctx, filepath.Join(d.dir, "kubeconfig"), fmt.Sprintf("mongodb://127.0.0.1:%d/", d.mongoPort),
			"127.0.0.1:"+strconv.Itoa(d.temporalPort))
	}
	return err
}

// stop stops dev as Ctrl-C would.
func (d *devInstance) stop() {
	if d.proc != nil {
		d.proc.Stop(60 * time.Second)
	}
	if d.c != nil {
		d.c.close()
		d.c = nil
	}
}

// portsFree waits up to timeout until every port can be bound again, which
// is when the processes of a killed dev are gone.
func portsFree(ports []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var busy []int
		for _, p := range ports {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				busy = append(busy, p)
				continue
			}
			l.Close()
		}
		if len(busy) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ports %v still in use", busy)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// powerLoss is scenario 6: `storeplatform-dev` (API, worker and stack in
// one process tree) gets the stores requested; once a quarter are ready it
// is SIGKILLed — its children die with it — and started again on the same
// data directory. The same load without the fault, on a fresh directory, is
// the baseline.
func (s *suite) powerLoss(ctx context.Context) *Result {
	count := s.opts.Scale.Stores[6]
	res := &Result{N: 6, Name: scenarioNames[6], Load: fmt.Sprintf("%d creates at once through the API of storeplatform-dev (%d tenants: its store limit is 5)", count, (count+4)/5)}
	if err := portsFree(devFixedPorts, time.Second); err != nil {
		res.NotRun = fmt.Sprintf("storeplatform-dev needs the ports %v (no flags for them), and %v; is `make dev` running?", devFixedPorts, err)
		return res
	}
	t0 := time.Now()
	baseline, err := s.devRun(ctx, filepath.Join(s.opts.Dir, "power-baseline"), count, false, res)
	if err != nil {
		res.NotRun = "the fault-free baseline could not run: " + err.Error()
		return res
	}
	res.Baseline = baseline
	s.log.Info("scenario 6: baseline done", "all_ready_after", baseline.Round(time.Millisecond), "elapsed", time.Since(t0).Round(time.Second))
	if _, err := s.devRun(ctx, filepath.Join(s.opts.Dir, "power-loss"), count, true, res); err != nil {
		res.fail("%v", err)
	}
	return res
}

// devRun runs count creates on a new `storeplatform-dev` in dir, with a
// power loss when powerLoss, checks the invariants, and returns the time to
// all-ready. For the power loss it fills res.
func (s *suite) devRun(ctx context.Context, dir string, count int, powerLoss bool, res *Result) (time.Duration, error) {
	if _, err := mkdir(dir); err != nil {
		return 0, err
	}
	var ports [3]int
	for i := range ports {
		p, err := childproc.FreePort()
		if err != nil {
			return 0, err
		}
		ports[i] = p
	}
	d := &devInstance{dir: dir, listen: ports[0], temporalPort: ports[1], mongoPort: ports[2]}
	defer d.stop()
	t0 := time.Now()
	if err := d.start(ctx, s.opts); err != nil {
		return 0, fmt.Errorf("storeplatform-dev: %w", err)
	}
	s.log.Info("scenario 6: storeplatform-dev running", "dir", dir, "elapsed", time.Since(t0).Round(time.Second), "power_loss", powerLoss)
	sw := newSecretWatch(d.c)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go sw.run(wctx, 500*time.Millisecond)

	const perTenant = 5 // dev's STORE_LIMIT
	names := storeNames(6, count)
	want := wantAll(names, store.PhaseReady)
	client := apiclient.New(d.apiURL(), apiclient.Options{})
	toks := make([]string, (count+perTenant-1)/perTenant)
	for i := range toks {
		t, err := d.c.token(ctx, fmt.Sprintf("s6-t%d", i+1), auth.RoleTenant)
		if err != nil {
			return 0, err
		}
		toks[i] = t
	}
	start := time.Now()
	if err := submitTo(ctx, client, toks, names, perTenant); err != nil {
		res.fail("%v", err)
	}
	deadline := start.Add(s.opts.Scale.Deadline)
	if powerLoss {
		ready := s.waitMidRun(ctx, d.c, want, 30*time.Second)
		killedAt := time.Now()
		d.proc.Kill()
		if err := portsFree(append([]int{d.temporalPort, d.mongoPort, d.listen}, devFixedPorts...), time.Minute); err != nil {
			res.fail("after the power loss: %v", err)
		}
		gone := time.Since(killedAt)
		d.c.close()
		d.c = nil
		restarted := time.Now()
		if err := d.start(ctx, s.opts); err != nil {
			return 0, fmt.Errorf("storeplatform-dev after the power loss: %w", err)
		}
		back := time.Now()
		// The same watch goes on: the values seen before the power loss are
		// the first ones.
		sw.setConns(d.c)
		res.Faults = fmt.Sprintf("storeplatform-dev SIGKILLed with its stack when %d/%d were ready (all its processes gone %s later), started again on the same directory: running %s later",
			ready, count, fmtDur(gone), fmtDur(back.Sub(restarted)))
		first := s.firstProgress(ctx, d.c, names, back)
		recs := waitSettled(ctx, d.c, want, deadline, s.log, "scenario 6")
		res.TimeToAll = timeToAll(recs, want, start)
		res.Recovery = recoverySince(first, back, res, start)
	} else {
		recs := waitSettled(ctx, d.c, want, deadline, s.log, "scenario 6 (baseline)")
		if t := timeToAll(recs, want, start); t > 0 {
			defer func() { res.note("fault-free baseline: all %d ready %s after the requests", count, fmtDur(t)) }()
		}
	}
	sw.poll(ctx)
	base := &Result{N: 6}
	s.judge(ctx, base, d.c, sw, want, map[string]bool{})
	api, bad := client.TakeStats()
	for _, b := range bad {
		base.fail("API: %s", b)
	}
	s.scanDev(ctx, base, d, sw)
	if powerLoss {
		failures := append(res.Failures, base.Failures...)
		res.verdict, res.API = base.verdict, api
		res.Failures = failures
		res.Requested, res.SecretHits, res.ScannedBytes = count, base.SecretHits, base.ScannedBytes
		res.Notes = append(res.Notes, base.Notes...)
		return res.TimeToAll, nil
	}
	for _, f := range base.Failures {
		res.fail("baseline: %s", f)
	}
	recs, _ := d.c.records(ctx, names)
	return timeToAll(recs, want, start), nil
}

// submitTo asks client for the stores names at once.
func submitTo(ctx context.Context, client *apiclient.Client, toks, names []string, perTenant int) error {
	errs := make(chan error, len(names))
	for i, name := range names {
		go func() {
			a, err := client.CreateStore(ctx, toks[i/perTenant], "Chaos", name)
			if err == nil && a.Status != 202 {
				err = fmt.Errorf("POST /api/stores %s: %d %.200s", name, a.Status, a.Body)
			}
			errs <- err
		}()
	}
	var first error
	for range names {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
