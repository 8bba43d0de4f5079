package report

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/internal/stats"
)

// File names of the plots PlotRun writes into a run directory.
const (
	SuccessPlotFile = "success.png"
	LossPlotFile    = "loss.png"
	LiftPlotFile    = "lift.png"
)

// Figure geometry. The legend gets a column of its own to the right of the panels so that it
// never hides a line, whatever the data.
const (
	plotDPI     = 150
	panelWidth  = 12 * vg.Centimeter
	panelHeight = 9 * vg.Centimeter
	figurePad   = 3 * vg.Millimeter
)

// metric picks a value out of a erl.Record; ok is false where the record does not have it.
type metric func(erl.Record) (v float64, ok bool)

// always makes a metric of a field every record has.
func always(f func(erl.Record) float64) metric {
	return func(r erl.Record) (float64, bool) { return f(r), true }
}

// trained makes a metric of a field every training step has: the record of step 0, the
// evaluation of the initial policy, has none.
func trained(f func(erl.Record) float64) metric {
	return func(r erl.Record) (float64, bool) { return f(r), r.Step > 0 }
}

// optional makes a metric of a field that only some records have.
func optional(f func(erl.Record) *float64) metric {
	return func(r erl.Record) (float64, bool) {
		p := f(r)
		if p == nil {
			return 0, false
		}
		return *p, true
	}
}

var (
	byStep     = always(func(r erl.Record) float64 { return float64(r.Step) })
	byEnvSteps = always(func(r erl.Record) float64 { return float64(r.EnvSteps) })
	byMinutes  = always(func(r erl.Record) float64 { return r.WallSeconds / 60 })

	evalGreedy  = optional(func(r erl.Record) *float64 { return r.EvalGreedy })
	evalSampled = optional(func(r erl.Record) *float64 { return r.EvalSampled })
	successPre  = trained(func(r erl.Record) float64 { return r.SuccessPre })
	successPost = optional(func(r erl.Record) *float64 { return r.SuccessPost })
)

// points returns (x, y) for the records that have y, skipping values a plot cannot place
// (NaN, ±Inf).
func points(recs []erl.Record, x, y metric) plotter.XYs {
	var xys plotter.XYs
	for _, r := range recs {
		xv, _ := x(r)
		yv, ok := y(r)
		if ok && !math.IsNaN(xv+yv) && !math.IsInf(xv+yv, 0) {
			xys = append(xys, plotter.XY{X: xv, Y: yv})
		}
	}
	return xys
}

// series is one named line of a figure.
type series struct {
	name string
	y    metric
	// marks draws a glyph at each point, for sparse series such as evaluations, whose points
	// a line alone would hide.
	marks bool
}

// addLine draws xys on p in the i-th style (colour, then dash pattern once the colours run
// out) and returns what a legend shows for it.
func addLine(p *plot.Plot, xys plotter.XYs, i int, marks bool) ([]plot.Thumbnailer, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.Color = lineColor(i)
	l.Dashes = plotutil.Dashes(i / len(plotutil.DarkColors))
	l.Width = vg.Points(1.5)
	p.Add(l)
	if !marks && len(xys) > 1 { // a line of one point draws nothing: it gets a glyph
		return []plot.Thumbnailer{l}, nil
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	s.Color = l.Color
	s.Shape = plotutil.Shape(i)
	s.Radius = vg.Points(2)
	p.Add(s)
	return []plot.Thumbnailer{l, s}, nil
}

// lineColor returns the colour of the i-th style of addLine.
func lineColor(i int) color.Color {
	return plotutil.DarkColors[i%len(plotutil.DarkColors)]
}

// addBand shades on p the area between the curves lo and hi, which share their x, in a
// translucent tint of the colour of the i-th style of addLine, and returns it for a legend.
func addBand(p *plot.Plot, lo, hi plotter.XYs, i int) (*plotter.Polygon, error) {
	ring := slices.Concat(lo, hi)
	slices.Reverse(ring[len(lo):])
	band, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil, err
	}
	r, g, b, _ := lineColor(i).RGBA() // opaque, so not premultiplied
	band.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x40}
	band.Width = 0 // the band has no outline: its edges are data, not a shape
	p.Add(band)
	return band, nil
}

// newPanel returns an empty plot with its labels set. Every x axis here counts from the start
// of a run, so it starts at zero.
func newPanel(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.X.Min = 0
	p.X.Tick.Marker = siTicks
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// siTicks are the default ticks labelled with four significant digits and an SI prefix
// (12.5, 250k, 1.2M): the default labels give environment step counts decimals.
var siTicks = plot.TickerFunc(func(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = formatSI(t.Value)
		}
	}
	return ticks
})

// countTicks are siTicks for an axis of counts (steps): a tick between two counts, such as
// 0.5 on the axis of a run of one step, is left unlabelled.
var countTicks = plot.TickerFunc(func(min, max float64) []plot.Tick {
	ticks := siTicks.Ticks(min, max)
	for i, t := range ticks {
		if t.Value != math.Trunc(t.Value) {
			ticks[i].Label = ""
		}
	}
	return ticks
})

// showCounts makes p's x axis an axis of counts that reaches at least 1, so that a run of one
// point, the evaluation of step 0 say, is drawn on an axis from 0 to 1, not around it.
func showCounts(p *plot.Plot) {
	p.X.Tick.Marker = countTicks
	p.X.Max = max(p.X.Max, 1)
}

// formatSI formats v with four significant digits and an SI prefix for thousands and up.
func formatSI(v float64) string {
	for _, u := range []struct {
		scale  float64
		prefix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.scale {
			return strconv.FormatFloat(v/u.scale, 'g', 4, 64) + u.prefix
		}
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// savePanels writes one PNG of panels side by side, with legend in a column to their right,
// through a temporary file renamed over path.
func savePanels(path string, panels []*plot.Plot, legend plot.Legend) error {
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(4)
	size := legend.Rectangle(draw.Canvas{}).Size()
	legendW := size.X + 2*figurePad
	width := vg.Length(len(panels))*panelWidth + legendW
	height := max(panelHeight, size.Y+2*figurePad)

	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(plotDPI))
	dc := draw.New(img)
	tiles := draw.Tiles{
		Rows: 1, Cols: len(panels),
		PadTop: figurePad, PadBottom: figurePad, PadLeft: figurePad, PadRight: figurePad,
		PadX: 2 * figurePad,
	}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, draw.Crop(dc, 0, -legendW, 0, 0))
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	legend.Draw(draw.Crop(dc, width-legendW+figurePad, -figurePad, figurePad, -figurePad))

	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}

// PlotRun writes the plots of one run into its directory dir: success.png, validation success
// (greedy and sampled) and training success before and after reflection, loss.png, the loss
// and its terms, all against training steps, and lift.png, the reflection's lift (PlotLift).
func PlotRun(dir string, recs []erl.Record) error {
	if len(recs) == 0 {
		return errors.New("report: PlotRun: no records")
	}
	figures := []struct {
		file, title, y string
		unit           bool // y is a rate in [0, 1]
		series         []series
	}{
		{SuccessPlotFile, "Success rate", "success rate", true, []series{
			{"validation, greedy", evalGreedy, true},
			{"validation, sampled", evalSampled, true},
			{"training, first attempt", successPre, false},
			{"training, after reflection", successPost, false},
		}},
		{LossPlotFile, "Loss", "loss (weighted terms)", false, []series{
			{"total", trained(func(r erl.Record) float64 { return r.Loss }), false},
			{"policy gradient", trained(func(r erl.Record) float64 { return r.PG }), false},
			{"KL", trained(func(r erl.Record) float64 { return r.KL }), false},
			{"distillation", trained(func(r erl.Record) float64 { return r.Distill }), false},
		}},
	}
	window := max(1, len(recs)/runPlotWindows)
	for _, f := range figures {
		p := newPanel(f.title, "training step", f.y)
		if f.unit {
			p.Y.Min, p.Y.Max = 0, 1
		}
		legend := plot.NewLegend()
		for i, s := range f.series {
			xys := points(recs, byStep, s.y)
			if len(xys) == 0 {
				continue // not measured in this run, e.g. no reflection in RLVR
			}
			name := s.name
			if !s.marks && window > 1 { // measured every step: draw the trend
				xys = movingAverage(xys, window)
				name = fmt.Sprintf("%s (mean of %d steps)", name, window)
			}
			thumbs, err := addLine(p, xys, i, s.marks)
			if err != nil {
				return fmt.Errorf("report: PlotRun %s: %w", s.name, err)
			}
			legend.Add(name, thumbs...)
		}
		showCounts(p)
		if err := savePanels(filepath.Join(dir, f.file), []*plot.Plot{p}, legend); err != nil {
			return err
		}
	}
	pooled, _ := PoolLift(recs)
	return PlotLift(filepath.Join(dir, LiftPlotFile), liftWindows(recs), pooled)
}

// PlotLift writes to path a PNG of the reflection's lift along a run, pooled over windows of
// steps (liftWindows), each point at the middle of its window with its 95% interval as a
// band: the lift itself against zero and the lift pooled over the whole run, and beside it the
// two success rates it is the difference of, the guided second attempts' and the plain
// retries', at the same attempts. With no windows (a run that measured no lift: RLVR, which
// retries nothing, or one with measure_lift off), the panels are empty and say so.
func PlotLift(path string, windows []Lift, pooled Lift) error {
	lift := newPanel("Reflection lift", "training step", "guided − plain retry success")
	rates := newPanel("Retries of the same failed attempts", "training step", "success rate")
	rates.Y.Min, rates.Y.Max = 0, 1
	legend := plot.NewLegend()
	if len(windows) == 0 {
		lift.Y.Min, lift.Y.Max = -1, 1
		showCounts(lift)
		showCounts(rates)
		legend.Add("not measured yet, or not in this run")
		legend.Add("(RLVR retries nothing; measure_lift false")
		legend.Add("measures nothing)")
		return savePanels(path, []*plot.Plot{lift, rates}, legend)
	}
	for i, s := range []struct {
		panel *plot.Plot
		name  string
		pick  func(Lift) stats.Estimate
	}{
		{lift, "lift (95% interval over tasks)", func(l Lift) stats.Estimate { return l.Lift }},
		{rates, "guided second attempt", func(l Lift) stats.Estimate { return l.Guided }},
		{rates, "plain retry (no guidance)", func(l Lift) stats.Estimate { return l.Plain }},
	} {
		var mid, lo, hi plotter.XYs
		for _, w := range windows {
			x, e := float64(w.FromStep+w.ToStep)/2, s.pick(w)
			mid, lo, hi = append(mid, plotter.XY{X: x, Y: e.Value}), append(lo, plotter.XY{X: x, Y: e.Lo}), append(hi, plotter.XY{X: x, Y: e.Hi})
		}
		band, err := addBand(s.panel, lo, hi, i)
		if err != nil {
			return fmt.Errorf("report: PlotLift: %w", err)
		}
		thumbs, err := addLine(s.panel, mid, i, len(mid) < 2)
		if err != nil {
			return fmt.Errorf("report: PlotLift: %w", err)
		}
		legend.Add(s.name, append([]plot.Thumbnailer{band}, thumbs...)...)
	}
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Color, zero.Dashes, zero.Width = color.Gray{Y: 90}, []vg.Length{vg.Points(5), vg.Points(3)}, vg.Points(1.2)
	whole := plotter.NewFunction(func(float64) float64 { return pooled.Lift.Value })
	whole.Color, whole.Dashes, whole.Width = lineColor(0), []vg.Length{vg.Points(2), vg.Points(2)}, vg.Points(1.2)
	lift.Add(zero, whole)
	legend.Add("no lift", zero)
	legend.Add(fmt.Sprintf("the whole run: %+.3f [%+.3f, %+.3f]", pooled.Lift.Value, pooled.Lift.Lo, pooled.Lift.Hi), whole)
	if w := windows[0]; w.Steps > 1 {
		legend.Add(fmt.Sprintf("(each point pools %d steps)", w.Steps))
	}
	showCounts(lift)
	showCounts(rates)
	return savePanels(path, []*plot.Plot{lift, rates}, legend)
}

// runPlotWindows is about how many windows PlotRun averages a series measured every step
// over: a step's success rate counts a few dozen attempts, too few to show a trend by itself.
const runPlotWindows = 25

// movingAverage returns xys with each y replaced by the mean of the window points ending at
// it (fewer at the start).
func movingAverage(xys plotter.XYs, window int) plotter.XYs {
	out := make(plotter.XYs, len(xys))
	var sum float64
	for i, p := range xys {
		sum += p.Y
		if i >= window {
			sum -= xys[i-window].Y
		}
		out[i] = plotter.XY{X: p.X, Y: sum / float64(min(i+1, window))}
	}
	return out
}

// Run is a named training run, for comparing runs: its records and, where it has them, its
// test scores and its summary. The summary stands in for the records where they are gone (a
// committed reproduction keeps its runs' summaries and test scores, not their metrics): for
// what a run's end says (its steps, training time, environment steps and lift), and for its
// validation curves where the summary holds them.
type Run struct {
	Name    string
	Records []erl.Record
	Test    *erl.TestScores
	Summary *Summary
	// TestLevels identifies the levels Test scored, level by level in their order (a hash of
	// their file, say); "" where they are not known. Runs are differenced level by level only
	// where theirs are alike and known (TestDifferences).
	TestLevels string
}

// end returns the run's steps, training time (seconds) and environment steps at its end, from
// its records or, without them, its summary; ok is false where it has neither.
func (r Run) end() (steps int, wallSeconds float64, envSteps int64, ok bool) {
	if n := len(r.Records); n > 0 {
		last := r.Records[n-1]
		return last.Step, last.WallSeconds, last.EnvSteps, true
	}
	if s := r.Summary; s != nil {
		return s.Step, s.WallSeconds, s.EnvSteps, true
	}
	return 0, 0, 0, false
}

// curve returns the records that the run's validation curves draw: its records, or else its
// summary's evaluations; none where it has neither.
func (r Run) curve() []erl.Record {
	if len(r.Records) > 0 || r.Summary == nil {
		return r.Records
	}
	return r.Summary.evaluationRecords()
}

// lift returns the run's reflection lift pooled over its steps: its summary's, which its
// training pooled from the same records, or else its records'.
func (r Run) lift() (Lift, bool) {
	if r.Summary != nil {
		if r.Summary.Lift == nil {
			return Lift{}, false
		}
		return *r.Summary.Lift, true
	}
	return PoolLift(r.Records)
}

// Group is runs of one configuration, seeds say, compared as one: a group of several runs is
// drawn as their mean with a band from their minimum to their maximum. The group's name is
// the one shown; its runs' names tell them apart in errors.
type Group struct {
	Name string
	Runs []Run
}

// heldOut returns the metric a comparison uses for g: held-out sampled success as in the
// paper's validation if every run of g measured it, else greedy success. A group of one run
// may have no evaluation at all and is shown as such; the runs of a larger group are averaged,
// so each must have the metric.
func heldOut(g Group) (m metric, label string, err error) {
	if len(g.Runs) == 0 {
		return nil, "", fmt.Errorf("report: group %s has no runs", g.Name)
	}
	sampled, greedy := true, true
	var none []string // runs with no held-out evaluation at all
	for _, r := range g.Runs {
		_, s := lastOf(r.curve(), evalSampled)
		_, gr := lastOf(r.curve(), evalGreedy)
		sampled, greedy = sampled && s, greedy && gr
		if !s && !gr {
			none = append(none, r.Name)
		}
	}
	switch {
	case sampled:
		return evalSampled, "sampled", nil
	case greedy || len(g.Runs) == 1:
		return evalGreedy, "greedy", nil
	case len(none) > 0:
		return nil, "", fmt.Errorf("report: group %s: no held-out evaluation to average in %d of its %d runs: %s",
			g.Name, len(none), len(g.Runs), strings.Join(none, ", "))
	}
	return nil, "", fmt.Errorf("report: group %s: its runs have no held-out evaluation in common: some have only greedy ones, some only sampled", g.Name)
}

// Baseline is a success rate drawn across a comparison as a dashed line: the uniformly
// random policy, say.
type Baseline struct {
	Name    string
	Success float64
}

// PlotCompare is PlotCompareGroups with each run a group of its own.
func PlotCompare(path string, runs []Run, baselines ...Baseline) error {
	if len(runs) == 0 {
		return errors.New("report: PlotCompare: no runs")
	}
	groups := make([]Group, len(runs))
	for i, r := range runs {
		groups[i] = Group{Name: r.Name, Runs: []Run{r}}
	}
	return PlotCompareGroups(path, groups, baselines...)
}

// PlotCompareGroups writes to path one PNG comparing groups of runs: their held-out success
// (sampled, or greedy for a group whose runs do not all have sampled evaluations, which the
// legend then says) against training steps, environment steps and wall-clock minutes, in three
// panels side by side, with the baselines as dashed lines. A group of one run is drawn as that
// run's line. A group of several is drawn as the mean of its runs, with a band from their
// minimum to their maximum, over the x that every one of its runs reaches (see aggregate); it
// is an error for one of them to have no held-out evaluation.
func PlotCompareGroups(path string, groups []Group, baselines ...Baseline) error {
	if len(groups) == 0 {
		return errors.New("report: PlotCompareGroups: no groups")
	}
	axes := []struct {
		title, label string
		x            metric
	}{
		{"By training step", "training step", byStep},
		{"By environment step", "environment steps", byEnvSteps},
		{"By wall-clock time", "wall-clock minutes", byMinutes},
	}
	panels := make([]*plot.Plot, len(axes))
	for i, a := range axes {
		panels[i] = newPanel(a.title, a.label, "validation success")
		panels[i].Y.Min, panels[i].Y.Max = 0, 1
	}

	// Every band goes in before any line, so that no band tints another group's line.
	lines := make([][]plotter.XYs, len(groups)) // by group, then panel; empty where none
	labels := make([]string, len(groups))
	bands := make([][]plot.Thumbnailer, len(groups))
	for i, g := range groups {
		y, label, err := heldOut(g)
		if err != nil {
			return err
		}
		labels[i] = fmt.Sprintf("%s (%s)", g.Name, label)
		if len(g.Runs) > 1 {
			labels[i] = fmt.Sprintf("%s (%d runs, %s)", g.Name, len(g.Runs), label)
		}
		lines[i] = make([]plotter.XYs, len(axes))
		for j, a := range axes {
			curves := make([]plotter.XYs, len(g.Runs))
			for k, r := range g.Runs {
				curves[k] = points(r.curve(), a.x, y)
			}
			if len(curves) == 1 {
				lines[i][j] = curves[0]
				continue
			}
			mean, lo, hi := aggregate(curves)
			if len(mean) == 0 {
				continue // the runs' evaluations share no x on this axis
			}
			band, err := addBand(panels[j], lo, hi, i)
			if err != nil {
				return fmt.Errorf("report: PlotCompareGroups %s: %w", g.Name, err)
			}
			lines[i][j], bands[i] = mean, []plot.Thumbnailer{band}
		}
		if len(g.Runs) > 1 && bands[i] == nil {
			return fmt.Errorf("report: group %s: its runs have no held-out evaluations at x in common to average", g.Name)
		}
	}
	legend := plot.NewLegend()
	for i, g := range groups {
		var line []plot.Thumbnailer
		for j, xys := range lines[i] {
			if len(xys) == 0 {
				continue
			}
			t, err := addLine(panels[j], xys, i, false)
			if err != nil {
				return fmt.Errorf("report: PlotCompareGroups %s: %w", g.Name, err)
			}
			line = t
		}
		if line == nil {
			labels[i] = g.Name + " (no evaluation)" // a run alone gets no line, and says so
		}
		legend.Add(labels[i], append(bands[i], line...)...)
	}
	for _, bl := range baselines {
		var line *plotter.Function
		for _, p := range panels {
			line = plotter.NewFunction(func(float64) float64 { return bl.Success })
			line.Color = color.Gray{Y: 90}
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			line.Width = vg.Points(1.2)
			p.Add(line)
		}
		legend.Add(fmt.Sprintf("%s (%.3f)", bl.Name, bl.Success), line)
	}
	showCounts(panels[0]) // steps
	showCounts(panels[1]) // environment steps
	return savePanels(path, panels, legend)
}

// aggregate pools curves, each one run's points in order of x, into their mean and the band
// from their minimum (lo) to their maximum (hi), each curve read between its points by linear
// interpolation. The pooled points lie at the x of all the curves' points within the range
// that every curve covers, where the mean of piecewise linear curves bends; x outside that
// range, where only some runs would count, is dropped. There are no pooled points if the
// curves share no x.
func aggregate(curves []plotter.XYs) (mean, lo, hi plotter.XYs) {
	from, to := math.Inf(-1), math.Inf(1)
	for _, c := range curves {
		if len(c) == 0 {
			return nil, nil, nil
		}
		from, to = max(from, c[0].X), min(to, c[len(c)-1].X)
	}
	var grid []float64
	for _, c := range curves {
		for _, p := range c {
			if from <= p.X && p.X <= to {
				grid = append(grid, p.X)
			}
		}
	}
	slices.Sort(grid)
	for _, x := range slices.Compact(grid) {
		sum, l, h := 0.0, math.Inf(1), math.Inf(-1)
		for _, c := range curves {
			y := interpolate(c, x)
			sum, l, h = sum+y, min(l, y), max(h, y)
		}
		mean = append(mean, plotter.XY{X: x, Y: sum / float64(len(curves))})
		lo = append(lo, plotter.XY{X: x, Y: l})
		hi = append(hi, plotter.XY{X: x, Y: h})
	}
	return mean, lo, hi
}

// interpolate returns the value at x of the piecewise linear curve through xys, whose x do
// not decrease and span x.
func interpolate(xys plotter.XYs, x float64) float64 {
	i := sort.Search(len(xys), func(i int) bool { return xys[i].X >= x })
	if xys[i].X == x {
		return xys[i].Y
	}
	a, b := xys[i-1], xys[i]
	return a.Y + (b.Y-a.Y)*(x-a.X)/(b.X-a.X)
}

// CompareTable returns an aligned text table summarising runs, one row each: steps,
// wall-clock time and environment steps at the end, the last held-out evaluation (greedy and
// sampled), the best sampled evaluation and its step, and the mean training success before
// and after reflection over the last tenth of the run's records (one per step). A value a run
// does not have is shown as "-".
func CompareTable(runs []Run) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tsteps\twall-clock\tenv steps\tfinal greedy\tfinal sampled\tbest sampled\tat step\tpre (last 10%)\tpost (last 10%)")
	for _, run := range runs {
		steps, wall, envSteps, ended := run.end()
		if !ended {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\n", run.Name)
			continue
		}
		curve := run.curve()
		best, bestStep, ok := bestOf(curve, evalSampled)
		at := "-"
		if ok {
			at = fmt.Sprint(bestStep)
		}
		recs := run.Records // none where the run was pruned to its summary: no training success
		tail := recs[len(recs)-(len(recs)+9)/10:]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			run.Name, steps, clock(wall, true), envSteps,
			rate(lastOf(curve, evalGreedy)), rate(lastOf(curve, evalSampled)),
			rate(best, ok), at,
			rate(mean(tail, successPre)), rate(mean(tail, successPost)))
	}
	tw.Flush()
	return b.String()
}

// CompareGroupTable returns an aligned text table summarising groups of runs, one row each:
// the number of runs; the means over the runs of their steps, wall-clock time and environment
// steps at the end; the held-out success the group is compared by (as in PlotCompareGroups);
// and the mean and the range (min–max) over the runs of their last and of their best
// evaluation. A value a group does not have is shown as "-". It is an error for a run of a
// group of several to have no held-out evaluation.
func CompareGroupTable(groups []Group) (string, error) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "group\truns\tmean steps\tmean wall-clock\tmean env steps\theld-out\tfinal mean\tfinal min–max\tbest mean\tbest min–max")
	for _, g := range groups {
		m, label, err := heldOut(g)
		if err != nil {
			return "", err
		}
		var steps, wall, env, final, best []float64
		for _, r := range g.Runs {
			s, w, e, ended := r.end()
			if !ended {
				continue
			}
			steps, wall, env = append(steps, float64(s)), append(wall, w), append(env, float64(e))
			curve := r.curve()
			if v, ok := lastOf(curve, m); ok {
				final = append(final, v)
			}
			if v, _, ok := bestOf(curve, m); ok {
				best = append(best, v)
			}
		}
		if len(final) == 0 {
			label = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Name, len(g.Runs),
			count(average(steps)), clock(average(wall)), count(average(env)), label,
			rate(average(final)), rateRange(final), rate(average(best)), rateRange(best))
	}
	tw.Flush()
	return b.String(), nil
}

// lastOf returns the last value of m in recs.
func lastOf(recs []erl.Record, m metric) (float64, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if v, ok := m(recs[i]); ok {
			return v, true
		}
	}
	return 0, false
}

// bestOf returns the highest value of m in recs, and the step of its first occurrence.
func bestOf(recs []erl.Record, m metric) (best float64, step int, ok bool) {
	for _, r := range recs {
		if v, has := m(r); has && (!ok || v > best) {
			best, step, ok = v, r.Step, true
		}
	}
	return best, step, ok
}

// mean returns the mean of m over the records of recs that have it.
func mean(recs []erl.Record, m metric) (float64, bool) {
	var sum float64
	var n int
	for _, r := range recs {
		if v, ok := m(r); ok {
			sum += v
			n++
		}
	}
	return sum / float64(n), n > 0
}

// average returns the mean of vs.
func average(vs []float64) (float64, bool) {
	var sum float64
	for _, v := range vs {
		sum += v
	}
	return sum / float64(len(vs)), len(vs) > 0
}

// rate formats a success rate for a table.
func rate(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

// rateRange formats the range of the success rates vs for a table.
func rateRange(vs []float64) string {
	if len(vs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f–%.3f", slices.Min(vs), slices.Max(vs))
}

// count formats a count for a table, rounded where it is a mean.
func count(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// clock formats a wall-clock time in seconds for a table, to the second.
func clock(seconds float64, ok bool) string {
	if !ok {
		return "-"
	}
	return time.Duration(seconds * float64(time.Second)).Round(time.Second).String()
}
