package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/stats"
)

// GroupReport is what a comparison says of a group of runs (one run is a group of one) beyond
// its curves: the test scores of its runs' best checkpoints and the reflection's lift. It is
// what erlgo compare --json writes, a GroupReport a group.
type GroupReport struct {
	Name string      `json:"name"`
	Runs []RunReport `json:"runs"`
	// TestRuns is the number of runs with test scores; Sampled and Greedy the mean, minimum
	// and maximum over them of their best checkpoint's test success; ByLength the same by
	// optimal solution length. All are absent where no run has test scores.
	TestRuns int           `json:"test_runs"`
	Sampled  *Spread       `json:"test_sampled,omitempty"`
	Greedy   *Spread       `json:"test_greedy,omitempty"`
	ByLength []LengthGroup `json:"test_by_length,omitempty"`
	// Lift is the reflection's lift pooled over the retried tasks of every run of the group
	// (PoolLift); where a run of several lacks its records (its retried tasks are gone), the
	// runs' own lifts combined (CombineLifts); absent where a run measured none.
	Lift *Lift `json:"reflection_lift,omitempty"`
}

// RunReport is one run of a GroupReport.
type RunReport struct {
	Name string `json:"name"`
	// Steps is the number of steps done; ValSampled and ValBest its last and best validation
	// success (sampled), absent where it was never evaluated.
	Steps      int      `json:"steps"`
	ValSampled *float64 `json:"last_validation_sampled,omitempty"`
	ValBest    *float64 `json:"best_validation_sampled,omitempty"`
	// Test is the run's test-scores.json, absent where it has none (a run of an erlgo before
	// the test split, or one still running).
	Test *erl.TestScores `json:"test,omitempty"`
	Lift *Lift           `json:"reflection_lift,omitempty"`
}

// Spread is the mean, minimum and maximum of a figure over runs.
type Spread struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// LengthGroup is a group's test success (best checkpoint, sampled) at levels of one optimal
// solution length: the mean over its runs, and the levels of that length in all their test
// splits.
type LengthGroup struct {
	Moves   int     `json:"moves"`
	Levels  int     `json:"levels"`
	Sampled float64 `json:"sampled_mean"`
}

// CompareReports returns the GroupReport of each group.
func CompareReports(groups []Group) []GroupReport {
	out := make([]GroupReport, len(groups))
	for i, g := range groups {
		gr := GroupReport{Name: g.Name}
		var sampled, greedy []float64
		var pooled []erl.Record
		byLength := map[int]*lengthSum{}
		poolable := true    // every run has the records that the group's lift pools
		var runLifts []Lift // every run's own lift, where each has one
		for _, r := range g.Runs {
			rr := RunReport{Name: r.Name, Test: r.Test}
			rr.Steps, _, _, _ = r.end()
			curve := r.curve()
			if v, ok := lastOf(curve, evalSampled); ok {
				rr.ValSampled = &v
			}
			if v, _, ok := bestOf(curve, evalSampled); ok {
				rr.ValBest = &v
			}
			if l, ok := r.lift(); ok {
				rr.Lift = &l
				runLifts = append(runLifts, l)
			}
			poolable = poolable && len(r.Records) > 0
			pooled = append(pooled, r.Records...)
			if t := r.Test; t != nil {
				sampled, greedy = append(sampled, t.Best.Sampled.Success), append(greedy, t.Best.Greedy.Success)
				for _, l := range t.Best.ByLength {
					b := byLength[l.Moves]
					if b == nil {
						b = &lengthSum{}
						byLength[l.Moves] = b
					}
					b.levels, b.sum, b.runs = b.levels+l.Sampled.Levels, b.sum+l.Sampled.Success, b.runs+1
				}
			}
			gr.Runs = append(gr.Runs, rr)
		}
		gr.TestRuns = len(sampled)
		if len(sampled) > 0 {
			gr.Sampled, gr.Greedy = spread(sampled), spread(greedy)
			for _, moves := range slices.Sorted(maps.Keys(byLength)) {
				b := byLength[moves]
				gr.ByLength = append(gr.ByLength, LengthGroup{Moves: moves, Levels: b.levels, Sampled: b.sum / float64(b.runs)})
			}
		}
		switch {
		case len(gr.Runs) == 1:
			gr.Lift = gr.Runs[0].Lift
		case poolable:
			if l, ok := PoolLift(pooled); ok {
				gr.Lift = &l
			}
		case len(runLifts) == len(gr.Runs):
			l, _ := CombineLifts(runLifts)
			gr.Lift = &l
		}
		out[i] = gr
	}
	return out
}

func spread(vs []float64) *Spread {
	m, _ := average(vs)
	return &Spread{Mean: m, Min: slices.Min(vs), Max: slices.Max(vs)}
}

// lengthSum adds up the test success of runs at levels of one length.
type lengthSum struct {
	levels int
	sum    float64
	runs   int
}

// TestTable returns the comparison's tables of test success and of the reflection's lift, one
// row a group, and of test success by optimal solution length; "" where no run of any group
// has test scores or a lift. A group of one run shows its best checkpoint's test success with
// its 95% interval (bootstrap over levels); a larger group the mean and range over its runs.
func TestTable(reports []GroupReport) string {
	test, lift := false, false
	for _, g := range reports {
		test, lift = test || g.TestRuns > 0, lift || g.Lift != nil
	}
	if !test && !lift {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "group\ttest runs\ttest levels\tbest at step\ttest sampled (best)\ttest greedy (best)\treflection lift\tretries\tguided / plain")
	combined := false
	for _, g := range reports {
		levels, at, sampled, greedy := "-", "-", "-", "-"
		switch {
		case g.TestRuns == 1 && len(g.Runs) == 1:
			t := g.Runs[0].Test
			levels, at = fmt.Sprint(t.Levels), fmt.Sprint(t.Best.Step)
			sampled = fmt.Sprintf("%.3f [%.3f, %.3f]", t.Best.Sampled.Success, t.Best.Sampled.Lo, t.Best.Sampled.Hi)
			greedy = fmt.Sprintf("%.3f [%.3f, %.3f]", t.Best.Greedy.Success, t.Best.Greedy.Lo, t.Best.Greedy.Hi)
		case g.TestRuns > 0:
			var n []string
			for _, r := range g.Runs {
				if r.Test != nil {
					n = append(n, fmt.Sprint(r.Test.Levels))
				}
			}
			levels = strings.Join(slices.Compact(n), ",")
			sampled = fmt.Sprintf("%.3f (%.3f–%.3f)", g.Sampled.Mean, g.Sampled.Min, g.Sampled.Max)
			greedy = fmt.Sprintf("%.3f (%.3f–%.3f)", g.Greedy.Mean, g.Greedy.Min, g.Greedy.Max)
		}
		liftText, retries, rates := "-", "-", "-"
		if l := g.Lift; l != nil {
			liftText, retries = fmt.Sprintf("%+.3f [%+.3f, %+.3f]", l.Lift.Value, l.Lift.Lo, l.Lift.Hi), fmt.Sprint(l.Attempts)
			rates = fmt.Sprintf("%.3f / %.3f", l.Guided.Value, l.Plain.Value)
			if l.Interval == CombinedLiftMethod {
				liftText += "*"
				combined = true
			}
		}
		fmt.Fprintf(tw, "%s\t%d of %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Name, g.TestRuns, len(g.Runs), levels, at, sampled, greedy, liftText, retries, rates)
	}
	tw.Flush()
	b.WriteString("test: the best checkpoint of each run (chosen on validation), 95% intervals from a bootstrap over levels;\n" +
		"a group of several runs: mean (min–max) over them. Lift: guided second attempt − plain retry, at the same\n" +
		"retried attempts (their success rates: guided / plain), pooled over the runs' steps, 95% interval from a\n" +
		"bootstrap over the retried tasks.\n")
	if combined {
		b.WriteString("*: runs pruned to their summaries: the runs' own lifts combined, weighted by their retries, the interval\n" +
			"a normal approximation from theirs.\n")
	}
	if !test {
		return b.String()
	}
	var lengths []int
	for _, g := range reports {
		for _, l := range g.ByLength {
			lengths = append(lengths, l.Moves)
		}
	}
	lengths = slices.Compact(slices.Sorted(slices.Values(lengths)))
	b.WriteString("\ntest sampled (best) by optimal solution length: success (mean over a group's runs) and the levels of that length its runs were scored at, summed over the runs\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := "group"
	for _, m := range lengths {
		header += "\t" + lengthName(m)
	}
	fmt.Fprintln(tw, header)
	for _, g := range reports {
		if g.TestRuns == 0 {
			continue
		}
		row := g.Name
		for _, m := range lengths {
			cell := "-"
			for _, l := range g.ByLength {
				if l.Moves == m {
					cell = fmt.Sprintf("%.3f (%d)", l.Sampled, l.Levels)
				}
			}
			row += "\t" + cell
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	return b.String()
}

// lengthName heads the column of levels of an optimal solution of moves moves.
func lengthName(moves int) string {
	switch moves {
	case 0:
		return "none ≤ budget"
	case 1:
		return "1 move"
	}
	return fmt.Sprintf("%d moves", moves)
}

// TestDifferences returns the test success (sampled) of the first group less that of each
// other group, of their last and of their best checkpoints, with 95% intervals over runs and
// levels (stats.Crossed: the levels drawn alike for both groups, each group's runs on their
// own). It needs at least two groups, every run scored at the same test levels, known alike
// (Run.TestLevels), with its successes level by level, and the runs of a group scored with as
// many attempts a level; where they are not, it returns no differences and why not.
func TestDifferences(groups []Group) (diffs []Difference, whyNot string) {
	if len(groups) < 2 {
		return nil, "one group: nothing to difference"
	}
	var final, best []stats.Runs
	levels := ""
	for _, g := range groups {
		var f, b stats.Runs
		for _, r := range g.Runs {
			t := r.Test
			switch {
			case t == nil:
				return nil, fmt.Sprintf("run %s has no test scores", r.Name)
			case r.TestLevels == "":
				return nil, fmt.Sprintf("the test levels of run %s are not known (its test.jsonl is gone)", r.Name)
			case levels == "":
				levels = r.TestLevels
			case r.TestLevels != levels:
				return nil, fmt.Sprintf("run %s was scored at other test levels than run %s", r.Name, groups[0].Runs[0].Name)
			}
			if c, ok := unscoredCheckpoint(*t); ok {
				return nil, fmt.Sprintf("the test scores of %s of run %s lack the successes level by level (a run of an older erlgo)", c, r.Name)
			}
			attempts := t.Last.Sampled.N / t.Levels
			if len(f.Solved) > 0 && (attempts != f.Attempts || t.Best.Sampled.N/t.Levels != b.Attempts) {
				return nil, fmt.Sprintf("the runs of group %s were scored with unlike attempts a level", g.Name)
			}
			f.Solved, f.Attempts = append(f.Solved, t.Last.SampledSolved), attempts
			b.Solved, b.Attempts = append(b.Solved, t.Best.SampledSolved), t.Best.Sampled.N/t.Levels
		}
		final, best = append(final, f), append(best, b)
	}
	crossed := make([]*stats.Crossed, 2)
	for i, runs := range [][]stats.Runs{final, best} {
		c, err := stats.NewCrossed(runs, stats.Resamples, stats.Seed)
		if err != nil {
			return nil, err.Error()
		}
		crossed[i] = c
	}
	for g := 1; g < len(groups); g++ {
		diffs = append(diffs, Difference{A: groups[0].Name, B: groups[g].Name,
			Final: crossed[0].Diff(0, g), Best: crossed[1].Diff(0, g)})
	}
	return diffs, ""
}

// DifferenceTable returns the aligned text table of diffs, headed by what they are and how
// their intervals are made.
func DifferenceTable(diffs []Difference) string {
	var b strings.Builder
	b.WriteString("\ntest success (sampled), the first group less each other, " + stats.RunsMethod + ":\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "A − B\tlast checkpoints\tbest checkpoints")
	for _, d := range diffs {
		fmt.Fprintf(tw, "%s − %s\t%s\t%s\n", d.A, d.B, formatDiff(d.Final), formatDiff(d.Best))
	}
	tw.Flush()
	return b.String()
}
