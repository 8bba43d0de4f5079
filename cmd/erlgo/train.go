package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
	"github.com/erlgo/erlgo/report"
)

const trainDoc = `
Trains a policy with ERL (or RLVR, or an ablation) and writes the run into --out: config.json,
metrics.jsonl (a line a step, and one for step 0, the initial policy's evaluation),
episodes.jsonl (every attempt of each evaluated step), checkpoints (last, best, and every
--checkpoint-every steps), and what is drawn from them at every evaluation and whenever the run
stops: metrics.csv, success.png, loss.png and lift.png, episodes.txt, summary.json and
view.html (open it in a browser). With no flags it trains ERL on Sokoban with the small model
on the CPU.

Two splits of levels, disjoint and never trained on, are written as validation.jsonl and
test.jsonl: the validation levels are scored every --eval-every steps and choose
best.safetensors; the test levels are scored only when the run stops, on the last and the best
checkpoint, into test-scores.json: the figures to report.

Settings come from the defaults, then --config FILE (JSON or YAML, the keys of config.json),
then the flags given.

--init CKPT starts the policy from a checkpoint of erlgo pretrain (a world model of the game
learnt from random play) instead of fresh weights; config.json records it and its SHA-256.

Ctrl-C, SIGTERM or SIGHUP (a closed terminal) saves last.safetensors after the current step and
stops, with exit status 128 + the signal's number; --resume DIR/last.safetensors continues
exactly as if the run had not stopped. With --resume only --steps, --time, --out and
--overwrite may be given: a resumed run keeps its config.

A run directory that already holds files is refused, so that no run is overwritten by
mistake: continue its run with --resume, or delete the files a run writes there with
--overwrite.`

// loadConfigFile decodes a JSON or YAML config file over cfg (see erl.DecodeConfig); unknown
// keys are errors, and the old names of renamed keys are accepted with a deprecation notice on
// warn.
func loadConfigFile(path string, cfg *erl.Config, warn io.Writer) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	js := raw
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		var v any
		if err := yaml.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if js, err = json.Marshal(v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	renamed, err := erl.DecodeConfig(js, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range renamed {
		fmt.Fprintf(warn, "erlgo train: %s: the key %s is deprecated: write the new name (the old one will stop working)\n", path, r)
	}
	return nil
}

func runTrain(sio stdio, args []string) error {
	fs := newFlagSet("train", "[flags]", trainDoc)
	def := erl.DefaultConfig()
	configFile := fs.String("config", "", "config `FILE` (JSON or YAML)")
	env := fs.String("env", def.Env, "environment: sokoban or frozenlake")
	algo := fs.String("algo", def.Algo, "algorithm: "+strings.Join(erl.Algos, ", "))
	size := fs.String("size", string(def.Size), "model size: small (CPU default) or base (GPU default)")
	steps := fs.Int("steps", def.Steps, "training steps (updates)")
	limit := fs.Duration("time", 0, "stop after this much training time, e.g. 20m (0: no limit)")
	batch := fs.Int("batch", def.Batch, "tasks per step")
	group := fs.Int("group", def.Group, "attempts per task (GRPO group)")
	seed := fs.Uint64("seed", def.Seed, "seed of levels, initial weights and sampling")
	device := fs.String("device", def.Device, "cpu or cuda (the GPU, in a build with -tags gpu; ERLGO_CUDA_TF32=1 allows TF32 products)")
	evalEvery := fs.Int("eval-every", def.EvalEvery, "evaluate on the validation levels every `N` steps (and before the first, and after the last)")
	valLevels := fs.Int("val-levels", def.EvalLevels, "number of generated validation levels (they choose the best checkpoint)")
	oldValLevels := fs.Int("eval-levels", def.EvalLevels, "the old name of --val-levels")
	testLevels := fs.Int("test-levels", def.TestLevels, "number of generated test levels, scored when the run stops (0: no test split)")
	checkpointEvery := fs.Int("checkpoint-every", def.CheckpointEvery, "keep a numbered checkpoint every `N` steps (0: only last and best)")
	valFile := fs.String("val-levels-file", "", "validation levels `FILE` (JSONL) instead of generated ones")
	oldValFile := fs.String("eval-levels-file", "", "the old name of --val-levels-file")
	testFile := fs.String("test-levels-file", "", "test levels `FILE` (JSONL) instead of generated ones")
	measureLift := fs.Bool("measure-lift", def.MeasureLift, "beside each reflection-guided retry, play a plain retry (not trained on) and log the reflection's lift; --measure-lift=false leaves it out")
	trainFile := fs.String("train-levels-file", "", "train on the levels of `FILE` (JSONL) instead of generated ones")
	curriculum := fs.String("curriculum", def.Curriculum, "generated training levels: "+strings.Join(erl.Curricula, ", ")+
		"\n(even-moves: optimal solution lengths spread evenly over 1 to 8 moves; adaptive: lengths the policy\nsolves about half the time; validation and test levels keep the paper's distribution)")
	reflectionReward := fs.String("reflection-reward", def.ReflectionReward, "what a reflection is rewarded by: "+strings.Join(erl.ReflectionRewards, ", ")+
		"\n(success: its retry's reward, as the paper; lift: its retry's reward minus the plain retries' at its task)")
	memoryMode := fs.String("memory-mode", def.MemoryMode, "how the memory reaches a new reflection: "+strings.Join(erl.MemoryModes, ", ")+
		"\n(context: shown before the failed attempt; seed: the new reflection starts from the stored one and edits its end)")
	reflectionVocab := fs.String("reflection-vocab", def.ReflectionVocab, "what reflections are written in: "+strings.Join(erl.ReflectionVocabs, ", ")+
		"\n(plans adds the row and column offsets of cells from the player; it is another vocabulary, so checkpoints of one do not fit the other)")
	guidancePositions := fs.String("guidance-positions", def.GuidancePositions, "where a second attempt's guidance stands among its position ids: "+strings.Join(erl.GuidancePositionsModes, ", ")+
		"\n(aligned keeps the turn at a first attempt's ids and gives the guidance ids past them)")
	hindsightRetry := fs.Float64("hindsight-retry", def.Weights.HindsightRetry, "weight `W` of the hindsight retries: each retry at a task that a first attempt of its group solved has its guided context trained on that solved attempt's actions (0: off)")
	hindsightReflection := fs.Float64("hindsight-reflection", def.Weights.HindsightReflection, "weight `W` of the hindsight reflections: each reflection on a failed attempt at a task that a first attempt of its group solved is trained to write that attempt's actions, and the hindsight retries follow that plan (0: off)")
	initFrom := fs.String("init", "", "start the policy (and the KL term's reference) from the weights of `CKPT`, a checkpoint of erlgo pretrain, with a fresh optimizer")
	lr := fs.Float64("lr", def.Optim.LR, "learning rate")
	out := fs.String("out", "", "run `DIR` (default runs/ALGO-ENV-sSEED)")
	resume := fs.String("resume", "", "continue the run saved in `CKPT` (with it, only --steps, --time, --out and --overwrite may be given)")
	overwrite := fs.Bool("overwrite", false, "train into a run directory that already holds a run, deleting its files first")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	cfg := def
	if *configFile != "" {
		if err := loadConfigFile(*configFile, &cfg, sio.err); err != nil {
			return usageError{err}
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	apply := map[string]func(){
		"env": func() { cfg.Env = *env }, "size": func() { cfg.Size = model.Size(*size) },
		"steps": func() { cfg.Steps = *steps }, "time": func() { cfg.Time = erl.Duration(*limit) },
		"batch": func() { cfg.Batch = *batch }, "group": func() { cfg.Group = *group },
		"seed": func() { cfg.Seed = *seed }, "device": func() { cfg.Device = *device },
		"eval-every": func() { cfg.EvalEvery = *evalEvery },
		"val-levels": func() { cfg.EvalLevels = *valLevels }, "eval-levels": func() { cfg.EvalLevels = *oldValLevels },
		"test-levels": func() { cfg.TestLevels = *testLevels }, "measure-lift": func() { cfg.MeasureLift = *measureLift },
		"checkpoint-every": func() { cfg.CheckpointEvery = *checkpointEvery },
		"val-levels-file":  func() { cfg.EvalFile = *valFile }, "eval-levels-file": func() { cfg.EvalFile = *oldValFile },
		"test-levels-file": func() { cfg.TestFile = *testFile }, "lr": func() { cfg.Optim.LR = *lr },
		"curriculum": func() { cfg.Curriculum = *curriculum },
		"train-levels-file": func() {
			cfg.TrainFile = *trainFile
			if !set["curriculum"] { // the file gives the levels; a curriculum shapes generated ones
				cfg.Curriculum = erl.CurriculumNone
			}
		},
		"algo": func() {
			cfg.Algo = *algo
			if sw, err := erl.AlgoSwitches(*algo); err == nil {
				cfg.Switches = sw
			} // else Validate names the algorithm
		},
		"reflection-reward": func() { cfg.ReflectionReward = *reflectionReward }, "memory-mode": func() { cfg.MemoryMode = *memoryMode },
		"reflection-vocab":     func() { cfg.ReflectionVocab = *reflectionVocab },
		"guidance-positions":   func() { cfg.GuidancePositions = *guidancePositions },
		"init":                 func() { cfg.Init, cfg.InitSHA256 = *initFrom, "" },
		"hindsight-retry":      func() { cfg.Weights.HindsightRetry = *hindsightRetry },
		"hindsight-reflection": func() { cfg.Weights.HindsightReflection = *hindsightReflection },
	}
	for _, names := range [][2]string{{"val-levels", "eval-levels"}, {"val-levels-file", "eval-levels-file"}} {
		if set[names[0]] && set[names[1]] {
			return usagef("--%s and --%s are the same setting (the second its old name): give one", names[0], names[1])
		}
	}
	for name, f := range apply {
		if set[name] {
			f()
		}
	}

	var t *erl.Trainer
	var err error
	if *resume != "" {
		for name := range set {
			if name != "resume" && name != "steps" && name != "time" && name != "out" && name != "overwrite" {
				return usagef("--%s does not apply with --resume: a resumed run keeps its config (only --steps, --time, --out and --overwrite may be given)", name)
			}
		}
		t, err = erl.ResumeTrainer(*resume, func(c *erl.Config) {
			if set["steps"] {
				c.Steps = *steps
			}
			if set["time"] {
				c.Time = erl.Duration(*limit)
			}
		})
	} else {
		t, err = erl.NewTrainer(cfg)
	}
	if err != nil {
		return usageError{err}
	}
	dir := *out
	if dir == "" && *resume != "" {
		dir = filepath.Dir(*resume)
	}
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("%s-%s-s%d", t.Config.Algo, t.Config.Env, t.Config.Seed))
	}
	removed, err := prepareRunDir(dir, *resume, *overwrite)
	if err != nil {
		return err
	}
	if removed > 0 {
		fmt.Fprintf(sio.err, "--overwrite: deleted %d files of the run in %s\n", removed, dir)
	}
	fmt.Fprintf(sio.err, "erlgo train: %s on %s, %s model (%d parameters) on %s, %d steps of %d tasks × %d attempts, into %s\n",
		t.Config.Algo, t.Config.Env, t.Config.Size, t.Policy.Config.NumParams(), t.Config.Device, t.Config.Steps, t.Config.Batch, t.Config.Group, dir)
	test := fmt.Sprintf("%d test levels (scored when the run stops)", len(t.TestTasks))
	if len(t.TestTasks) == 0 {
		test = "no test split (--test-levels 0)"
	}
	fmt.Fprintf(sio.err, "%d validation levels (they choose the best checkpoint), %s; training never sees them\n", len(t.ValTasks), test)
	if t.SplitLevelsDropped > 0 {
		fmt.Fprintf(sio.err, "%s: %d of its levels are validation or test levels, and are not trained on\n", t.Config.TrainFile, t.SplitLevelsDropped)
	}
	if t.StepsDone > 0 {
		fmt.Fprintf(sio.err, "resuming after step %d\n", t.StepsDone)
	}
	if t.Config.Init != "" {
		fmt.Fprintf(sio.err, "the policy and the KL term's reference started from %s (SHA-256 %.12s…)\n", t.Config.Init, t.Config.InitSHA256)
	}
	ctx, received, stop := notifyStop(sio)
	defer stop()
	start := time.Now()
	status, err := erl.Train(ctx, t, erl.RunDir(dir), erl.TrainOptions{Progress: sio.err, Report: report.Refresh})
	if sum, serr := report.ReadSummary(dir); serr == nil {
		fmt.Fprintf(sio.err, "%s; this session took %s\n", sum, time.Since(start).Round(time.Second))
	}
	switch status {
	case erl.StatusFailed:
		return err
	case erl.StatusInterrupted:
		fmt.Fprintf(sio.err, "saved %s: continue with erlgo train --resume %s\n", erl.RunDir(dir).Last(), erl.RunDir(dir).Last())
	}
	fmt.Fprintf(sio.err, "curves and episodes: %s (erlgo view %s rewrites it)\n", filepath.Join(dir, report.ViewFile), dir)
	if err != nil {
		return err
	}
	if sig, ok := received().(syscall.Signal); ok && status == erl.StatusInterrupted {
		return exitCode(128 + int(sig))
	}
	return nil
}

// notifyStop returns a context that is cancelled by the first Ctrl-C, SIGTERM or SIGHUP (a
// closed terminal), so that the run saves itself and stops, and a function that returns the
// signal received, if any. A second signal stops the process at once, as if erlgo did not
// catch it. A write to a closed pipe (a log reader that went away with the terminal) is an
// error rather than a signal that kills the process before it saves. stop releases the
// signals.
func notifyStop(sio stdio) (ctx context.Context, received func() os.Signal, stop func()) {
	stopping := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopping...)
	var got atomic.Value
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			got.Store(sig)
			signal.Reset(stopping...) // the next one stops the process
			fmt.Fprintf(sio.err, "\n%s: saving after the current step, then stopping (once more stops at once, unsaved)\n", sig)
			cancel()
		case <-done:
		}
	}()
	received = func() os.Signal {
		sig, _ := got.Load().(os.Signal)
		return sig
	}
	return ctx, received, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
