package report

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/machine"
	"github.com/erlgo/erlgo/internal/stats"
)

// tinyConfig is a training run of a few seconds.
func tinyConfig(algo string, steps int) erl.Config {
	cfg := erl.DefaultConfig()
	cfg.Algo = algo
	cfg.Switches, _ = erl.AlgoSwitches(algo)
	cfg.Batch, cfg.Group, cfg.Steps = 3, 2, steps
	cfg.EvalLevels, cfg.TestLevels, cfg.EvalSamples, cfg.EvalEvery = 4, 3, 1, 2
	cfg.ReflectionLen = 6
	return cfg
}

// TestRefreshAtEveryExit runs training with Refresh as its report and stops it as Ctrl-C would,
// after the evaluation of step 2 of 5: the run directory holds every report file, drawn from
// the steps done, and a summary that says the run was interrupted.
func TestRefreshAtEveryExit(t *testing.T) {
	tr, err := erl.NewTrainer(tinyConfig(erl.AlgoERL, 5))
	if err != nil {
		t.Fatal(err)
	}
	dir := erl.RunDir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	var seen []erl.Status
	report := func(d erl.RunDir, s erl.RunState) error {
		if s.Step == 2 {
			cancel()
		}
		seen = append(seen, s.Status)
		err := Refresh(d, s)
		for _, f := range Files { // every report, not only the last, writes every file
			if _, statErr := os.Stat(filepath.Join(string(d), f)); statErr != nil {
				t.Errorf("after the report of step %d (%s): %v", s.Step, s.Status, statErr)
			}
		}
		return err
	}
	status, err := erl.Train(ctx, tr, dir, erl.TrainOptions{Report: report})
	if err != nil || status != erl.StatusInterrupted {
		t.Fatalf("Train = %q, %v", status, err)
	}
	if len(seen) != 3 || seen[2] != erl.StatusInterrupted {
		t.Errorf("reported %v, want step 0, step 2 and the interruption", seen)
	}
	checkPNG(t, filepath.Join(string(dir), SuccessPlotFile), 600, 400)
	checkPNG(t, filepath.Join(string(dir), LossPlotFile), 600, 400)
	sum, err := ReadSummary(string(dir))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != erl.StatusInterrupted || sum.Step != 2 || sum.Steps != 5 || sum.Last == nil || sum.Last.Step != 2 || sum.Best == nil {
		t.Errorf("summary %+v, want interrupted after step 2 of 5, last evaluated at step 2", sum)
	}
	if sum.Test == nil || sum.Test.Last.Step != 2 || sum.Test.Levels != 3 || sum.Lift == nil || sum.Lift.ToStep > 2 ||
		!strings.Contains(sum.String(), "test success (sampled) of the best checkpoint") {
		t.Errorf("summary %+v, %q; want the test scores of the interrupted run and the lift of its 2 steps", sum, sum)
	}
	if sum.Machine == nil || *sum.Machine != machine.This() {
		t.Errorf("summary's machine %v, want where the run trained, %v", sum.Machine, machine.This())
	}
	text, err := os.ReadFile(filepath.Join(string(dir), EpisodesTextFile))
	if err != nil || !strings.Contains(string(text), "=== step 2, task ") {
		t.Errorf("episodes.txt lacks step 2's episode (%v):\n%s", err, text)
	}
	page, err := os.ReadFile(filepath.Join(string(dir), ViewFile))
	if err != nil || !strings.Contains(string(page), `"status":"interrupted"`) {
		t.Errorf("view.html does not hold the run's data (%v)", err)
	}
}

func TestSummary(t *testing.T) {
	ev := func(step int, greedy, sampled float64) erl.Record {
		return erl.Record{Step: step, EvalGreedy: ptr(greedy), EvalSampled: ptr(sampled), WallSeconds: float64(step)}
	}
	for _, tc := range []struct {
		name  string
		recs  []erl.Record
		state erl.RunState
		want  string
	}{
		{"nothing yet", nil, erl.RunState{Status: erl.StatusInterrupted, Steps: 1000},
			"interrupted after 0 of 1000 steps (0s of training); validation success: not evaluated yet"},
		{"steps without evaluation", []erl.Record{{Step: 1, WallSeconds: 2}, {Step: 2, WallSeconds: 4}},
			erl.RunState{Status: erl.StatusTimeLimit, Step: 2, Steps: 1000},
			"time limit after 2 of 1000 steps (4s of training); validation success: not evaluated yet"},
		{"step 0 only", []erl.Record{ev(0, 0.5, 0.25)}, erl.RunState{Status: erl.StatusRunning, Steps: 10},
			"running: 0 of 10 steps (0s of training); validation success (sampled) 0.250 at step 0"},
		{"best before last", []erl.Record{ev(0, 0, 0.125), ev(50, 0, 0.5), ev(100, 0, 0.25)}, erl.RunState{Status: erl.StatusFinished, Step: 100, Steps: 100},
			"finished 100 steps (1m40s of training); validation success (sampled) 0.250 at step 100, best 0.500 at step 50"},
		{"failed", []erl.Record{ev(0, 0, 0)}, erl.RunState{Status: erl.StatusFailed, Step: 7, Steps: 9, Err: os.ErrClosed},
			"failed after 7 of 9 steps (0s of training); validation success (sampled) 0.000 at step 0; error: file already closed"},
	} {
		if got := Summarize(tc.recs, tc.state).String(); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestPoolLift: the lift pooled over steps is the guided retries' successes less the plain
// ones', over all the retried attempts, with an interval from the (step, task) clusters; runs
// that measured no lift have none.
func TestPoolLift(t *testing.T) {
	var recs []erl.Record
	for step := 1; step <= 40; step++ {
		r := erl.Record{Step: step}
		if step%4 != 0 { // some steps retry nothing
			r.RetryTasks = []erl.RetryCount{{Attempts: 4, Guided: 2, Plain: 1}, {Attempts: 2, Guided: 0, Plain: step % 2}}
		}
		recs = append(recs, r)
	}
	l, ok := PoolLift(recs)
	// 30 steps, each 6 attempts: guided 2, plain 1 + (1 on odd steps, 20 of the 30).
	wantLift := (30*2 - 30*1 - 20) / 180.0
	if !ok || l.Steps != 30 || l.Tasks != 60 || l.Attempts != 180 || l.FromStep != 1 || l.ToStep != 39 ||
		math.Abs(l.Lift.Value-wantLift) > 1e-12 || math.Abs(l.Guided.Value-60/180.0) > 1e-12 || math.Abs(l.Plain.Value-50/180.0) > 1e-12 {
		t.Fatalf("pooled %+v, want lift %.4f over 30 steps, 60 tasks, 180 attempts", l, wantLift)
	}
	if !(l.Lift.Lo < l.Lift.Value && l.Lift.Value < l.Lift.Hi) || l.Lift.Hi-l.Lift.Lo > 0.2 || !strings.Contains(l.Interval, "bootstrap") {
		t.Errorf("lift interval %+v (%s)", l.Lift, l.Interval)
	}
	if _, ok := PoolLift([]erl.Record{{Step: 1}, {Step: 2}}); ok {
		t.Error("records without the lift pooled into one")
	}
	windows := liftWindows(recs)
	pooled := 0
	for _, w := range windows {
		pooled += w.Steps
	}
	if len(windows) < 10 || pooled != 30 {
		t.Errorf("%d windows pooling %d steps, want the 30 steps that measured the lift in a few windows", len(windows), pooled)
	}
	path := filepath.Join(t.TempDir(), LiftPlotFile)
	if err := PlotLift(path, windows, l); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 600, 400)
	sum := Summarize(recs, erl.RunState{Status: erl.StatusFinished, Step: 40, Steps: 40})
	if sum.Lift == nil || !strings.Contains(sum.String(), "reflection lift +0.056 [") {
		t.Errorf("summary %q, want the pooled lift", sum.String())
	}
}

// TestCombineLifts: the lifts of runs combined from their summaries give the figures of their
// records pooled, to rounding, and intervals within a tenth of the pooled ones' width; a run
// of more retries weighs more.
func TestCombineLifts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 14))
	var all []erl.Record
	var runs []Lift
	for run, steps := range []int{150, 300, 220} { // runs of unequal length: unequal weights
		guided, plain := 0.10+0.05*float64(run), 0.12
		var recs []erl.Record
		for step := 1; step <= steps; step++ {
			r := erl.Record{Step: step}
			for range 8 { // 8 retried tasks a step, 1 to 4 attempts each
				c := erl.RetryCount{Attempts: 1 + rng.IntN(4)}
				for range c.Attempts {
					if rng.Float64() < guided {
						c.Guided++
					}
					if rng.Float64() < plain {
						c.Plain++
					}
				}
				r.RetryTasks = append(r.RetryTasks, c)
			}
			recs = append(recs, r)
		}
		l, _ := PoolLift(recs)
		runs = append(runs, l)
		all = append(all, recs...)
	}
	got, ok := CombineLifts(runs)
	want, _ := PoolLift(all)
	if !ok || got.Attempts != want.Attempts || got.Tasks != want.Tasks || got.Steps != want.Steps || got.FromStep != 1 || got.ToStep != 300 ||
		got.Interval != CombinedLiftMethod {
		t.Fatalf("combined %+v, want the counts of the pooled records %+v", got, want)
	}
	for _, f := range []struct {
		name      string
		got, want stats.Estimate
	}{{"lift", got.Lift, want.Lift}, {"guided", got.Guided, want.Guided}, {"plain", got.Plain, want.Plain}} {
		width := f.want.Hi - f.want.Lo
		if math.Abs(f.got.Value-f.want.Value) > 1e-12 || math.Abs(f.got.Lo-f.want.Lo) > width/10 || math.Abs(f.got.Hi-f.want.Hi) > width/10 {
			t.Errorf("%s combined %+v, pooled from the records %+v", f.name, f.got, f.want)
		}
	}
	if _, ok := CombineLifts(nil); ok {
		t.Error("no lifts combined into one")
	}
}
