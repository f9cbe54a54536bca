// Package plotting draws the figures of docs/ (benchmarks, reliability) as
// PNG files with gonum/plot, from the figures the suites measured.
package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one line of a plot: a name for the legend and the durations
// it is drawn from (a store's time to ready, an activity's recovery).
type Series struct {
	Name  string
	Times []time.Duration
}

// palette is a set of colours that stay apart in print and for common
// colour blindness (Okabe–Ito).
var palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
}

// Line is a vertical marker: a goal or a fault.
type Line struct {
	Label string
	At    time.Duration
}

// Figure is a step plot of how many of each series' durations are done by
// time t: stores ready over time when the durations are times to ready, the
// share of activities that moved again when they are recovery times
// (Fraction: y from 0 to 1).
type Figure struct {
	Title, XLabel, YLabel string
	Series                []Series
	// Fraction plots the share of each series (0..1) instead of the count.
	Fraction bool
	// Marks are vertical lines (goals, faults).
	Marks []Line
}

// Save writes f to path as a PNG of w×h centimetres.
func (f Figure) Save(path string, w, h vg.Length) error {
	if len(f.Series) == 0 {
		return errors.New("plotting: no series")
	}
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.Y.Min = 0
	p.X.Min = 0
	// The lines rise from the bottom left to the right: the top left
	// stays free.
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(8)
	p.Legend.YOffs = -vg.Points(4)
	p.Add(plotter.NewGrid())
	top := 0.0
	for i, s := range f.Series {
		xys := steps(s.Times, f.Fraction)
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(2)
		if i >= len(palette) {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add(s.Name, l)
		top = max(top, xys[len(xys)-1].Y)
	}
	for _, m := range f.Marks {
		x := m.At.Seconds()
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: max(top, 1)}})
		if err != nil {
			return err
		}
		l.Color = color.RGBA{120, 120, 120, 255}
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(m.Label, l)
	}
	return p.Save(w, h, path)
}

// steps is the cumulative step line of times: (0,0), then at each time one
// more (or 1/len more with fraction).
func steps(times []time.Duration, fraction bool) plotter.XYs {
	if len(times) == 0 {
		return nil
	}
	ts := slices.Clone(times)
	slices.Sort(ts)
	unit := 1.0
	if fraction {
		unit = 1 / float64(len(ts))
	}
	xys := plotter.XYs{{X: 0, Y: 0}}
	for i, t := range ts {
		x := t.Seconds()
		xys = append(xys, plotter.XY{X: x, Y: float64(i) * unit}, plotter.XY{X: x, Y: float64(i+1) * unit})
	}
	return xys
}
