package report

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/internal/stats"
)

// File names of what WriteReproduction writes into a reproduction's directory, besides a
// figure for each environment (ReproductionEnv.Figure).
const (
	ReproductionReportFile  = "report.md"
	ReproductionSummaryFile = "summary.json"
)

// Reproduction is what a reproduction of the paper's comparison ran, for its report: for each
// environment, the runs of each algorithm, all of them scored at the same test levels.
type Reproduction struct {
	// Command is the command line that makes the reproduction, and continues it; About holds
	// lines that say what made it and where (erlgo's version, the machine).
	Command string
	About   []string
	// Budget says what each run may spend, in words ("20m of training time"), and Model what
	// each run trains ("the small model, 138688 parameters").
	Budget string
	Model  string
	Envs   []ReproductionEnv
}

// ReproductionEnv is one environment of a reproduction.
type ReproductionEnv struct {
	Env string
	// ValidationFile and TestFile are the level files that every run of the environment
	// shares, by their paths in the reproduction's directory, and ValidationLevels and
	// TestLevels the number of levels they hold.
	ValidationFile   string
	TestFile         string
	ValidationLevels int
	TestLevels       int
	// Random and RandomValidation are the uniformly random policy's success at the test and at
	// the validation levels, RandomSamples attempts a level.
	Random           erl.Score
	RandomValidation erl.Score
	RandomSamples    int
	// Algos are the algorithms compared, in the order of the report; the first is the one the
	// others are measured against.
	Algos []ReproductionAlgo
}

// Figure is the file name of the environment's figure in the reproduction's directory.
func (e ReproductionEnv) Figure() string { return e.Env + ".png" }

// ReproductionAlgo is one algorithm of a reproduction, in one environment.
type ReproductionAlgo struct {
	// Name is how the reproduction names it (erl, rlvr-10, ...); About says what it is.
	Name  string
	About string
	// Planned is the number of runs (seeds) planned; Runs those that finished their budget,
	// each named by its directory in the reproduction's, with its test scores.
	Planned int
	Runs    []Run
}

// ReproductionSummary is what WriteReproduction writes as summary.json: the report's figures,
// for programs.
type ReproductionSummary struct {
	Command string `json:"command"`
	Budget  string `json:"budget"`
	Model   string `json:"model"`
	// Complete says whether every planned run finished; Runs and Planned count them.
	Complete bool `json:"complete"`
	Runs     int  `json:"runs"`
	Planned  int  `json:"planned"`
	// Interval says how the intervals of a configuration's mean success and of differences
	// are made (stats.RunsMethod); a run's own scores have erl.IntervalMethod's.
	Interval string            `json:"interval"`
	Envs     []EnvSummary      `json:"envs"`
	Paper    []PaperComparison `json:"paper"`
	About    []string          `json:"about"`
	// Methods says how the intervals of other figures are made: "run", a run's own test
	// scores; "lift", the reflection's lift.
	Methods map[string]string `json:"methods"`
}

// EnvSummary is the summary of one environment of a reproduction.
type EnvSummary struct {
	Env              string `json:"env"`
	ValidationFile   string `json:"validation_file"`
	TestFile         string `json:"test_file"`
	ValidationLevels int    `json:"validation_levels"`
	TestLevels       int    `json:"test_levels"`
	// Random is the uniformly random policy's success at the test levels, RandomSamples
	// attempts a level.
	Random        erl.Score `json:"random_test"`
	RandomSamples int       `json:"random_samples"`
	// Figure is the file of the environment's figure, absent where no run finished.
	Figure string `json:"figure,omitempty"`
	// Pruned are the finished runs without records, their metrics.jsonl gone (a committed
	// reproduction keeps its runs' summaries and test scores, not their metrics): they are
	// reported from their summaries. Uncharted are those of them not in the figure, whose
	// summary.json (made by an erlgo before summaries kept every evaluation) holds no curve.
	Pruned    []string      `json:"pruned,omitempty"`
	Uncharted []string      `json:"uncharted,omitempty"`
	Algos     []AlgoSummary `json:"algos"`
	// Differences are the first algorithm's test success less each other's.
	Differences []Difference `json:"differences,omitempty"`
}

// AlgoSummary is the summary of one algorithm's runs in one environment.
type AlgoSummary struct {
	Name    string `json:"name"`
	About   string `json:"about"`
	Runs    int    `json:"runs"`
	Planned int    `json:"planned"`
	// MeanSteps, MeanEnvSteps and MeanWallSeconds are the means over the runs of their steps,
	// environment steps and training time.
	MeanSteps       float64 `json:"mean_steps"`
	MeanEnvSteps    float64 `json:"mean_env_steps"`
	MeanWallSeconds float64 `json:"mean_wall_s"`
	// Final and Best are the test success (sampled, as the paper validates) of the runs' last
	// and best checkpoints; FinalGreedy and BestGreedy the same, greedy. All are absent where
	// no run finished.
	Final       *RunsScore `json:"final_test,omitempty"`
	Best        *RunsScore `json:"best_test,omitempty"`
	FinalGreedy *RunsScore `json:"final_test_greedy,omitempty"`
	BestGreedy  *RunsScore `json:"best_test_greedy,omitempty"`
	PerRun      []RunScore `json:"per_run"`
}

// RunsScore is a configuration's test success over its runs: their mean, their range, and the
// 95% interval of the mean over runs and levels (stats.Crossed).
type RunsScore struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
}

// RunScore is one finished run of a reproduction: its length, its test scores and its
// reflection lift, absent where it measured none.
type RunScore struct {
	Dir         string    `json:"dir"`
	Steps       int       `json:"steps"`
	WallSeconds float64   `json:"wall_s"`
	EnvSteps    int64     `json:"env_steps"`
	BestStep    int       `json:"best_step"`
	Final       erl.Score `json:"final_test"`
	Best        erl.Score `json:"best_test"`
	FinalGreedy erl.Score `json:"final_test_greedy"`
	BestGreedy  erl.Score `json:"best_test_greedy"`
	Lift        *Lift     `json:"reflection_lift,omitempty"`
}

// Difference is the test success (sampled) of algorithm A less that of B, of the last and of
// the best checkpoints, with 95% intervals over runs and levels.
type Difference struct {
	A     string         `json:"a"`
	B     string         `json:"b"`
	Final stats.Estimate `json:"final"`
	Best  stats.Estimate `json:"best"`
}

// PaperComparison sets one of the paper's findings beside what the reproduction measured.
type PaperComparison struct {
	Env string `json:"env"`
	// Finding is the paper's, in words; PaperDiff its difference in success of A less B, where
	// it gives one.
	Finding   string   `json:"finding"`
	PaperDiff *float64 `json:"paper_diff,omitempty"`
	// A and B are the reproduction's algorithms that the finding compares, and Ours their
	// difference (Difference).
	A    string     `json:"a"`
	B    string     `json:"b"`
	Ours Difference `json:"ours"`
}

// paperFindings are the paper's results (Shi et al., arXiv 2602.13949, with
// Qwen3-4B-Instruct-2507 on 8 GPUs), as ../shared/DESIGN.md §1 records them, each with the
// reproduction's algorithms that it compares. Its RLVR baseline sampled 10 attempts a task
// where ERL sampled 4, as rlvr-10 does: where both RLVRs ran, each is compared.
var paperFindings = []struct {
	env, finding string
	diff         *float64
	a            string
	b            []string // each compared where present
}{
	{envs.EnvSokoban, "ERL 0.87 against RLVR 0.06: +0.81", ptrTo(0.81), "erl", []string{"rlvr-10", "rlvr"}},
	{envs.EnvFrozenLake, "ERL above RLVR by up to +0.27", ptrTo(0.27), "erl", []string{"rlvr-10", "rlvr"}},
	{"", "without memory: slower to converge, a similar final result", nil, "erl-nomem", []string{"erl"}},
	{"", "without reflection: slower, and lower", nil, "erl-norefl", []string{"erl"}},
}

func ptrTo(v float64) *float64 { return &v }

// paperSetting says what the paper's figures come from, beside ours (%s: the model).
const paperSetting = "The paper's figures come from Qwen3-4B-Instruct-2507, a pretrained 4-billion-parameter " +
	"language model, trained on 8 GPUs for about 32 hours (200 steps of 64 tasks on Sokoban, 100 on FrozenLake); " +
	"ours from %s, trained from scratch on the budget above. Read the signs and the orderings, not the sizes."

// WriteReproduction writes the report of the reproduction r into its directory dir:
// report.md (for people), summary.json (ReproductionSummary, for programs) and, for each
// environment where runs finished, a figure of their validation success against steps,
// environment steps and wall-clock (PlotCompareGroups, the random policy dashed). It returns
// the summary. Every file is written whole or not at all.
func WriteReproduction(dir string, r Reproduction) (ReproductionSummary, error) {
	sum := ReproductionSummary{Command: r.Command, Budget: r.Budget, Model: r.Model, Interval: stats.RunsMethod, About: r.About,
		Methods: map[string]string{"run": erl.IntervalMethod, "lift": LiftMethod}}
	var groupsByEnv [][]Group
	for _, e := range r.Envs {
		es, groups, err := summarizeEnv(e)
		if err != nil {
			return sum, err
		}
		for _, a := range es.Algos {
			sum.Runs, sum.Planned = sum.Runs+a.Runs, sum.Planned+a.Planned
		}
		if charted := chartable(groups); len(charted) > 0 {
			es.Figure = e.Figure()
			baseline := Baseline{Name: "random policy", Success: e.RandomValidation.Success}
			if err := PlotCompareGroups(filepath.Join(dir, es.Figure), charted, baseline); err != nil {
				return sum, fmt.Errorf("report: %s: %w", e.Env, err)
			}
		}
		sum.Envs = append(sum.Envs, es)
		groupsByEnv = append(groupsByEnv, groups)
	}
	sum.Complete = sum.Runs == sum.Planned
	sum.Paper = comparePaper(sum.Envs)
	err := atomicfile.Write(filepath.Join(dir, ReproductionReportFile), func(w io.Writer) error {
		_, err := io.WriteString(w, reproductionMarkdown(sum, groupsByEnv))
		return err
	})
	if err != nil {
		return sum, err
	}
	return sum, atomicfile.WriteJSON(filepath.Join(dir, ReproductionSummaryFile), sum)
}

// chartable returns groups with only their runs that have curves, each run's records its
// curve (Run.curve), without the groups left with none.
func chartable(groups []Group) []Group {
	var out []Group
	for _, g := range groups {
		var runs []Run
		for _, r := range g.Runs {
			if c := r.curve(); len(c) > 0 {
				runs = append(runs, Run{Name: r.Name, Records: c, Test: r.Test})
			}
		}
		if len(runs) > 0 {
			out = append(out, Group{Name: g.Name, Runs: runs})
		}
	}
	return out
}

// summarizeEnv summarizes one environment: each algorithm's runs, and the differences of the
// first algorithm with runs from each other one. groups are the algorithms with finished runs,
// for the tables of erlgo compare and, those of their runs with curves (chartable), for the
// figure.
func summarizeEnv(e ReproductionEnv) (EnvSummary, []Group, error) {
	es := EnvSummary{Env: e.Env, ValidationFile: e.ValidationFile, TestFile: e.TestFile,
		ValidationLevels: e.ValidationLevels, TestLevels: e.TestLevels, Random: e.Random, RandomSamples: e.RandomSamples}
	var groups []Group
	var final, best, finalGreedy, bestGreedy []stats.Runs
	var scored []int // the index in es.Algos of each group of runs
	for _, a := range e.Algos {
		as := AlgoSummary{Name: a.Name, About: a.About, Runs: len(a.Runs), Planned: a.Planned, PerRun: []RunScore{}}
		var f, b, fg, bg stats.Runs
		for _, run := range a.Runs {
			rs, err := runScore(run, e.TestLevels)
			if err != nil {
				return es, nil, err
			}
			as.PerRun = append(as.PerRun, rs)
			if len(run.Records) == 0 {
				es.Pruned = append(es.Pruned, run.Name)
			}
			if len(run.curve()) == 0 {
				es.Uncharted = append(es.Uncharted, run.Name)
			}
			n := float64(len(a.Runs))
			as.MeanSteps += float64(rs.Steps) / n
			as.MeanEnvSteps += float64(rs.EnvSteps) / n
			as.MeanWallSeconds += rs.WallSeconds / n
			t := run.Test
			f.Solved, b.Solved = append(f.Solved, t.Last.SampledSolved), append(b.Solved, t.Best.SampledSolved)
			fg.Solved, bg.Solved = append(fg.Solved, t.Last.GreedySolved), append(bg.Solved, t.Best.GreedySolved)
			f.Attempts, b.Attempts = t.Last.Sampled.N/t.Levels, t.Best.Sampled.N/t.Levels
			fg.Attempts, bg.Attempts = 1, 1
		}
		if len(a.Runs) > 0 {
			groups = append(groups, Group{Name: a.Name, Runs: a.Runs})
			final, best = append(final, f), append(best, b)
			finalGreedy, bestGreedy = append(finalGreedy, fg), append(bestGreedy, bg)
			scored = append(scored, len(es.Algos))
		}
		es.Algos = append(es.Algos, as)
	}
	if len(scored) == 0 {
		return es, nil, nil
	}
	crossed := make([]*stats.Crossed, 4)
	for i, runs := range [][]stats.Runs{final, best, finalGreedy, bestGreedy} {
		c, err := stats.NewCrossed(runs, stats.Resamples, stats.Seed)
		if err != nil {
			return es, nil, fmt.Errorf("report: %s: %w", e.Env, err)
		}
		crossed[i] = c
	}
	for g, i := range scored {
		as := &es.Algos[i]
		pick := func(c *stats.Crossed, score func(RunScore) erl.Score) *RunsScore {
			var vs []float64
			for _, r := range as.PerRun {
				vs = append(vs, score(r).Success)
			}
			m := c.Mean(g)
			return &RunsScore{Mean: m.Value, Min: slices.Min(vs), Max: slices.Max(vs), Lo: m.Lo, Hi: m.Hi}
		}
		as.Final = pick(crossed[0], func(r RunScore) erl.Score { return r.Final })
		as.Best = pick(crossed[1], func(r RunScore) erl.Score { return r.Best })
		as.FinalGreedy = pick(crossed[2], func(r RunScore) erl.Score { return r.FinalGreedy })
		as.BestGreedy = pick(crossed[3], func(r RunScore) erl.Score { return r.BestGreedy })
	}
	for g := 1; g < len(scored); g++ {
		es.Differences = append(es.Differences, Difference{A: es.Algos[scored[0]].Name, B: es.Algos[scored[g]].Name,
			Final: crossed[0].Diff(0, g), Best: crossed[1].Diff(0, g)})
	}
	addPaperPairs(&es, scored, crossed)
	return es, groups, nil
}

// addPaperPairs adds to es.Differences those of the pairs that the paper's findings compare
// which the first algorithm's differences do not already hold (where the first algorithm is
// not ERL).
func addPaperPairs(es *EnvSummary, scored []int, crossed []*stats.Crossed) {
	index := map[string]int{} // name → group
	for g, i := range scored {
		index[es.Algos[i].Name] = g
	}
	for _, f := range paperFindings {
		for _, b := range f.b {
			ia, okA := index[f.a]
			ib, okB := index[b]
			if (f.env != "" && f.env != es.Env) || !okA || !okB || findDifference(es.Differences, f.a, b) != nil {
				continue
			}
			es.Differences = append(es.Differences, Difference{A: f.a, B: b, Final: crossed[0].Diff(ia, ib), Best: crossed[1].Diff(ia, ib)})
		}
	}
}

// findDifference returns the difference of a less b, or of b less a negated, among ds; nil
// where there is neither.
func findDifference(ds []Difference, a, b string) *Difference {
	for _, d := range ds {
		switch {
		case d.A == a && d.B == b:
			return &d
		case d.A == b && d.B == a:
			neg := func(e stats.Estimate) stats.Estimate { return stats.Estimate{Value: -e.Value, Lo: -e.Hi, Hi: -e.Lo} }
			return &Difference{A: a, B: b, Final: neg(d.Final), Best: neg(d.Best)}
		}
	}
	return nil
}

// unscoredCheckpoint returns the checkpoint of t whose test scores lack the successes level by
// level (a run of an older erlgo), which the bootstrap over levels needs; ok is false where
// neither does.
func unscoredCheckpoint(t erl.TestScores) (checkpoint string, ok bool) {
	for _, c := range []erl.CheckpointScore{t.Last, t.Best} {
		if t.Levels < 1 || len(c.SampledSolved) != t.Levels || len(c.GreedySolved) != t.Levels || c.Sampled.N%t.Levels != 0 {
			return c.Checkpoint, true
		}
	}
	return "", false
}

// runScore returns the summary of a finished run, checking that its test scores are of the
// environment's testLevels shared levels and hold their counts level by level.
func runScore(run Run, testLevels int) (RunScore, error) {
	t := run.Test
	steps, wall, envSteps, ended := run.end()
	switch {
	case t == nil:
		return RunScore{}, fmt.Errorf("report: run %s has no test scores", run.Name)
	case !ended:
		return RunScore{}, fmt.Errorf("report: run %s has neither records nor a summary", run.Name)
	case t.Levels != testLevels:
		return RunScore{}, fmt.Errorf("report: run %s was scored at %d test levels, not the %d that its environment's runs share", run.Name, t.Levels, testLevels)
	}
	if c, ok := unscoredCheckpoint(*t); ok {
		return RunScore{}, fmt.Errorf("report: run %s: the test scores of %s lack the successes level by level (a run of an older erlgo): score it again", run.Name, c)
	}
	rs := RunScore{Dir: run.Name, Steps: steps, WallSeconds: wall, EnvSteps: envSteps, BestStep: t.Best.Step,
		Final: t.Last.Sampled, Best: t.Best.Sampled, FinalGreedy: t.Last.Greedy, BestGreedy: t.Best.Greedy}
	if l, ok := run.lift(); ok {
		rs.Lift = &l
	}
	return rs, nil
}

// comparePaper sets the paper's findings beside the reproduction's differences, in each
// environment where both algorithms of a finding finished runs.
func comparePaper(envs []EnvSummary) []PaperComparison {
	var out []PaperComparison
	for _, f := range paperFindings {
		for _, e := range envs {
			if f.env != "" && f.env != e.Env {
				continue
			}
			for _, b := range f.b {
				if d := findDifference(e.Differences, f.a, b); d != nil {
					out = append(out, PaperComparison{Env: e.Env, Finding: f.finding, PaperDiff: f.diff, A: d.A, B: d.B, Ours: *d})
				}
			}
		}
	}
	return out
}

// reproductionMarkdown renders the report; groupsByEnv are each environment's groups of
// finished runs, for its table by solution length.
func reproductionMarkdown(s ReproductionSummary, groupsByEnv [][]Group) string {
	var b strings.Builder
	b.WriteString("# Reproduction: ERL against RLVR and ERL's ablations\n\n")
	fmt.Fprintf(&b, "```sh\n%s\n```\n\n", s.Command)
	status := fmt.Sprintf("all %d planned runs finished", s.Planned)
	if !s.Complete {
		status = fmt.Sprintf("**incomplete**: %d of the %d planned runs have finished; the figures are those of the finished runs (the command above continues the others)", s.Runs, s.Planned)
	}
	fmt.Fprintf(&b, "Each run: %s of %s; %s.\n", s.Budget, s.Model, status)
	for _, line := range s.About {
		fmt.Fprintf(&b, "%s\n", line)
	}
	b.WriteString("\nEvery run of an environment trains on generated levels and is scored at the same levels, " +
		"which no run trains on: the validation levels, scored during training, choose each run's best checkpoint; " +
		"the test levels score its last checkpoint (final) and its best one when it stops. " +
		"Success is first-attempt success (no feedback, no reflection), sampled as the paper validates " +
		"(temperature 0.7, top-p 0.8, top-k 20).\n\n")
	fmt.Fprintf(&b, "Each table gives the mean over an algorithm's runs, their range (min–max), and the mean's %s. "+
		"With a few seeds (three, say) the interval is rough: it can only recombine the seeds there are, and where seeds differ a lot "+
		"(some learn, some do not) it is too narrow; in a simulation of such seeds it held the truth about 80%% of the time. "+
		"Read it with the range.\n", s.Interval)
	for i, e := range s.Envs {
		writeEnvMarkdown(&b, e, groupsByEnv[i])
	}
	if len(s.Paper) > 0 {
		b.WriteString("\n## The paper's findings beside ours\n\n")
		fmt.Fprintf(&b, paperSetting+"\n\n", s.Model)
		b.WriteString("| environment | the paper | ours: test success, A − B | final (last checkpoint) | best checkpoint |\n| --- | --- | --- | --- | --- |\n")
		for _, p := range s.Paper {
			fmt.Fprintf(&b, "| %s | %s | %s − %s | %s | %s |\n", p.Env, p.Finding, p.A, p.B, formatDiff(p.Ours.Final), formatDiff(p.Ours.Best))
		}
		b.WriteString("\nHow fast each learns is in the figures: success against training steps, environment steps and wall-clock.\n")
	}
	return b.String()
}

// writeEnvMarkdown writes the section of one environment.
func writeEnvMarkdown(b *strings.Builder, e EnvSummary, groups []Group) {
	fmt.Fprintf(b, "\n## %s\n\n", envTitle(e.Env))
	fmt.Fprintf(b, "%d validation levels (`%s`), %d test levels (`%s`), shared by every run.\n\n", e.ValidationLevels, e.ValidationFile, e.TestLevels, e.TestFile)
	if e.Figure != "" {
		fmt.Fprintf(b, "![%s: validation success against training steps, environment steps and wall-clock; each algorithm's mean over its runs, with a band from their minimum to their maximum](%s)\n\n", e.Env, e.Figure)
	}
	if len(e.Pruned) > 0 {
		fmt.Fprintf(b, "Reported from their summaries, their metrics.jsonl absent (a committed reproduction keeps each run's config, summary and test scores, not its metrics): %s. "+
			"They are in every table, each with its own lift (the table of every run); an algorithm's lift over several runs is then their own lifts combined, weighted by their retries, with a normal interval from theirs (marked *).",
			codeList(e.Pruned))
		if len(e.Uncharted) > 0 {
			fmt.Fprintf(b, " Not in the figure, their summaries (made by an erlgo before summaries kept every evaluation) holding no curve: %s.", codeList(e.Uncharted))
		}
		b.WriteString("\n\n")
	}
	b.WriteString("| algorithm | runs | steps (mean) | final test success: mean (range) | 95% interval | best checkpoint: mean (range) | 95% interval |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, a := range e.Algos {
		runs := fmt.Sprint(a.Runs)
		if a.Runs != a.Planned {
			runs = fmt.Sprintf("%d of %d", a.Runs, a.Planned)
		}
		if a.Final == nil {
			fmt.Fprintf(b, "| %s | %s | - | - | - | - | - |\n", a.About, runs)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %.0f | %s | %s | %s | %s |\n", a.About, runs, a.MeanSteps,
			formatSpread(*a.Final), formatInterval(a.Final.Lo, a.Final.Hi), formatSpread(*a.Best), formatInterval(a.Best.Lo, a.Best.Hi))
	}
	fmt.Fprintf(b, "| random policy (%d attempts a level) | | | %.3f | %s | | |\n", e.RandomSamples, e.Random.Success, formatInterval(e.Random.Lo, e.Random.Hi))
	if len(e.Differences) > 0 {
		b.WriteString("\nDifferences of test success, with 95% intervals over runs and levels (the levels drawn alike for both):\n\n")
		b.WriteString("| A − B | final | best checkpoint |\n| --- | --- | --- |\n")
		for _, d := range e.Differences {
			fmt.Fprintf(b, "| %s − %s | %s | %s |\n", d.A, d.B, formatDiff(d.Final), formatDiff(d.Best))
		}
	}
	if len(groups) > 0 {
		b.WriteString("\nBy optimal solution length, and the reflection's lift where runs measured it (`erlgo compare`'s tables):\n\n```\n")
		b.WriteString(strings.TrimLeft(TestTable(CompareReports(groups)), "\n"))
		b.WriteString("```\n")
	}
	b.WriteString("\n<details><summary>Every run</summary>\n\n")
	b.WriteString("| run | steps | training time | env steps | final test (95% interval over levels) | best at step | best test | reflection lift (retries; guided / plain retry success) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, a := range e.Algos {
		for _, r := range a.PerRun {
			lift := ""
			if l := r.Lift; l != nil {
				lift = fmt.Sprintf("%s (%d; %.3f / %.3f)", formatDiff(l.Lift), l.Attempts, l.Guided.Value, l.Plain.Value)
			}
			fmt.Fprintf(b, "| `%s` | %d | %s | %d | %.3f %s | %d | %.3f %s | %s |\n", r.Dir, r.Steps, clock(r.WallSeconds, true), r.EnvSteps,
				r.Final.Success, formatInterval(r.Final.Lo, r.Final.Hi), r.BestStep, r.Best.Success, formatInterval(r.Best.Lo, r.Best.Hi), lift)
		}
	}
	b.WriteString("\n</details>\n")
}

// codeList lists names as code: `a`, `b`.
func codeList(names []string) string { return "`" + strings.Join(names, "`, `") + "`" }

// envTitle is how the report heads an environment's section.
func envTitle(env string) string {
	switch env {
	case "sokoban":
		return "Sokoban"
	case "frozenlake":
		return "FrozenLake"
	}
	return env
}

func formatSpread(s RunsScore) string {
	return fmt.Sprintf("%.3f (%.3f–%.3f)", s.Mean, s.Min, s.Max)
}

func formatInterval(lo, hi float64) string { return fmt.Sprintf("[%.3f, %.3f]", lo, hi) }

func formatDiff(e stats.Estimate) string {
	return fmt.Sprintf("%+.3f [%+.3f, %+.3f]", e.Value, e.Lo, e.Hi)
}
