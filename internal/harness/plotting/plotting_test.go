package plotting

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
)

func TestSteps(t *testing.T) {
	for _, tt := range []struct {
		name     string
		times    []time.Duration
		fraction bool
		wantLast float64
		wantLen  int
	}{
		{"empty", nil, false, 0, 0},
		{"count", []time.Duration{3 * time.Second, time.Second}, false, 2, 5},
		{"fraction", []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 4 * time.Second}, true, 1, 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			xys := steps(tt.times, tt.fraction)
			if len(xys) != tt.wantLen {
				t.Fatalf("%d points, want %d", len(xys), tt.wantLen)
			}
			if len(xys) == 0 {
				return
			}
			if last := xys[len(xys)-1]; last.Y != tt.wantLast {
				t.Fatalf("ends at %v, want %v", last.Y, tt.wantLast)
			}
			for i := 1; i < len(xys); i++ {
				if xys[i].X < xys[i-1].X || xys[i].Y < xys[i-1].Y {
					t.Fatalf("not a rising step line at %d: %v", i, xys)
				}
			}
		})
	}
}

func TestSaveWritesAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.png")
	f := Figure{Title: "t", XLabel: "s", YLabel: "n",
		Series: []Series{{Name: "a", Times: []time.Duration{time.Second, 2 * time.Second}}, {Name: "b"}},
		Marks:  []Line{{Label: "goal", At: 15 * time.Second}}}
	if err := f.Save(path, 16*vg.Centimeter, 10*vg.Centimeter); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w < 300 {
		t.Fatalf("%d pixels wide", w)
	}
	if err := (Figure{}).Save(path, vg.Centimeter, vg.Centimeter); err == nil {
		t.Fatal("a figure without series saved")
	}
}
