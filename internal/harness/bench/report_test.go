package bench

import (
	"strings"
	"testing"
	"time"
)

func TestQuantileIsNearestRank(t *testing.T) {
	l := latencies{}
	for i := 100; i >= 1; i-- {
		l.times = append(l.times, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := l.quantile(q); got != want {
			t.Errorf("quantile(%g) = %s, want %s", q, got, want)
		}
	}
	if got := (latencies{}).quantile(0.5); got != 0 {
		t.Errorf("quantile of nothing = %s, want 0", got)
	}
}

// TestRowsGiveEveryFigureItsRatio builds the table of a made-up run: each
// at-once row is compared with its peers, the sequential estimate is scaled
// from the stores measured, and a row not run is left out.
func TestRowsGiveEveryFigureItsRatio(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	r := &Report{
		Options:     Options{Stores: 4, PostClients: 2, Streams: 50},
		OnePlatform: []time.Duration{s(1), s(3), s(2)}, OneHelm: []time.Duration{s(4), s(4), s(4)},
		CreatePlatform: []time.Duration{s(5), s(10)}, CreateHelm: []time.Duration{s(20)}, CreateFloor: []time.Duration{s(5)},
		DeletePlatform: []time.Duration{s(6)}, DeleteHelm: []time.Duration{s(3)},
		SequentialN: 2, SequentialTotal: s(10),
		EventFinds: []float64{1, 1},
		CPU:        map[string]time.Duration{"api": s(1), "worker": s(3)},
	}
	rows := r.Rows()
	want := map[string][]string{
		"one store":         {"2.0 s", "4.0 s", "0.50× helm CLI"},
		"stores requested":  {"10.0 s", "20.0 s", "0.50× helm CLI", "2.00× the floor"},
		"deleted":           {"6.0 s", "3.0 s", "2.00× helm CLI"},
		"one after another": {"≈ 20.0 s", "×2", "platform 2.0× faster"},
		"find":              {"1.0/s vs 1.0/s", "1.0×"},
		"CPU per store":     {"2.00 CPU-s"},
	}
	for key, parts := range want {
		var row *Row
		for i := range rows {
			if strings.Contains(rows[i].Work, key) {
				row = &rows[i]
			}
		}
		if row == nil {
			t.Errorf("no row %q in %+v", key, rows)
			continue
		}
		all := row.Platform + " | " + row.HelmCLI + " | " + row.Floor + " | " + row.Ratio
		for _, p := range parts {
			if !strings.Contains(all, p) {
				t.Errorf("row %q: %q lacks %q", key, all, p)
			}
		}
	}
	for _, row := range rows {
		if strings.Contains(row.Work, "POST /api/stores") || strings.Contains(row.Work, "GET /api/stores") || strings.Contains(row.Work, "RSS") {
			t.Errorf("row %q of a measurement that did not run", row.Work)
		}
	}
}
