package chaos

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/storeplatform/storeplatform/internal/harness/plotting"
)

// Plot files, written next to the page by WriteDoc.
const (
	readyPlot    = "reliability-ready.png"
	recoveryPlot = "reliability-recovery.png"
)

// recoveryGoal is issue #12's goal: an interrupted activity moves again
// within 15 s of a live worker being available.
const recoveryGoal = 15 * time.Second

// WritePlots draws the run's figures into dir: stores ready over time in
// each scenario that creates stores, and the share of interrupted
// activities that moved again by time since their worker's kill. It
// returns the Markdown that shows them.
func (r *Report) WritePlots(dir string) (string, error) {
	var ready, recovery []plotting.Series
	for _, res := range r.Results {
		if res.NotRun != "" {
			continue
		}
		if len(res.ReadyTimes) > 0 && res.N != 5 && res.N != 7 {
			ready = append(ready, plotting.Series{Name: fmt.Sprintf("%d. %s", res.N, short(res.Name)), Times: res.ReadyTimes})
		}
		if len(res.RecoveryFromKill) > 0 {
			recovery = append(recovery, plotting.Series{Name: fmt.Sprintf("%d. %s (%d)", res.N, short(res.Name), len(res.RecoveryFromKill)), Times: res.RecoveryFromKill})
		}
	}
	var md strings.Builder
	if len(ready) > 0 {
		f := plotting.Figure{Title: "Stores ready over time, per scenario", XLabel: "seconds since the first request", YLabel: "stores ready", Series: ready}
		if err := f.Save(filepath.Join(dir, readyPlot), 18*vg.Centimeter, 11*vg.Centimeter); err != nil {
			return "", err
		}
		fmt.Fprintf(&md, "\n![Stores ready over time in each scenario that creates stores](%s)\n", readyPlot)
	}
	if len(recovery) > 0 {
		f := plotting.Figure{Title: "Interrupted activities moving again after a worker SIGKILL", XLabel: "seconds since the kill",
			YLabel: "share of interrupted activities", Series: recovery, Fraction: true,
			Marks: []plotting.Line{{Label: "goal: 15 s", At: recoveryGoal}}}
		if err := f.Save(filepath.Join(dir, recoveryPlot), 18*vg.Centimeter, 11*vg.Centimeter); err != nil {
			return "", err
		}
		fmt.Fprintf(&md, "\n![Share of interrupted activities moving again by time since the kill](%s)\n", recoveryPlot)
	}
	return md.String(), nil
}

// short is a scenario's name cut for a legend.
func short(name string) string {
	if i := strings.Index(name, ":"); i > 0 {
		name = name[:i]
	}
	if len(name) > 40 {
		name = name[:39] + "…"
	}
	return name
}
