package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/erl"
)

// testScores returns test scores whose best checkpoint, at step, has sampled success sampled
// over levels levels, split evenly between levels of 2 and of 5 moves.
func testScores(step, levels int, sampled float64) *erl.TestScores {
	score := func(s float64, n int) erl.Score {
		return erl.Score{Success: s, N: 4 * n, Levels: n, Lo: s - 0.05, Hi: s + 0.05}
	}
	ev := erl.Evaluation{Greedy: score(sampled/2, levels), Sampled: score(sampled, levels), ByLength: []erl.LengthScore{
		{Moves: 2, Greedy: score(1, levels/2), Sampled: score(2*sampled, levels/2)},
		{Moves: 5, Greedy: score(0, levels/2), Sampled: score(0, levels/2)},
	}}
	return &erl.TestScores{Levels: levels, Last: erl.CheckpointScore{Checkpoint: "last.safetensors", Step: step + 10, Evaluation: ev},
		Best: erl.CheckpointScore{Checkpoint: "best.safetensors", Step: step, Evaluation: ev}}
}

// TestCompareReports: a group's test success is the mean and range over its runs with test
// scores, by length too; its lift pools the retried tasks of all its runs; the table shows a
// run alone with its interval, and is empty where nothing was measured.
func TestCompareReports(t *testing.T) {
	groups := []Group{
		{"erl", []Run{
			{Name: "s1", Records: testRecords(10), Test: testScores(6, 100, 0.2)},
			{Name: "s2", Records: testRecords(20), Test: testScores(9, 100, 0.3)},
			{Name: "s3", Records: testRecords(4)}, // still running: no test scores yet
		}},
		{"rlvr", []Run{{Name: "s1", Records: rlvrRecords(8), Test: testScores(8, 64, 0.1)}}},
	}
	reports := CompareReports(groups)
	erlGroup, rlvr := reports[0], reports[1]
	if erlGroup.TestRuns != 2 || len(erlGroup.Runs) != 3 || math.Abs(erlGroup.Sampled.Mean-0.25) > 1e-12 || erlGroup.Sampled.Min != 0.2 || erlGroup.Sampled.Max != 0.3 {
		t.Errorf("erl group %+v: want the mean 0.25 and range 0.2–0.3 of its 2 runs with test scores", erlGroup)
	}
	if len(erlGroup.ByLength) != 2 || erlGroup.ByLength[0] != (LengthGroup{Moves: 2, Levels: 100, Sampled: 0.5}) {
		t.Errorf("erl group by length %+v: want 2 moves at 100 levels in all, mean success 0.5", erlGroup.ByLength)
	}
	var pooled []erl.Record
	for _, r := range groups[0].Runs {
		pooled = append(pooled, r.Records...)
	}
	want, _ := PoolLift(pooled)
	if erlGroup.Lift == nil || erlGroup.Lift.Attempts != want.Attempts || erlGroup.Lift.Lift != want.Lift || erlGroup.Runs[0].Lift == nil {
		t.Errorf("erl group lift %+v, want the runs' retried tasks pooled, %+v", erlGroup.Lift, want)
	}
	if rlvr.Lift != nil || rlvr.TestRuns != 1 {
		t.Errorf("rlvr group %+v: want test scores and no lift", rlvr)
	}
	table := TestTable(reports)
	for _, line := range []string{"erl    2 of 3", "0.250 (0.200–0.300)", "0.100 [0.050, 0.150]",
		fmt.Sprintf("%+.3f [%+.3f, %+.3f]  %d", want.Lift.Value, want.Lift.Lo, want.Lift.Hi, want.Attempts), "2 moves", "0.500 (100)"} {
		if !strings.Contains(table, line) {
			t.Errorf("the table lacks %q:\n%s", line, table)
		}
	}
	if got := TestTable(CompareReports([]Group{{"x", []Run{{Name: "s1", Records: rlvrRecords(5)}}}})); got != "" {
		t.Errorf("runs without test scores or a lift: table %q, want none", got)
	}
}
