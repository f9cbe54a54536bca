package fuzzhttp

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Figure is one line of the figures table.
type Figure struct {
	Name  string
	Count int
	// Known is how many of Count are known bugs (the caller's list).
	Known int
	// MustBeZero marks the figures the run is judged by.
	MustBeZero bool
}

// Figures are the run's figures: what was sent, then one line per kind of
// finding, with how many of them known says are known bugs; extra are the
// caller's (panics in the server's log, stores made by refused requests).
func (r *Result) Figures(known func(Finding) bool, extra ...Figure) []Figure {
	kind := func(name, k string) Figure {
		f := Figure{Name: name, MustBeZero: true}
		for _, x := range r.Findings {
			if x.Kind == k {
				f.Count++
				if known != nil && known(x) {
					f.Known++
				}
			}
		}
		return f
	}
	figs := []Figure{
		{Name: "requests sent", Count: r.Sent},
		{Name: "  skipped (store-create budget spent)", Count: r.Skipped},
		{Name: "  answered 2xx", Count: r.ByClass["2xx"]},
		{Name: "  answered 3xx", Count: r.ByClass["3xx"]},
		{Name: "  answered 4xx", Count: r.ByClass["4xx"]},
		{Name: "  answered 5xx", Count: r.ByClass["5xx"]},
		{Name: "  no answer", Count: r.ByClass["none"]},
		{Name: "stores made by 2xx creates", Count: len(r.Created)},
		kind("5xx answers", KindServerError),
		kind("no answer (reset, closed, timed out)", KindNoAnswer),
		kind("3xx redirects under /api", KindRedirect),
		kind("4xx not application/problem+json", KindNotProblem),
		kind("cross-tenant data seen", KindCrossTenant),
	}
	return append(figs, extra...)
}

// marks are a figure's "known" and "must be" cells: how many are known
// bugs (blank for none) and "0" for the figures that must be 0.
func (f Figure) marks() (known, must string) {
	if f.Known > 0 {
		known = fmt.Sprint(f.Known)
	}
	if f.MustBeZero {
		must = "0"
	}
	return known, must
}

// WriteTable prints figures as a table: count, how many of them are known
// bugs, and "0" for the figures that must be 0.
func WriteTable(w io.Writer, figs []Figure) {
	fmt.Fprintf(w, "%-44s %8s %8s %8s\n", "figure", "count", "known", "must be")
	for _, f := range figs {
		known, must := f.marks()
		fmt.Fprintf(w, "%-44s %8d %8s %8s\n", f.Name, f.Count, known, must)
	}
}

// WriteMarkdown prints figures as a Markdown table (for docs/).
func WriteMarkdown(w io.Writer, figs []Figure) {
	fmt.Fprintln(w, "| figure | count | known bugs | must be |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, f := range figs {
		known, must := f.marks()
		name := strings.TrimSpace(f.Name)
		if strings.HasPrefix(f.Name, " ") {
			name = "… " + name
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s |\n", strings.ReplaceAll(name, "|", `\|`), f.Count, known, must)
	}
}

// Group is findings that share a Key: most likely one bug.
type Group struct {
	Key      string
	Findings []Finding
}

// Groups groups findings by Key, the biggest group first.
func Groups(fs []Finding) []Group {
	by := map[string][]Finding{}
	for _, f := range fs {
		by[f.Key()] = append(by[f.Key()], f)
	}
	out := make([]Group, 0, len(by))
	for k, v := range by {
		out = append(out, Group{Key: k, Findings: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Findings) != len(out[j].Findings) {
			return len(out[i].Findings) > len(out[j].Findings)
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// WriteGroups prints each group with up to examples of its findings.
func WriteGroups(w io.Writer, groups []Group, examples int) {
	for _, g := range groups {
		fmt.Fprintf(w, "\n%d × %s\n", len(g.Findings), g.Key)
		for i, f := range g.Findings {
			if i == examples {
				idx := make([]string, 0, len(g.Findings)-examples)
				for _, f := range g.Findings[examples:] {
					idx = append(idx, fmt.Sprint(f.Index))
				}
				if len(idx) > 20 {
					idx = append(idx[:20], "...")
				}
				fmt.Fprintf(w, "  and requests %s\n", strings.Join(idx, ","))
				break
			}
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(f.Request, "\n", "\n  "))
			fmt.Fprintf(w, "  -> %d Content-Type %q", f.Status, f.ContentType)
			if f.Location != "" {
				fmt.Fprintf(w, " Location %s", excerptString(f.Location, 200))
			}
			if f.Detail != "" {
				fmt.Fprintf(w, "; %s", f.Detail)
			}
			fmt.Fprintf(w, "\n     body %s\n", f.Excerpt)
		}
	}
}
