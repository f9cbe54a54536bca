package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriteDocKeepsTheWrittenText: the table goes between the markers; the
// text around them stays, and a second run replaces the first's table.
func TestWriteDocKeepsTheWrittenText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reliability.md")
	if err := os.WriteFile(path, []byte("# Reliability\n\nIntro.\n\n"+docMarkers.Begin+"\nold table\n"+docMarkers.End+"\n\n## Findings\n\nKept.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &Report{Seed: 7, Scale: "quick", Started: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), Elapsed: time.Minute,
		Results: []*Result{
			{N: 1, Name: "Workers", Load: "10 creates", Faults: "2 kills", Requested: 10, verdict: verdict{Ready: 10}, TimeToAll: 20 * time.Second,
				ReadyTimes: []time.Duration{5 * time.Second, 20 * time.Second},
				Kills:      2, RecoveryFromUp: []time.Duration{8 * time.Second, 31 * time.Second}, RecoveryFromKill: []time.Duration{9 * time.Second, 32 * time.Second}},
			{N: 3, Name: "FerretDB | down", Requested: 5, verdict: verdict{Ready: 5, Failures: []string{"500 | while down"}}},
			{N: 6, Name: "Power loss", NotRun: "ports in use"},
		}}
	for range 2 {
		if err := rep.WriteDoc(path); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{"# Reliability\n\nIntro.\n\n" + docMarkers.Begin, docMarkers.End + "\n\n## Findings\n\nKept.\n",
		"seed `7`", "| 1 | Workers | 10 creates | 2 kills | 10/10 | 0 | 0 / 0 / 0 | 0 | 20 s |",
		"max 31 s, median 31 s from the replacement worker polling (max 32 s from the kill); 1 over 15 s", "| **yes** |",
		`FerretDB \| down`, `- 500 \| while down`, "**no** (1)", "not run: ports in use"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the page lacks %q:\n%s", want, doc)
		}
	}
	for _, plot := range []string{readyPlot, recoveryPlot} {
		if !strings.Contains(doc, "]("+plot+")") {
			t.Errorf("the page does not show %s", plot)
		}
		if fi, err := os.Stat(filepath.Join(filepath.Dir(path), plot)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", plot, err)
		}
	}
	if strings.Contains(doc, "old table") || strings.Count(doc, docMarkers.Begin) != 1 {
		t.Errorf("the old table was not replaced once:\n%s", doc)
	}
}
