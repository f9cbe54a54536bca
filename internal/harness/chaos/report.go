package chaos

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/docsection"
)

// Result is one scenario's row of the table and the details under it.
type Result struct {
	N    int
	Name string
	// Load and Faults say what was asked and what was done to the platform.
	Load, Faults string
	// Requested is how many stores the scenario expected to settle.
	Requested int
	verdict
	// TimeToAll is the time from the first request until the last store
	// reached its phase (0: not every store did).
	TimeToAll time.Duration
	// Baseline is scenario 6's time to all-ready without the fault.
	Baseline time.Duration
	// ReadyTimes are the stores' times from the first request to ready
	// (for the plot of stores ready over time).
	ReadyTimes []time.Duration
	// Kills and the recovery figures of the worker kills: for each
	// interrupted activity, the time until it moved again, from the
	// replacement worker polling and from the kill; RecoveryStuck were never
	// seen moving.
	Kills                            int
	RecoveryFromUp, RecoveryFromKill []time.Duration
	RecoveryStuck                    int
	// Recovery is the recovery figure of the other faults, in words.
	Recovery string
	// API counts the answers to the suite's requests by status.
	API    map[int]int
	APIBad []string
	// OutageAnswers counts scenario 3's answers while FerretDB was down,
	// by route and status.
	OutageAnswers map[string]map[int]int
	// SecretHits counts credential values found in the logs; ScannedBytes
	// is how much was read.
	SecretHits   int
	ScannedBytes int64
	// Unexpected lists processes that exited without the suite killing
	// them.
	Unexpected []string
	Notes      []string
	// NotRun says why the scenario did not run.
	NotRun  string
	Elapsed time.Duration
}

// Held reports whether every invariant held.
func (r *Result) Held() bool { return r.NotRun == "" && len(r.Failures) == 0 }

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// recoveryTarget is the bound: a store whose activity ran on a
// killed worker moves again within it of a live worker being available.
const recoveryTarget = 15 * time.Second

// recoveryCell is the table's recovery figure.
func (r *Result) recoveryCell() string {
	if r.Kills == 0 {
		if r.Recovery == "" {
			return "—"
		}
		return r.Recovery
	}
	if len(r.RecoveryFromUp) == 0 {
		return fmt.Sprintf("%d kills interrupted no running activity", r.Kills)
	}
	over := 0
	for _, d := range r.RecoveryFromUp {
		if d > recoveryTarget {
			over++
		}
	}
	out := fmt.Sprintf("%d interrupted activities moved again after max %s, median %s from the replacement worker polling (max %s from the kill); %d over 15 s",
		len(r.RecoveryFromUp), fmtDur(slices.Max(r.RecoveryFromUp)), fmtDur(median(r.RecoveryFromUp)), fmtDur(slices.Max(r.RecoveryFromKill)), over)
	if r.RecoveryStuck > 0 {
		out += fmt.Sprintf("; %d never seen moving", r.RecoveryStuck)
	}
	return out
}

func (r *Result) timeCell() string {
	switch {
	case r.NotRun != "":
		return "—"
	case r.TimeToAll <= 0:
		return "not all settled"
	case r.Baseline > 0:
		return fmt.Sprintf("%s (fault-free: %s)", fmtDur(r.TimeToAll), fmtDur(r.Baseline))
	}
	return fmtDur(r.TimeToAll)
}

func (r *Result) heldCell() string {
	switch {
	case r.NotRun != "":
		return "not run"
	case r.Held():
		return "**yes**"
	}
	return fmt.Sprintf("**no** (%d)", len(r.Failures))
}

// Machine is where a run happened, and what ran.
type Machine struct {
	Arch, Kernel, GoVersion, Commit string
	Cores                           int
	LoadBefore, LoadAfter           string
	// Platform says which source bin/storeplatform was built from: a stale
	// binary would test old code.
	Platform string
}

func machine(repoRoot, binDir string) Machine {
	m := Machine{Arch: runtime.GOARCH, Cores: runtime.NumCPU(), GoVersion: runtime.Version(), LoadBefore: loadAverage(),
		Platform: platformBuild(filepath.Join(binDir, "storeplatform"), repoRoot)}
	if out, err := exec.Command("uname", "-m").Output(); err == nil {
		m.Arch = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = repoRoot
	if out, err := cmd.Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// platformBuild describes the binary at path: the commit it was built
// from when it carries one (not with GOFLAGS=-buildvcs=false), when it was
// built, and whether Go source of the platform changed since.
func platformBuild(path, repoRoot string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	out := "a build of " + st.ModTime().UTC().Format("2006-01-02 15:04")
	if info, err := buildinfo.ReadFile(path); err == nil {
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; len(rev) >= 7 {
			out += " of commit " + rev[:7]
			if settings["vcs.modified"] == "true" {
				out += " with uncommitted changes"
			}
		}
	}
	if newer := newestSource(repoRoot); newer.After(st.ModTime()) {
		out += " (**older than the platform's Go source: run `make build`**)"
	}
	return out
}

// newestSource is the time of the newest non-test Go file of the platform.
func newestSource(repoRoot string) time.Time {
	var newest time.Time
	for _, dir := range []string{"cmd/storeplatform", "api", "workflows", "activities", "worker", "internal"} {
		_ = filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") ||
				strings.Contains(p, string(filepath.Separator)+"chaos"+string(filepath.Separator)) {
				return nil
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
				newest = info.ModTime()
			}
			return nil
		})
	}
	return newest
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Markdown renders the report: the run's facts, the table, and each
// scenario's details and failed invariants.
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Run of %s (UTC), scale **%s**, seed `%d`, repository at `%s`, bin/storeplatform %s: `uname -m` %s, %d cores, %s, %s; load average %s before, %s after; %s in all.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04"), r.Scale, r.Seed, m.Commit, m.Platform, m.Arch, m.Cores, m.GoVersion, m.Kernel,
		m.LoadBefore, m.LoadAfter, fmtDur(r.Elapsed.Round(time.Second)))
	b.WriteString("| # | scenario | load | faults injected | stores ready | stores lost | duplicated releases / namespaces / Secrets | orphaned namespaces | time to all-ready | recovery | every invariant held |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, res := range r.Results {
		if res.NotRun != "" {
			fmt.Fprintf(&b, "| %d | %s | %s | — | — | — | — | — | — | — | not run: %s |\n", res.N, cell(res.Name), cell(res.Load), cell(res.NotRun))
			continue
		}
		ready := fmt.Sprintf("%d/%d", res.Ready, res.Requested)
		if res.N == 5 {
			ready = fmt.Sprintf("%d/%d deleted", res.Deleted, res.Requested)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %d | %d / %d / %d | %d | %s | %s | %s |\n",
			res.N, cell(res.Name), cell(res.Load), cell(res.Faults), ready, res.Lost,
			res.DupReleases, res.DupNamespaces, res.DupSecrets, res.OrphanNamespaces, res.timeCell(), cell(res.recoveryCell()), res.heldCell())
	}
	b.WriteString("\nThe other invariants, per scenario: orphaned releases, records whose phase the cluster contradicts, credentials changed since first seen, credential values found in the worker's, the API's and Temporal's logs and in Temporal's database, and 5xx answers.\n\n")
	b.WriteString("| # | orphaned releases | phase ≠ cluster | credentials changed | secret values in logs (bytes scanned) | API answers | wall time |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, res := range r.Results {
		if res.NotRun != "" {
			continue
		}
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %d (%s) | %s | %s |\n", res.N, res.OrphanReleases, res.Mismatches, res.SecretsChanged,
			res.SecretHits, fmtBytes(res.ScannedBytes), cell(apiclient.StatusSummary(res.API)), fmtDur(res.Elapsed.Round(time.Second)))
	}
	for _, res := range r.Results {
		fmt.Fprintf(&b, "\n**%d. %s.** ", res.N, res.Name)
		if res.NotRun != "" {
			fmt.Fprintf(&b, "Not run: %s\n", res.NotRun)
			continue
		}
		var parts []string
		parts = append(parts, res.Notes...)
		for _, u := range res.Unexpected {
			parts = append(parts, "unexpected exit: "+u)
		}
		b.WriteString(strings.Join(parts, "; "))
		if len(parts) > 0 {
			b.WriteString(".")
		}
		b.WriteString("\n")
		if len(res.Failures) > 0 {
			fmt.Fprintf(&b, "Invariants that failed (%d):\n\n", len(res.Failures))
			for _, f := range firstN(res.Failures, 25) {
				fmt.Fprintf(&b, "- %s\n", cell(f))
			}
			if len(res.Failures) > 25 {
				fmt.Fprintf(&b, "- … and %d more\n", len(res.Failures)-25)
			}
		}
	}
	return b.String()
}

// Text is the table for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos: seed %d, scale %s, %s\n", r.Seed, r.Scale, fmtDur(r.Elapsed.Round(time.Second)))
	fmt.Fprintf(&b, "%-2s %-52s %-9s %-4s %-9s %-6s %-22s %s\n", "#", "scenario", "ready", "lost", "dup r/n/s", "orphan", "time to all-ready", "held")
	for _, res := range r.Results {
		if res.NotRun != "" {
			fmt.Fprintf(&b, "%-2d %-52s not run: %s\n", res.N, res.Name, res.NotRun)
			continue
		}
		fmt.Fprintf(&b, "%-2d %-52s %-9s %-4d %-9s %-6d %-22s %s\n", res.N, res.Name, fmt.Sprintf("%d/%d", res.Ready+res.Deleted, res.Requested),
			res.Lost, fmt.Sprintf("%d/%d/%d", res.DupReleases, res.DupNamespaces, res.DupSecrets), res.OrphanNamespaces+res.OrphanReleases,
			res.timeCell(), strings.Trim(res.heldCell(), "*"))
		fmt.Fprintf(&b, "   load: %s\n   faults: %s\n", res.Load, res.Faults)
		if res.Kills > 0 || res.Recovery != "" {
			fmt.Fprintf(&b, "   recovery: %s\n", res.recoveryCell())
		}
		for _, n := range res.Notes {
			fmt.Fprintf(&b, "   %s\n", n)
		}
		for _, f := range firstN(res.Failures, 8) {
			fmt.Fprintf(&b, "   FAILED: %s\n", f)
		}
	}
	return b.String()
}

// docMarkers surround the section WriteDoc replaces; the rest of the page
// is people's.
var docMarkers = docsection.For("chaos", "`make chaos`, cmd/chaos")

// WriteDoc writes the report and its plots between the markers of the page
// at path, keeping the text around them.
func (r *Report) WriteDoc(path string) error {
	plots, err := r.WritePlots(filepath.Dir(path))
	if err != nil {
		return err
	}
	return docsection.Write(path, docMarkers, r.Markdown()+plots, "Reliability")
}

// cell makes text safe for a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 0, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 0, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// scanLogs looks for every credential value seen on the shared stack in
// its logs and extra files (Temporal's database), and counts each hit in
// the scenario of the store the value belongs to.
func (s *suite) scanLogs(results []*Result, logs, extra []string) {
	byN := map[int]*Result{}
	for _, r := range results {
		byN[r.N] = r
	}
	owners := s.sw.owners()
	hits, scanned, err := scan(owners, append(logs, extra...))
	for _, r := range results {
		r.ScannedBytes = scanned
		if err != nil {
			r.fail("secret scan: %v", err)
		}
	}
	for _, h := range hits {
		var n int
		_, _ = fmt.Sscanf(h.Owner, "s%d-", &n)
		r := byN[n]
		if r == nil && len(results) > 0 {
			r = results[0]
		}
		if r != nil {
			r.SecretHits++
			r.fail("a credential of %s is in %s at byte %d", h.Owner, filepath.Base(h.File), h.Offset)
		}
	}
	s.log.Info("secret scan", "values", len(owners), "files", len(logs)+len(extra), "bytes", scanned, "hits", len(hits))
}

// scanDev is scanLogs for a `storeplatform-dev` of scenario 6: its output
// (the API's and the worker's logs), its stack's logs and Temporal's
// database.
func (s *suite) scanDev(_ context.Context, res *Result, d *devInstance, sw *secretWatch) {
	files, _ := filepath.Glob(filepath.Join(d.dir, "logs", "*.log"))
	files = append(files, filepath.Join(d.dir, "dev.log"), filepath.Join(d.dir, "temporal.db"))
	hits, scanned, err := scan(sw.owners(), files)
	res.ScannedBytes = scanned
	if err != nil {
		res.fail("secret scan: %v", err)
	}
	for _, h := range hits {
		res.SecretHits++
		res.fail("a credential of %s is in %s at byte %d", h.Owner, filepath.Base(h.File), h.Offset)
	}
	if len(sw.owners()) == 0 {
		res.fail("secret scan: no credential value was seen to scan for")
	}
}

func scan(owners map[string]string, files []string) ([]hit, int64, error) {
	sc, odd := newSecretScan(owners)
	if len(odd) > 0 {
		return nil, 0, fmt.Errorf("%d credential values are not 64 characters long and were not scanned for", len(odd))
	}
	var (
		all     []hit
		scanned int64
	)
	for _, f := range files {
		h, n, err := sc.file(f)
		scanned += n
		if err != nil {
			return all, scanned, err
		}
		all = append(all, h...)
	}
	return all, scanned, nil
}
