package erl

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// testConfig is a run small enough for unit tests.
func testConfig(algo string) Config {
	cfg := DefaultConfig()
	cfg.Algo = algo
	cfg.Switches, _ = AlgoSwitches(algo)
	cfg.Batch, cfg.Group, cfg.Steps = 3, 2, 4
	cfg.EvalLevels, cfg.TestLevels, cfg.EvalSamples, cfg.EvalEvery = 4, 3, 1, 2
	cfg.ReflectionLen = 6
	cfg.CheckpointEvery = 0
	return cfg
}

func newTestTrainer(t *testing.T, cfg Config) *Trainer {
	t.Helper()
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func sokobanTask(t *testing.T, seed uint64) envs.Task {
	t.Helper()
	tasks, err := envs.GenerateSokoban(1, seed)
	if err != nil {
		t.Fatal(err)
	}
	return tasks[0]
}

// attemptWith plays the given actions on a task, as a policy would have.
func attemptWith(t *testing.T, c *Contexts, task envs.Task, actions []envs.Action, guide Guidance) *Attempt {
	t.Helper()
	g, err := task.New()
	if err != nil {
		t.Fatal(err)
	}
	a := &Attempt{Task: task, Start: g.Cells(), Guide: guide}
	for _, act := range actions {
		if g.Done() {
			break
		}
		board := g.Cells()
		ctx, err := c.Turn(task.Env, board, a.Actions, guide)
		if err != nil {
			t.Fatal(err)
		}
		a.Turns = append(a.Turns, ctx)
		a.Boards = append(a.Boards, board)
		a.Tokens = append(a.Tokens, c.ActionToken(act))
		a.Logp = append(a.Logp, -1.4)
		a.Actions = append(a.Actions, act)
		g.Step(act)
	}
	a.Feedback = g.Feedback()
	a.Reward, a.Solved = a.Feedback.Reward, g.Solved()
	return a
}

func solution(t *testing.T, task envs.Task) []envs.Action {
	t.Helper()
	g, err := envs.ParseSokoban(task.Layout, task.MaxSteps)
	if err != nil {
		t.Fatal(err)
	}
	sol, err := g.Solve(envs.SolveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	return sol
}

func TestGateSkipsSolvedAttempts(t *testing.T) {
	attempts := []*Attempt{{Reward: 1}, {Reward: 0}, {Reward: 0.5}, {Reward: 1}}
	if got := gate(attempts, 1); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("gate(tau 1) = %v, want [1 2]", got)
	}
	if got := gate(attempts, 0.5); !slices.Equal(got, []int{1}) {
		t.Fatalf("gate(tau 0.5) = %v, want [1]", got)
	}
}

func TestGroupAdvantagesAreZeroMean(t *testing.T) {
	rewards := []float64{1, 0, 0, 0, 1, 1, 1, 1, 0, 1}
	groups := []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2}
	adv := groupAdvantages(rewards, groups)
	sums := map[int]float64{}
	for i, a := range adv {
		sums[groups[i]] += float64(a)
	}
	for g, s := range sums {
		if math.Abs(s) > 1e-6 {
			t.Errorf("group %d: advantages sum to %g", g, s)
		}
	}
	if adv[0] <= 0 || adv[1] >= 0 {
		t.Errorf("the solved attempt must have a positive advantage: %v", adv[:4])
	}
	for i := 4; i < 8; i++ {
		if adv[i] != 0 {
			t.Errorf("a group whose rewards are equal must teach nothing: %v", adv[4:8])
		}
	}
}

// TestTermWeights checks the aggregation of the update: each term is averaged on its own,
// over its tokens or over its units, and scaled by its weight, whatever the other terms hold.
func TestTermWeights(t *testing.T) {
	c := NewContexts(model.StandardVocab())
	turns := func(n int) ([]model.Sequence, []int32) {
		ctx := model.Sequence{Tokens: []int32{1, 2}, Pos: []int32{0, 1}}
		seqs := make([]model.Sequence, n)
		for i := range seqs {
			seqs[i] = ctx
		}
		return seqs, slices.Repeat([]int32{c.ActionTokens[0]}, n)
	}
	u := newUpdateBatch(c)
	for _, a := range []struct {
		turns int
		adv   float32
		term  termKind
	}{{2, 1, termFirst}, {3, -1, termFirst}, {4, 1, termSecond}, {2, 0, termDistill}} {
		seqs, tokens := turns(a.turns)
		u.addAttempt(seqs, tokens, make([]float32, a.turns), a.adv, a.term)
	}
	prompt := model.Sequence{Tokens: []int32{1, 2, 3}, Pos: []int32{0, 1, 2}}
	u.addGenerated(prompt, slices.Repeat([]int32{c.EOS()}, 6), make([]float32, 6), 1, termReflection)
	seqs, tokens := turns(5)
	u.addAttempt(seqs, tokens, make([]float32, 5), 0, termSecond) // zero advantage: left out
	weights := TermWeights{First: 1, Second: 0.5, Reflection: 2, Distill: 3}

	for _, tc := range []struct {
		aggregation string
		// want is each scored token's weight, in order: the first attempts' 2 + 3 tokens, the
		// second attempt's 4, the distilled 2, the reflection's 6.
		want []float64
	}{
		{"token-mean", slices.Concat(slices.Repeat([]float64{1.0 / 5}, 5), slices.Repeat([]float64{0.5 / 4}, 4),
			slices.Repeat([]float64{3.0 / 2}, 2), slices.Repeat([]float64{2.0 / 6}, 6))},
		{"seq-mean", slices.Concat(slices.Repeat([]float64{1.0 / 4}, 2), slices.Repeat([]float64{1.0 / 6}, 3),
			slices.Repeat([]float64{0.5 / 4}, 4), slices.Repeat([]float64{3.0 / 2}, 2), slices.Repeat([]float64{2.0 / 6}, 6))},
	} {
		b := u.build(weights, tc.aggregation)
		if len(b.Scored) != len(tc.want) {
			t.Fatalf("%s: %d scored tokens, want %d", tc.aggregation, len(b.Scored), len(tc.want))
		}
		for i, sc := range b.Scored {
			if got := float64(sc.PGWeight + sc.DistillWeight); math.Abs(got-tc.want[i]) > 1e-6 {
				t.Errorf("%s: token %d weighs %g, want %g", tc.aggregation, i, got, tc.want[i])
			}
			if distilled := i == 9 || i == 10; distilled != (sc.DistillWeight != 0) || distilled == (sc.PGWeight != 0) {
				t.Errorf("%s: token %d has pg weight %g and distill weight %g", tc.aggregation, i, sc.PGWeight, sc.DistillWeight)
			}
		}
	}
}

// TestConsolidate checks the memory and the distillation batch on a retried step whose first
// second attempt succeeded and whose second failed.
func TestConsolidate(t *testing.T) {
	tr := newTestTrainer(t, testConfig(AlgoERL))
	c := tr.Contexts
	tasks := []envs.Task{sokobanTask(t, 1), sokobanTask(t, 2)}
	v := c.Vocab()
	good, bad := v.IDs("push", "Right", "first"), v.IDs("avoid", "wall")
	ep := &StepEpisodes{Retried: []int{0, 1}}
	for i, task := range tasks {
		ep.First = append(ep.First, attemptWith(t, c, task, []envs.Action{envs.Up, envs.Up}, Guidance{}))
		p, err := c.Reflection(ep.First[i], [][]int32{v.IDs("go", "Left")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		words := [][]int32{good, bad}[i]
		ep.ReflectionPrompts = append(ep.ReflectionPrompts, p)
		ep.ReflectionGens = append(ep.ReflectionGens, model.Generation{Tokens: append(slices.Clone(words), c.EOS()), Logp: make([]float32, len(words)+1)})
		ep.Reflections = append(ep.Reflections, words)
	}
	ep.Second = []*Attempt{
		attemptWith(t, c, tasks[0], solution(t, tasks[0]), Guidance{Reflection: good}),
		attemptWith(t, c, tasks[1], []envs.Action{envs.Left}, Guidance{Reflection: bad}),
	}
	if !ep.Second[0].Solved || ep.Second[1].Solved {
		t.Fatal("the test's second attempts should succeed and fail")
	}
	u := newUpdateBatch(c)
	var rec Record
	if err := tr.consolidate(ep, []int{0, 1}, u, &rec); err != nil {
		t.Fatal(err)
	}
	if len(tr.Memory.Items) != 1 || !slices.Equal(tr.Memory.Items[0], good) {
		t.Fatalf("memory = %v, want only the reflection that led to success %v", tr.Memory.Items, good)
	}
	if rec.Distilled != 1 || rec.SuccessPost == nil || *rec.SuccessPost != 0.5 {
		t.Fatalf("distilled %d, post-reflection success %v", rec.Distilled, rec.SuccessPost)
	}
	guideWords := map[int32]bool{v.MustID("REFLECT"): true, v.MustID("MEMORY"): true, v.MustID("ATTEMPT"): true, v.MustID("FEEDBACK"): true}
	var distilled int
	for _, p := range u.pieces {
		if p.term != termDistill {
			continue
		}
		distilled++
		for _, tok := range p.seq.Tokens {
			if guideWords[tok] {
				t.Fatalf("a distillation context holds %q: %s", c.Describe([]int32{tok}), c.Describe(p.seq.Tokens))
			}
		}
	}
	if distilled != len(ep.Second[0].Actions) {
		t.Fatalf("%d distilled turns, want one per action of the successful second attempt (%d)", distilled, len(ep.Second[0].Actions))
	}
	// The distilled turns are exactly the first-attempt contexts of the same actions.
	first := attemptWith(t, c, tasks[0], ep.Second[0].Actions, Guidance{})
	k := 0
	for _, p := range u.pieces {
		if p.term == termDistill {
			if want := appendToken(first.Turns[k], first.Tokens[k]); !slices.Equal(p.seq.Tokens, want.Tokens) || !slices.Equal(p.seq.Pos, want.Pos) {
				t.Fatalf("distilled turn %d differs from the first-attempt context", k)
			}
			k++
		}
	}
}

func TestContextsByRole(t *testing.T) {
	c := NewContexts(model.StandardVocab())
	v := c.Vocab()
	task := sokobanTask(t, 3)
	a := attemptWith(t, c, task, []envs.Action{envs.Up, envs.Left, envs.Left}, Guidance{})
	has := func(s model.Sequence, word string) bool { return slices.Contains(s.Tokens, v.MustID(word)) }
	first := a.Turns[2]
	if has(first, "REFLECT") || has(first, "MEMORY") || has(first, "FEEDBACK") || !has(first, "OBS") {
		t.Errorf("a first-attempt turn holds only the board and its history: %s", c.Describe(first.Tokens))
	}
	if n := len(first.Tokens); first.Tokens[n-1] != v.MustID("ACT") || first.Tokens[n-3] != v.MustID("Up") {
		t.Errorf("a turn ends with its history and ACT: %s", c.Describe(first.Tokens))
	}
	second, err := c.Turn(task.Env, a.Start, nil, Guidance{Reflection: v.IDs("push", "Down")})
	if err != nil {
		t.Fatal(err)
	}
	if !has(second, "REFLECT") || !has(second, "push") || has(second, "FEEDBACK") {
		t.Errorf("a guided turn holds the reflection: %s", c.Describe(second.Tokens))
	}
	raw, err := c.Turn(task.Env, a.Start, nil, Guidance{Attempt: a})
	if err != nil {
		t.Fatal(err)
	}
	if has(raw, "REFLECT") || !has(raw, "ATTEMPT") || !has(raw, "FEEDBACK") {
		t.Errorf("the no-reflection ablation shows the raw attempt: %s", c.Describe(raw.Tokens))
	}
	refl, err := c.Reflection(a, [][]int32{v.IDs("go", "Up")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !has(refl, "MEMORY") || !has(refl, "FEEDBACK") || !has(refl, "in_progress") || refl.Tokens[len(refl.Tokens)-1] != v.MustID("REFLECT") {
		t.Errorf("a reflection context holds memory, attempt, feedback, board and ends with REFLECT: %s", c.Describe(refl.Tokens))
	}
	// Board cells keep their (row, column) position whatever else precedes the board.
	cellPos := func(s model.Sequence) []int32 {
		var ps []int32
		for _, p := range s.Pos {
			if p < TextStart {
				ps = append(ps, p)
			}
		}
		return ps
	}
	if !slices.Equal(cellPos(refl), cellPos(a.Turns[0])) {
		t.Error("board position ids depend on the context")
	}
	cfg := DefaultConfig()
	need := cfg.longestContext()
	mc, _ := model.NewConfig(cfg.Size)
	if len(refl.Tokens)+cfg.ReflectionLen > need.tokens || need.tokens > mc.ContextLen {
		t.Errorf("a reflection context of %d tokens (+%d to write) exceeds the bound %d or the model's %d", len(refl.Tokens), cfg.ReflectionLen, need.tokens, mc.ContextLen)
	}
}

// TestBoardPositionsFollowThePlayer checks that a board cell's position id is its offset from the
// player: the player sits at the centre, its neighbours one id (or one grid row of ids) away, and
// the same arrangement placed elsewhere on the board gets the same ids.
func TestBoardPositionsFollowThePlayer(t *testing.T) {
	c := NewContexts(model.StandardVocab())
	v := c.Vocab()
	idsOf := func(layout ...string) map[string]int32 {
		t.Helper()
		g, err := envs.ParseSokoban(layout, 8)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Turn(envs.EnvSokoban, g.Cells(), nil, Guidance{})
		if err != nil {
			t.Fatal(err)
		}
		at := map[string]int32{}
		for i, tok := range s.Tokens {
			if w, _ := v.Word(tok); w == "A" || w == "B" || w == "C" {
				at[w] = s.Pos[i]
			}
		}
		return at
	}
	left := idsOf("######", "#@$  #", "#    #", "#  . #", "######")
	right := idsOf("######", "#    #", "# @$ #", "#    #", "#   .#", "######")
	want := map[string]int32{"A": boardPos(0, 0), "B": boardPos(0, 1), "C": boardPos(2, 2)}
	for _, got := range []map[string]int32{left, right} {
		if !maps.Equal(got, want) {
			t.Errorf("player, box and goal at position ids %v, want %v", got, want)
		}
	}
	if boardPos(1, 0)-boardPos(0, 0) != boardSpan || boardPos(-MaxBoardSide+1, -MaxBoardSide+1) != 0 || boardPos(MaxBoardSide-1, MaxBoardSide-1) != TextStart-1 {
		t.Error("board position ids do not tile [0, TextStart) row by row")
	}
	if _, err := c.Turn(envs.EnvSokoban, [][]envs.Cell{{envs.Wall, envs.Floor}}, nil, Guidance{}); err == nil {
		t.Error("a board without a player was accepted")
	}
}

func TestConfigGuards(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"batch 0", func(c *Config) { c.Batch = 0 }, "batch"},
		{"unknown env", func(c *Config) { c.Env = "chess" }, "chess"},
		{"unknown algo", func(c *Config) { c.Algo = "ppo" }, "ppo"},
		{"context too long", func(c *Config) { c.ReflectionLen = 120 }, "context length"},
		{"no steps", func(c *Config) { c.Steps = 0 }, "steps"},
		{"bad clip", func(c *Config) { c.Objective.ClipLow = 1.5 }, "clip"},
		{"bad lr", func(c *Config) { c.Optim.LR = 0 }, "lr"},
		{"unknown curriculum", func(c *Config) { c.Curriculum = "hardest-first" }, "hardest-first"},
		{"curriculum and level file", func(c *Config) { c.Curriculum, c.TrainFile = CurriculumEvenMoves, "levels.jsonl" }, "levels.jsonl"},
		{"negative time", func(c *Config) { c.Time = Duration(-5 * time.Minute) }, "time -5m0s must not be negative"},
		{"NaN learning rate", func(c *Config) { c.Optim.LR = math.NaN() }, "optim.lr NaN must be a finite number"},
		{"infinite learning rate", func(c *Config) { c.Optim.LR = math.Inf(1) }, "optim.lr +Inf"},
		{"NaN clip", func(c *Config) { c.Objective.ClipLow = math.NaN() }, "objective.clip_low NaN"},
		{"NaN tau", func(c *Config) { c.Tau = math.NaN() }, "tau NaN"},
		{"too many attempts", func(c *Config) { c.Batch, c.Group = 1<<20, 4 }, "at most 65536 fit"},
		{"no validation levels", func(c *Config) { c.EvalLevels = -3 }, "eval_levels -3 must lie in [1, 1000000]"},
		{"too many validation levels", func(c *Config) { c.EvalLevels = 1 << 40 }, "eval_levels"},
		{"negative test levels", func(c *Config) { c.TestLevels = -1 }, "test_levels -1 must lie in [0, 1000000] (0: no test split)"},
		{"too many test attempts", func(c *Config) { c.TestLevels, c.EvalSamples = 1<<17, 4 }, "test split: 131072 levels × 4 samples"},
		{"negative eval_every", func(c *Config) { c.EvalEvery = -1 }, "eval_every -1"},
		{"negative checkpoint_every", func(c *Config) { c.CheckpointEvery = -1 }, "checkpoint_every -1"},
		{"negative temperature", func(c *Config) { c.Rollout.Temperature = -1 }, "rollout.temperature"},
		{"top_p above 1", func(c *Config) { c.EvalSample.TopP = 2 }, "eval_sample.top_p 2"},
		{"negative hindsight retries", func(c *Config) { c.Weights.HindsightRetry = -1 }, "term weights must not be negative"},
	} {
		cfg := DefaultConfig()
		c.change(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error about %q", c.name, err, c.want)
		}
	}
	def := DefaultConfig()
	if err := def.Validate(); err != nil {
		t.Fatalf("the default config is invalid: %v", err)
	}
}

func TestNonFiniteStepStops(t *testing.T) {
	tr := newTestTrainer(t, testConfig(AlgoRLVR))
	w := tr.Policy.Param("ln_f.weight").Value.Data().([]float32)
	w[0] = float32(math.NaN())
	if _, err := tr.Step(); err == nil {
		t.Fatal("a NaN weight trained on without error")
	}
}

func TestRLVRAndERLShareFirstAttempts(t *testing.T) {
	var firsts [][]*Attempt
	for _, algo := range []string{AlgoRLVR, AlgoERL} {
		tr := newTestTrainer(t, testConfig(algo))
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, tr.Last.First)
	}
	for i := range firsts[0] {
		a, b := firsts[0][i], firsts[1][i]
		if !slices.Equal(a.Actions, b.Actions) || !slices.Equal(a.Logp, b.Logp) || a.Task.Layout[1] != b.Task.Layout[1] {
			t.Fatalf("attempt %d differs between rlvr and erl", i)
		}
	}
}

func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, curriculum := range []string{CurriculumNone, CurriculumAdaptive} {
		t.Run(curriculum, func(t *testing.T) {
			cfg := testConfig(AlgoERL)
			cfg.EvalEvery, cfg.Curriculum = 0, curriculum
			whole := newTestTrainer(t, cfg)
			for range cfg.Steps {
				if _, err := whole.Step(); err != nil {
					t.Fatal(err)
				}
			}
			part := newTestTrainer(t, cfg)
			for range 2 {
				if _, err := part.Step(); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(t.TempDir(), "mid.safetensors")
			if err := part.Save(path); err != nil {
				t.Fatal(err)
			}
			resumed, err := ResumeTrainer(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for resumed.StepsDone < cfg.Steps {
				if _, err := resumed.Step(); err != nil {
					t.Fatal(err)
				}
			}
			for i, p := range whole.Policy.Params {
				if !slices.Equal(p.Value.Data().([]float32), resumed.Policy.Params[i].Value.Data().([]float32)) {
					t.Fatalf("%s differs between the resumed and the uninterrupted run", p.Name)
				}
			}
			if !slices.EqualFunc(whole.Memory.Items, resumed.Memory.Items, slices.Equal[[]int32]) || whole.Totals.EnvSteps != resumed.Totals.EnvSteps {
				t.Fatal("memory or counters differ between the resumed and the uninterrupted run")
			}
			if !slices.Equal(whole.Lengths.Success, resumed.Lengths.Success) {
				t.Fatalf("curriculum state %v after resuming, %v uninterrupted", resumed.Lengths.Success, whole.Lengths.Success)
			}
		})
	}
}

// reports records the calls of TrainOptions.Report, and what the run directory held at each.
type reports struct {
	states  []RunState
	records []int // the number of records in metrics.jsonl
}

func (r *reports) report(dir RunDir, s RunState) error {
	recs, err := ReadMetrics(dir.Metrics())
	r.states, r.records = append(r.states, s), append(r.records, len(recs))
	return err
}

func TestRunWritesARunDirectory(t *testing.T) {
	for _, algo := range Algos {
		t.Run(algo, func(t *testing.T) {
			cfg := testConfig(algo)
			cfg.Steps, cfg.CheckpointEvery = 3, 2
			tr := newTestTrainer(t, cfg)
			dir := RunDir(t.TempDir())
			var rep reports
			status, err := Train(context.Background(), tr, dir, TrainOptions{Report: rep.report})
			if err != nil || status != StatusFinished {
				t.Fatalf("Train = %q, %v", status, err)
			}
			for _, f := range []string{dir.Config(), dir.Last(), dir.Best(), dir.Numbered(2), dir.Episodes(), dir.Metrics(),
				dir.Validation(), dir.Test(), dir.TestScores()} {
				if st, err := os.Stat(f); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
			recs, err := ReadMetrics(dir.Metrics())
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 || recs[3].EvalGreedy == nil || recs[3].EnvSteps == 0 {
				t.Fatalf("metrics: %d records, last %+v; want step 0 and 3 steps", len(recs), recs[len(recs)-1])
			}
			if r := recs[0]; r.Step != 0 || r.EvalGreedy == nil || r.EvalSampled == nil || r.EnvSteps != 0 || r.RSSMB <= 0 && runtime.GOOS == "linux" {
				t.Errorf("record of step 0 %+v, want the initial policy's evaluation alone", r)
			}
			if (algo == AlgoRLVR) != (recs[1].SuccessPost == nil && recs[2].SuccessPost == nil) {
				t.Errorf("%s: post-reflection success %v", algo, recs[1].SuccessPost)
			}
			// Reported after each evaluation (steps 0 and 2) and as the run ended, each time with
			// the records of the steps done.
			want := []RunState{{StatusRunning, 0, 3, nil}, {StatusRunning, 2, 3, nil}, {StatusFinished, 3, 3, nil}}
			if !slices.Equal(rep.states, want) || !slices.Equal(rep.records, []int{1, 3, 4}) {
				t.Errorf("reported %v with %v records, want %v with [1 3 4]", rep.states, rep.records, want)
			}
			checkEpisodes(t, dir, cfg, []int{2, 3})
			for path, want := range map[string][]envs.Task{dir.Validation(): tr.ValTasks, dir.Test(): tr.TestTasks} {
				got, err := envs.ReadLevels(path, cfg.Env)
				if err != nil || len(want) == 0 || !slices.EqualFunc(got, want, func(a, b envs.Task) bool { return slices.Equal(a.Layout, b.Layout) }) {
					t.Errorf("%s holds %d levels (%v), want the run's %d", path, len(got), err, len(want))
				}
			}
			ts, err := ReadTestScores(dir.TestScores())
			if err != nil {
				t.Fatal(err)
			}
			if ts.Levels != cfg.TestLevels || ts.Last.Step != 3 || ts.Last.Checkpoint != "last.safetensors" || ts.Best.Step != tr.Totals.BestStep ||
				ts.Last.Sampled.Levels != cfg.TestLevels || ts.Best.Greedy.N != cfg.TestLevels || len(ts.Best.ByLength) == 0 {
				t.Errorf("test scores %+v: want the last checkpoint (step 3) and the best (step %d) on the %d test levels", ts, tr.Totals.BestStep, cfg.TestLevels)
			}
		})
	}
}

// checkEpisodes checks that dir's episodes.jsonl holds every attempt of the given steps, each
// replayable: boards before each action and after the last, a reflection and second attempt
// where the algorithm retries and reflects.
func checkEpisodes(t *testing.T, dir RunDir, cfg Config, steps []int) {
	t.Helper()
	eps, err := ReadEpisodes(dir.Episodes())
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != len(steps)*cfg.Batch*cfg.Group {
		t.Fatalf("%d episodes, want %d for steps %v", len(eps), len(steps)*cfg.Batch*cfg.Group, steps)
	}
	retried := 0
	for i, e := range eps {
		if e.Step != steps[i/(cfg.Batch*cfg.Group)] || e.Task != i%(cfg.Batch*cfg.Group)/cfg.Group || e.Attempt != i%cfg.Group {
			t.Fatalf("episode %d is of step %d, task %d, attempt %d", i, e.Step, e.Task, e.Attempt)
		}
		attempts := []*EpisodeAttempt{&e.First}
		if e.Second != nil {
			retried++
			attempts = append(attempts, e.Second)
			if e.First.Solved || (e.Reflection != nil) != cfg.Switches.Reflect {
				t.Errorf("episode %d: retried a solved attempt, or reflection %v with reflect %v", i, e.Reflection, cfg.Switches.Reflect)
			}
		}
		for _, a := range attempts {
			if len(a.Boards) != len(a.Actions)+1 || len(a.Boards[0]) != len(e.Layout) || a.Feedback == "" {
				t.Fatalf("episode %d: %d boards for %d actions, feedback %q", i, len(a.Boards), len(a.Actions), a.Feedback)
			}
			task := envs.Task{Env: e.Env, Layout: a.Boards[0], MaxSteps: e.MaxSteps}
			if _, err := task.New(); err != nil || !slices.Equal(a.Boards[0], e.Layout) {
				t.Errorf("episode %d: the first board %q is not the level %q (%v)", i, a.Boards[0], e.Layout, err)
			}
		}
	}
	if cfg.Switches.SecondAttempt != (retried > 0) {
		t.Errorf("%d of %d episodes retried with second attempts %v", retried, len(eps), cfg.Switches.SecondAttempt)
	}
}

// TestRunInterrupted stops a run between steps, as Ctrl-C does: the run saves its checkpoint
// and the last step's episodes, reports that it was interrupted, and resumes.
func TestRunInterrupted(t *testing.T) {
	cfg := testConfig(AlgoERL)
	cfg.Steps, cfg.EvalEvery = 5, 2
	tr := newTestTrainer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	dir := RunDir(t.TempDir())
	var rep reports
	opt := TrainOptions{Report: func(dir RunDir, s RunState) error {
		if s.Step == 2 {
			cancel() // as Ctrl-C would, after the evaluation of step 2
		}
		return rep.report(dir, s)
	}}
	status, err := Train(ctx, tr, dir, opt)
	if err != nil || status != StatusInterrupted {
		t.Fatalf("Train = %q, %v; want interrupted", status, err)
	}
	want := []RunState{{StatusRunning, 0, 5, nil}, {StatusRunning, 2, 5, nil}, {StatusInterrupted, 2, 5, nil}}
	if !slices.Equal(rep.states, want) || rep.records[2] != 3 {
		t.Fatalf("reported %v with %v records; want %v, the last with 3 records", rep.states, rep.records, want)
	}
	checkEpisodes(t, dir, cfg, []int{2})
	if ts, err := ReadTestScores(dir.TestScores()); err != nil || ts.Last.Step != 2 {
		t.Errorf("the interrupted run's test scores: %+v, %v; want those of step 2", ts, err)
	}
	resumed, err := ResumeTrainer(dir.Last(), nil)
	if err != nil || resumed.StepsDone != 2 {
		t.Fatalf("the interrupted run's checkpoint does not resume after step 2: %v", err)
	}
	if status, err := Train(context.Background(), resumed, dir, TrainOptions{}); err != nil || status != StatusFinished {
		t.Fatalf("resumed Train = %q, %v", status, err)
	}
	recs, err := ReadMetrics(dir.Metrics())
	if err != nil || len(recs) != 6 || recs[5].Step != 5 {
		t.Fatalf("after resuming: %d records (%v), want steps 0 to 5", len(recs), err)
	}
	checkEpisodes(t, dir, cfg, []int{2, 4, 5})
}

// TestRunFailureIsReported checks that a run stopped by an error still reports, as failed.
func TestRunFailureIsReported(t *testing.T) {
	tr := newTestTrainer(t, testConfig(AlgoRLVR))
	w := tr.Policy.Param("ln_f.weight").Value.Data().([]float32)
	w[0] = float32(math.NaN())
	var rep reports
	status, err := Train(context.Background(), tr, RunDir(t.TempDir()), TrainOptions{Report: rep.report})
	if err == nil || status != StatusFailed {
		t.Fatalf("Train with a NaN weight = %q, %v; want failed", status, err)
	}
	if last := rep.states[len(rep.states)-1]; last.Status != StatusFailed || last.Err == nil {
		t.Errorf("last report %+v, want a failure with its error", last)
	}
}

func TestTrainFileLevels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.jsonl")
	level := `{"layout":["#######","#     #","#     #","# @$. #","#     #","#     #","#######"],"max_steps":8}`
	if err := os.WriteFile(path, []byte(level+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(AlgoRLVR)
	cfg.TrainFile, cfg.Curriculum = path, CurriculumNone
	tr := newTestTrainer(t, cfg)
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	for _, a := range tr.Last.First {
		if a.Task.Layout[3] != "# @$. #" {
			t.Fatalf("trained on %q, not the file's level", a.Task.Layout)
		}
	}
	cfg.TrainFile = filepath.Join(t.TempDir(), "missing.jsonl")
	if _, err := NewTrainer(cfg); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Fatalf("a missing training file: %v", err)
	}
}

func TestTrainFileNeverHoldsSplitLevels(t *testing.T) {
	cfg := testConfig(AlgoRLVR)
	val, test, err := Splits(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "levels.jsonl")
	extra, err := envs.GenerateSokoban(3, 12345)
	if err != nil {
		t.Fatal(err)
	}
	if err := envs.WriteLevels(path, slices.Concat(val[:2], extra, test[1:2])); err != nil {
		t.Fatal(err)
	}
	cfg.TrainFile, cfg.Curriculum = path, CurriculumNone
	tr := newTestTrainer(t, cfg)
	if len(tr.TrainTasks) != len(extra) || tr.SplitLevelsDropped != 3 {
		t.Fatalf("%d training levels, %d dropped; want the file's %d that are neither validation nor test levels, 3 dropped",
			len(tr.TrainTasks), tr.SplitLevelsDropped, len(extra))
	}
}

// TestSplits: the validation and test levels are disjoint, of the configured sizes, the
// validation levels those that erlgo generated as its held-out levels before the test split;
// a generated split leaves out the other split's file, and two files that share a level are
// refused.
func TestSplits(t *testing.T) {
	cfg := testConfig(AlgoERL)
	cfg.EvalLevels, cfg.TestLevels = 64, 128
	val, test, err := Splits(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(val) != 64 || len(test) != 128 || shared(val, test) != 0 {
		t.Fatalf("%d validation and %d test levels, %d shared; want 64, 128 and none", len(val), len(test), shared(val, test))
	}
	g, _ := envs.NewGenerator(cfg.Env, cfg.Seed+0x6576616c)
	older, _ := g.Generate(64) // the held-out levels of erlgo before the test split
	if shared(val, older) != 64 {
		t.Errorf("validation levels differ from an older run's held-out levels (%d of 64 shared)", shared(val, older))
	}
	cfg.TestLevels = 0
	if _, none, err := Splits(cfg); err != nil || none != nil {
		t.Errorf("test_levels 0: %d test levels, %v; want none", len(none), err)
	}

	dir := t.TempDir()
	testFile, valFile := filepath.Join(dir, "test.jsonl"), filepath.Join(dir, "val.jsonl")
	if err := envs.WriteLevels(testFile, val[:5]); err != nil { // what the validation split would generate
		t.Fatal(err)
	}
	cfg.TestFile = testFile
	val2, test2, err := Splits(cfg)
	if err != nil || len(test2) != 5 || len(val2) != 64 || shared(val2, test2) != 0 {
		t.Fatalf("a test file: %d validation and %d test levels, %d shared (%v)", len(val2), len(test2), shared(val2, test2), err)
	}
	if err := envs.WriteLevels(valFile, slices.Concat(test[:3], val[4:5])); err != nil {
		t.Fatal(err)
	}
	cfg.EvalFile = valFile
	if _, _, err := Splits(cfg); err == nil || !strings.Contains(err.Error(), "share 1 levels") || !strings.Contains(err.Error(), valFile) {
		t.Errorf("validation and test files sharing a level: %v", err)
	}
}

// TestGeneratedTrainingLevelsAvoidSplits: whatever the curriculum, a step's generated
// training levels are never validation or test levels. The splits are made of the very levels
// the step would draw without them, so that the step must find others.
func TestGeneratedTrainingLevelsAvoidSplits(t *testing.T) {
	for _, curriculum := range Curricula {
		cfg := testConfig(AlgoRLVR)
		cfg.Curriculum, cfg.Batch = curriculum, 12
		tr := newTestTrainer(t, cfg)
		for step := 1; step <= 3; step++ {
			tr.ValTasks, tr.TestTasks = nil, nil
			drawn, _, err := tr.trainingTasks(step)
			if err != nil {
				t.Fatal(err)
			}
			tr.ValTasks, tr.TestTasks = drawn[:6], drawn[6:]
			again, _, err := tr.trainingTasks(step)
			if err != nil {
				t.Fatal(err)
			}
			if n := shared(again, drawn); n > 0 {
				t.Errorf("%s, step %d: %d of %d training levels are validation or test levels", curriculum, step, n, len(again))
			}
		}
	}
}

// TestEvenMovesCurriculum checks that the even-moves curriculum draws training levels whose
// optimal solutions cover every length up to the step budget about equally, never a validation
// or test level, where the paper's distribution is dominated by long solutions.
func TestEvenMovesCurriculum(t *testing.T) {
	lengths := func(curriculum string) []int {
		cfg := testConfig(AlgoRLVR)
		cfg.Curriculum, cfg.Batch = curriculum, 40
		tr := newTestTrainer(t, cfg)
		held := levelSet(tr.ValTasks, tr.TestTasks)
		count := make([]int, envs.DefaultMaxSteps+1)
		for step := 1; step <= 4; step++ {
			tasks, _, err := tr.trainingTasks(step)
			if err != nil {
				t.Fatal(err)
			}
			for _, task := range tasks {
				if held[levelKey(task)] {
					t.Fatalf("%s: trained on a validation or test level", curriculum)
				}
				count[len(solution(t, task))]++
			}
		}
		return count
	}
	even, paper := lengths(CurriculumEvenMoves), lengths(CurriculumNone)
	for moves := 1; moves <= envs.DefaultMaxSteps; moves++ { // 160 levels: 20 of each length expected
		if even[moves] < 8 || even[moves] > 36 {
			t.Errorf("even-moves: %d of 160 levels need %d moves, want about 20 (all: %v)", even[moves], moves, even)
		}
	}
	if short := paper[1] + paper[2]; short > 25 {
		t.Errorf("paper distribution: %d of 160 levels need 1 or 2 moves, want about 10 (all: %v)", short, paper)
	}
}

// TestAdaptiveCurriculum checks that the adaptive curriculum starts even over lengths, draws
// most often the lengths solved about half the time while still drawing the others, and
// follows the success of the groups it observes.
func TestAdaptiveCurriculum(t *testing.T) {
	c := newLengthCurriculum(envs.DefaultMaxSteps)
	for L, w := range c.Weights() {
		if math.Abs(w-1/float64(envs.DefaultMaxSteps)) > 1e-12 {
			t.Fatalf("fresh curriculum: weight %g for %d moves, want even weights", w, L+1)
		}
	}
	c.Success = []float64{1, 1, 0.5, 0.1, 0, 0, 0, 0}
	rng := rand.New(rand.NewPCG(1, 1))
	const draws = 20000
	count := make([]int, envs.DefaultMaxSteps+1)
	for range draws {
		count[c.draw(rng)]++
	}
	w := c.Weights()
	for L := 1; L <= envs.DefaultMaxSteps; L++ {
		got := float64(count[L]) / draws
		if math.Abs(got-w[L-1]) > 0.015 || count[L] == 0 {
			t.Errorf("%d moves drawn %.3f of the time, want %.3f", L, got, w[L-1])
		}
	}
	if w[2] < 0.5 || w[0] > 0.1 || w[7] > 0.1 {
		t.Errorf("weights %v: want most on 3 moves (success 0.5), little on solved or hopeless lengths", w)
	}
	c.observe(3, 1)
	c.observe(4, 0)
	if math.Abs(c.Success[2]-0.55) > 1e-12 || math.Abs(c.Success[3]-0.09) > 1e-12 {
		t.Errorf("after observing success 1 at 3 moves and 0 at 4: %v", c.Success)
	}

	cfg := testConfig(AlgoRLVR)
	cfg.Curriculum = CurriculumAdaptive
	tr := newTestTrainer(t, cfg)
	rec, err := tr.Step()
	if err != nil {
		t.Fatal(err)
	}
	if rec.TrainMoves == nil || *rec.TrainMoves < 1 || *rec.TrainMoves > envs.DefaultMaxSteps {
		t.Fatalf("train_moves %v, want the mean length of the step's levels", rec.TrainMoves)
	}
	changed := 0
	for _, p := range tr.Lengths.Success {
		if p != 0.5 {
			changed++
		}
	}
	if changed == 0 || changed > cfg.Batch {
		t.Errorf("after one step of %d levels, %d lengths' estimates moved: %v", cfg.Batch, changed, tr.Lengths.Success)
	}
}

// TestOlderCheckpointsAreRefused: a checkpoint whose run state lacks a part this version keeps,
// or whose policy holds fewer positions than this version's contexts number, is refused with
// an error that says which, not with a failure in the middle of a step.
func TestOlderCheckpointsAreRefused(t *testing.T) {
	cfg := testConfig(AlgoRLVR)
	tr := newTestTrainer(t, cfg)
	path := filepath.Join(t.TempDir(), "run.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	extra := maps.Clone(ck.Extra)
	delete(extra, metaLengths)
	older := filepath.Join(t.TempDir(), "older.safetensors")
	if err := model.SaveCheckpoint(older, ck.Model, ck.Optim, extra); err != nil {
		t.Fatal(err)
	}
	if _, err := ResumeTrainer(older, nil); err == nil || !strings.Contains(err.Error(), metaLengths) {
		t.Errorf("resuming a checkpoint without %q: error %v, want one that names it", metaLengths, err)
	}

	// A run of an erlgo before the test split: its config has no test split.
	extra = maps.Clone(ck.Extra)
	var keys map[string]any
	if err := json.Unmarshal([]byte(extra[metaRunConfig]), &keys); err != nil {
		t.Fatal(err)
	}
	delete(keys, "test_levels")
	delete(keys, "test_file")
	delete(keys, "measure_lift")
	raw, _ := json.Marshal(keys)
	extra[metaRunConfig] = string(raw)
	if err := model.SaveCheckpoint(older, ck.Model, ck.Optim, extra); err != nil {
		t.Fatal(err)
	}
	if _, err := ResumeTrainer(older, nil); err == nil || !strings.Contains(err.Error(), "before the test split") {
		t.Errorf("resuming a run of an erlgo before the test split: error %v, want one that says so", err)
	}

	if err := cfg.CheckPolicy(tr.Policy.Config); err != nil {
		t.Errorf("this version's policy: %v", err)
	}
	short := tr.Policy.Config
	short.ContextLen = 256 // the position table before board positions were numbered from the player
	if err := cfg.CheckPolicy(short); err == nil || !strings.Contains(err.Error(), "older erlgo") {
		t.Errorf("a policy of %d positions: error %v, want one that says it is from an older erlgo", short.ContextLen, err)
	}
}

func TestPeakRSS(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status: the peak RSS is not read on this system")
	}
	// The test binary holds at least a few MiB, and no machine this runs on holds a TiB.
	if rss := peakRSSMiB(); rss < 1 || rss > 1<<20 {
		t.Errorf("peak RSS %.1f MiB", rss)
	}
}

// TestProgressShowsPeakMemory: a non-interactive progress line shows the step, the rates and
// the process's peak memory.
func TestProgressShowsPeakMemory(t *testing.T) {
	var out strings.Builder
	bar := newProgressBar(&out, 10, 0, 0)
	bar.update(Record{Step: 1, SuccessPre: 0.5, StepSeconds: 1.5, RSSMB: 412.4}, 1.5)
	for _, want := range []string{"step 1/10", "success pre 0.50", "1.5s/step", "peak 412 MiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("progress line %q lacks %q", out.String(), want)
		}
	}
}

func TestFormatETA(t *testing.T) {
	for _, tc := range []struct {
		seconds float64
		want    string
	}{
		{0, "0s"}, {61.4, "1m1s"}, {99 * 86400, "2376h0m0s"}, {1e7, "116 days"}, {9.2e18 * 2.5, "2.66e+14 days"},
	} {
		if got := formatETA(tc.seconds); got != tc.want {
			t.Errorf("formatETA(%g) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

// TestLevelFilesAreChecked checks that a level file the policy cannot play is refused before
// a run starts: an empty one, or one whose boards are larger than the policy sees.
func TestLevelFilesAreChecked(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("#", 12)
	for name, content := range map[string]string{
		"empty.jsonl": "",
		"blank.jsonl": "\n  \n\n",
		"big.jsonl":   `{"layout":["` + big + `","#@$.` + strings.Repeat(" ", 7) + `#","` + big + `"]}` + "\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		want := "holds no levels"
		if name == "big.jsonl" {
			want = "level 1 of 1 is 3×12; the policy sees boards of at most 10×10"
		}
		for _, set := range []func(*Config){
			func(c *Config) { c.EvalFile = path },
			func(c *Config) { c.TrainFile, c.Curriculum = path, CurriculumNone },
		} {
			cfg := testConfig(AlgoRLVR)
			set(&cfg)
			if _, err := NewTrainer(cfg); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: NewTrainer = %v, want an error naming the file and %q", name, err, want)
			}
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	for _, tc := range []struct {
		name, js string
		err      string   // "" for none
		renamed  []string // on success
		check    func(Config) bool
	}{
		{"old objective keys", `{"objective": {"ClipLow": 0.1, "KLCoef": 0.5}}`, "",
			[]string{"objective.ClipLow → objective.clip_low", "objective.KLCoef → objective.kl_coef"},
			func(c Config) bool {
				return c.Objective.ClipLow == 0.1 && c.Objective.KLCoef == 0.5 && c.Objective.ClipHigh == 0.28
			}},
		{"new keys", `{"objective": {"clip_low": 0.1}, "steps": 7}`, "", nil,
			func(c Config) bool { return c.Objective.ClipLow == 0.1 && c.Steps == 7 }},
		{"switches follow the algorithm", `{"algo": "rlvr"}`, "", nil,
			func(c Config) bool { return c.Algo == AlgoRLVR && !c.Switches.SecondAttempt }},
		{"unless given", `{"algo": "rlvr", "switches": {"second_attempt": true}}`, "", nil,
			func(c Config) bool { return c.Algo == AlgoRLVR && c.Switches.SecondAttempt }},
		{"weights an older erlgo wrote", `{"weights": {"first": 1, "second": 1, "reflection": 1, "distill": 0.5}}`, "", nil,
			func(c Config) bool { return c.Weights.Distill == 0.5 && c.Weights.HindsightRetry == 0 }},
		{"one weight", `{"weights": {"distill": 0.5}}`, "", nil,
			func(c Config) bool {
				return c.Weights.Distill == 0.5 && c.Weights.HindsightRetry == DefaultConfig().Weights.HindsightRetry
			}},
		{"every weight", `{"weights": {"first": 1, "second": 1, "reflection": 1, "distill": 1, "hindsight_retry": 2}}`, "", nil,
			func(c Config) bool { return c.Weights.HindsightRetry == 2 }},
		{"old and new name", `{"objective": {"KLCoef": 0.5, "kl_coef": 0.1}}`, "objective.KLCoef and objective.kl_coef are the same setting", nil, nil},
		{"unknown key", `{"steps": 1, "every_bogus": 1}`, `unknown key "every_bogus"`, nil, nil},
		{"text for a count", `{"batch": "x"}`, "batch: text where a whole number is wanted", nil, nil},
		{"fraction for a count", `{"batch": 1.5}`, "batch: 1.5 is not a whole number", nil, nil},
		{"nested", `{"objective": {"clip_low": "x"}}`, "objective.clip_low: text where a number is wanted", nil, nil},
		{"object for a number", `{"tau": {}}`, "tau: an object where a number is wanted", nil, nil},
		{"duration", `{"time": "soon"}`, `"soon" is not a duration such as 20m`, nil, nil},
		{"unknown algo", `{"algo": "ppo"}`, `unknown algorithm "ppo"`, nil, nil},
		{"syntax", "{\n  \"steps\": 1,\n}", "line 3, column 1: invalid character '}'", nil, nil},
		{"not an object", `[1, 2]`, "not an object of keys and values", nil, nil},
	} {
		cfg := DefaultConfig()
		renamed, err := DecodeConfig([]byte(tc.js), &cfg)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "json") || strings.Contains(err.Error(), "Go ") {
				t.Errorf("%s: error %v, want one with %q that speaks of neither JSON nor Go", tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !slices.Equal(renamed, tc.renamed) || !tc.check(cfg):
			t.Errorf("%s: renamed %q, config %+v", tc.name, renamed, cfg)
		}
	}

	// A config.json decodes to the config that wrote it, whatever the defaults: every setting
	// off its default comes back off it.
	off := DefaultConfig()
	off.Weights = TermWeights{First: 0.5, Second: 0, Reflection: 0, Distill: 0, HindsightRetry: 0}
	off.MeasureLift, off.Steps = false, 3
	js, err := json.Marshal(off)
	if err != nil {
		t.Fatal(err)
	}
	back := DefaultConfig()
	if _, err := DecodeConfig(js, &back); err != nil || !reflect.DeepEqual(back, off) {
		t.Errorf("config.json of %+v decodes to %+v (%v)", off, back, err)
	}
}

// TestMeasureLift: the plain retries are first attempts at the retried attempts' levels; the
// record's lift is the guided retries' success minus theirs over the same attempts, its
// per-task counts add up to them, their cost is counted, and measuring it leaves training
// exactly as it is without. RLVR retries nothing and records no lift.
func TestMeasureLift(t *testing.T) {
	for _, algo := range Algos {
		t.Run(algo, func(t *testing.T) {
			cfg := testConfig(algo)
			cfg.Batch, cfg.Group = 4, 3
			cfg.MeasureLift = false
			without := newTestTrainer(t, cfg)
			cfg.MeasureLift = true
			with := newTestTrainer(t, cfg)
			var plainSteps int64
			for range 3 {
				if _, err := without.Step(); err != nil {
					t.Fatal(err)
				}
				rec, err := with.Step()
				if err != nil {
					t.Fatal(err)
				}
				ep := with.Last
				if algo == AlgoRLVR {
					if rec.SuccessPlain != nil || rec.Lift != nil || rec.RetryTasks != nil || ep.Plain != nil {
						t.Fatalf("rlvr recorded a lift: %+v", rec)
					}
					continue
				}
				if len(ep.Plain) != len(ep.Retried) || rec.Retried != len(ep.Retried) || rec.Lift == nil {
					t.Fatalf("%d plain retries for %d retried attempts, record %+v", len(ep.Plain), len(ep.Retried), rec)
				}
				var n, guided, plain int
				for _, c := range rec.RetryTasks {
					n, guided, plain = n+c.Attempts, guided+c.Guided, plain+c.Plain
				}
				for k, i := range ep.Retried {
					p := ep.Plain[k]
					if !slices.Equal(p.Task.Layout, ep.First[i].Task.Layout) || !reflect.DeepEqual(p.Guide, Guidance{}) {
						t.Fatalf("plain retry %d: level %q, guidance %+v; want a first attempt at level %q", k, p.Task.Layout, p.Guide, ep.First[i].Task.Layout)
					}
					plainSteps += int64(len(p.Actions))
				}
				total := float64(len(ep.Retried))
				if n != len(ep.Retried) || float64(guided)/total != *rec.SuccessPost || float64(plain)/total != *rec.SuccessPlain ||
					math.Abs(*rec.Lift-(*rec.SuccessPost-*rec.SuccessPlain)) > 1e-15 || len(rec.RetryTasks) > cfg.Batch {
					t.Fatalf("record %+v does not add up: counts %d, %d, %d of %d retried", rec, n, guided, plain, len(ep.Retried))
				}
			}
			for i, p := range with.Policy.Params {
				if !slices.Equal(p.Value.Data().([]float32), without.Policy.Params[i].Value.Data().([]float32)) {
					t.Fatalf("%s differs with the lift measured", p.Name)
				}
			}
			if with.Totals.EnvSteps != without.Totals.EnvSteps+plainSteps || (plainSteps > 0) != (with.Totals.FLOPs > without.Totals.FLOPs) {
				t.Errorf("env steps %d with the lift measured, %d without, plain retries %d: their cost is not counted",
					with.Totals.EnvSteps, without.Totals.EnvSteps, plainSteps)
			}
		})
	}
}

// TestAlignedGuidance checks that with AlignGuidance a guided turn is the first-attempt turn of
// the same board and history at the same position ids, with the guidance's tokens added at ids
// past any first-attempt turn's, and that the longest such context fits the model.
func TestAlignedGuidance(t *testing.T) {
	c := NewContexts(model.StandardVocab())
	v := c.Vocab()
	task := sokobanTask(t, 3)
	a := attemptWith(t, c, task, []envs.Action{envs.Up, envs.Left, envs.Left}, Guidance{})
	history := a.Actions[:2]
	board := a.Boards[2]
	first, err := c.Turn(task.Env, board, history, Guidance{})
	if err != nil {
		t.Fatal(err)
	}
	type token struct{ tok, pos int32 }
	tokens := func(s model.Sequence) []token {
		ts := make([]token, len(s.Tokens))
		for i := range s.Tokens {
			ts[i] = token{s.Tokens[i], s.Pos[i]}
		}
		return ts
	}
	c.AlignGuidance = true
	for _, g := range []struct {
		name  string
		guide Guidance
	}{
		{"reflection", Guidance{Reflection: v.IDs("push", "Down")}},
		{"raw attempt", Guidance{Attempt: a}},
	} {
		guided, err := c.Turn(task.Env, board, history, g.guide)
		if err != nil {
			t.Fatal(err)
		}
		var turn, guidance []token
		for _, tk := range tokens(guided) {
			if tk.pos >= guidanceStart {
				guidance = append(guidance, tk)
			} else {
				turn = append(turn, tk)
			}
		}
		if !slices.Equal(turn, tokens(first)) {
			t.Errorf("%s: the guided turn without its guidance is\n%v\nwant the first attempt's\n%v", g.name, turn, tokens(first))
		}
		if want := len(guided.Tokens) - len(first.Tokens); len(guidance) != want || guidance[0].pos != guidanceStart {
			t.Errorf("%s: %d guidance tokens from id %d; want %d from %d", g.name, len(guidance), guidance[0].pos, want, guidanceStart)
		}
		for i := 1; i < len(guidance); i++ {
			if guidance[i].pos != guidance[i-1].pos+1 {
				t.Errorf("%s: guidance ids %v are not consecutive", g.name, guidance)
				break
			}
		}
	}
	for _, algo := range []string{AlgoERL, AlgoERLNoReflect} {
		cfg := DefaultConfig()
		cfg.GuidancePositions = GuidanceAligned
		cfg.Switches, _ = AlgoSwitches(algo)
		mc, _ := model.NewConfig(cfg.Size)
		need := cfg.longestContext()
		if guided, _ := c.Turn(task.Env, board, a.Actions, Guidance{Attempt: a}); algo == AlgoERLNoReflect && int(slices.Max(guided.Pos)) > need.lastPos {
			t.Errorf("%s: a guided turn reaches position %d beyond the bound %d", algo, slices.Max(guided.Pos), need.lastPos)
		}
		if err := cfg.CheckPolicy(mc); err != nil {
			t.Errorf("%s with aligned guidance: %v", algo, err)
		}
	}
}
