package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/erl"
)

// reproRun returns a finished run of steps steps whose last and best checkpoints solved, level
// by level, last[i] and best[i] of 4 sampled attempts, and whose greedy attempts solved the
// levels that any sampled attempt did.
func reproRun(name string, steps int, last, best []int) Run {
	eval := func(solved []int) erl.Evaluation {
		greedy := make([]int, len(solved))
		for i, s := range solved {
			greedy[i] = min(s, 1)
		}
		return erl.Evaluation{Greedy: erl.NewScore(greedy, 1), Sampled: erl.NewScore(solved, 4), GreedySolved: greedy, SampledSolved: solved}
	}
	ts := &erl.TestScores{Levels: len(last),
		Last: erl.CheckpointScore{Checkpoint: "last.safetensors", Step: steps, Evaluation: eval(last)},
		Best: erl.CheckpointScore{Checkpoint: "best.safetensors", Step: steps / 2, Evaluation: eval(best)}}
	return Run{Name: name, Records: testRecords(steps), Test: ts}
}

// levelCounts returns the counts of n levels of which every k-th is solved s times of 4.
func levelCounts(n, k, s int) []int {
	c := make([]int, n)
	for i := 0; i < n; i += k {
		c[i] = s
	}
	return c
}

func testReproduction() Reproduction {
	const levels = 40
	return Reproduction{Command: "erlgo reproduce --env sokoban --out x", About: []string{"made by a test"}, Budget: "30 steps", Model: "the small model (138688 parameters)",
		Envs: []ReproductionEnv{{Env: "sokoban", ValidationFile: "levels/sokoban-validation.jsonl", TestFile: "levels/sokoban-test.jsonl",
			ValidationLevels: 20, TestLevels: levels, Random: erl.NewScore(levelCounts(levels, 10, 1), 4),
			RandomValidation: erl.NewScore(levelCounts(20, 10, 1), 4), RandomSamples: 4,
			Algos: []ReproductionAlgo{
				{Name: "erl", About: "ERL", Planned: 3, Runs: []Run{
					reproRun("sokoban/erl-s1", 30, levelCounts(levels, 2, 4), levelCounts(levels, 2, 3)),
					reproRun("sokoban/erl-s2", 30, levelCounts(levels, 2, 2), levelCounts(levels, 2, 4)),
					reproRun("sokoban/erl-s3", 30, levelCounts(levels, 4, 4), levelCounts(levels, 4, 4)),
				}},
				{Name: "rlvr-10", About: "RLVR, 10 attempts a task", Planned: 3, Runs: []Run{
					reproRun("sokoban/rlvr-10-s1", 30, levelCounts(levels, 8, 1), levelCounts(levels, 8, 2)),
					reproRun("sokoban/rlvr-10-s2", 30, levelCounts(levels, 8, 2), levelCounts(levels, 8, 2)),
				}},
				{Name: "rlvr", About: "RLVR", Planned: 3},
			}}}}
}

// TestWriteReproduction: the summary gives each algorithm's mean, range and interval over its
// finished runs, the first algorithm's differences from the others, and the paper's findings
// beside them; the report says the same in tables, with the figure and the random policy.
func TestWriteReproduction(t *testing.T) {
	dir := t.TempDir()
	sum, err := WriteReproduction(dir, testReproduction())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Complete || sum.Runs != 5 || sum.Planned != 9 || len(sum.Envs) != 1 {
		t.Fatalf("summary %+v: want 5 of 9 runs finished, incomplete", sum)
	}
	e := sum.Envs[0]
	erlSum, rlvr10, rlvr := e.Algos[0], e.Algos[1], e.Algos[2]
	// The erl runs' final success: 20 levels × 4, 20 × 2 and 10 × 4 successes of 160 attempts.
	wantMeans := []float64{80.0 / 160, 40.0 / 160, 40.0 / 160}
	mean := (wantMeans[0] + wantMeans[1] + wantMeans[2]) / 3
	if f := erlSum.Final; f == nil || math.Abs(f.Mean-mean) > 1e-12 || f.Min != 0.25 || f.Max != 0.5 || f.Lo > f.Mean || f.Hi < f.Mean || f.Lo < 0.1 {
		t.Errorf("erl final %+v: want mean %.4f, range 0.25–0.5, an interval about the mean", f, mean)
	}
	if erlSum.Runs != 3 || rlvr10.Runs != 2 || rlvr.Runs != 0 || rlvr.Final != nil || len(erlSum.PerRun) != 3 || erlSum.MeanSteps != 30 {
		t.Errorf("algorithms %+v", e.Algos)
	}
	if len(e.Differences) != 1 || e.Differences[0].A != "erl" || e.Differences[0].B != "rlvr-10" || e.Differences[0].Final.Lo <= 0 {
		t.Errorf("differences %+v: want erl − rlvr-10, clearly above 0", e.Differences)
	}
	if len(sum.Paper) != 1 || sum.Paper[0].B != "rlvr-10" || *sum.Paper[0].PaperDiff != 0.81 || sum.Paper[0].Ours != e.Differences[0] {
		t.Errorf("paper comparisons %+v: want Sokoban's ERL − RLVR beside erl − rlvr-10", sum.Paper)
	}
	if _, err := os.Stat(filepath.Join(dir, e.Figure)); err != nil || e.Figure != "sokoban.png" {
		t.Errorf("figure %q: %v", e.Figure, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ReproductionSummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var back ReproductionSummary
	if err := json.Unmarshal(raw, &back); err != nil || back.Envs[0].Algos[0].Final.Mean != erlSum.Final.Mean || back.Interval == "" {
		t.Errorf("summary.json does not read back (%v):\n%s", err, raw)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReproductionReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"erlgo reproduce --env sokoban --out x", "Each run: 30 steps of the small model (138688 parameters); **incomplete**: 5 of the 9 planned runs", "made by a test",
		"![sokoban: validation success", "(sokoban.png)",
		"| ERL | 3 | 30 | 0.333 (0.250–0.500) | [", "| RLVR, 10 attempts a task | 2 of 3 | 30 |", "| RLVR | 0 of 3 | - |",
		"| random policy (4 attempts a level) | | | 0.025 |", "| erl − rlvr-10 | +", "Qwen3-4B-Instruct-2507", "8 GPUs", "ours from the small model (138688 parameters), trained from scratch",
		"| sokoban | ERL 0.87 against RLVR 0.06: +0.81 | erl − rlvr-10 |", "`sokoban/erl-s2` | 30 |", "reflection lift",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
}

// TestWriteReproductionRefusesUnpoolableRuns: runs scored at other levels than their
// environment's, or without their successes level by level, are errors that name the run.
func TestWriteReproductionRefusesUnpoolableRuns(t *testing.T) {
	r := testReproduction()
	r.Envs[0].TestLevels = 39
	if _, err := WriteReproduction(t.TempDir(), r); err == nil || !strings.Contains(err.Error(), "run sokoban/erl-s1 was scored at 40 test levels, not the 39") {
		t.Errorf("other levels: %v", err)
	}
	r = testReproduction()
	r.Envs[0].Algos[1].Runs[1].Test.Best.SampledSolved = nil
	if _, err := WriteReproduction(t.TempDir(), r); err == nil || !strings.Contains(err.Error(), "run sokoban/rlvr-10-s2: the test scores of best.safetensors lack the successes level by level") {
		t.Errorf("no counts level by level: %v", err)
	}
}

// TestWriteReproductionOfPrunedRuns: a run whose records are gone, as in a committed
// reproduction, is reported from its summary: in the tables with its steps and its lift, in
// the figure with its summary's evaluations, or, where the summary holds none (an older
// erlgo's), not in the figure, which the report says; an algorithm of several runs that holds
// one has no pooled lift. A run with neither records nor a summary is an error.
func TestWriteReproductionOfPrunedRuns(t *testing.T) {
	r := testReproduction()
	runs := r.Envs[0].Algos[0].Runs
	for i := range runs {
		s := Summarize(runs[i].Records, erl.RunState{Status: erl.StatusFinished, Step: 30, Steps: 30})
		runs[i].Summary = &s
	}
	if n := len(runs[0].Summary.Evaluations); n != 10 {
		t.Fatalf("the summary of 30 steps evaluated every third holds %d evaluations, want 10", n)
	}
	pooled := CompareReports([]Group{{Name: "erl", Runs: runs}})[0].Lift
	wholeDir := t.TempDir()
	whole, err := WriteReproduction(wholeDir, r)
	if err != nil || pooled == nil {
		t.Fatalf("%v; pooled lift %v", err, pooled)
	}
	figure := func(dir string) []byte {
		t.Helper()
		png, err := os.ReadFile(filepath.Join(dir, "sokoban.png"))
		if err != nil {
			t.Fatal(err)
		}
		return png
	}
	runs[1].Records = nil
	dir := t.TempDir()
	sum, err := WriteReproduction(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	// The figure draws nothing of the records but their evaluations: drawn from a summary, it
	// is the same.
	e, we := sum.Envs[0], whole.Envs[0]
	if !slices.Equal(e.Pruned, []string{"sokoban/erl-s2"}) || len(e.Uncharted) != 0 || !bytes.Equal(figure(dir), figure(wholeDir)) {
		t.Errorf("pruned %v, uncharted %v: want erl-s2 pruned, drawn from its summary as from its records", e.Pruned, e.Uncharted)
	}
	if got, want := e.Algos[0].PerRun[1], we.Algos[0].PerRun[1]; got.Steps != want.Steps || got.WallSeconds != want.WallSeconds ||
		got.EnvSteps != want.EnvSteps || got.Lift == nil || got.Lift.Lift != want.Lift.Lift {
		t.Errorf("erl-s2 from its summary %+v, want as from its records %+v", got, want)
	}
	if *e.Algos[0].Final != *we.Algos[0].Final || e.Differences[0] != we.Differences[0] {
		t.Errorf("the pruned run changed the scores: %+v %+v, want %+v %+v", e.Algos[0].Final, e.Differences, we.Algos[0].Final, we.Differences)
	}
	md, err := os.ReadFile(filepath.Join(dir, ReproductionReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "their metrics.jsonl absent (a committed reproduction keeps each run's config, summary and test scores, not its metrics): `sokoban/erl-s2`.") ||
		strings.Contains(string(md), "Not in the figure") {
		t.Errorf("report.md should say erl-s2 is reported from its summary:\n%s", md)
	}
	// erl's lift combined from its runs' own (CombineLifts): the pooled figure, marked.
	combined := regexp.MustCompile(fmt.Sprintf(`(?m)^erl +3 of 3 .* %s \[[-+.0-9]+, [-+.0-9]+\]\* +%d +%.3f / %.3f$`,
		regexp.QuoteMeta(fmt.Sprintf("%+.3f", pooled.Lift.Value)), pooled.Attempts, pooled.Guided.Value, pooled.Plain.Value))
	if !combined.Match(md) || !strings.Contains(string(md), "*: runs pruned to their summaries") {
		t.Errorf("report.md should give erl the lift combined from its runs' own, %+.3f over %d retries, marked *:\n%s", pooled.Lift.Value, pooled.Attempts, md)
	}
	l := we.Algos[0].PerRun[1].Lift
	if row := fmt.Sprintf("| `sokoban/erl-s2` | 30 | 45s | 1200 | 0.250 [0.175, 0.325] | 15 | 0.500 [0.350, 0.650] | %s (%d; %.3f / %.3f) |", formatDiff(l.Lift), pooled.Attempts/3, l.Guided.Value, l.Plain.Value); !strings.Contains(string(md), row) {
		t.Errorf("report.md lacks erl-s2's row %q:\n%s", row, md)
	}

	runs[1].Summary.Evaluations = nil
	dir = t.TempDir()
	if sum, err = WriteReproduction(dir, r); err != nil || !slices.Equal(sum.Envs[0].Uncharted, []string{"sokoban/erl-s2"}) {
		t.Fatalf("uncharted %v (%v): want erl-s2", sum.Envs[0].Uncharted, err)
	}
	if md, err = os.ReadFile(filepath.Join(dir, ReproductionReportFile)); err != nil || !strings.Contains(string(md), "Not in the figure, their summaries (made by an erlgo before summaries kept every evaluation) holding no curve: `sokoban/erl-s2`.") {
		t.Errorf("report.md should say erl-s2 is not in the figure (%v):\n%s", err, md)
	}

	runs[1].Summary = nil
	if _, err := WriteReproduction(t.TempDir(), r); err == nil || !strings.Contains(err.Error(), "run sokoban/erl-s2 has neither records nor a summary") {
		t.Errorf("a run with neither records nor a summary: %v", err)
	}
}
