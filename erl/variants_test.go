package erl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// TestLiftAdvantages: a reflection rewarded by its lift is reinforced where its retry beat
// the plain retries of its task, pushed down where they did better, even when all its task's
// guided retries scored alike (which gives GRPO nothing), and left alone where every retry
// scored alike.
func TestLiftAdvantages(t *testing.T) {
	guided := []float64{1, 0, 0, 0, 0, 1, 1}
	plain := []float64{0, 0, 0, 1, 0, 1, 1}
	groups := []int{0, 0, 0, 1, 1, 2, 2}
	// Group 0: plain mean 0, the six rewards' deviation √(5/36); group 1: plain mean 1/2,
	// deviation √(3/16); group 2: all equal.
	want := []float64{6 / math.Sqrt(5), 0, 0, -0.5 / math.Sqrt(3.0/16), -0.5 / math.Sqrt(3.0/16), 0, 0}
	got := liftAdvantages(guided, plain, groups)
	for k := range want {
		if math.Abs(float64(got[k])-want[k]) > 1e-6 {
			t.Fatalf("lift advantages %v, want %v", got, want)
		}
	}
	if grpo := groupAdvantages(guided, groups); grpo[3] != 0 || grpo[4] != 0 {
		t.Errorf("GRPO's advantages of a group of equal rewards: %v, want 0", grpo[3:5])
	}
}

// TestConsolidateLiftReward: with reflection_reward lift the reflections' terms carry the
// lift advantages against the plain retries, and the second attempts keep GRPO's.
func TestConsolidateLiftReward(t *testing.T) {
	cfg := testConfig(AlgoERL)
	cfg.ReflectionReward = RewardLift
	tr := newTestTrainer(t, cfg)
	c := tr.Contexts
	v := c.Vocab()
	tasks := []envs.Task{sokobanTask(t, 1), sokobanTask(t, 2)}
	ep := &StepEpisodes{Retried: []int{0, 1}}
	words := [][]int32{v.IDs("push", "Right"), v.IDs("avoid", "wall")}
	for i, task := range tasks {
		ep.First = append(ep.First, attemptWith(t, c, task, []envs.Action{envs.Up, envs.Up}, Guidance{}))
		p, err := c.Reflection(ep.First[i], nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ep.ReflectionPrompts = append(ep.ReflectionPrompts, p)
		ep.ReflectionGens = append(ep.ReflectionGens, model.Generation{Tokens: append(slices.Clone(words[i]), c.EOS()), Logp: make([]float32, len(words[i])+1)})
		ep.Reflections = append(ep.Reflections, words[i])
	}
	// Task 0: the guided retry solves it and the plain one does not; task 1 the other way round.
	ep.Second = []*Attempt{
		attemptWith(t, c, tasks[0], solution(t, tasks[0]), Guidance{Reflection: words[0]}),
		attemptWith(t, c, tasks[1], []envs.Action{envs.Left}, Guidance{Reflection: words[1]}),
	}
	ep.Plain = []*Attempt{
		attemptWith(t, c, tasks[0], []envs.Action{envs.Left}, Guidance{}),
		attemptWith(t, c, tasks[1], solution(t, tasks[1]), Guidance{}),
	}
	u := newUpdateBatch(c)
	if err := tr.consolidate(ep, []int{0, 1}, u, &Record{}); err != nil {
		t.Fatal(err)
	}
	var reflections []float32
	for _, p := range u.pieces {
		switch p.term {
		case termReflection:
			reflections = append(reflections, p.adv)
		case termSecond:
			t.Errorf("a second attempt alone in its group carries GRPO's advantage 0, not %g", p.adv)
		}
	}
	if !slices.Equal(reflections, []float32{2, -2}) {
		t.Fatalf("reflection advantages %v, want [2 -2]: (1 − 0)/0.5 and (0 − 1)/0.5", reflections)
	}
}

// TestMemorySeed: in memory_mode seed a new reflection starts from the newest stored one,
// written after REFLECT with no MEMORY segment; the retry is guided by the end of the two
// together, a reflection's length at most, which joins the memory if the retry succeeds; only
// the words the policy wrote are trained.
func TestMemorySeed(t *testing.T) {
	cfg := testConfig(AlgoERL)
	cfg.MemoryMode, cfg.MemoryShown, cfg.ReflectionLen = MemorySeed, 0, 5
	cfg.Batch, cfg.Group = 4, 2
	tr := newTestTrainer(t, cfg)
	c := tr.Contexts
	v := c.Vocab()
	ids := func(s model.Sequence, word string) bool { return slices.Contains(s.Tokens, v.MustID(word)) }
	for step := range 2 {
		var draft []int32 // the first step's memory is empty: no draft
		if step == 1 {
			draft = v.IDs("push", "box", "Right")
			tr.Memory = Memory{Cap: cfg.MemorySize}
			tr.Memory.Add(v.IDs("go", "Up"))
			tr.Memory.Add(draft)
		}
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		ep := tr.Last
		if len(ep.Retried) == 0 {
			t.Fatal("no attempt was retried")
		}
		for k, p := range ep.ReflectionPrompts {
			tail := slices.Concat(v.IDs("REFLECT"), draft)
			if ids(p, "MEMORY") || !slices.Equal(p.Tokens[len(p.Tokens)-len(tail):], tail) {
				t.Fatalf("step %d: a seeded reflection context: %s; want no MEMORY and REFLECT %s at its end", step+1, c.Describe(p.Tokens), c.Describe(draft))
			}
			written := ep.ReflectionGens[k].Tokens
			if n := len(written); n > 0 && written[n-1] == c.EOS() {
				written = written[:n-1]
			}
			whole := slices.Concat(draft, written)
			want := whole[max(0, len(whole)-cfg.ReflectionLen):]
			if !slices.Equal(ep.Reflections[k], want) || !slices.Equal(ep.Second[k].Guide.Reflection, want) {
				t.Fatalf("step %d: reflection %q guiding %q; want the last %d words of %q", step+1, c.Describe(ep.Reflections[k]),
					c.Describe(ep.Second[k].Guide.Reflection), cfg.ReflectionLen, c.Describe(whole))
			}
		}
	}
	// The trained tokens of a reflection are the policy's own: addGenerated trains what follows
	// the prompt, which holds the draft.
	u := newUpdateBatch(c)
	p := tr.Last.ReflectionPrompts[0]
	g := tr.Last.ReflectionGens[0]
	u.addGenerated(p, g.Tokens, g.Logp, 1, termReflection)
	if b := u.build(cfg.Weights, cfg.Aggregation); len(b.Scored) != len(g.Tokens) || b.Scored[0].Index != len(p.Tokens) {
		t.Fatalf("%d trained tokens from index %d, want the %d written after the %d of the prompt", len(b.Scored), b.Scored[0].Index, len(g.Tokens), len(p.Tokens))
	}
	full := DefaultConfig()
	full.MemoryMode, full.MemoryShown = MemorySeed, 0
	if err := full.Validate(); err != nil {
		t.Fatalf("memory_mode seed with the default reflections: %v", err)
	}
	if need := full.longestContext(); need.tokens < MaxBoardSide*MaxBoardSide+2*full.ReflectionLen {
		t.Errorf("the longest context %d does not hold the draft and the new words", need.tokens)
	}
}

// TestPlansVocab: the plans vocabulary keeps every standard word's id and adds the plan
// words, which reflections may then use; a run on it has a policy of its size, saves and
// resumes, and a config of the other vocabulary refuses its policy, naming both.
func TestPlansVocab(t *testing.T) {
	std, plans := model.StandardVocab(), model.PlansVocab()
	if !slices.Equal(plans.Words()[:std.Size()], std.Words()) || plans.Size() != std.Size()+len(model.PlanWords) {
		t.Fatal("the plans vocabulary must be the standard one's words, same ids, and the plan words after them")
	}
	if model.MaxOffset < MaxBoardSide-1 {
		t.Fatalf("plan words name offsets up to %d; boards of side %d need %d", model.MaxOffset, MaxBoardSide, MaxBoardSide-1)
	}
	for _, w := range []string{"at", "row-9", "row+0", "col+9", "col-1"} {
		if _, err := plans.ID(w); err != nil {
			t.Errorf("plan word %q: %v", w, err)
		}
	}
	words, planned := NewContexts(std), NewContexts(plans)
	offset := plans.MustID("row+1")
	if slices.Contains(words.ReflectionTokens, offset) || !slices.Contains(planned.ReflectionTokens, offset) {
		t.Error("only plans reflections may name offsets")
	}
	task := sokobanTask(t, 4)
	a := attemptWith(t, words, task, []envs.Action{envs.Up, envs.Left}, Guidance{})
	b := attemptWith(t, planned, task, []envs.Action{envs.Up, envs.Left}, Guidance{})
	for i := range a.Turns {
		if !slices.Equal(a.Turns[i].Tokens, b.Turns[i].Tokens) || !slices.Equal(a.Turns[i].Pos, b.Turns[i].Pos) {
			t.Fatal("a first attempt reads the same in both vocabularies")
		}
	}

	cfg := testConfig(AlgoERL)
	cfg.ReflectionVocab = ReflectionPlans
	tr := newTestTrainer(t, cfg)
	if tr.Policy.Config.Vocab != plans.Size() {
		t.Fatalf("a plans run's policy reads %d token ids, want %d", tr.Policy.Config.Vocab, plans.Size())
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plans.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := model.LoadCheckpoint(path)
	if err != nil || ck.Vocab != plans {
		t.Fatalf("a plans checkpoint loads as vocabulary %v (%v)", ck, err)
	}
	if _, err := ResumeTrainer(path, nil); err != nil {
		t.Fatalf("resuming a plans run: %v", err)
	}
	wordsCfg := testConfig(AlgoERL)
	err = wordsCfg.CheckVocab(ck.Model.Config, ck.Vocab)
	if err == nil || !strings.Contains(err.Error(), model.PlansVocabVersion) || !strings.Contains(err.Error(), model.VocabVersion) {
		t.Errorf("a words config with a plans policy: %v, want an error naming both vocabularies", err)
	}
	if err := cfg.CheckVocab(newTestTrainer(t, wordsCfg).Policy.Config, std); err == nil {
		t.Error("a plans config accepted a words policy")
	}
	// A checkpoint whose config claims the other vocabulary is refused on resume.
	extra := maps.Clone(ck.Extra)
	extra[metaRunConfig] = strings.Replace(extra[metaRunConfig], `"reflection_vocab":"plans"`, `"reflection_vocab":"words"`, 1)
	forged := filepath.Join(t.TempDir(), "forged.safetensors")
	if err := model.SaveCheckpoint(forged, ck.Model, ck.Optim, extra); err != nil {
		t.Fatal(err)
	}
	if _, err := ResumeTrainer(forged, nil); err == nil || !strings.Contains(err.Error(), model.PlansVocabVersion) {
		t.Errorf("resuming a plans policy as a words run: %v", err)
	}
}

// TestTransition: a world-model sequence is the turn's own context, the action, and the next
// board at the positions of its own player, then (after the last action) the feedback; its
// spans hold exactly the tokens to predict.
func TestTransition(t *testing.T) {
	c := NewContexts(model.StandardVocab())
	task := sokobanTask(t, 5)
	g, err := task.New()
	if err != nil {
		t.Fatal(err)
	}
	before := g.Cells()
	act := envs.Actions[0]
	for _, a := range envs.Actions { // a move that changes the board
		probe, _ := task.New()
		probe.Step(a)
		if !slices.EqualFunc(probe.Cells(), before, slices.Equal) {
			act = a
			break
		}
	}
	g.Step(act)
	after := g.Cells()
	fb := g.Feedback()
	for _, feedback := range []*envs.Feedback{nil, &fb} {
		seq, next, fspan, err := c.Transition(task.Env, before, nil, act, after, feedback)
		if err != nil {
			t.Fatal(err)
		}
		turn, err := c.Turn(task.Env, before, nil, Guidance{})
		if err != nil {
			t.Fatal(err)
		}
		n := len(turn.Tokens)
		if !slices.Equal(seq.Tokens[:n], turn.Tokens) || !slices.Equal(seq.Pos[:n], turn.Pos) ||
			seq.Tokens[n] != c.ActionToken(act) || seq.Tokens[n+1] != c.Vocab().MustID("OBS") || next.From != n+2 {
			t.Fatalf("the sequence does not open with the turn, its action and OBS: %s", c.Describe(seq.Tokens))
		}
		want, err := c.Turn(task.Env, after, nil, Guidance{}) // the next board as a turn shows it
		if err != nil {
			t.Fatal(err)
		}
		var cells, pos []int32
		for i, p := range want.Pos {
			if p < TextStart {
				cells, pos = append(cells, want.Tokens[i]), append(pos, p)
			}
		}
		if !slices.Equal(seq.Tokens[next.From:next.To], cells) || !slices.Equal(seq.Pos[next.From:next.To], pos) {
			t.Fatal("the next board's cells or positions differ from a turn's view of it")
		}
		for _, tok := range seq.Tokens[next.From:next.To] {
			if !slices.Contains(c.CellTokens[task.Env], tok) {
				t.Fatalf("cell token %d is not among the board's", tok)
			}
		}
		if feedback == nil {
			if fspan.From != fspan.To || next.To != len(seq.Tokens) {
				t.Fatalf("without feedback the sequence ends with the board: %v, %d tokens", fspan, len(seq.Tokens))
			}
			continue
		}
		if words := c.FeedbackTokens(fb)[1:]; !slices.Equal(seq.Tokens[fspan.From:fspan.To], words) || fspan.To != len(seq.Tokens) {
			t.Fatalf("feedback span %v holds %s, want %s", fspan, c.Describe(seq.Tokens[fspan.From:fspan.To]), c.Describe(words))
		}
		for _, tok := range seq.Tokens[fspan.From:fspan.To] {
			if !slices.Contains(c.FeedbackVocab, tok) {
				t.Fatalf("feedback token %s is not among the feedback's words", c.Describe([]int32{tok}))
			}
		}
	}
}

// testPretrainConfig pretrains for testConfig's runs of seed 1.
func testPretrainConfig() PretrainConfig {
	cfg, run := DefaultPretrainConfig(), testConfig(AlgoERL)
	cfg.Steps, cfg.Batch, cfg.EvalEvery, cfg.HeldOutLevels = 40, 8, 20, 12
	cfg.SplitSeeds, cfg.ValLevels, cfg.TestLevels = []uint64{run.Seed}, run.EvalLevels, run.TestLevels
	return cfg
}

// TestPretrainLearnsTheWorld: pretraining on random play lowers the held-out negative
// log-likelihood of the cells an action changes and of the feedback, keeps out the splits it
// names, and writes its config, metrics and a checkpoint that records it.
func TestPretrainLearnsTheWorld(t *testing.T) {
	cfg := testPretrainConfig()
	p, err := NewPretrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	val, test, err := Splits(Config{Env: cfg.Env, Seed: cfg.SplitSeeds[0], EvalLevels: cfg.ValLevels, TestLevels: cfg.TestLevels})
	if err != nil {
		t.Fatal(err)
	}
	kept := levelSet(p.keptOut)
	for _, task := range slices.Concat(val, test) {
		if !kept[levelKey(task)] {
			t.Fatal("a split level of the named runs is not kept out of pretraining")
		}
	}
	dir := t.TempDir()
	status, err := Pretrain(t.Context(), p, dir, nil)
	if err != nil || status != StatusFinished {
		t.Fatalf("pretrain: %s, %v", status, err)
	}
	recs, err := readJSONL[PretrainRecord](filepath.Join(dir, MetricsJSONLFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != cfg.Steps+1 || recs[0].HeldOut == nil || recs[len(recs)-1].HeldOut == nil || recs[20].HeldOut == nil || recs[1].HeldOut != nil {
		t.Fatalf("%d records; want step 0 to %d, held-out scores at 0, 20 and the end", len(recs), cfg.Steps)
	}
	start, end := recs[0].HeldOut, recs[len(recs)-1].HeldOut
	if !(end.ChangedCell < 0.7*start.ChangedCell && end.Feedback < 0.7*start.Feedback && end.SameCells < 0.7*start.SameCells) {
		t.Errorf("held-out likelihood from step 0 to %d: %s → %s; want each below 0.7 of its start", cfg.Steps, start, end)
	}
	if math.Abs(end.Actions-math.Log(4)) > 0.05 {
		t.Errorf("held-out likelihood of the random actions %.3f: the policy's choice must stay the random player's, ln 4 = %.3f", end.Actions, math.Log(4))
	}
	ck, err := model.LoadCheckpoint(filepath.Join(dir, PretrainedFile))
	if err != nil {
		t.Fatal(err)
	}
	var saved PretrainConfig
	if err := json.Unmarshal([]byte(ck.Extra[metaPretrain]), &saved); err != nil || !slices.Equal(saved.SplitSeeds, cfg.SplitSeeds) || ck.Optim != nil {
		t.Fatalf("the checkpoint's pretraining config %+v (%v); want the run's, and no optimizer", saved, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Error(err)
	}
}

// TestInitFromPretraining: a run of any algorithm starts its policy and its KL reference from
// a pretraining checkpoint with a fresh optimizer, records the file and its hash, and resumes
// only with that file; a checkpoint that does not fit the run is refused, saying why.
func TestInitFromPretraining(t *testing.T) {
	pc := testPretrainConfig()
	pc.Steps = 3
	p, err := NewPretrainer(pc)
	if err != nil {
		t.Fatal(err)
	}
	for range pc.Steps {
		if _, err := p.Step(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	init := filepath.Join(dir, PretrainedFile)
	if err := p.Save(init); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(init)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	same := func(a, b *model.Model) bool {
		for i, p := range a.Params {
			if !slices.Equal(p.Value.Data().([]float32), b.Params[i].Value.Data().([]float32)) {
				return false
			}
		}
		return true
	}
	for _, algo := range Algos {
		cfg := testConfig(algo)
		cfg.Init = init
		tr := newTestTrainer(t, cfg)
		if !same(tr.Policy, p.Policy) || !same(tr.Reference, p.Policy) || tr.Optim.Step != 0 {
			t.Fatalf("%s: the policy and the reference must start from the pretrained weights, the optimizer afresh", algo)
		}
		if tr.Config.InitSHA256 != hex.EncodeToString(sum[:]) || !filepath.IsAbs(tr.Config.Init) {
			t.Fatalf("%s: init %q, hash %s; want the absolute path and the file's SHA-256", algo, tr.Config.Init, tr.Config.InitSHA256)
		}
	}
	cfg := testConfig(AlgoERL)
	cfg.Init = init
	tr := newTestTrainer(t, cfg)
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(dir, "last.safetensors")
	if err := tr.Save(last); err != nil {
		t.Fatal(err)
	}
	resumed, err := ResumeTrainer(last, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !same(resumed.Reference, p.Policy) || !same(resumed.Policy, tr.Policy) {
		t.Fatal("a resumed run's reference must be the pretrained policy, its policy the trained one")
	}

	// What does not fit is refused, each saying why.
	if _, err := p.Step(); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.safetensors")
	if err := p.Save(other); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, init); err != nil { // the file the run started from has changed
		t.Fatal(err)
	}
	if _, err := ResumeTrainer(last, nil); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("resuming with another init file: %v", err)
	}
	plansPC := pc
	plansPC.ReflectionVocab = ReflectionPlans
	pp, err := NewPretrainer(plansPC)
	if err != nil {
		t.Fatal(err)
	}
	plansInit := filepath.Join(dir, "plans.safetensors")
	if err := pp.Save(plansInit); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		change     func(*Config)
	}{
		{"another environment", "pretrained on sokoban", func(c *Config) { c.Env = envs.EnvFrozenLake }},
		{"another size", "model is", func(c *Config) { c.Size = model.Base }},
		{"another vocabulary", model.PlansVocabVersion, func(c *Config) { c.Init = plansInit }},
		{"unkept splits", "may have been played in pretraining", func(c *Config) { c.Seed = 5 }},
		{"a training checkpoint", "not a checkpoint of erlgo pretrain", func(c *Config) { c.Init = last }},
		{"a missing file", "missing.safetensors", func(c *Config) { c.Init = filepath.Join(dir, "missing.safetensors") }},
		{"another hash", "init_sha256", func(c *Config) { c.InitSHA256 = strings.Repeat("0", 64) }},
	} {
		cfg := testConfig(AlgoERL)
		cfg.Init = init
		c.change(&cfg)
		if _, err := NewTrainer(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// TestVariantConfigs: the variants' settings are checked, and a checkpoint of an erlgo before
// them resumes with the behaviour it had.
func TestVariantConfigs(t *testing.T) {
	for _, c := range []struct {
		name, want string
		change     func(*Config)
	}{
		{"memory mode", "memory_mode", func(c *Config) { c.MemoryMode = "rulebook" }},
		{"reward", "reflection_reward", func(c *Config) { c.ReflectionReward = "praise" }},
		{"vocabulary", "reflection_vocab", func(c *Config) { c.ReflectionVocab = "emoji" }},
		{"guidance positions", "guidance_positions", func(c *Config) { c.GuidancePositions = "sideways" }},
		{"lift unmeasured", "measure_lift", func(c *Config) { c.ReflectionReward, c.MeasureLift = RewardLift, false }},
		{"hash without init", "init_sha256", func(c *Config) { c.InitSHA256 = "ab" }},
	} {
		cfg := DefaultConfig()
		c.change(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		}
	}
	norefl := testConfig(AlgoERLNoReflect) // no reflection to reward: the setting does nothing
	norefl.ReflectionReward, norefl.MeasureLift = RewardLift, false
	if err := norefl.Validate(); err != nil {
		t.Errorf("lift reward without reflections: %v", err)
	}

	tr := newTestTrainer(t, testConfig(AlgoERL))
	path := filepath.Join(t.TempDir(), "run.safetensors")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(ck.Extra[metaRunConfig]), &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"memory_mode", "reflection_reward", "reflection_vocab", "guidance_positions", "init", "init_sha256"} {
		delete(keys, k)
	}
	delete(keys["weights"].(map[string]any), "hindsight_retry")
	raw, _ := json.Marshal(keys)
	extra := maps.Clone(ck.Extra)
	extra[metaRunConfig] = string(raw)
	older := filepath.Join(t.TempDir(), "older.safetensors")
	if err := model.SaveCheckpoint(older, ck.Model, ck.Optim, extra); err != nil {
		t.Fatal(err)
	}
	resumed, err := ResumeTrainer(older, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := resumed.Config; c.MemoryMode != MemoryContext || c.ReflectionReward != RewardSuccess || c.ReflectionVocab != ReflectionWords || c.GuidancePositions != GuidanceFirst {
		t.Errorf("an older run resumes with %q, %q, %q, %q; want its behaviour: context, success, words, first", c.MemoryMode, c.ReflectionReward, c.ReflectionVocab, c.GuidancePositions)
	}
	if resumed.Contexts.AlignGuidance {
		t.Error("an older run resumes with its guidance aligned")
	}
	if w := resumed.Config.Weights.HindsightRetry; w != 0 {
		t.Errorf("an older run resumes with hindsight retries of weight %g; want none", w)
	}
}

// detoured returns a Sokoban task whose optimal solution leaves room in the step budget for a
// longer one, that solution, and the longer one: a move into a wall (which changes nothing)
// before it.
func detoured(t *testing.T, c *Contexts) (task envs.Task, short, long []envs.Action) {
	t.Helper()
	for seed := uint64(1); seed < 100; seed++ {
		task = sokobanTask(t, seed)
		short = solution(t, task)
		if len(short) >= envs.DefaultMaxSteps {
			continue
		}
		for _, bump := range envs.Actions {
			long = slices.Concat([]envs.Action{bump}, short)
			if a := attemptWith(t, c, task, long, Guidance{}); a.Solved && len(a.Actions) == len(long) && a.Feedback.Ineffective == 1 {
				return task, short, long
			}
		}
	}
	t.Fatal("no generated level has a wall beside its player and a short enough solution")
	return
}

// hindsightEpisodes returns a step's first attempts at two tasks, with their groups: task 0's
// group a failure, a solution with a detour and the short one (returned), task 1's the given
// number of failures; the failures are retried.
func hindsightEpisodes(t *testing.T, c *Contexts, unsolvedFailures int) (ep *StepEpisodes, groups []int, solvedTask, unsolvedTask envs.Task, short []envs.Action) {
	t.Helper()
	solvedTask, short, long := detoured(t, c)
	unsolvedTask = sokobanTask(t, 1000)
	fail := []envs.Action{envs.Up, envs.Up}
	ep = &StepEpisodes{
		First: []*Attempt{
			attemptWith(t, c, solvedTask, fail, Guidance{}),
			attemptWith(t, c, solvedTask, long, Guidance{}),
			attemptWith(t, c, solvedTask, short, Guidance{}),
		},
		Retried: []int{0},
	}
	groups = []int{0, 0, 0}
	for range unsolvedFailures {
		ep.Retried = append(ep.Retried, len(ep.First))
		ep.First = append(ep.First, attemptWith(t, c, unsolvedTask, fail, Guidance{}))
		groups = append(groups, 1)
	}
	return ep, groups, solvedTask, unsolvedTask, short
}

// TestHindsightRetries: with weights.hindsight_retry, each retry at a task that a first
// attempt of its group solved has its guided context, reflection and all, trained on the
// shortest solved attempt's actions, on the likelihood term with the term's weight; retries at
// tasks nobody solved, and every retry with the weight 0, add nothing.
func TestHindsightRetries(t *testing.T) {
	for _, weight := range []float64{0, 0.5} {
		cfg := testConfig(AlgoERL)
		cfg.Weights.HindsightRetry = weight
		tr := newTestTrainer(t, cfg)
		c := tr.Contexts
		v := c.Vocab()
		ep, groups, solvedTask, unsolvedTask, short := hindsightEpisodes(t, c, 2)
		guide := Guidance{Reflection: v.IDs("push", "Right")}
		ep.Second = []*Attempt{
			attemptWith(t, c, solvedTask, []envs.Action{envs.Left}, guide),
			attemptWith(t, c, unsolvedTask, []envs.Action{envs.Left}, Guidance{Reflection: v.IDs("avoid", "wall")}),
			attemptWith(t, c, unsolvedTask, []envs.Action{envs.Down}, Guidance{Reflection: v.IDs("go", "Up")}),
		}
		u := newUpdateBatch(c)
		var rec Record
		if err := tr.consolidate(ep, groups, u, &rec); err != nil {
			t.Fatal(err)
		}
		var hindsight []piece
		for _, p := range u.pieces {
			if p.term == termHindsightRetry {
				hindsight = append(hindsight, p)
			}
		}
		if weight == 0 {
			if len(hindsight) != 0 || rec.HindsightRetries != 0 {
				t.Fatalf("weight 0: %d hindsight turns, %d retries counted; want none", len(hindsight), rec.HindsightRetries)
			}
			continue
		}
		if rec.HindsightRetries != 1 {
			t.Fatalf("%d hindsight retries counted, want 1: the one retry at the solved task", rec.HindsightRetries)
		}
		// The turns a retry under the same reflection would have seen playing the short solution.
		want := attemptWith(t, c, solvedTask, short, guide)
		if len(hindsight) != len(want.Turns) {
			t.Fatalf("%d hindsight turns, want one per action of the shortest solved attempt (%d)", len(hindsight), len(want.Turns))
		}
		for k, p := range hindsight {
			w := appendToken(want.Turns[k], want.Tokens[k])
			if !slices.Equal(p.seq.Tokens, w.Tokens) || !slices.Equal(p.seq.Pos, w.Pos) {
				t.Fatalf("hindsight turn %d is\n  %s\nwant the guided context of the short solution\n  %s", k, c.Describe(p.seq.Tokens), c.Describe(w.Tokens))
			}
		}
		b := u.build(cfg.Weights, cfg.Aggregation)
		var supervised int // no second attempt succeeded: nothing is distilled but the hindsight turns
		for _, sc := range b.Scored {
			if sc.DistillWeight == 0 {
				continue
			}
			supervised++
			if math.Abs(float64(sc.DistillWeight)-weight/float64(len(short))) > 1e-7 || sc.PGWeight != 0 {
				t.Errorf("a hindsight token weighs %g on the likelihood term and %g on the policy gradient, want %g and 0",
					sc.DistillWeight, sc.PGWeight, weight/float64(len(short)))
			}
		}
		if supervised != len(short) {
			t.Errorf("%d tokens on the likelihood term, want the %d hindsight tokens", supervised, len(short))
		}
	}
}

// TestHindsightReflections: with weights.hindsight_reflection, each reflection on a failed
// attempt at a task that a first attempt of its group solved is trained, on the likelihood
// term with the term's weight, to write the shortest solved attempt's actions and its end,
// and that task's hindsight retries train under that plan instead of the sampled reflection;
// reflections at tasks nobody solved add nothing, nor does the ablation without reflections.
func TestHindsightReflections(t *testing.T) {
	for _, algo := range []string{AlgoERL, AlgoERLNoReflect} {
		const weight = 0.5
		cfg := testConfig(algo)
		cfg.ReflectionLen = 24 // a reflection holds the whole plan (HindsightPlan's cut: TestHindsightPlan)
		cfg.Weights.HindsightReflection = weight
		tr := newTestTrainer(t, cfg)
		c := tr.Contexts
		v := c.Vocab()
		ep, groups, solvedTask, unsolvedTask, short := hindsightEpisodes(t, c, 1)
		guides := []Guidance{{Attempt: ep.First[0]}, {Attempt: ep.First[3]}}
		if algo == AlgoERL {
			words := [][]int32{v.IDs("push", "Right"), v.IDs("avoid", "wall")}
			guides = nil
			for k, i := range ep.Retried {
				p, err := c.Reflection(ep.First[i], nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				ep.ReflectionPrompts = append(ep.ReflectionPrompts, p)
				ep.ReflectionGens = append(ep.ReflectionGens, model.Generation{Tokens: append(slices.Clone(words[k]), c.EOS()), Logp: make([]float32, len(words[k])+1)})
				ep.Reflections = append(ep.Reflections, words[k])
				guides = append(guides, Guidance{Reflection: words[k]})
			}
		}
		ep.Second = []*Attempt{
			attemptWith(t, c, solvedTask, []envs.Action{envs.Left}, guides[0]),
			attemptWith(t, c, unsolvedTask, []envs.Action{envs.Left}, guides[1]),
		}
		u := newUpdateBatch(c)
		var rec Record
		if err := tr.consolidate(ep, groups, u, &rec); err != nil {
			t.Fatal(err)
		}
		var plans, retries []piece
		for _, p := range u.pieces {
			switch p.term {
			case termHindsightReflection:
				plans = append(plans, p)
			case termHindsightRetry:
				retries = append(retries, p)
			}
		}
		// The retry at the solved task trains under the plan, or without reflections under its raw attempt.
		retryGuide := guides[0]
		if algo == AlgoERLNoReflect {
			if len(plans) != 0 || rec.HindsightReflections != 0 {
				t.Fatalf("%s: %d hindsight reflections trained, %d counted; want none", algo, len(plans), rec.HindsightReflections)
			}
		} else {
			if len(plans) != 1 || rec.HindsightReflections != 1 {
				t.Fatalf("%s: %d hindsight reflections trained, %d counted; want 1, the reflection at the solved task", algo, len(plans), rec.HindsightReflections)
			}
			want := slices.Concat(ep.ReflectionPrompts[0].Tokens, v.IDs(actionNames(short)...), []int32{c.EOS()})
			if p := plans[0]; !slices.Equal(p.seq.Tokens, want) || p.first != len(ep.ReflectionPrompts[0].Tokens) {
				t.Fatalf("%s: the hindsight reflection is\n  %s (trained from token %d)\nwant its prompt and the short solution\n  %s (from %d)",
					algo, c.Describe(p.seq.Tokens), p.first, c.Describe(want), len(ep.ReflectionPrompts[0].Tokens))
			}
			retryGuide = Guidance{Reflection: v.IDs(actionNames(short)...)}
		}
		demo := attemptWith(t, c, solvedTask, short, retryGuide)
		if len(retries) != len(demo.Turns) {
			t.Fatalf("%s: %d hindsight retry turns, want one per action of the short solution (%d)", algo, len(retries), len(demo.Turns))
		}
		for k, p := range retries {
			if w := appendToken(demo.Turns[k], demo.Tokens[k]); !slices.Equal(p.seq.Tokens, w.Tokens) || !slices.Equal(p.seq.Pos, w.Pos) {
				t.Fatalf("%s: hindsight retry turn %d is\n  %s\nwant\n  %s", algo, k, c.Describe(p.seq.Tokens), c.Describe(w.Tokens))
			}
		}
		if algo == AlgoERLNoReflect {
			continue
		}
		b := u.build(cfg.Weights, cfg.Aggregation)
		planTokens := len(short) + 1
		var onPlan int
		for _, sc := range b.Scored {
			if sc.Seq < len(b.Seqs) && slices.Equal(b.Seqs[sc.Seq].Tokens, plans[0].seq.Tokens) {
				onPlan++
				if math.Abs(float64(sc.DistillWeight)-weight/float64(planTokens)) > 1e-7 || sc.PGWeight != 0 {
					t.Errorf("a plan token weighs %g on the likelihood term and %g on the policy gradient, want %g and 0",
						sc.DistillWeight, sc.PGWeight, weight/float64(planTokens))
				}
			}
		}
		if onPlan != planTokens {
			t.Errorf("%d plan tokens scored, want %d (the actions and the end)", onPlan, planTokens)
		}
	}
}

// TestHindsightPlan: a plan is the actions' words and the reflection's end, cut as a
// reflection of maxLen tokens would be.
func TestHindsightPlan(t *testing.T) {
	c := NewContexts(model.StandardVocab())
	v := c.Vocab()
	acts := []envs.Action{envs.Up, envs.Left, envs.Left, envs.Down}
	for _, tc := range []struct {
		maxLen int
		want   []string
	}{
		{5, []string{"Up", "Left", "Left", "Down", "<eos>"}},
		{8, []string{"Up", "Left", "Left", "Down", "<eos>"}},
		{4, []string{"Up", "Left", "Left", "Down"}},
		{2, []string{"Up", "Left"}},
	} {
		if got := HindsightPlan(c, acts, tc.maxLen); !slices.Equal(got, v.IDs(tc.want...)) {
			t.Errorf("maxLen %d: plan %s, want %q", tc.maxLen, c.Describe(got), tc.want)
		}
	}
}

// TestHindsightReflectionRefusesSeed: a whole plan cannot be the edit of a stored reflection.
func TestHindsightReflectionRefusesSeed(t *testing.T) {
	cfg := testConfig(AlgoERL)
	cfg.Weights.HindsightReflection, cfg.MemoryMode = 1, MemorySeed
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "hindsight_reflection") {
		t.Fatalf("Validate: %v; want hindsight_reflection refused with memory_mode seed", err)
	}
}

func actionNames(actions []envs.Action) []string {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.String()
	}
	return names
}
