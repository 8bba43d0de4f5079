package erl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// Memory is the cross-episode store of reflections whose second attempt succeeded, newest last.
type Memory struct {
	Cap   int       `json:"cap"`
	Items [][]int32 `json:"items"`
}

// Add stores a reflection, forgetting the oldest beyond Cap.
func (m *Memory) Add(r []int32) {
	if m.Cap <= 0 {
		return
	}
	m.Items = append(m.Items, append([]int32(nil), r...))
	if over := len(m.Items) - m.Cap; over > 0 {
		m.Items = append(m.Items[:0:0], m.Items[over:]...)
	}
}

// Newest returns up to k of the newest reflections, oldest first.
func (m *Memory) Newest(k int) [][]int32 {
	return m.Items[max(0, len(m.Items)-k):]
}

// Trainer runs ERL (or RLVR, or an ablation) step by step. Every step draws its levels and its
// random numbers from streams keyed by (seed, step), so a run resumed from a checkpoint takes
// exactly the steps an uninterrupted run would.
type Trainer struct {
	Config   Config
	Contexts *Contexts
	Policy   *model.Model
	// Reference is the frozen initial policy that the KL term holds the policy to.
	Reference *model.Model
	Optim     *model.AdamW
	Memory    Memory
	// Lengths is the adaptive curriculum's state (see Config.Curriculum).
	Lengths LengthCurriculum
	// ValTasks and TestTasks are the validation and test levels (see Splits): never trained
	// on.
	ValTasks, TestTasks []envs.Task
	// TrainTasks are the levels of Config.TrainFile (nil: generated levels), and
	// SplitLevelsDropped the number of the file's levels left out of them because they are
	// validation or test levels.
	TrainTasks         []envs.Task
	SplitLevelsDropped int
	// Progress of the run so far.
	StepsDone int
	Totals    Totals
	// Last holds the attempts of the latest step, for rendering sampled episodes.
	Last *StepEpisodes
}

// Totals are the run's running counts, saved in checkpoints.
type Totals struct {
	WallSeconds float64 `json:"wall_s"`
	EnvSteps    int64   `json:"env_steps"`
	Tokens      int64   `json:"tokens"`
	FLOPs       float64 `json:"flops"`
	BestEval    float64 `json:"best_eval"`
	// BestStep is the step of the best checkpoint, the one of BestEval.
	BestStep int `json:"best_step"`
}

// StepEpisodes are one step's attempts: the first ones, and for the retried ones their
// reflection (nil in the no-reflection ablation) and second attempt.
type StepEpisodes struct {
	First   []*Attempt
	Retried []int // indices into First
	// Moves holds the length of each task's optimal solution, where the curriculum chose it.
	Moves []int
	// ReflectionPrompts and ReflectionGens are the reflection contexts and what the policy wrote
	// there; Reflections the words of each reflection, without its end token.
	ReflectionPrompts []model.Sequence
	ReflectionGens    []model.Generation
	Reflections       [][]int32
	Second            []*Attempt
	// Plain holds, where Config.MeasureLift is on, a plain retry of each retried attempt: a
	// fresh first attempt at its level, which nothing trains on.
	Plain []*Attempt
}

// evalSeedOffset and testSeedOffset separate the seed streams of the validation and test
// levels from the training streams and from each other. The validation levels are generated
// as the held-out levels of erlgo before the test split were, so that an older run's
// heldout.jsonl is its validation split.
const (
	evalSeedOffset = 0x6576616c // "eval"
	testSeedOffset = 0x74657374 // "test"
)

// liftSeedOffset separates the random stream of the plain retries (Config.MeasureLift) from
// the training step's, so that measuring the lift leaves training exactly as it would be
// without.
const liftSeedOffset = 0x6c696674 // "lift"

// NewTrainer builds a fresh run from a validated config.
func NewTrainer(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mc, err := cfg.ModelConfig()
	if err != nil {
		return nil, err
	}
	policy, err := model.NewOn(cfg.Device, mc, cfg.Seed)
	if err != nil {
		return nil, err
	}
	optim, err := model.NewAdamW(cfg.Optim, policy.Params)
	if err != nil {
		return nil, err
	}
	t, err := newTrainer(cfg, policy, optim)
	if err != nil {
		return nil, err
	}
	if cfg.Init != "" { // the policy starts where the reference does
		if err := policy.CopyWeightsFrom(t.Reference); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func newTrainer(cfg Config, policy *model.Model, optim *model.AdamW) (*Trainer, error) {
	reference, err := model.NewOn(cfg.Device, policy.Config, cfg.Seed) // the same draw as the initial policy
	if err != nil {
		return nil, err
	}
	var pretrained PretrainConfig
	if cfg.Init != "" { // the initial policy is the init checkpoint's
		init, pc, hash, err := loadInit(cfg)
		if err != nil {
			return nil, err
		}
		switch {
		case cfg.InitSHA256 == "": // a new run records it, and where it is from wherever it resumes
			cfg.InitSHA256 = hash
			if abs, err := filepath.Abs(cfg.Init); err == nil {
				cfg.Init = abs
			}
		case cfg.InitSHA256 != hash:
			return nil, fmt.Errorf("init %s: its SHA-256 is %s, not %s (init_sha256), that of the file the run started from: its KL term's reference policy would not be its initial policy", cfg.Init, hash, cfg.InitSHA256)
		}
		if err := reference.CopyWeightsFrom(init.Model); err != nil {
			return nil, err
		}
		pretrained = pc
	}
	policy.MicroBatch, reference.MicroBatch = cfg.MicroBatch, cfg.MicroBatch
	if err := reference.ShareBuffers(policy); err != nil { // it runs only inside the policy's Gradients
		return nil, err
	}
	maxMoves, err := envs.MaxMoves(cfg.Env)
	if err != nil {
		return nil, err
	}
	t := &Trainer{Config: cfg, Contexts: NewContexts(cfg.Vocab()), Policy: policy, Reference: reference, Optim: optim,
		Memory: Memory{Cap: cfg.MemorySize}, Lengths: newLengthCurriculum(maxMoves)}
	t.Contexts.AlignGuidance = cfg.GuidancePositions == GuidanceAligned
	if t.ValTasks, t.TestTasks, err = Splits(cfg); err != nil {
		return nil, err
	}
	if cfg.Init != "" {
		if err := checkPretrainedSplits(cfg, pretrained, t.ValTasks, t.TestTasks); err != nil {
			return nil, err
		}
	}
	if err := CheckEvaluation(len(t.ValTasks), cfg.EvalSamples); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.EvalFile, err)
	}
	if err := CheckEvaluation(len(t.TestTasks), cfg.EvalSamples); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.TestFile, err)
	}
	if cfg.TrainFile != "" {
		all, err := ReadLevels(cfg.TrainFile, cfg.Env)
		if err != nil {
			return nil, err
		}
		split := levelSet(t.ValTasks, t.TestTasks)
		for _, task := range all { // validation and test levels are never trained on, whatever the file holds
			if !split[levelKey(task)] {
				t.TrainTasks = append(t.TrainTasks, task)
			}
		}
		t.SplitLevelsDropped = len(all) - len(t.TrainTasks)
		if len(t.TrainTasks) == 0 {
			return nil, fmt.Errorf("%s: no levels to train on (besides validation and test levels)", cfg.TrainFile)
		}
	}
	return t, nil
}

// Splits returns the run's validation and test levels, disjoint from each other. Each split
// is the levels of its file (Config.EvalFile, Config.TestFile), or generated from a seed
// stream of its own that training never draws from: the validation levels first, without the
// test file's levels, then the test levels, without the validation levels. Level files of the
// two splits that share a level are an error. A run without a test split (TestLevels 0, no
// TestFile) has no test levels.
func Splits(cfg Config) (val, test []envs.Task, err error) {
	if cfg.TestFile != "" {
		if test, err = ReadLevels(cfg.TestFile, cfg.Env); err != nil {
			return nil, nil, err
		}
	}
	if cfg.EvalFile != "" {
		if val, err = ReadLevels(cfg.EvalFile, cfg.Env); err != nil {
			return nil, nil, err
		}
		if test != nil {
			if n := shared(val, test); n > 0 {
				return nil, nil, fmt.Errorf("%s and %s share %d levels: validation and test levels must differ", cfg.EvalFile, cfg.TestFile, n)
			}
		}
	} else if val, err = generateSplit(cfg.Env, cfg.Seed+evalSeedOffset, cfg.EvalLevels, test); err != nil {
		return nil, nil, fmt.Errorf("validation levels: %w", err)
	}
	if cfg.TestFile == "" && cfg.TestLevels > 0 {
		if test, err = generateSplit(cfg.Env, cfg.Seed+testSeedOffset, cfg.TestLevels, val); err != nil {
			return nil, nil, fmt.Errorf("test levels: %w", err)
		}
	}
	return val, test, nil
}

// generateSplit generates n distinct levels of env's own distribution from seed, none of them
// one of exclude.
func generateSplit(env string, seed uint64, n int, exclude []envs.Task) ([]envs.Task, error) {
	if n < 1 || n > MaxEvalLevels {
		return nil, fmt.Errorf("%d levels: want 1 to %d", n, MaxEvalLevels)
	}
	g, err := envs.NewGenerator(env, seed)
	if err != nil {
		return nil, err
	}
	g.Exclude(exclude...)
	return g.Generate(n)
}

// levelKey identifies a level by its environment and layout, not its step budget, as the
// generators do.
func levelKey(t envs.Task) string {
	return t.Env + "\n" + strings.Join(t.Layout, "\n")
}

// levelSet returns the set of the levels of the given sets, by levelKey.
func levelSet(sets ...[]envs.Task) map[string]bool {
	set := make(map[string]bool)
	for _, tasks := range sets {
		for _, t := range tasks {
			set[levelKey(t)] = true
		}
	}
	return set
}

// shared returns the number of levels of a that b holds too.
func shared(a, b []envs.Task) int {
	in := levelSet(b)
	n := 0
	for _, t := range a {
		if in[levelKey(t)] {
			n++
		}
	}
	return n
}

// ReadLevels reads a level file for the policy to play (envs.ReadLevels), and rejects one
// that holds no level, or a level larger than the boards the policy sees.
func ReadLevels(path, env string) ([]envs.Task, error) {
	tasks, err := envs.ReadLevels(path, env)
	if err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%s holds no levels", path)
	}
	for i, t := range tasks {
		wide := 0
		for _, row := range t.Layout {
			wide = max(wide, len([]rune(row)))
		}
		if len(t.Layout) > MaxBoardSide || wide > MaxBoardSide {
			return nil, fmt.Errorf("%s: level %d of %d is %d×%d; the policy sees boards of at most %d×%d", path, i+1, len(tasks), len(t.Layout), wide, MaxBoardSide, MaxBoardSide)
		}
	}
	return tasks, nil
}

// Checkpoint metadata keys of the trainer.
const (
	metaRunConfig = "erl.config"
	metaStep      = "erl.step"
	metaMemory    = "erl.memory"
	metaTotals    = "erl.totals"
	metaLengths   = "erl.curriculum"
)

// Save writes a checkpoint of the whole run state.
func (t *Trainer) Save(path string) error {
	cfg, err := json.Marshal(t.Config)
	if err != nil {
		return err
	}
	mem, err := json.Marshal(t.Memory)
	if err != nil {
		return err
	}
	tot, err := json.Marshal(t.Totals)
	if err != nil {
		return err
	}
	lengths, err := json.Marshal(t.Lengths)
	if err != nil {
		return err
	}
	return model.SaveCheckpoint(path, t.Policy, t.Optim, map[string]string{
		metaRunConfig: string(cfg), metaStep: strconv.Itoa(t.StepsDone), metaMemory: string(mem), metaTotals: string(tot),
		metaLengths: string(lengths),
	})
}

// ResumeTrainer restores a run from a checkpoint written by Save. The run's config comes from
// the checkpoint; extend, when not nil, may change how far it goes (steps, time) before the
// config is validated.
func ResumeTrainer(path string, extend func(*Config)) (*Trainer, error) {
	ck, err := model.LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	for _, key := range []string{metaRunConfig, metaStep, metaMemory, metaTotals, metaLengths} {
		if _, ok := ck.Extra[key]; !ok {
			return nil, fmt.Errorf("%s: cannot resume: its run state has no %q (a checkpoint of an older erlgo, or not of a training run)", path, key)
		}
	}
	// The keys a checkpoint of an older erlgo lacks take the behaviour it had.
	cfg := Config{MemoryMode: MemoryContext, ReflectionReward: RewardSuccess, ReflectionVocab: ReflectionWords, GuidancePositions: GuidanceFirst}
	var step int
	var mem Memory
	var tot Totals
	var lengths LengthCurriculum
	if err := errors.Join(
		func() error { _, err := DecodeConfig([]byte(ck.Extra[metaRunConfig]), &cfg); return err }(),
		json.Unmarshal([]byte(ck.Extra[metaMemory]), &mem),
		json.Unmarshal([]byte(ck.Extra[metaTotals]), &tot),
		json.Unmarshal([]byte(ck.Extra[metaLengths]), &lengths),
		func() (err error) { step, err = strconv.Atoi(ck.Extra[metaStep]); return }(),
	); err != nil {
		return nil, fmt.Errorf("%s: not a training checkpoint (its run state is missing or malformed): %w", path, err)
	}
	if !hasKey(ck.Extra[metaRunConfig], "test_levels") {
		return nil, fmt.Errorf("%s: a checkpoint of an erlgo before the test split, whose training kept apart its held-out levels (heldout.jsonl, now its validation split) and no others: no test split can be held out of the rest of its run now, so it does not resume; start a new run (erlgo eval still scores it)", path)
	}
	if ck.Optim == nil {
		return nil, fmt.Errorf("%s: holds no optimizer state, so the run cannot resume exactly", path)
	}
	if extend != nil {
		extend(&cfg)
	}
	if err := errors.Join(cfg.Validate(), cfg.CheckPolicy(ck.Model.Config), cfg.CheckVocab(ck.Model.Config, ck.Vocab)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := ck.To(cfg.Device); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := newTrainer(cfg, ck.Model, ck.Optim)
	if err != nil {
		return nil, err
	}
	if len(lengths.Success) != len(t.Lengths.Success) {
		return nil, fmt.Errorf("%s: its curriculum holds %d lengths, want %d", path, len(lengths.Success), len(t.Lengths.Success))
	}
	t.StepsDone, t.Memory, t.Totals, t.Lengths = step, mem, tot, lengths
	t.Memory.Cap = cfg.MemorySize
	return t, nil
}

// hasKey reports whether the JSON object js has the top-level key.
func hasKey(js, key string) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal([]byte(js), &keys) != nil {
		return false
	}
	_, ok := keys[key]
	return ok
}

// trainingTasks draws the levels of a step from the step's own stream: distinct generated
// levels that are never validation or test levels, or levels of the training file (which
// NewTrainer cleared of them). Where the curriculum chose the length of each level's optimal
// solution, moves holds those lengths.
func (t *Trainer) trainingTasks(step int) (tasks []envs.Task, moves []int, err error) {
	stream := t.Config.Seed*1_000_003 + uint64(step)
	if t.TrainTasks != nil {
		rng := rand.New(rand.NewPCG(stream, 1))
		tasks := make([]envs.Task, t.Config.Batch)
		for i := range tasks {
			tasks[i] = t.TrainTasks[rng.IntN(len(t.TrainTasks))]
		}
		return tasks, nil, nil
	}
	g, err := envs.NewGenerator(t.Config.Env, stream)
	if err != nil {
		return nil, nil, err
	}
	g.Exclude(t.ValTasks...)
	g.Exclude(t.TestTasks...)
	if t.Config.Curriculum == CurriculumNone {
		tasks, err := g.Generate(t.Config.Batch)
		return tasks, nil, err
	}
	maxMoves, err := envs.MaxMoves(t.Config.Env)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(stream, 2))
	tasks, moves = make([]envs.Task, t.Config.Batch), make([]int, t.Config.Batch)
	for i := range tasks {
		if t.Config.Curriculum == CurriculumAdaptive {
			moves[i] = t.Lengths.draw(rng)
		} else {
			moves[i] = 1 + rng.IntN(maxMoves)
		}
		if tasks[i], err = g.UniqueOfLength(moves[i]); err != nil {
			return nil, nil, fmt.Errorf("step %d: a training level of %d moves: %w", step, moves[i], err)
		}
	}
	return tasks, moves, nil
}

// Step runs one training step: experience, reflection, consolidation, and one update.
func (t *Trainer) Step() (Record, error) {
	start := time.Now()
	cfg, sw := t.Config, t.Config.Switches
	step := t.StepsDone + 1
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
	rec := Record{Step: step}

	tasks, moves, err := t.trainingTasks(step)
	if err != nil {
		return rec, err
	}
	var attemptTasks []envs.Task
	var groups []int
	for i, task := range tasks {
		for range cfg.Group {
			attemptTasks = append(attemptTasks, task)
			groups = append(groups, i)
		}
	}

	// Experience: first attempts, exactly as RLVR takes them.
	first, err := Play(t.Policy, t.Contexts, attemptTasks, nil, cfg.Rollout, rng)
	if err != nil {
		return rec, err
	}
	rec.FirstSeconds = time.Since(start).Seconds()
	ep := &StepEpisodes{First: first, Moves: moves}
	var envSteps, sampled int64
	rewards := make([]float64, len(first))
	for i, a := range first {
		rewards[i] = a.Reward
		envSteps += int64(len(a.Actions))
		sampled += seqTokens(a.Turns)
		if a.Solved {
			rec.SuccessPre++
		}
	}
	rec.SuccessPre /= float64(len(first))
	if moves != nil {
		rec.TrainMoves = new(float64)
		for i, m := range moves {
			*rec.TrainMoves += float64(m) / float64(len(moves))
			if cfg.Curriculum == CurriculumAdaptive {
				t.Lengths.observe(m, groupSuccess(first, groups, i))
			}
		}
	}
	u := newUpdateBatch(t.Contexts)
	if sw.TrainFirst {
		for i, a := range groupAdvantages(rewards, groups) {
			u.addAttempt(first[i].Turns, first[i].Tokens, first[i].Logp, a, termFirst)
		}
	}

	if sw.SecondAttempt {
		retryStart := time.Now()
		if ep.Retried = gate(first, cfg.Tau); len(ep.Retried) > 0 {
			n, s, err := t.retry(ep, groups, u, rng, &rec)
			if err != nil {
				return rec, err
			}
			envSteps += n
			sampled += s
		}
		rec.RetrySeconds = time.Since(retryStart).Seconds() - rec.LiftSeconds
	}
	updateStart := time.Now()

	b := u.build(cfg.Weights, cfg.Aggregation)
	if cfg.Objective.DistillISClip > 0 && len(b.Scored) > 0 {
		// Distilled tokens were sampled under another context: their ratio's denominator is
		// the policy's own probability here, before the update.
		now, err := t.Policy.LogProbs(b)
		if err != nil {
			return rec, err
		}
		for i, sc := range b.Scored {
			if sc.DistillWeight != 0 {
				b.Scored[i].OldLogp = now[i]
			}
		}
	}
	var reference *model.Model // the KL term's, whose log-probabilities the update computes
	if cfg.Objective.KLCoef > 0 {
		reference = t.Reference
	}
	var terms model.Terms
	if len(b.Scored) > 0 { // else no attempt carried signal: no update
		if terms, err = t.Policy.Gradients(b, cfg.Objective, reference); err != nil {
			return rec, err
		}
		if math.IsNaN(terms.Loss) || math.IsInf(terms.Loss, 0) {
			return rec, fmt.Errorf("step %d: the loss is %v", step, terms.Loss)
		}
		if rec.GradNorm, rec.LR, err = t.Optim.Update(t.Policy.Params); err != nil {
			return rec, fmt.Errorf("step %d: %w", step, err)
		}
	}

	var trained int64
	for _, s := range b.Seqs {
		trained += int64(len(s.Tokens))
	}
	flopsPerToken := t.Policy.Config.FlopsPerToken(64)
	t.StepsDone = step
	t.Last = ep
	t.Totals.EnvSteps += envSteps
	t.Totals.Tokens += trained
	t.Totals.FLOPs += flopsPerToken * (float64(trained) + float64(sampled)/3)
	if cfg.Objective.KLCoef > 0 {
		t.Totals.FLOPs += flopsPerToken * float64(trained) / 3
	}
	rec.UpdateSeconds = time.Since(updateStart).Seconds()
	rec.StepSeconds = time.Since(start).Seconds()
	t.Totals.WallSeconds += rec.StepSeconds
	rec.WallSeconds, rec.EnvSteps, rec.Tokens, rec.FLOPs = t.Totals.WallSeconds, t.Totals.EnvSteps, t.Totals.Tokens, t.Totals.FLOPs
	rec.Loss, rec.PG, rec.KL, rec.Distill = terms.Loss, terms.PG, terms.KL, terms.Distill
	if terms.PGWeight > 0 {
		rec.ClipFrac = terms.ClipFrac / terms.PGWeight
	}
	rec.Memory = len(t.Memory.Items)
	rec.RSSMB = peakRSSMiB()
	return rec, nil
}

// groupSuccess returns the success rate of the attempts of group g.
func groupSuccess(attempts []*Attempt, groups []int, g int) float64 {
	var solved, n float64
	for i, a := range attempts {
		if groups[i] == g {
			n++
			if a.Solved {
				solved++
			}
		}
	}
	return solved / n
}

// gate returns the attempts to reflect on and retry: those whose reward is below tau. Solved
// attempts are reinforced as they are; reflecting on them wastes compute and can teach reward
// hacking.
func gate(attempts []*Attempt, tau float64) []int {
	var retried []int
	for i, a := range attempts {
		if a.Reward < tau {
			retried = append(retried, i)
		}
	}
	return retried
}

// retry runs the reflection and second-attempt stage for the retried first attempts, then
// consolidates it. It returns the environment steps and sampled tokens it spent.
func (t *Trainer) retry(ep *StepEpisodes, groups []int, u *updateBatch, rng *rand.Rand, rec *Record) (envSteps, sampled int64, err error) {
	cfg, sw := t.Config, t.Config.Switches
	guides := make([]Guidance, len(ep.Retried))
	tasks := make([]envs.Task, len(ep.Retried))
	for k, i := range ep.Retried {
		tasks[k] = ep.First[i].Task
		guides[k] = Guidance{Attempt: ep.First[i]}
	}
	if sw.Reflect {
		var memory [][]int32
		var draft []int32 // the stored reflection a new one starts from (memory_mode seed)
		switch {
		case !sw.Memory:
		case cfg.MemoryMode == MemorySeed:
			if newest := t.Memory.Newest(1); len(newest) > 0 {
				draft = newest[0]
			}
		default:
			memory = t.Memory.Newest(cfg.MemoryShown)
		}
		for _, i := range ep.Retried {
			p, err := t.Contexts.Reflection(ep.First[i], memory, draft)
			if err != nil {
				return 0, 0, err
			}
			ep.ReflectionPrompts = append(ep.ReflectionPrompts, p)
			sampled += int64(len(p.Tokens))
		}
		allowed := func(int, []int32) []int32 { return t.Contexts.ReflectionTokens }
		ep.ReflectionGens, err = t.Policy.Generate(ep.ReflectionPrompts, model.GenerateOptions{
			MaxNew: cfg.ReflectionLen, Stop: t.Contexts.EOS(), Allowed: allowed, Sample: cfg.Rollout}, rng)
		if err != nil {
			return 0, 0, err
		}
		for k, g := range ep.ReflectionGens {
			words := g.Tokens
			if n := len(words); n > 0 && words[n-1] == t.Contexts.EOS() {
				words = words[:n-1]
			}
			if draft != nil { // the draft and the new words, as much of their end as a reflection holds
				words = slices.Concat(draft, words)
				words = words[max(0, len(words)-cfg.ReflectionLen):]
			}
			guides[k] = Guidance{Reflection: words}
			ep.Reflections = append(ep.Reflections, words)
			sampled += int64(len(g.Tokens))
		}
		rec.Reflections = len(ep.ReflectionGens)
	}

	if ep.Second, err = Play(t.Policy, t.Contexts, tasks, guides, cfg.Rollout, rng); err != nil {
		return 0, 0, err
	}
	retries := ep.Second
	if cfg.MeasureLift {
		start := time.Now()
		plainRNG := rand.New(rand.NewPCG(cfg.Seed+liftSeedOffset, uint64(t.StepsDone+1)))
		if ep.Plain, err = Play(t.Policy, t.Contexts, tasks, nil, cfg.Rollout, plainRNG); err != nil {
			return 0, 0, err
		}
		retries = slices.Concat(ep.Second, ep.Plain)
		rec.measureLift(ep, groups)
		rec.LiftSeconds = time.Since(start).Seconds()
	}
	for _, a := range retries {
		envSteps += int64(len(a.Actions))
		sampled += seqTokens(a.Turns)
	}
	return envSteps, sampled, t.consolidate(ep, groups, u, rec)
}

// measureLift records the success of the plain retries beside the guided ones, on the same
// attempts, their difference and the counts of each task.
func (r *Record) measureLift(ep *StepEpisodes, groups []int) {
	byTask := map[int]int{} // task → its index in RetryTasks
	var guided, plain float64
	for k, i := range ep.Retried {
		j, ok := byTask[groups[i]]
		if !ok {
			j = len(r.RetryTasks)
			byTask[groups[i]] = j
			r.RetryTasks = append(r.RetryTasks, RetryCount{})
		}
		c := &r.RetryTasks[j]
		c.Attempts++
		if ep.Second[k].Solved {
			c.Guided++
			guided++
		}
		if ep.Plain[k].Solved {
			c.Plain++
			plain++
		}
	}
	n := float64(len(ep.Retried))
	plainRate, lift := plain/n, (guided-plain)/n
	r.SuccessPlain, r.Lift = &plainRate, &lift
}

// consolidate turns the second attempts into training signal: policy-gradient terms for the
// second attempts and the reflections (rewarded by what they led to, within the task's group),
// the memory of reflections that led to success, and the selective distillation of successful
// second attempts into the first-attempt context.
func (t *Trainer) consolidate(ep *StepEpisodes, groups []int, u *updateBatch, rec *Record) error {
	cfg, sw := t.Config, t.Config.Switches
	rewards := make([]float64, len(ep.Second))
	secondGroups := make([]int, len(ep.Second))
	var solved float64
	for k, a := range ep.Second {
		rewards[k] = a.Reward
		secondGroups[k] = groups[ep.Retried[k]]
		if a.Solved {
			solved++
		}
	}
	post := solved / float64(len(ep.Second))
	rec.SuccessPost, rec.Retried = &post, len(ep.Second)

	adv := groupAdvantages(rewards, secondGroups)
	reflected := sw.Reflect && len(ep.Reflections) == len(ep.Second)
	reflectionAdv := adv
	if reflected && cfg.ReflectionReward == RewardLift {
		plain := make([]float64, len(ep.Plain))
		for k, a := range ep.Plain {
			plain[k] = a.Reward
		}
		reflectionAdv = liftAdvantages(rewards, plain, secondGroups)
	}
	for k, a := range ep.Second {
		if sw.TrainSecond {
			u.addAttempt(a.Turns, a.Tokens, a.Logp, adv[k], termSecond)
		}
		if reflected && sw.TrainReflection {
			g := ep.ReflectionGens[k]
			u.addGenerated(ep.ReflectionPrompts[k], g.Tokens, g.Logp, reflectionAdv[k], termReflection)
		}
		if a.Reward < cfg.Tau {
			continue
		}
		if reflected && sw.Memory {
			t.Memory.Add(ep.Reflections[k])
		}
		if sw.TrainDistill {
			turns, err := TurnsUnder(t.Contexts, a, Guidance{})
			if err != nil {
				return err
			}
			u.addAttempt(turns, a.Tokens, nil, 0, termDistill)
			rec.Distilled++
		}
	}
	if cfg.Weights.HindsightRetry > 0 || cfg.Weights.HindsightReflection > 0 {
		return t.hindsight(ep, groups, u, rec)
	}
	return nil
}

// hindsight adds the hindsight terms at each retry whose task one of its group's first
// attempts solved, taught by the shortest such attempt (the earliest of equals): its
// reflection is trained to write that attempt's actions (TermWeights.HindsightReflection),
// and its guided context to take them (TermWeights.HindsightRetry), under that plan where
// reflections are trained to write it, else under the retry's own guidance.
func (t *Trainer) hindsight(ep *StepEpisodes, groups []int, u *updateBatch, rec *Record) error {
	w := t.Config.Weights
	solved := map[int]*Attempt{} // task (group) → its shortest solved first attempt
	for i, a := range ep.First {
		if s, ok := solved[groups[i]]; a.Solved && (!ok || len(a.Actions) < len(s.Actions)) {
			solved[groups[i]] = a
		}
	}
	planned := w.HindsightReflection > 0 && len(ep.ReflectionPrompts) == len(ep.Retried)
	for k, i := range ep.Retried {
		demo, ok := solved[groups[i]]
		if !ok {
			continue
		}
		guide := ep.Second[k].Guide
		if planned {
			plan := HindsightPlan(t.Contexts, demo.Actions, t.Config.ReflectionLen)
			u.addGenerated(ep.ReflectionPrompts[k], plan, make([]float32, len(plan)), 0, termHindsightReflection)
			rec.HindsightReflections++
			guide = Guidance{Reflection: plan[:min(len(plan), len(demo.Actions))]} // its words, without the end
		}
		if w.HindsightRetry == 0 {
			continue
		}
		turns, err := TurnsUnder(t.Contexts, demo, guide)
		if err != nil {
			return err
		}
		u.addAttempt(turns, demo.Tokens, nil, 0, termHindsightRetry)
		rec.HindsightRetries++
	}
	return nil
}

// HindsightPlan is the reflection a hindsight reflection is trained to write for a task that
// actions solved: the actions' words, then the reflection's end, as a reflection of at most
// maxLen tokens holds them (a plan too long for it keeps its first maxLen actions and no end,
// as a generation cut at maxLen would).
func HindsightPlan(c *Contexts, actions []envs.Action, maxLen int) []int32 {
	if len(actions) >= maxLen {
		return c.actionTokens(actions[:maxLen])
	}
	return append(c.actionTokens(actions), c.EOS())
}

func seqTokens(seqs []model.Sequence) int64 {
	var n int64
	for _, s := range seqs {
		n += int64(len(s.Tokens))
	}
	return n
}
