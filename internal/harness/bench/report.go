package bench

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/storeplatform/storeplatform/internal/harness/apiclient"
	"github.com/storeplatform/storeplatform/internal/harness/devstack"
	"github.com/storeplatform/storeplatform/internal/harness/docsection"
	"github.com/storeplatform/storeplatform/internal/harness/plotting"
)

// Row is one line of the table: the work, the figure of the platform and
// of each peer ("" when not measured), and their ratio with the issue's
// goal.
type Row struct {
	Work, Platform, HelmCLI, Floor, Ratio string
}

// Rows are the report's table, one row for each measurement the run made.
func (r *Report) Rows() []Row {
	var rows []Row
	for _, part := range [][]Row{
		r.oneRows(), r.createRows(), r.apiRows(), r.deleteRows(), r.sequentialRows(),
		r.postRows(), r.postCPURows(), r.listRows(), r.eventRows(), r.cpuRows(), r.rssRows(),
	} {
		rows = append(rows, part...)
	}
	return rows
}

// oneRows is the row of one store's creation, request to ready, beside the
// helm CLI's.
func (r *Report) oneRows() []Row {
	if len(r.OnePlatform) == 0 {
		return nil
	}
	p, h := median(r.OnePlatform), median(r.OneHelm)
	row := Row{Work: fmt.Sprintf("one store, request → ready (median of %d)", len(r.OnePlatform)), Platform: secs(p)}
	if len(r.OneHelm) > 0 {
		row.HelmCLI = secs(h) + " (namespace + Secret + `install --wait`)"
		row.Ratio = ratio(p, h, "helm CLI") + " (goal ≤ 0.5×)"
	}
	return []Row{row}
}

// createRows is the row of the at-once creation, beside the helm CLI's and
// the floor's.
func (r *Report) createRows() []Row {
	if len(r.CreatePlatform) == 0 {
		return nil
	}
	p := slowest(r.CreatePlatform)
	row := Row{Work: fmt.Sprintf("%d stores requested at once → all ready", len(r.CreatePlatform)),
		Platform: fmt.Sprintf("%s (all POSTs answered after %s)", secs(p), secs(r.PostsAnswered))}
	var ratios []string
	if len(r.CreateHelm) > 0 {
		row.HelmCLI = secs(slowest(r.CreateHelm)) + fmt.Sprintf(" (%d parallel installs)", len(r.CreateHelm))
		ratios = append(ratios, ratio(p, slowest(r.CreateHelm), "helm CLI")+" (goal ≤ 0.5×)")
	}
	if len(r.CreateFloor) > 0 {
		row.Floor = secs(slowest(r.CreateFloor))
		ratios = append(ratios, ratio(p, slowest(r.CreateFloor), "the floor")+" (goal ≤ 1.5×)")
	}
	row.Ratio = strings.Join(ratios, "; ")
	return []Row{row}
}

// deleteRows is the row of the deletion of the at-once stores, beside the
// helm CLI's and the floor's.
func (r *Report) deleteRows() []Row {
	if len(r.DeletePlatform) == 0 {
		return nil
	}
	p := slowest(r.DeletePlatform)
	row := Row{Work: fmt.Sprintf("the same %d deleted → namespaces gone", len(r.DeletePlatform)), Platform: secs(p)}
	if len(r.DeleteHelm) > 0 {
		row.HelmCLI = secs(slowest(r.DeleteHelm)) + " (parallel uninstall + namespace delete)"
		row.Ratio = ratio(p, slowest(r.DeleteHelm), "helm CLI") + " (goal ≤ 0.5×)"
	}
	if len(r.DeleteFloor) > 0 {
		row.Floor = secs(slowest(r.DeleteFloor)) + " (namespace delete only)"
	}
	return []Row{row}
}

// sequentialRows is the row of the stores made one after another with the
// helm CLI, scaled from those measured to Options.Stores, beside the
// platform's at-once creation.
func (r *Report) sequentialRows() []Row {
	if r.SequentialN <= 0 {
		return nil
	}
	n := r.Options.Stores
	est := r.SequentialTotal * time.Duration(n) / time.Duration(r.SequentialN)
	row := Row{Work: fmt.Sprintf("%d stores one after another (record, then `helm install --wait`)", n),
		HelmCLI: fmt.Sprintf("≈ %s (%d measured: %s, ×%.3g)", secs(est), r.SequentialN, secs(r.SequentialTotal), float64(n)/float64(r.SequentialN))}
	if len(r.CreatePlatform) > 0 {
		p := slowest(r.CreatePlatform)
		row.Platform = secs(p) + " (all at once, above)"
		row.Ratio = fmt.Sprintf("platform %.1f× faster (goal ≥ 10×)", est.Seconds()/p.Seconds())
	}
	return []Row{row}
}

// postRows are the rows of the POST latencies, a tenant for each client
// and all clients of one tenant.
func (r *Report) postRows() []Row {
	var rows []Row
	for _, p := range []struct {
		l    latencies
		whom string
	}{{r.Post, "a tenant each"}, {r.PostOneTenant, "all of one tenant"}} {
		if len(p.l.times) > 0 {
			rows = append(rows, Row{Work: fmt.Sprintf("`POST /api/stores`, %d requests from %d concurrent clients, %s", len(p.l.times), r.Options.PostClients, p.whom),
				Platform: fmt.Sprintf("p50 %s, p99 %s (%s)", ms(p.l.quantile(0.5)), ms(p.l.quantile(0.99)), apiclient.StatusSummary(p.l.statuses)),
				Ratio:    "goal p99 ≤ 100 ms"})
		}
	}
	return rows
}

// postCPURows is the row of the CPU every process used per POST, and the
// shortest answer that CPU allows the clients on this machine's cores.
func (r *Report) postCPURows() []Row {
	n := r.Post.statuses[http.StatusAccepted]
	if n <= 0 || len(r.PostUse.CPU) == 0 || r.Cores <= 0 {
		return nil
	}
	per := r.PostUse.cpuTotal() / time.Duration(n)
	var parts []string
	for _, p := range []string{"api", devstack.ProcFerretDB, devstack.ProcTemporal} {
		parts = append(parts, fmt.Sprintf("%s %s", p, ms(r.PostUse.CPU[p]/time.Duration(n))))
	}
	return []Row{{Work: fmt.Sprintf("CPU of every process per `POST` in that row (%d created, until their workflows had started), and the shortest answer %d clients sending at once can get from it (Little's law: clients × CPU per request ÷ cores)", n, r.Options.PostClients),
		Platform: fmt.Sprintf("%s (%s) → ≥ %s per request on %d cores", ms(per), strings.Join(parts, ", "), ms(per*time.Duration(r.Options.PostClients)/time.Duration(r.Cores)), r.Cores),
		Ratio:    "context for the goal p99 ≤ 100 ms"}}
}

// listRows are the rows of the dashboard's first page: the API's
// latencies, and what the embedded store alone takes for that page.
func (r *Report) listRows() []Row {
	var rows []Row
	if len(r.List.times) > 0 {
		rows = append(rows, Row{Work: fmt.Sprintf("`GET /api/stores?limit=20` (the dashboard's first page), %d stores of the tenant, %d in all, %d requests one after another",
			r.Options.ListTenant, max(r.Options.ListTotal, r.Options.ListTenant), len(r.List.times)),
			Platform: fmt.Sprintf("p50 %s, p99 %s (%s)", ms(r.List.quantile(0.5)), ms(r.List.quantile(0.99)), apiclient.StatusSummary(r.List.statuses)),
			Ratio:    "goal p99 ≤ 50 ms"})
	}
	if f := r.ListFloor; f.Query > 0 {
		rows = append(rows, Row{Work: fmt.Sprintf("the embedded store alone for that page (FerretDB through the driver, median of 5): the API's query; %d reads by _id one after another", f.Limit+1),
			Floor: fmt.Sprintf("%s; %s", ms(f.Query), ms(f.ByID)),
			Ratio: "context: no design that reads the page from FerretDB can be faster than the smaller of the two"})
	}
	return rows
}

// eventRows is the row of MongoDB's finds per second with one event stream
// and with Options.Streams of them.
func (r *Report) eventRows() []Row {
	if len(r.EventFinds) != 2 {
		return nil
	}
	row := Row{Work: fmt.Sprintf("MongoDB `find`s per second with 1 vs %d open `GET /api/events` streams (in-process API, CommandMonitor)", r.Options.Streams),
		Platform: fmt.Sprintf("%.1f/s vs %.1f/s", r.EventFinds[0], r.EventFinds[1])}
	if r.EventFinds[0] > 0 {
		row.Ratio = fmt.Sprintf("%.1f× (goal ≤ 1×)", r.EventFinds[1]/r.EventFinds[0])
	}
	return []Row{row}
}

// cpuRows are the rows of the platform's own CPU per store in the at-once
// creation and, for context, the CPU of the rest of the stack then.
func (r *Report) cpuRows() []Row {
	api, ok := r.CPU["api"]
	if !ok || len(r.CreatePlatform) == 0 {
		return nil
	}
	w := r.CPU["worker"]
	per := (api + w).Seconds() / float64(len(r.CreatePlatform))
	rows := []Row{{Work: fmt.Sprintf("the platform's own CPU per store (api + worker, %d stores at once; FerretDB and Temporal apart)", len(r.CreatePlatform)),
		Platform: fmt.Sprintf("%.2f CPU-s (api %.2f s + worker %.2f s)", per, api.Seconds(), w.Seconds()),
		Ratio:    "goal ≤ 0.3 CPU-s"}}
	var ctx []string
	for _, p := range []string{"temporal", "kube-apiserver", "ferretdb"} {
		if d, ok := r.CPU[p]; ok {
			ctx = append(ctx, fmt.Sprintf("%s %.1f s", p, d.Seconds()))
		}
	}
	if len(ctx) > 0 {
		rows = append(rows, Row{Work: "CPU of the rest of the stack in that run (context)", Platform: strings.Join(ctx, ", ")})
	}
	return rows
}

// rssRows is the row of the worker's peak RSS in the at-once creation.
func (r *Report) rssRows() []Row {
	if r.WorkerPeakRSS <= 0 {
		return nil
	}
	return []Row{{Work: fmt.Sprintf("the worker's peak RSS with %d stores in flight", len(r.CreatePlatform)),
		Platform: fmt.Sprintf("%.0f MiB", float64(r.WorkerPeakRSS)/(1<<20)),
		Ratio:    "Flux helm-controller at concurrency 10: ~205 MiB"}}
}

// Who made the stores of an at-once creation (Report.APIUse's keys).
const (
	peerPlatform = "platform"
	peerHelm     = "helm CLI"
	peerFloor    = "floor"
)

// apiRows are the rows of kube-apiserver's requests per store in the
// at-once creations, and of the CPU every process used per store, with the
// shortest time that CPU allows on this machine's cores.
func (r *Report) apiRows() []Row {
	counts := map[string]int{peerPlatform: len(r.CreatePlatform), peerHelm: len(r.CreateHelm), peerFloor: len(r.CreateFloor)}
	req := func(who string) string {
		u, ok := r.APIUse[who]
		if !ok || counts[who] == 0 || u.Requests == nil {
			return ""
		}
		f := float64(counts[who])
		return fmt.Sprintf("%.0f (%.0f writes)", u.Requests.total(false)/f, u.Requests.total(true)/f)
	}
	cpu := func(who string) string {
		u, ok := r.APIUse[who]
		if !ok || counts[who] == 0 || len(u.CPU) == 0 {
			return ""
		}
		f := float64(counts[who])
		total := u.cpuTotal()
		return fmt.Sprintf("%.2f CPU-s (kube-apiserver %.2f) → ≥ %s on %d cores", total.Seconds()/f,
			u.CPU["kube-apiserver"].Seconds()/f, secs(total/time.Duration(r.Cores)), r.Cores)
	}
	var rows []Row
	if row := (Row{Work: "kube-apiserver requests per store in that creation, from every client (writes)",
		Platform: req(peerPlatform), HelmCLI: req(peerHelm), Floor: req(peerFloor)}); row.Platform != "" {
		rows = append(rows, row)
	}
	if row := (Row{Work: "CPU of every process per store in that creation (the stack's, and the platform's api and worker), and the shortest time that CPU allows",
		Platform: cpu(peerPlatform), HelmCLI: cpu(peerHelm), Floor: cpu(peerFloor)}); row.Platform != "" && r.Cores > 0 {
		rows = append(rows, row)
	}
	return rows
}

// apiBreakdown is the largest kinds of kube-apiserver request per store in
// the at-once creations, the platform's, the helm CLI's and the floor's
// side by side: where the platform's extra requests go.
func (r *Report) apiBreakdown(n int) string {
	u, ok := r.APIUse[peerPlatform]
	if !ok || len(r.CreatePlatform) == 0 || u.Requests == nil {
		return ""
	}
	counts := map[string]int{peerPlatform: len(r.CreatePlatform), peerHelm: len(r.CreateHelm), peerFloor: len(r.CreateFloor)}
	kinds := u.Requests.top(n)
	for _, who := range []string{peerHelm, peerFloor} {
		for _, k := range r.APIUse[who].Requests.top(n) {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| kube-apiserver requests per store | %s | %s | %s |\n|---|---|---|---|\n", peerPlatform, peerHelm, peerFloor)
	for _, k := range kinds {
		fmt.Fprintf(&b, "| `%s` |", k)
		for _, who := range []string{peerPlatform, peerHelm, peerFloor} {
			c := r.APIUse[who].Requests
			if c == nil || counts[who] == 0 {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(&b, " %.1f |", c[k]/float64(counts[who]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Text is the table for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bench of %s UTC: %s; %s; load average %s before, %s after; %s in all\n",
		r.Started.Format("2006-01-02 15:04"), r.Machine, r.Versions, r.LoadBefore, r.LoadAfter, r.Elapsed.Round(time.Second))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "work\tplatform\thelm CLI\tfloor\tratio")
	for _, row := range r.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.Work, dash(row.Platform), dash(row.HelmCLI), dash(row.Floor), dash(row.Ratio))
	}
	tw.Flush()
	for _, p := range r.Problems {
		fmt.Fprintln(&b, "not measured:", p)
	}
	return b.String()
}

// Markdown is the page's section: the run's header, the table, the plot,
// the profile's top functions and what was not measured.
func (r *Report) Markdown(plot, profile string) string {
	var b strings.Builder
	o := r.Options
	fmt.Fprintf(&b, "Run of %s UTC on %s; %s; load average %s before, %s after; `make bench` took %s. Local stack of its own: %d kwok nodes, FerretDB (SQLite) and the Temporal dev server in processes of their own, one `storeplatform api` and one `storeplatform worker`; profile `local`, WooCommerce, size small.\n\n",
		r.Started.Format("2006-01-02 15:04"), r.Machine, r.Versions, r.LoadBefore, r.LoadAfter, r.Elapsed.Round(time.Second), nodesFor(o.Stores))
	b.WriteString("| work | platform | helm CLI | floor | ratio |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.Work, dash(row.Platform), dash(row.HelmCLI), dash(row.Floor), dash(row.Ratio))
	}
	b.WriteString("\nRatios are the platform's time over the peer's (below 1: the platform is faster).\n")
	if len(r.Problems) > 0 {
		b.WriteString("\nNot measured in this run:\n\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	if t := r.apiBreakdown(10); t != "" {
		b.WriteString("\nWhere kube-apiserver's requests of the at-once creations went (per store, from every client: the platform's or the peer's own, and those of the controllers, the scheduler and kwok):\n\n")
		b.WriteString(t)
	}
	if plot != "" {
		fmt.Fprintf(&b, "\n![Stores ready over time, %d requested at once](%s)\n", o.Stores, plot)
	}
	if r.ProfileTop != "" {
		fmt.Fprintf(&b, "\nThe worker's CPU profile of the %d s from the platform's %d requests at once (all ready after %s; [`%s`](%s), `go tool pprof -top -cum -nodecount=30 bin/storeplatform %s`, where the time goes, callers included):\n\n```\n%s\n```\n",
			o.ProfileSeconds, o.Stores, secs(slowest(r.CreatePlatform)), profile, profile, profile, r.ProfileTop)
	}
	return b.String()
}

// WriteDoc writes the section into the page at path (between the bench
// markers) and the plot beside it as plotName.
func (r *Report) WriteDoc(path, plotName, profileRel string) error {
	plotRel := ""
	if len(r.CreatePlatform) > 0 {
		if err := r.Plot(filepath.Join(filepath.Dir(path), plotName)); err != nil {
			return err
		}
		plotRel = plotName
	}
	return docsection.Write(path, docsection.For("bench", "`make bench`, cmd/bench"), r.Markdown(plotRel, profileRel), "Benchmarks")
}

// Plot draws the stores ready over time of the at-once creations.
func (r *Report) Plot(path string) error {
	var series []plotting.Series
	for _, s := range []struct {
		name  string
		times []time.Duration
	}{{"platform", r.CreatePlatform}, {"helm CLI (parallel installs)", r.CreateHelm}, {"floor (client-go apply)", r.CreateFloor}} {
		if len(s.times) > 0 {
			series = append(series, plotting.Series{Name: s.name, Times: s.times})
		}
	}
	f := plotting.Figure{
		Title:  fmt.Sprintf("%d stores requested at once: stores ready over time", r.Options.Stores),
		XLabel: "seconds since the requests", YLabel: "stores ready", Series: series,
	}
	return f.Save(path, 18*vg.Centimeter, 11*vg.Centimeter)
}

func median(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(p, peer time.Duration, name string) string {
	if peer <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f× %s", p.Seconds()/peer.Seconds(), name)
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
