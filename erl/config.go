package erl

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// The named algorithms.
const (
	AlgoERL          = "erl"        // the full loop: reflection, memory, second attempts, distillation
	AlgoRLVR         = "rlvr"       // first attempts only: the baseline
	AlgoERLNoMemory  = "erl-nomem"  // ERL without the cross-episode memory
	AlgoERLNoReflect = "erl-norefl" // second attempts see the raw first attempt and its feedback
)

// Algos lists the named algorithms.
var Algos = []string{AlgoERL, AlgoRLVR, AlgoERLNoMemory, AlgoERLNoReflect}

// Switches turn each piece of the loop on or off; the named algorithms are presets of them.
type Switches struct {
	// SecondAttempt retries failed first attempts, guided by a reflection or by the raw attempt.
	SecondAttempt bool `json:"second_attempt"`
	// Reflect writes a reflection to guide the retry; without it the retry sees the raw first
	// attempt and its feedback.
	Reflect bool `json:"reflect"`
	// Memory keeps reflections that led to success and offers them to later reflections.
	Memory bool `json:"memory"`
	// The terms of the update: which tokens are trained.
	TrainFirst      bool `json:"train_first"`
	TrainSecond     bool `json:"train_second"`
	TrainReflection bool `json:"train_reflection"`
	TrainDistill    bool `json:"train_distill"`
}

// AlgoSwitches returns the switches of a named algorithm.
func AlgoSwitches(algo string) (Switches, error) {
	erl := Switches{SecondAttempt: true, Reflect: true, Memory: true, TrainFirst: true, TrainSecond: true, TrainReflection: true, TrainDistill: true}
	switch algo {
	case AlgoERL:
		return erl, nil
	case AlgoRLVR:
		return Switches{TrainFirst: true}, nil
	case AlgoERLNoMemory:
		erl.Memory = false
		return erl, nil
	case AlgoERLNoReflect:
		erl.Reflect, erl.Memory, erl.TrainReflection = false, false, false
		return erl, nil
	}
	return Switches{}, fmt.Errorf("unknown algorithm %q (want one of %v)", algo, Algos)
}

// Config is everything a training run is made of. The zero value is not usable: start from
// DefaultConfig.
type Config struct {
	Env  string `json:"env"`
	Algo string `json:"algo"`
	// Switches are the algorithm's, unless set explicitly in a config file.
	Switches Switches   `json:"switches"`
	Size     model.Size `json:"size"`
	Device   string     `json:"device"`
	Seed     uint64     `json:"seed"`
	// Steps is the number of updates; Time, when positive, stops the run earlier at that much
	// training time.
	Steps int      `json:"steps"`
	Time  Duration `json:"time"`
	// TrainFile, when set, is a JSONL level file that training draws its tasks from, instead of
	// the environment's generator.
	TrainFile string `json:"train_file"`
	// Curriculum shapes the generated training levels (see the Curriculum constants).
	Curriculum string `json:"curriculum"`
	// Batch is the number of tasks per step; Group the attempts per task (a GRPO group).
	Batch int `json:"batch"`
	Group int `json:"group"`
	// Tau is the reward gate: attempts with reward below it are reflected on and retried.
	Tau float64 `json:"tau"`
	// ReflectionLen is the longest reflection, in tokens.
	ReflectionLen int `json:"reflection_len"`
	// MemorySize bounds the memory; MemoryShown is how many of its newest reflections a
	// reflection context holds (memory_mode context).
	MemorySize  int `json:"memory_size"`
	MemoryShown int `json:"memory_shown"`
	// MemoryMode is how the memory reaches a new reflection (see the MemoryMode constants).
	MemoryMode string `json:"memory_mode"`
	// ReflectionReward is what a reflection's policy-gradient term rewards it by (see the
	// Reward constants).
	ReflectionReward string `json:"reflection_reward"`
	// ReflectionVocab is the vocabulary reflections are written in (see the ReflectionVocab
	// constants). It sets the policy's vocabulary, and so the size of its embedding table: a
	// checkpoint of the other one is refused.
	ReflectionVocab string `json:"reflection_vocab"`
	// GuidancePositions is where a second attempt's guidance (its reflection, or the raw first
	// attempt) stands among the position ids of its context (see the Guidance constants).
	GuidancePositions string `json:"guidance_positions"`
	// Init, when set, is a checkpoint of erlgo pretrain that the policy starts from, and the
	// KL term's reference policy with it, instead of fresh weights drawn from the seed; the
	// optimizer starts afresh. InitSHA256 is its file's SHA-256, which a new run records and
	// checks when given, and a resumed run checks.
	Init       string `json:"init"`
	InitSHA256 string `json:"init_sha256"`
	// Weights scale each term of the update.
	Weights TermWeights `json:"weights"`
	// Aggregation is "token-mean" or "seq-mean".
	Aggregation string `json:"aggregation"`
	// Rollout is how training attempts and reflections are sampled.
	Rollout   model.SampleConfig `json:"rollout"`
	Objective model.Objective    `json:"objective"`
	Optim     model.OptimConfig  `json:"optim"`
	// Evaluation is on two splits of levels, disjoint from each other and never trained on
	// (see Splits). The validation split, EvalLevels generated levels or those of EvalFile, is
	// scored before the first step, every EvalEvery steps (0: none in between) and after the
	// last, and chooses the best checkpoint. The test split, TestLevels generated levels or
	// those of TestFile (0 and no file: none), is scored only when the run stops, on the last
	// checkpoint and the best: the figures to report, from levels that nothing in the run has
	// looked at. Both are scored greedily and sampled EvalSamples times with EvalSample.
	EvalEvery   int                `json:"eval_every"`
	EvalLevels  int                `json:"eval_levels"`
	EvalFile    string             `json:"eval_file"`
	TestLevels  int                `json:"test_levels"`
	TestFile    string             `json:"test_file"`
	EvalSamples int                `json:"eval_samples"`
	EvalSample  model.SampleConfig `json:"eval_sample"`
	// MeasureLift plays, beside each reflection-guided second attempt, a plain retry: a fresh
	// first attempt at the same level with the same sampling settings, which nothing trains
	// on. The two retries' success on the same tasks, and their difference, the reflection's
	// lift, are logged every step (Record). It costs rollouts, which the compute counts.
	MeasureLift bool `json:"measure_lift"`
	// CheckpointEvery is the period of numbered checkpoints (0: only last and best).
	CheckpointEvery int `json:"checkpoint_every"`
	// MicroBatch is the number of sequences per run of the model's graph.
	MicroBatch int `json:"micro_batch"`
}

// The training curricula: how generated training levels are drawn. Validation and test levels
// always follow the environment's own (the paper's) distribution.
const (
	// CurriculumNone draws training levels from the paper's distribution, where most Sokoban
	// levels need 5 to 8 moves and a policy that has learnt nothing solves 3%.
	CurriculumNone = "none"
	// CurriculumEvenMoves draws the length of a level's optimal solution uniformly from 1 to
	// the longest the environment's levels have (envs.MaxMoves: 8 for Sokoban, 6 for
	// FrozenLake), then a level of that length: short levels, which a fresh policy solves by
	// chance, are as common as long ones, so the first successes come early.
	CurriculumEvenMoves = "even-moves"
	// CurriculumAdaptive draws lengths where first attempts succeed about half the time
	// (see LengthCurriculum): short levels first, longer ones as the policy learns.
	CurriculumAdaptive = "adaptive"
)

// Curricula lists the curricula.
var Curricula = []string{CurriculumNone, CurriculumEvenMoves, CurriculumAdaptive}

// The memory modes: how a new reflection is given the memory's reflections.
const (
	// MemoryContext shows the newest MemoryShown reflections in the reflection's context,
	// each after a MEMORY marker, before the failed attempt: the policy may copy from them.
	MemoryContext = "context"
	// MemorySeed starts the new reflection from the newest one, as the paper's reference code
	// starts a new rulebook from the last one whose retry succeeded: that reflection is
	// written after REFLECT as the beginning of the new one, and the policy continues it with
	// at most ReflectionLen words of its own (or none, keeping it). The reflection is the
	// last ReflectionLen words of the two: a few new words edit the end of the stored one, a
	// full reflection's worth replaces it. Only the words the policy wrote are trained.
	MemorySeed = "seed"
)

// MemoryModes lists the memory modes.
var MemoryModes = []string{MemoryContext, MemorySeed}

// The rewards of a reflection.
const (
	// RewardSuccess rewards a reflection by its retry's reward, with GRPO's advantage among
	// the retries of its task: the paper's.
	RewardSuccess = "success"
	// RewardLift rewards a reflection by its retry's reward minus what a retry without a
	// reflection achieved: the mean reward of the plain retries at its task (MeasureLift),
	// divided by the standard deviation of the task's guided and plain retries' rewards
	// together. Unlike GRPO's advantage it is not centred on the guided retries' own mean,
	// so a reflection is reinforced only where its retry beat retrying without one, and the
	// reflections of a task whose plain retries did better are all pushed down.
	RewardLift = "lift"
)

// ReflectionRewards lists the rewards of a reflection.
var ReflectionRewards = []string{RewardSuccess, RewardLift}

// The reflection vocabularies.
const (
	// ReflectionWords writes reflections in the reflection words, the action words and the
	// digits of the standard vocabulary (model.VocabVersion).
	ReflectionWords = "words"
	// ReflectionPlans adds model.PlanWords (model.PlansVocabVersion): "at" and the row and
	// column offsets of a cell from the player's starting cell, as the board's positions
	// number them, so that a reflection can say where as well as what ("avoid Up at row-1
	// col+0", "push box at row+1 col+2 Down").
	ReflectionPlans = "plans"
)

// ReflectionVocabs lists the reflection vocabularies.
var ReflectionVocabs = []string{ReflectionWords, ReflectionPlans}

// Where a second attempt's guidance stands among its context's position ids.
const (
	// GuidanceFirst numbers the guidance on from <bos>, before the board: the turn's own text
	// (OBS, HIST, the actions so far, ACT) follows it and so stands at other position ids than
	// in a first attempt.
	GuidanceFirst = "first"
	// GuidanceAligned gives the turn's own text the position ids it has in a first attempt
	// and the guidance ids past those of any first-attempt turn: a guided context is a
	// first-attempt context with the guidance's tokens added, which a policy trained mostly on
	// first attempts might read as one.
	GuidanceAligned = "aligned"
)

// GuidancePositionsModes lists where the guidance may stand.
var GuidancePositionsModes = []string{GuidanceFirst, GuidanceAligned}

// TermWeights scale the terms of the update.
type TermWeights struct {
	First      float64 `json:"first"`
	Second     float64 `json:"second"`
	Reflection float64 `json:"reflection"`
	Distill    float64 `json:"distill"`
	// HindsightRetry scales the hindsight retries (0: none). Where a task's group holds a
	// solved first attempt, each retry at that task has its guided context (its reflection,
	// or in erl-norefl the raw failed attempt) trained, on the distillation's likelihood
	// term, to take the shortest solved first attempt's actions: the policy learns to read a
	// guided context as it reads a first attempt's, which otherwise only the retries' own
	// rare successes teach it. It adds no rollout: the solved attempt is already played.
	// Without second attempts (rlvr) it does nothing. A config.json of an erlgo before it
	// lacks the key and decodes to 0, that erlgo's behaviour (DecodeConfig).
	HindsightRetry float64 `json:"hindsight_retry"`
	// HindsightReflection scales the hindsight reflections (0: none). Where a task's group
	// holds a solved first attempt, each reflection on a failed attempt at that task is
	// trained, on the likelihood term, to write the shortest solved attempt's actions as its
	// words (as many as a reflection holds, then its end: HindsightPlan), and the task's
	// hindsight retries train under that plan as their reflection instead of the one sampled:
	// a reflection becomes a plan, and a retry is taught to follow one. Without reflections
	// (erl-norefl, rlvr) it does nothing; with memory_mode seed, whose reflections edit a
	// stored one, it is refused.
	HindsightReflection float64 `json:"hindsight_reflection"`
}

// Duration is a time.Duration written as text ("20m") in config files.
type Duration time.Duration

// MarshalText writes the duration as text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "20m", "1h30m", ...
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 20m or 1h30m", b)
	}
	*d = Duration(v)
	return nil
}

// DefaultConfig is the project's main job: ERL on Sokoban with the small model on the CPU.
func DefaultConfig() Config {
	sw, _ := AlgoSwitches(AlgoERL)
	optim := model.DefaultOptim()
	optim.LR = 3e-3 // a 120k-parameter model trained from scratch takes larger steps than the paper's 4B one
	return Config{
		Env: envs.EnvSokoban, Algo: AlgoERL, Switches: sw, Size: model.Small, Device: "cpu", Seed: 1,
		Steps: 1000, Batch: 8, Group: 4, Tau: 1, ReflectionLen: 24, MemorySize: 8, MemoryShown: 1,
		MemoryMode: MemoryContext, ReflectionReward: RewardSuccess, ReflectionVocab: ReflectionWords,
		GuidancePositions: GuidanceFirst,
		Weights:           TermWeights{First: 1, Second: 1, Reflection: 1, Distill: 1, HindsightRetry: 1},
		Curriculum:        CurriculumAdaptive,
		Aggregation:       "token-mean",
		Rollout:           model.SampleConfig{Temperature: 1},
		Objective:         model.DefaultObjective(),
		Optim:             optim,
		EvalEvery:         50, EvalLevels: 128, TestLevels: 256, EvalSamples: 4,
		MeasureLift:     true,
		EvalSample:      model.SampleConfig{Temperature: 0.7, TopP: 0.8, TopK: 20},
		CheckpointEvery: 50,
		MicroBatch:      32,
	}
}

// Bounds of a config beyond which a run would not fit in memory, or could not be generated.
const (
	// MaxAttempts bounds the attempts of a step (Batch × Group), all held in memory at once.
	MaxAttempts = 1 << 16
	// MaxEvalLevels bounds the generated levels of a split: the paper's Sokoban distribution
	// holds 18,412 distinct levels in all (envs.TestSokobanLevelsByLength).
	MaxEvalLevels = 1_000_000
	// MaxEvalAttempts bounds the attempts of an evaluation (levels × samples), all held in
	// memory at once.
	MaxEvalAttempts = 1 << 18
)

// CheckEvaluation reports an evaluation of samples sampled attempts at each of levels levels
// that would not fit in memory.
func CheckEvaluation(levels, samples int) error {
	if samples < 1 {
		return fmt.Errorf("eval_samples %d must be at least 1", samples)
	}
	if levels > MaxEvalAttempts/samples {
		return fmt.Errorf("%d levels × %d samples: an evaluation holds at most %d attempts", levels, samples, MaxEvalAttempts)
	}
	return nil
}

// Validate rejects a configuration that cannot work, before any training starts.
func (c *Config) Validate() error {
	if err := checkFinite(reflect.ValueOf(*c), ""); err != nil {
		return err
	}
	if _, err := envs.DefaultSymbols(c.Env); err != nil {
		return fmt.Errorf("env: %w", err)
	}
	if _, err := AlgoSwitches(c.Algo); err != nil {
		return err
	}
	mc, err := c.ModelConfig()
	if err != nil {
		return err
	}
	if err := model.CheckDevice(c.Device); err != nil {
		return err
	}
	switch {
	case c.Steps < 1:
		return fmt.Errorf("steps %d must be at least 1", c.Steps)
	case c.Time < 0:
		return fmt.Errorf("time %s must not be negative (0: no limit)", time.Duration(c.Time))
	case c.Batch < 1:
		return fmt.Errorf("batch %d must be at least 1", c.Batch)
	case c.Group < 1:
		return fmt.Errorf("group %d must be at least 1", c.Group)
	case c.Batch > MaxAttempts/c.Group:
		return fmt.Errorf("batch %d × group %d attempts a step: at most %d fit", c.Batch, c.Group, MaxAttempts)
	case c.ReflectionLen < 1:
		return fmt.Errorf("reflection_len %d must be at least 1", c.ReflectionLen)
	case c.MemorySize < 0 || c.MemoryShown < 0 || c.MemoryShown > c.MemorySize:
		return fmt.Errorf("memory_shown %d must lie in [0, memory_size %d]", c.MemoryShown, c.MemorySize)
	case !slices.Contains(MemoryModes, c.MemoryMode):
		return fmt.Errorf("memory_mode %q is not one of %v", c.MemoryMode, MemoryModes)
	case !slices.Contains(GuidancePositionsModes, c.GuidancePositions):
		return fmt.Errorf("guidance_positions %q is not one of %v", c.GuidancePositions, GuidancePositionsModes)
	case !slices.Contains(ReflectionRewards, c.ReflectionReward):
		return fmt.Errorf("reflection_reward %q is not one of %v", c.ReflectionReward, ReflectionRewards)
	case c.ReflectionReward == RewardLift && c.Switches.Reflect && !c.MeasureLift:
		return fmt.Errorf("reflection_reward lift rewards a reflection against the plain retries that measure_lift plays: turn measure_lift on, or reward by success")
	case c.InitSHA256 != "" && c.Init == "":
		return fmt.Errorf("init_sha256 is the hash of the init checkpoint, and init names none")
	case !slices.Contains(Curricula, c.Curriculum):
		return fmt.Errorf("curriculum %q is not one of %v", c.Curriculum, Curricula)
	case c.Curriculum != CurriculumNone && c.TrainFile != "":
		return fmt.Errorf("curriculum %q shapes generated levels; train_file %s gives the levels: set one of them", c.Curriculum, c.TrainFile)
	case c.Aggregation != "token-mean" && c.Aggregation != "seq-mean":
		return fmt.Errorf("aggregation %q is not token-mean or seq-mean", c.Aggregation)
	case c.EvalFile == "" && (c.EvalLevels < 1 || c.EvalLevels > MaxEvalLevels):
		return fmt.Errorf("eval_levels %d must lie in [1, %d]", c.EvalLevels, MaxEvalLevels)
	case c.EvalEvery < 0:
		return fmt.Errorf("eval_every %d must not be negative (0: only at the start and the end)", c.EvalEvery)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint_every %d must not be negative (0: only last and best)", c.CheckpointEvery)
	case c.EvalSamples < 1:
		return fmt.Errorf("eval_samples %d must be at least 1", c.EvalSamples)
	case c.EvalFile == "" && CheckEvaluation(c.EvalLevels, c.EvalSamples) != nil:
		return CheckEvaluation(c.EvalLevels, c.EvalSamples)
	case c.TestFile == "" && (c.TestLevels < 0 || c.TestLevels > MaxEvalLevels):
		return fmt.Errorf("test_levels %d must lie in [0, %d] (0: no test split)", c.TestLevels, MaxEvalLevels)
	case c.TestFile == "" && CheckEvaluation(c.TestLevels, c.EvalSamples) != nil:
		return fmt.Errorf("test split: %w", CheckEvaluation(c.TestLevels, c.EvalSamples))
	case c.Weights.HindsightReflection > 0 && c.MemoryMode == MemorySeed:
		return fmt.Errorf("weights.hindsight_reflection trains whole plans, and memory_mode %q writes reflections that edit a stored one: choose one", MemorySeed)
	case c.MicroBatch < 1:
		return fmt.Errorf("micro_batch %d must be at least 1", c.MicroBatch)
	case c.Weights.First < 0 || c.Weights.Second < 0 || c.Weights.Reflection < 0 || c.Weights.Distill < 0 || c.Weights.HindsightRetry < 0 ||
		c.Weights.HindsightReflection < 0:
		return fmt.Errorf("term weights must not be negative: %+v", c.Weights)
	}
	if err := validateSample("rollout", c.Rollout); err != nil {
		return err
	}
	if err := validateSample("eval_sample", c.EvalSample); err != nil {
		return err
	}
	if err := c.Objective.Validate(); err != nil {
		return fmt.Errorf("objective: %w", err)
	}
	if err := c.Optim.Validate(); err != nil {
		return fmt.Errorf("optim: %w", err)
	}
	if need, ok := c.fits(mc); !ok {
		return fmt.Errorf("the longest context needs %d tokens and position %d, beyond the %s model's context length %d: shorten reflection_len or memory_shown",
			need.tokens, need.lastPos, c.Size, mc.ContextLen)
	}
	return nil
}

// Vocab is the vocabulary the policy reads and writes, the one of ReflectionVocab.
func (c Config) Vocab() *model.Vocab {
	if c.ReflectionVocab == ReflectionPlans {
		return model.PlansVocab()
	}
	return model.StandardVocab()
}

// ModelConfig is the shape of the policy: the preset of Size over the vocabulary of
// ReflectionVocab.
func (c Config) ModelConfig() (model.Config, error) {
	if !slices.Contains(ReflectionVocabs, c.ReflectionVocab) {
		return model.Config{}, fmt.Errorf("reflection_vocab %q is not one of %v", c.ReflectionVocab, ReflectionVocabs)
	}
	mc, err := model.NewConfig(c.Size)
	mc.Vocab = c.Vocab().Size()
	return mc, err
}

// CheckVocab reports a policy that reads another vocabulary than this config's: a checkpoint
// written by a run of the other reflection_vocab (or any size of embedding table but the
// vocabulary's).
func (c Config) CheckVocab(mc model.Config, v *model.Vocab) error {
	want := c.Vocab()
	if v != want || mc.Vocab != want.Size() {
		return fmt.Errorf("the policy reads the vocabulary %s (%d token ids), but reflection_vocab %s needs %s (%d words)",
			v.Version(), mc.Vocab, c.ReflectionVocab, want.Version(), want.Size())
	}
	return nil
}

// validateSample rejects sampling settings that mean nothing.
func validateSample(key string, s model.SampleConfig) error {
	switch {
	case s.Temperature < 0:
		return fmt.Errorf("%s.temperature %g must not be negative", key, s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("%s.top_k %d must not be negative (0: all tokens)", key, s.TopK)
	case s.TopP < 0 || s.TopP > 1:
		return fmt.Errorf("%s.top_p %g must lie in [0, 1]", key, s.TopP)
	}
	return nil
}

// checkFinite reports the first number in v, a config or a part of it at key, that is NaN
// or infinite, which no setting means (and a flag parses "NaN" and "Inf" without complaint).
func checkFinite(v reflect.Value, key string) error {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s %g must be a finite number", key, f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if key != "" {
				name = key + "." + name
			}
			if err := checkFinite(v.Field(i), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckPolicy reports a policy too small for this config's contexts: above all one from a
// checkpoint of an older erlgo, whose table of positions is shorter than the board and text
// positions this version numbers its contexts with.
func (c Config) CheckPolicy(mc model.Config) error {
	if need, ok := c.fits(mc); !ok {
		return fmt.Errorf("the policy holds %d positions, but this version's contexts need %d tokens and position %d: a checkpoint of an older erlgo cannot be evaluated or resumed by this one",
			mc.ContextLen, need.tokens, need.lastPos)
	}
	return nil
}

type contextNeed struct{ tokens, lastPos int }

// fits reports whether a model of config mc holds the longest context of c, and what that needs.
func (c Config) fits(mc model.Config) (contextNeed, bool) {
	need := c.longestContext()
	return need, need.tokens <= mc.ContextLen && need.lastPos < mc.ContextLen
}

// longestContext bounds the longest context a run builds: a reflection context with a full
// memory on the largest board, followed by a full reflection, or a guided turn.
func (c *Config) longestContext() contextNeed {
	const feedbackTokens = 14 // FEEDBACK outcome ineffective NN in_a_row NN last A reward R steps NN
	maxSteps := envs.DefaultMaxSteps
	boardTokens := MaxBoardSide * MaxBoardSide
	memory := c.MemoryShown * (1 + c.ReflectionLen)
	if c.MemoryMode == MemorySeed {
		memory = c.ReflectionLen // the stored reflection, after REFLECT
	}
	text := 1 + memory + 1 + maxSteps + feedbackTokens + 1 + 1 + c.ReflectionLen + 1
	guidance := 1 + c.ReflectionLen
	if c.Switches.SecondAttempt && !c.Switches.Reflect {
		guidance = 1 + maxSteps + feedbackTokens
	}
	turn := 1 + 1 + 1 + maxSteps + 1 // <bos> OBS HIST a… ACT
	tokens := max(text, turn+guidance)
	lastPos := TextStart + tokens - 1
	if c.GuidancePositions == GuidanceAligned {
		lastPos = max(lastPos, guidanceStart+guidance-1)
	}
	return contextNeed{tokens: boardTokens + tokens, lastPos: lastPos}
}
