package report

import (
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/erlgo/erlgo/erl"
)

// checkPNG fails t unless path holds a PNG at least minW×minH pixels.
func checkPNG(t *testing.T, path string, minW, minH int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < minW || b.Dy() < minH {
		t.Errorf("%s is %dx%d, want at least %dx%d", path, b.Dx(), b.Dy(), minW, minH)
	}
}

// rlvrRecords returns testRecords(n) as an RLVR run would log them: no reflection, and greedy
// evaluation only.
func rlvrRecords(n int) []erl.Record {
	recs := testRecords(n)
	for i := range recs {
		recs[i].SuccessPost, recs[i].SuccessPlain, recs[i].Lift, recs[i].RetryTasks, recs[i].Retried = nil, nil, nil, nil, 0
		recs[i].EvalSampled = nil
	}
	return recs
}

func TestPlotRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs []erl.Record
	}{
		{"erl", testRecords(50)},
		{"rlvr", rlvrRecords(50)},
		{"one step", testRecords(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := PlotRun(dir, tc.recs); err != nil {
				t.Fatal(err)
			}
			for _, file := range []string{SuccessPlotFile, LossPlotFile, LiftPlotFile} {
				checkPNG(t, filepath.Join(dir, file), 600, 400)
			}
			if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmp) > 0 {
				t.Errorf("temporary files left behind: %v", tmp)
			}
		})
	}
	if err := PlotRun(t.TempDir(), nil); err == nil {
		t.Error("PlotRun with no records succeeded")
	}
}

// TestPlotRunDrawsLonePoints checks that a series of one point, such as the only evaluation
// of a run interrupted early, is drawn, not left out as a line of one point is.
func TestPlotRunDrawsLonePoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		recs   []erl.Record
		series []int // the styles that must show in the panel
	}{
		{"step 0 alone", []erl.Record{{Step: 0, EvalGreedy: ptr(0.25), EvalSampled: ptr(0.5)}}, []int{0, 1}},
		{"one step", []erl.Record{{Step: 0, EvalGreedy: ptr(0.25), EvalSampled: ptr(0.5)}, {Step: 1, SuccessPre: 0.75}}, []int{0, 1, 2}},
		{"one evaluation", append(testRecords(2), erl.Record{Step: 3, EvalGreedy: ptr(0.8), EvalSampled: ptr(0.6)}), []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := PlotRun(dir, tc.recs); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join(dir, SuccessPlotFile))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			panelRight := int(panelWidth.Dots(plotDPI)) // the legend lies to the right
			for _, i := range tc.series {
				want := color.NRGBAModel.Convert(lineColor(i)).(color.NRGBA)
				n := 0
				for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
					for x := 0; x < panelRight; x++ {
						c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
						if near(c.R, want.R) && near(c.G, want.G) && near(c.B, want.B) { // anti-aliased
							n++
						}
					}
				}
				if n < 4 {
					t.Errorf("series %d: %d pixels of its colour in the panel; it is not drawn", i, n)
				}
			}
		})
	}
}

// near reports whether two colour channels are within 40 of each other.
func near(a, b uint8) bool { return int(a)-int(b) < 40 && int(b)-int(a) < 40 }

func TestPlotCompare(t *testing.T) {
	runs := []Run{
		{Name: "erl", Records: testRecords(60)},
		{Name: "rlvr", Records: rlvrRecords(40)},
		{Name: "no-eval", Records: testRecords(2)},
	}
	path := filepath.Join(t.TempDir(), "compare.png")
	if err := PlotCompare(path, runs); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*600, 400)
	if err := PlotCompare(path, nil); err == nil {
		t.Error("PlotCompare with no runs succeeded")
	}
}

func TestCompareTable(t *testing.T) {
	table := CompareTable([]Run{
		{Name: "erl", Records: testRecords(30)},
		{Name: "rlvr-long-name", Records: rlvrRecords(24)},
		{Name: "empty"},
	})
	checkTable(t, table, "steps", [][]string{
		// erl: 30 steps of 1.5 s, 40 env steps each; last evaluation at step 30 (greedy 1,
		// sampled 0.9), which is also the best; the last 3 steps' success pre is
		// (28+29+30)/3/60, and post only step 29's, 29/30.
		{"erl", "30", "45s", "1200", "1.000", "0.900", "0.900", "30", "0.483", "0.967"},
		// rlvr: greedy evaluation only, no reflection; success pre (22+23+24)/3/48.
		{"rlvr-long-name", "24", "36s", "960", "1.000", "-", "-", "-", "0.479", "-"},
		{"empty", "-", "-", "-", "-", "-", "-", "-", "-", "-"},
	})
}

// checkTable fails t unless table is a header and the given rows, as whitespace-separated
// fields, with each row's second column starting where the header's column named second does.
func checkTable(t *testing.T, table, second string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != len(rows)+1 {
		t.Fatalf("table has %d lines, want a header and %d rows:\n%s", len(lines), len(rows), table)
	}
	col := len([]rune(lines[0][:strings.Index(lines[0], second)]))
	for _, l := range lines[1:] {
		if r := []rune(l); r[col-1] != ' ' || r[col] == ' ' {
			t.Errorf("row not aligned with header:\n%s", table)
		}
	}
	for i, want := range rows {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q, want %q", i+1, got, want)
		}
	}
}

func TestAggregate(t *testing.T) {
	for _, tc := range []struct {
		name         string
		curves       []plotter.XYs
		mean, lo, hi plotter.XYs // nil: no x in common
	}{
		{
			name:   "one run",
			curves: []plotter.XYs{{{X: 1, Y: 0.1}, {X: 2, Y: 0.2}}},
			mean:   plotter.XYs{{X: 1, Y: 0.1}, {X: 2, Y: 0.2}},
			lo:     plotter.XYs{{X: 1, Y: 0.1}, {X: 2, Y: 0.2}},
			hi:     plotter.XYs{{X: 1, Y: 0.1}, {X: 2, Y: 0.2}},
		},
		{
			name: "same x",
			curves: []plotter.XYs{
				{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 2, Y: 0.5}},
				{{X: 0, Y: 1}, {X: 1, Y: 0}, {X: 2, Y: 0.5}},
			},
			mean: plotter.XYs{{X: 0, Y: 0.5}, {X: 1, Y: 0.5}, {X: 2, Y: 0.5}},
			lo:   plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 2, Y: 0.5}},
			hi:   plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 1}, {X: 2, Y: 0.5}},
		},
		{
			// The first run, read at 2, 6 and 8, is 0.2, 0.6 and 0.8; its points at 0 and 10
			// lie where the second has none, and are dropped.
			name: "x outside the common range",
			curves: []plotter.XYs{
				{{X: 0, Y: 0}, {X: 10, Y: 1}},
				{{X: 2, Y: 0.5}, {X: 6, Y: 0.3}, {X: 8, Y: 0.5}},
			},
			mean: plotter.XYs{{X: 2, Y: 0.35}, {X: 6, Y: 0.45}, {X: 8, Y: 0.65}},
			lo:   plotter.XYs{{X: 2, Y: 0.2}, {X: 6, Y: 0.3}, {X: 8, Y: 0.5}},
			hi:   plotter.XYs{{X: 2, Y: 0.5}, {X: 6, Y: 0.6}, {X: 8, Y: 0.8}},
		},
		{
			// Common range [2, 4]: the first run is 0.2, 0.3, 0.4 at 2, 3, 4; the second 1
			// throughout; the third 0.6, 0.6, then 0.7 a third of the way from 3 to 6.
			name: "three runs, x interleaved",
			curves: []plotter.XYs{
				{{X: 0, Y: 0}, {X: 4, Y: 0.4}},
				{{X: 1, Y: 1}, {X: 5, Y: 1}},
				{{X: 2, Y: 0.6}, {X: 3, Y: 0.6}, {X: 6, Y: 0.9}},
			},
			mean: plotter.XYs{{X: 2, Y: 1.8 / 3}, {X: 3, Y: 1.9 / 3}, {X: 4, Y: 2.1 / 3}},
			lo:   plotter.XYs{{X: 2, Y: 0.2}, {X: 3, Y: 0.3}, {X: 4, Y: 0.4}},
			hi:   plotter.XYs{{X: 2, Y: 1}, {X: 3, Y: 1}, {X: 4, Y: 1}},
		},
		{
			name: "ranges touch",
			curves: []plotter.XYs{
				{{X: 0, Y: 0}, {X: 1, Y: 1}},
				{{X: 1, Y: 0}, {X: 2, Y: 1}},
			},
			mean: plotter.XYs{{X: 1, Y: 0.5}},
			lo:   plotter.XYs{{X: 1, Y: 0}},
			hi:   plotter.XYs{{X: 1, Y: 1}},
		},
		{
			name: "ranges apart",
			curves: []plotter.XYs{
				{{X: 0, Y: 0}, {X: 1, Y: 1}},
				{{X: 2, Y: 0}, {X: 3, Y: 1}},
			},
		},
		{
			name:   "a run without points",
			curves: []plotter.XYs{{{X: 0, Y: 0}, {X: 1, Y: 1}}, nil},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mean, lo, hi := aggregate(tc.curves)
			for _, c := range []struct {
				name      string
				got, want plotter.XYs
			}{{"mean", mean, tc.mean}, {"min", lo, tc.lo}, {"max", hi, tc.hi}} {
				if !sameXYs(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

// sameXYs reports whether a and b hold the same points, to rounding.
func sameXYs(a, b plotter.XYs) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i].X-b[i].X) > 1e-12 || math.Abs(a[i].Y-b[i].Y) > 1e-12 {
			return false
		}
	}
	return true
}

// withSampled returns testRecords(n) with held-out sampled success vs[k] at its k-th
// evaluation (step 3(k+1)).
func withSampled(n int, vs ...float64) []erl.Record {
	recs := testRecords(n)
	for k, v := range vs {
		recs[3*k+2].EvalSampled = ptr(v)
	}
	return recs
}

// stretched returns recs as a run that took f times the wall-clock time and environment
// steps would have logged them, so that its evaluations lie at other x than recs' on those
// axes.
func stretched(recs []erl.Record, f float64) []erl.Record {
	recs = slices.Clone(recs)
	for i := range recs {
		recs[i].WallSeconds *= f
		recs[i].EnvSteps = int64(float64(recs[i].EnvSteps) * f)
	}
	return recs
}

func TestPlotCompareGroups(t *testing.T) {
	groups := []Group{
		{"erl", []Run{{Name: "s1", Records: testRecords(60)}, {Name: "s2", Records: stretched(testRecords(45), 1.3)}, {Name: "s3", Records: stretched(testRecords(60), 0.8)}}},
		{"rlvr", []Run{{Name: "s1", Records: rlvrRecords(40)}, {Name: "s2", Records: stretched(rlvrRecords(50), 1.1)}}},
		{"alone", []Run{{Name: "s1", Records: testRecords(30)}}},
		{"no-eval", []Run{{Name: "s1", Records: testRecords(2)}}},
	}
	path := filepath.Join(t.TempDir(), "compare.png")
	if err := PlotCompareGroups(path, groups, Baseline{"random", 0.027}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*600, 400)
	if err := PlotCompareGroups(path, nil); err == nil {
		t.Error("PlotCompareGroups with no groups succeeded")
	}
}

func TestCompareGroupTable(t *testing.T) {
	table, err := CompareGroupTable([]Group{
		{"erl", []Run{{Name: "s1", Records: withSampled(9, 0.2, 0.6, 0.4)}, {Name: "s2", Records: withSampled(6, 0.1, 0.3)}, {Name: "s3", Records: withSampled(12, 0.5, 0.5, 0.5, 0.8)}}},
		{"rlvr", []Run{{Name: "s1", Records: rlvrRecords(24)}, {Name: "s2", Records: rlvrRecords(12)}}},
		{"alone", []Run{{Name: "s1", Records: testRecords(30)}}},
		{"no-eval", []Run{{Name: "s1", Records: testRecords(2)}}},
		{"empty", []Run{{Name: "s1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, table, "runs", [][]string{
		// erl: 9, 6 and 12 steps of 1.5 s and 40 env steps, so means 9, 13.5 s and 360;
		// final evaluations 0.4, 0.3 and 0.8, best 0.6, 0.3 and 0.8.
		{"erl", "3", "9", "14s", "360", "sampled", "0.500", "0.300–0.800", "0.567", "0.300–0.800"},
		// rlvr: greedy evaluations only, which reach 1 at the end of every run.
		{"rlvr", "2", "18", "27s", "720", "greedy", "1.000", "1.000–1.000", "1.000", "1.000–1.000"},
		{"alone", "1", "30", "45s", "1200", "sampled", "0.900", "0.900–0.900", "0.900", "0.900–0.900"},
		{"no-eval", "1", "2", "3s", "80", "-", "-", "-", "-", "-"},
		{"empty", "1", "-", "-", "-", "-", "-", "-", "-", "-"},
	})
}

// TestCompareGroupsErrors checks that groups that cannot be averaged are refused, naming the
// runs at fault, by the figure and the table alike.
func TestCompareGroupsErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		group     Group
		tableToo  bool     // CompareGroupTable refuses it too; the rest only the figure
		wantInErr []string // substrings of the error
	}{
		{"no runs", Group{Name: "erl"}, true, []string{"erl", "no runs"}},
		{
			"runs without evaluation",
			Group{"erl", []Run{{Name: "runs/s1", Records: testRecords(9)}, {Name: "runs/s2", Records: testRecords(2)}, {Name: "runs/s3"}}},
			true, []string{"erl", "no held-out evaluation to average in 2 of its 3 runs", "runs/s2, runs/s3"},
		},
		{
			"greedy only and sampled only",
			Group{"erl", []Run{{Name: "s1", Records: rlvrRecords(9)}, {Name: "s2", Records: withoutGreedy(testRecords(9))}}},
			true, []string{"erl", "no held-out evaluation in common"},
		},
		{
			"evaluations at no common x",
			Group{"erl", []Run{{Name: "s1", Records: testRecords(3)}, {Name: "s2", Records: testRecords(6)[3:]}}},
			false, []string{"erl", "no held-out evaluations at x in common"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups := []Group{{"alone", []Run{{Name: "s1", Records: testRecords(9)}}}, tc.group}
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s succeeded", what)
				}
				for _, want := range tc.wantInErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: error %q, want it to contain %q", what, err, want)
					}
				}
			}
			check("PlotCompareGroups", PlotCompareGroups(filepath.Join(t.TempDir(), "compare.png"), groups))
			if _, err := CompareGroupTable(groups); tc.tableToo {
				check("CompareGroupTable", err)
			} else if err != nil {
				t.Errorf("CompareGroupTable: %v", err)
			}
		})
	}
}

// withoutGreedy returns recs as a run that measured only sampled held-out success would have
// logged them.
func withoutGreedy(recs []erl.Record) []erl.Record {
	recs = slices.Clone(recs)
	for i := range recs {
		recs[i].EvalGreedy = nil
	}
	return recs
}

func TestMovingAverage(t *testing.T) {
	xys := plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 3}, {X: 3, Y: 5}, {X: 4, Y: 0}, {X: 5, Y: 4}}
	for _, tc := range []struct {
		window int
		want   []float64
	}{
		{1, []float64{1, 3, 5, 0, 4}},
		{2, []float64{1, 2, 4, 2.5, 2}},
		{3, []float64{1, 2, 3, 8.0 / 3, 3}},
		{10, []float64{1, 2, 3, 2.25, 2.6}},
	} {
		got := movingAverage(xys, tc.window)
		for i, p := range got {
			if p.X != xys[i].X || math.Abs(p.Y-tc.want[i]) > 1e-12 {
				t.Errorf("window %d: point %d is %v, want (%g, %g)", tc.window, i, p, xys[i].X, tc.want[i])
			}
		}
	}
}
