package erl

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
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
)

// File names of the plots PlotRun writes into a run directory.
const (
	SuccessPlotFile = "success.png"
	LossPlotFile    = "loss.png"
)

// Figure geometry. The legend gets a column of its own to the right of the panels so that it
// never hides a line, whatever the data.
const (
	plotDPI     = 150
	panelWidth  = 12 * vg.Centimeter
	panelHeight = 9 * vg.Centimeter
	figurePad   = 3 * vg.Millimeter
)

// metric picks a value out of a Record; ok is false where the record does not have it.
type metric func(Record) (v float64, ok bool)

// always makes a metric of a field every record has.
func always(f func(Record) float64) metric {
	return func(r Record) (float64, bool) { return f(r), true }
}

// optional makes a metric of a field that only some records have.
func optional(f func(Record) *float64) metric {
	return func(r Record) (float64, bool) {
		p := f(r)
		if p == nil {
			return 0, false
		}
		return *p, true
	}
}

var (
	byStep     = always(func(r Record) float64 { return float64(r.Step) })
	byEnvSteps = always(func(r Record) float64 { return float64(r.EnvSteps) })
	byMinutes  = always(func(r Record) float64 { return r.WallSeconds / 60 })

	evalGreedy  = optional(func(r Record) *float64 { return r.EvalGreedy })
	evalSampled = optional(func(r Record) *float64 { return r.EvalSampled })
	successPre  = always(func(r Record) float64 { return r.SuccessPre })
	successPost = optional(func(r Record) *float64 { return r.SuccessPost })
)

// points returns (x, y) for the records that have y, skipping values a plot cannot place
// (NaN, ±Inf).
func points(recs []Record, x, y metric) plotter.XYs {
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
	colors := plotutil.DarkColors
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.Color = colors[i%len(colors)]
	l.Dashes = plotutil.Dashes(i / len(colors))
	l.Width = vg.Points(1.5)
	p.Add(l)
	if !marks {
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

	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}

// PlotRun writes the plots of one run into its directory dir: success.png, held-out success
// (greedy and sampled) and training success before and after reflection, and loss.png, the
// loss and its terms, all against training steps.
func PlotRun(dir string, recs []Record) error {
	if len(recs) == 0 {
		return errors.New("erl: PlotRun: no records")
	}
	figures := []struct {
		file, title, y string
		unit           bool // y is a rate in [0, 1]
		series         []series
	}{
		{SuccessPlotFile, "Success rate", "success rate", true, []series{
			{"held-out, greedy", evalGreedy, true},
			{"held-out, sampled", evalSampled, true},
			{"training, first attempt", successPre, false},
			{"training, after reflection", successPost, false},
		}},
		{LossPlotFile, "Loss", "loss (weighted terms)", false, []series{
			{"total", always(func(r Record) float64 { return r.Loss }), false},
			{"policy gradient", always(func(r Record) float64 { return r.PG }), false},
			{"KL", always(func(r Record) float64 { return r.KL }), false},
			{"distillation", always(func(r Record) float64 { return r.Distill }), false},
		}},
	}
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
			thumbs, err := addLine(p, xys, i, s.marks)
			if err != nil {
				return fmt.Errorf("erl: PlotRun %s: %w", s.name, err)
			}
			legend.Add(s.name, thumbs...)
		}
		if err := savePanels(filepath.Join(dir, f.file), []*plot.Plot{p}, legend); err != nil {
			return err
		}
	}
	return nil
}

// Run is a named training run, for comparing runs.
type Run struct {
	Name    string
	Records []Record
}

// heldOut returns the metric a comparison uses for run: held-out sampled success as in the
// paper's validation, or greedy success for a run that never measured sampled success.
func heldOut(recs []Record) (m metric, label string) {
	if _, ok := lastOf(recs, evalSampled); ok {
		return evalSampled, "sampled"
	}
	return evalGreedy, "greedy"
}

// Baseline is a success rate drawn across a comparison as a dashed line: the uniformly
// random policy, say.
type Baseline struct {
	Name    string
	Success float64
}

// PlotCompare writes to path one PNG comparing runs: their held-out success (sampled, or
// greedy for runs that have no sampled evaluation, which the legend then says) against
// training steps, environment steps and wall-clock minutes, in three panels side by side,
// with the baselines as dashed lines.
func PlotCompare(path string, runs []Run, baselines ...Baseline) error {
	if len(runs) == 0 {
		return errors.New("erl: PlotCompare: no runs")
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
		panels[i] = newPanel(a.title, a.label, "held-out success")
		panels[i].Y.Min, panels[i].Y.Max = 0, 1
	}
	legend := plot.NewLegend()
	for i, run := range runs {
		y, label := heldOut(run.Records)
		var thumbs []plot.Thumbnailer
		for j, a := range axes {
			xys := points(run.Records, a.x, y)
			if len(xys) == 0 {
				break // no evaluation at all: the run gets no line, and says so in the legend
			}
			t, err := addLine(panels[j], xys, i, false)
			if err != nil {
				return fmt.Errorf("erl: PlotCompare %s: %w", run.Name, err)
			}
			thumbs = t
		}
		if thumbs == nil {
			label = "no evaluation"
		}
		legend.Add(fmt.Sprintf("%s (%s)", run.Name, label), thumbs...)
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
	return savePanels(path, panels, legend)
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
		recs := run.Records
		if len(recs) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\n", run.Name)
			continue
		}
		last := recs[len(recs)-1]
		best, bestStep, ok := bestOf(recs, evalSampled)
		at := "-"
		if ok {
			at = fmt.Sprint(bestStep)
		}
		tail := recs[len(recs)-(len(recs)+9)/10:]
		wall := time.Duration(last.WallSeconds * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(tw, "%s\t%d\t%v\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			run.Name, last.Step, wall, last.EnvSteps,
			rate(lastOf(recs, evalGreedy)), rate(lastOf(recs, evalSampled)),
			rate(best, ok), at,
			rate(mean(tail, successPre)), rate(mean(tail, successPost)))
	}
	tw.Flush()
	return b.String()
}

// lastOf returns the last value of m in recs.
func lastOf(recs []Record, m metric) (float64, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if v, ok := m(recs[i]); ok {
			return v, true
		}
	}
	return 0, false
}

// bestOf returns the highest value of m in recs, and the step of its first occurrence.
func bestOf(recs []Record, m metric) (best float64, step int, ok bool) {
	for _, r := range recs {
		if v, has := m(r); has && (!ok || v > best) {
			best, step, ok = v, r.Step, true
		}
	}
	return best, step, ok
}

// mean returns the mean of m over the records of recs that have it.
func mean(recs []Record, m metric) (float64, bool) {
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

// rate formats a success rate for CompareTable.
func rate(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}
