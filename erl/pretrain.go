package erl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/model"
)

// PretrainConfig is a world-model pretraining run (erlgo pretrain): self-supervised, on
// uniformly random play, with no solution and no reward to learn from. At every turn of a
// random attempt the policy is trained to predict, in the turn's own context
// (Contexts.Transition), the action the random player took, the board that follows it and,
// after the attempt's last action, its feedback: the dynamics of the game and what feedback
// means, in the token formats the policy reads, as a pretrained language model knows its
// world before reinforcement learning starts. Predicting the random actions keeps the
// policy's choice of action the uniformly random player's: without it, the action tokens,
// trained only as the feedback's "last" word, came out of pretraining with an entropy of 0.49
// nats where a fresh policy's is 1.38 (ln 4 = 1.386), and reinforcement learning from there
// explored less (bench/RESULTS.md). The loss is the likelihood term of the update
// (model.Objective's distillation), averaged over the actions, the boards' cells and the
// feedback's words, each on its own.
type PretrainConfig struct {
	Env             string     `json:"env"`
	Size            model.Size `json:"size"`
	ReflectionVocab string     `json:"reflection_vocab"`
	// Seed draws the initial weights (as a training run of this seed does), the levels and
	// the random play.
	Seed  uint64   `json:"seed"`
	Steps int      `json:"steps"`
	Time  Duration `json:"time"`
	// Batch is the number of levels a step plays one random attempt at; every turn of each
	// is a trained sequence.
	Batch int `json:"batch"`
	// SplitSeeds, ValLevels and TestLevels name the validation and test levels that
	// pretraining never plays: those of the training runs of these seeds with generated
	// splits of these sizes (Splits). A run started from the checkpoint (Config.Init) checks
	// that its own splits are among them.
	SplitSeeds []uint64 `json:"split_seeds"`
	ValLevels  int      `json:"val_levels"`
	TestLevels int      `json:"test_levels"`
	// HeldOutLevels levels of pretraining's own, never trained on, score the world model
	// every EvalEvery steps (0: at the start and the end only).
	HeldOutLevels int               `json:"held_out_levels"`
	EvalEvery     int               `json:"eval_every"`
	Optim         model.OptimConfig `json:"optim"`
	MicroBatch    int               `json:"micro_batch"`
}

// DefaultPretrainConfig pretrains the policy of DefaultConfig for the training runs of seeds
// 1 to 3.
func DefaultPretrainConfig() PretrainConfig {
	c := DefaultConfig()
	return PretrainConfig{Env: c.Env, Size: c.Size, ReflectionVocab: c.ReflectionVocab, Seed: c.Seed,
		Steps: 1000, Batch: 16, SplitSeeds: []uint64{1, 2, 3}, ValLevels: c.EvalLevels, TestLevels: c.TestLevels,
		HeldOutLevels: 64, EvalEvery: 100, Optim: c.Optim, MicroBatch: c.MicroBatch}
}

// runConfig is the training config whose policy and contexts pretraining shares.
func (c PretrainConfig) runConfig() Config {
	rc := DefaultConfig()
	rc.Env, rc.Size, rc.ReflectionVocab, rc.Seed = c.Env, c.Size, c.ReflectionVocab, c.Seed
	return rc
}

// Validate rejects a pretraining config that cannot work.
func (c PretrainConfig) Validate() error {
	if err := checkFinite(reflect.ValueOf(c), ""); err != nil {
		return err
	}
	if _, err := envs.DefaultSymbols(c.Env); err != nil {
		return fmt.Errorf("env: %w", err)
	}
	mc, err := c.runConfig().ModelConfig()
	if err != nil {
		return err
	}
	switch {
	case c.Steps < 1:
		return fmt.Errorf("steps %d must be at least 1", c.Steps)
	case c.Time < 0:
		return fmt.Errorf("time %s must not be negative (0: no limit)", time.Duration(c.Time))
	case c.Batch < 1 || c.Batch > MaxAttempts:
		return fmt.Errorf("batch %d must lie in [1, %d]", c.Batch, MaxAttempts)
	case c.ValLevels < 1 || c.ValLevels > MaxEvalLevels || c.TestLevels < 0 || c.TestLevels > MaxEvalLevels:
		return fmt.Errorf("val_levels %d and test_levels %d must lie in [1, %d] and [0, %[3]d]", c.ValLevels, c.TestLevels, MaxEvalLevels)
	case c.HeldOutLevels < 1 || c.HeldOutLevels > MaxEvalAttempts:
		return fmt.Errorf("held_out_levels %d must lie in [1, %d]", c.HeldOutLevels, MaxEvalAttempts)
	case c.EvalEvery < 0:
		return fmt.Errorf("eval_every %d must not be negative (0: only at the start and the end)", c.EvalEvery)
	case c.MicroBatch < 1:
		return fmt.Errorf("micro_batch %d must be at least 1", c.MicroBatch)
	}
	if err := c.Optim.Validate(); err != nil {
		return fmt.Errorf("optim: %w", err)
	}
	const text = 1 + 1 + envs.DefaultMaxSteps + 1 + 1 + 1 + 14 // <bos> OBS … HIST a… ACT a OBS … FEEDBACK f…
	if tokens := 2*MaxBoardSide*MaxBoardSide + text; tokens > mc.ContextLen || TextStart+text > mc.ContextLen {
		return fmt.Errorf("a world-model sequence needs %d tokens and position %d, beyond the %s model's context length %d", tokens, TextStart+text-1, c.Size, mc.ContextLen)
	}
	return nil
}

// Pretrainer runs world-model pretraining step by step; like Trainer, every step draws its
// levels and its play from streams keyed by (seed, step).
type Pretrainer struct {
	Config   PretrainConfig
	Contexts *Contexts
	Policy   *model.Model
	Optim    *model.AdamW
	// keptOut holds the levels pretraining never plays: the splits of Config.SplitSeeds and
	// the held-out levels.
	keptOut []envs.Task
	// heldOut is the world-model batch of the held-out levels' random play, scored and never
	// trained on, and heldOutKinds what each of its scored tokens is.
	heldOut      *model.Batch
	heldOutKinds []predictionKind
	// Progress so far: steps, training time, predicted tokens trained on, and the latest
	// held-out score.
	StepsDone    int
	WallSeconds  float64
	ScoredTokens int64
	HeldOut      PretrainScore
}

// pretrainSeedOffset and pretrainHeldOutOffset separate the streams of pretraining's levels
// and play, and of its held-out levels and their play, from training's and from each other.
const (
	pretrainSeedOffset    = 0x707265     // "pre"
	pretrainHeldOutOffset = 0x776f726c64 // "world"
)

// predictionKind is what a predicted token of a world-model sequence is.
type predictionKind uint8

const (
	predictCell        predictionKind = iota // a cell of the next board the action left as it was
	predictChangedCell                       // a cell of the next board the action changed
	predictFeedback                          // a word of the feedback
	predictAction                            // the random player's action
	predictionKinds
)

// NewPretrainer builds a fresh pretraining run from a config, its policy drawn as a training
// run of its seed draws one.
func NewPretrainer(cfg PretrainConfig) (*Pretrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rc := cfg.runConfig()
	mc, err := rc.ModelConfig()
	if err != nil {
		return nil, err
	}
	policy, err := model.New(mc, tensor.Float32, cfg.Seed)
	if err != nil {
		return nil, err
	}
	policy.MicroBatch = cfg.MicroBatch
	optim, err := model.NewAdamW(cfg.Optim, policy.Params)
	if err != nil {
		return nil, err
	}
	p := &Pretrainer{Config: cfg, Contexts: NewContexts(rc.Vocab()), Policy: policy, Optim: optim}
	if p.keptOut, err = cfg.splitLevels(); err != nil {
		return nil, err
	}
	g, err := envs.NewGenerator(cfg.Env, cfg.Seed+pretrainHeldOutOffset)
	if err != nil {
		return nil, err
	}
	g.Exclude(p.keptOut...)
	heldOut, err := g.Generate(cfg.HeldOutLevels)
	if err != nil {
		return nil, fmt.Errorf("held-out levels: %w", err)
	}
	p.keptOut = append(p.keptOut, heldOut...)
	rng := rand.New(rand.NewPCG(cfg.Seed+pretrainHeldOutOffset, 0))
	if p.heldOut, p.heldOutKinds, err = p.worldModelBatch(heldOut, rng); err != nil {
		return nil, err
	}
	return p, nil
}

// splitLevels returns the validation and test levels of the training runs of SplitSeeds.
func (c PretrainConfig) splitLevels() ([]envs.Task, error) {
	var all []envs.Task
	for _, seed := range c.SplitSeeds {
		rc := Config{Env: c.Env, Seed: seed, EvalLevels: c.ValLevels, TestLevels: c.TestLevels}
		val, test, err := Splits(rc)
		if err != nil {
			return nil, fmt.Errorf("the splits of seed %d: %w", seed, err)
		}
		all = slices.Concat(all, val, test)
	}
	return all, nil
}

// playRandom plays one uniformly random attempt at each task, recording the board before every
// action and the board at the end.
func playRandom(tasks []envs.Task, rng *rand.Rand) ([]*Attempt, [][][]envs.Cell, error) {
	attempts := make([]*Attempt, len(tasks))
	finals := make([][][]envs.Cell, len(tasks))
	for i, t := range tasks {
		g, err := t.New()
		if err != nil {
			return nil, nil, fmt.Errorf("erl: task %d: %w", i, err)
		}
		a := &Attempt{Task: t, Start: g.Cells()}
		for !g.Done() {
			act := envs.Actions[rng.IntN(len(envs.Actions))]
			a.Boards = append(a.Boards, g.Cells())
			a.Actions = append(a.Actions, act)
			g.Step(act)
		}
		a.Feedback, a.Solved = g.Feedback(), g.Solved()
		a.Reward = a.Feedback.Reward
		attempts[i], finals[i] = a, g.Cells()
	}
	return attempts, finals, nil
}

// worldModelBatch plays a random attempt at each task and returns the world-model sequences of
// every turn, with the kind of each scored token. The actions, the cells of the boards and the
// words of the feedback are each averaged over on their own: each part of the loss weighs 1.
func (p *Pretrainer) worldModelBatch(tasks []envs.Task, rng *rand.Rand) (*model.Batch, []predictionKind, error) {
	attempts, finals, err := playRandom(tasks, rng)
	if err != nil {
		return nil, nil, err
	}
	b := &model.Batch{}
	var kinds []predictionKind
	var count [predictionKinds]int
	for i, a := range attempts {
		env := a.Task.Env
		for t, act := range a.Actions {
			after := finals[i]
			var fb *envs.Feedback
			if t+1 < len(a.Actions) {
				after = a.Boards[t+1]
			} else {
				fb = &a.Feedback
			}
			seq, next, fspan, err := p.Contexts.Transition(env, a.Boards[t], a.Actions[:t], act, after, fb)
			if err != nil {
				return nil, nil, err
			}
			s := len(b.Seqs)
			b.Seqs = append(b.Seqs, seq)
			score := func(j int, allowed []int32, kind predictionKind) {
				b.Scored = append(b.Scored, model.Scored{Seq: s, Index: j, Allowed: allowed})
				kinds = append(kinds, kind)
				count[lossPart(kind)]++
			}
			score(next.From-2, p.Contexts.ActionTokens, predictAction) // the action, after ACT
			before := a.Boards[t]
			for j := next.From; j < next.To; j++ {
				r, c := rowCol(after, j-next.From)
				kind := predictCell
				if before[r][c] != after[r][c] {
					kind = predictChangedCell
				}
				score(j, p.Contexts.CellTokens[env], kind)
			}
			for j := fspan.From; j < fspan.To; j++ {
				score(j, p.Contexts.FeedbackVocab, predictFeedback)
			}
		}
	}
	for i, k := range kinds {
		b.Scored[i].DistillWeight = 1 / float32(count[lossPart(k)])
	}
	return b, kinds, nil
}

// lossPart is the part of the pretraining loss a predicted token is averaged in: the actions,
// the boards' cells (changed or not), or the feedback's words.
func lossPart(k predictionKind) predictionKind {
	if k == predictChangedCell {
		return predictCell
	}
	return k
}

// rowCol returns the row and column of the i-th cell of a board, in reading order.
func rowCol(board [][]envs.Cell, i int) (int, int) {
	for r, row := range board {
		if i < len(row) {
			return r, i
		}
		i -= len(row)
	}
	panic("erl: a cell index beyond the board") // Transition wrote exactly the board's cells
}

// pretrainObjective is the likelihood alone: no policy gradient, no KL, no importance ratio.
var pretrainObjective = model.Objective{DistillCoef: 1}

// PretrainRecord is one line of a pretraining run's metrics.jsonl.
type PretrainRecord struct {
	Step int `json:"step"`
	// Loss is the sum of the step's mean negative log-likelihoods of an action, of a board
	// cell and of a feedback word, on the batch it trained on.
	Loss     float64 `json:"loss"`
	GradNorm float64 `json:"grad_norm"`
	LR       float64 `json:"lr"`
	// Tokens is the number of predicted tokens trained on so far.
	Tokens      int64   `json:"tokens"`
	WallSeconds float64 `json:"wall_s"`
	StepSeconds float64 `json:"step_s"`
	// HeldOut scores the world model on the held-out play, every EvalEvery steps.
	HeldOut *PretrainScore `json:"held_out,omitempty"`
	RSSMB   float64        `json:"rss_mb"`
}

// PretrainScore is the world model's mean negative log-likelihood (nats a token) on the
// held-out levels' random play: of the next board's cells that the action left as they were,
// of those it changed (where the player and the box went: the dynamics proper), of the
// feedback's words, and of the random actions (at best ln 4 = 1.386, the random player's
// own entropy: the policy's choice of action as it starts reinforcement learning).
type PretrainScore struct {
	Step        int     `json:"step"`
	SameCells   float64 `json:"same_cells_nll"`
	ChangedCell float64 `json:"changed_cells_nll"`
	Feedback    float64 `json:"feedback_nll"`
	Actions     float64 `json:"actions_nll"`
}

// scoreHeldOut scores the policy on the held-out play.
func (p *Pretrainer) scoreHeldOut() (PretrainScore, error) {
	logp, err := p.Policy.LogProbs(p.heldOut)
	if err != nil {
		return PretrainScore{}, err
	}
	var sum, n [predictionKinds]float64
	for i, lp := range logp {
		sum[p.heldOutKinds[i]] -= float64(lp)
		n[p.heldOutKinds[i]]++
	}
	mean := func(k predictionKind) float64 { return sum[k] / math.Max(1, n[k]) }
	return PretrainScore{Step: p.StepsDone, SameCells: mean(predictCell), ChangedCell: mean(predictChangedCell),
		Feedback: mean(predictFeedback), Actions: mean(predictAction)}, nil
}

// Step runs one pretraining step: random play at a batch of fresh levels, and one update on
// what followed each action.
func (p *Pretrainer) Step() (PretrainRecord, error) {
	start := time.Now()
	cfg := p.Config
	step := p.StepsDone + 1
	rec := PretrainRecord{Step: step}
	g, err := envs.NewGenerator(cfg.Env, (cfg.Seed+pretrainSeedOffset)*1_000_003+uint64(step))
	if err != nil {
		return rec, err
	}
	g.Exclude(p.keptOut...)
	tasks, err := g.Generate(cfg.Batch)
	if err != nil {
		return rec, fmt.Errorf("step %d: %w", step, err)
	}
	b, _, err := p.worldModelBatch(tasks, rand.New(rand.NewPCG(cfg.Seed+pretrainSeedOffset, uint64(step))))
	if err != nil {
		return rec, err
	}
	terms, err := p.Policy.Gradients(b, pretrainObjective, nil)
	if err != nil {
		return rec, err
	}
	if math.IsNaN(terms.Loss) || math.IsInf(terms.Loss, 0) {
		return rec, fmt.Errorf("step %d: the loss is %v", step, terms.Loss)
	}
	if rec.GradNorm, rec.LR, err = p.Optim.Update(p.Policy.Params); err != nil {
		return rec, fmt.Errorf("step %d: %w", step, err)
	}
	p.StepsDone = step
	p.ScoredTokens += int64(len(b.Scored))
	rec.Loss, rec.Tokens = terms.Loss, p.ScoredTokens
	rec.StepSeconds = time.Since(start).Seconds()
	p.WallSeconds += rec.StepSeconds
	rec.WallSeconds = p.WallSeconds
	rec.RSSMB = peakRSSMiB()
	return rec, nil
}

// The files of a pretraining run's directory.
const (
	// PretrainedFile is the checkpoint for erlgo train --init.
	PretrainedFile = "pretrained.safetensors"
)

// PretrainFiles are the glob patterns of the files Pretrain writes into its directory,
// temporary files of an interrupted write included.
var PretrainFiles = []string{"config.json", MetricsJSONLFile, PretrainedFile, ".*.tmp*"}

// Checkpoint metadata keys of pretraining.
const (
	metaPretrain     = "erl.pretrain"
	metaPretrainStep = "erl.pretrain_step"
)

// Save writes the pretrained policy, without optimizer state: a run started from it starts
// its optimizer afresh.
func (p *Pretrainer) Save(path string) error {
	cfg, err := json.Marshal(p.Config)
	if err != nil {
		return err
	}
	return model.SaveCheckpoint(path, p.Policy, nil, map[string]string{metaPretrain: string(cfg), metaPretrainStep: strconv.Itoa(p.StepsDone)})
}

// Pretrain runs pretraining until its steps or time are spent or ctx is cancelled, writing
// into dir its config (config.json), a PretrainRecord a step (metrics.jsonl, the held-out
// scores at step 0, every EvalEvery steps and at the last step) and the checkpoint
// (pretrained.safetensors), saved at the end however the run stops short of failing: a
// pretraining stopped early is usable as it stands, and is not resumed.
func Pretrain(ctx context.Context, p *Pretrainer, dir string, progress io.Writer) (Status, error) {
	if progress == nil {
		progress = io.Discard
	}
	cfg := p.Config
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return StatusFailed, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
		return StatusFailed, err
	}
	log, err := openRunLog(filepath.Join(dir, MetricsJSONLFile), 0)
	if err != nil {
		return StatusFailed, err
	}
	status, err := p.run(ctx, log, progress)
	err = errors.Join(err, log.Close())
	if status == StatusFailed {
		return status, err
	}
	path := filepath.Join(dir, PretrainedFile)
	if serr := p.Save(path); serr != nil {
		return StatusFailed, errors.Join(err, serr)
	}
	fmt.Fprintf(progress, "saved %s (%s after %d steps): start a training run from it with erlgo train --init %s\n", path, status, p.StepsDone, path)
	return status, err
}

func (p *Pretrainer) run(ctx context.Context, log *runLog, progress io.Writer) (Status, error) {
	cfg := p.Config
	budget := time.Duration(cfg.Time)
	spent := func() bool { return budget > 0 && time.Duration(p.WallSeconds*float64(time.Second)) >= budget }
	score := func(rec *PretrainRecord) error {
		sc, err := p.scoreHeldOut()
		if err != nil {
			return err
		}
		rec.HeldOut, p.HeldOut = &sc, sc
		return nil
	}
	rec := PretrainRecord{Step: 0}
	if err := score(&rec); err != nil {
		return StatusFailed, err
	}
	if err := log.write(rec); err != nil {
		return StatusFailed, err
	}
	fmt.Fprintf(progress, "step 0: held-out %s\n", rec.HeldOut)
	bar := newProgressBar(progress, cfg.Steps, 0, budget)
	for p.StepsDone < cfg.Steps && !spent() {
		if ctx.Err() != nil {
			bar.finish()
			return StatusInterrupted, nil
		}
		rec, err := p.Step()
		if err != nil {
			bar.finish()
			return StatusFailed, err
		}
		last := p.StepsDone == cfg.Steps || spent() || ctx.Err() != nil
		if (cfg.EvalEvery > 0 && p.StepsDone%cfg.EvalEvery == 0) || last {
			if err := score(&rec); err != nil {
				return StatusFailed, err
			}
		}
		if err := log.write(rec); err != nil {
			return StatusFailed, err
		}
		bar.show(rec.Step, rec.WallSeconds, rec.WallSeconds, fmt.Sprintf("loss %.3f, held-out %s | %.1fs/step | peak %.0f MiB", rec.Loss, p.HeldOut, rec.StepSeconds, rec.RSSMB),
			rec.HeldOut != nil)
	}
	bar.finish()
	if p.StepsDone < cfg.Steps {
		return StatusTimeLimit, nil
	}
	return StatusFinished, nil
}

// String says the score in a few words.
func (s PretrainScore) String() string {
	return fmt.Sprintf("nll (step %d) same cells %.3f, changed cells %.3f, feedback %.3f, actions %.3f", s.Step, s.SameCells, s.ChangedCell, s.Feedback, s.Actions)
}

// loadInit reads the checkpoint a run starts from (Config.Init) and checks that it fits the
// run: written by erlgo pretrain for the run's environment, of the run's model size and
// vocabulary. It returns it, its pretraining config and its file's SHA-256.
func loadInit(cfg Config) (*model.Checkpoint, PretrainConfig, string, error) {
	var pc PretrainConfig
	raw, err := os.ReadFile(cfg.Init)
	if err != nil {
		return nil, pc, "", fmt.Errorf("init: %w", err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	ck, err := model.LoadCheckpoint(cfg.Init)
	if err != nil {
		return nil, pc, "", fmt.Errorf("init: %w", err)
	}
	meta, ok := ck.Extra[metaPretrain]
	if !ok {
		return nil, pc, "", fmt.Errorf("init %s: not a checkpoint of erlgo pretrain (to continue a training run, use --resume)", cfg.Init)
	}
	if err := json.Unmarshal([]byte(meta), &pc); err != nil {
		return nil, pc, "", fmt.Errorf("init %s: its pretraining config: %w", cfg.Init, err)
	}
	mc, err := cfg.ModelConfig()
	if err != nil {
		return nil, pc, "", err
	}
	var problems []string
	if pc.Env != cfg.Env {
		problems = append(problems, fmt.Sprintf("it was pretrained on %s, and the run trains on %s", pc.Env, cfg.Env))
	}
	if err := cfg.CheckVocab(ck.Model.Config, ck.Vocab); err != nil {
		problems = append(problems, err.Error())
	} else if ck.Model.Config != mc {
		problems = append(problems, fmt.Sprintf("its policy is %+v, and the run's %s model is %+v", ck.Model.Config, cfg.Size, mc))
	}
	if len(problems) > 0 {
		return nil, pc, "", fmt.Errorf("init %s does not fit this run: %s", cfg.Init, strings.Join(problems, "; "))
	}
	return ck, pc, hash, nil
}

// checkPretrainedSplits reports a run whose validation or test levels pretraining may have
// played: levels not among those it kept out.
func checkPretrainedSplits(cfg Config, pc PretrainConfig, val, test []envs.Task) error {
	path := cfg.Init
	keptOut, err := pc.splitLevels()
	if err != nil {
		return fmt.Errorf("init %s: %w", path, err)
	}
	in := levelSet(keptOut)
	missing := 0
	for _, t := range slices.Concat(val, test) {
		if !in[levelKey(t)] {
			missing++
		}
	}
	switch {
	case missing > 0 && (cfg.EvalFile != "" || cfg.TestFile != ""):
		return fmt.Errorf("init %s: %d of this run's %d validation and test levels, from level files, may have been played in pretraining, which kept out only the generated splits of the runs of seeds %v: a run with level files for its splits cannot start from it",
			path, missing, len(val)+len(test), pc.SplitSeeds)
	case missing > 0:
		return fmt.Errorf("init %s: %d of this run's %d validation and test levels may have been played in pretraining, which kept out only the splits of the runs of seeds %v with %d validation and %d test levels: pretrain for this run's (erlgo pretrain --split-seeds %d --val-levels %d --test-levels %d)",
			path, missing, len(val)+len(test), pc.SplitSeeds, pc.ValLevels, pc.TestLevels, cfg.Seed, len(val), len(test))
	}
	return nil
}
