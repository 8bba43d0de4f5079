package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
)

const trainDoc = `
Trains a policy with ERL (or RLVR, or an ablation) and writes the run into --out: config.json,
metrics.jsonl and metrics.csv (one line a step), checkpoints (last, best, and every
--checkpoint-every steps), episodes.txt (sampled episodes as text) and PNG plots.
With no flags it trains ERL on Sokoban with the small model on the CPU.

Settings come from the defaults, then --config FILE (JSON or YAML, the keys of config.json),
then the flags given. Ctrl-C saves last.safetensors and exits; --resume continues from a
checkpoint exactly as if the run had not stopped.`

// loadConfigFile decodes a JSON or YAML config file over cfg; unknown keys are errors.
func loadConfigFile(path string, cfg *erl.Config) error {
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
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(js, &keys); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := keys["switches"]; !ok {
		if a, ok := keys["algo"]; ok { // switches follow the algorithm unless the file sets them
			var algo string
			if err := json.Unmarshal(a, &algo); err != nil {
				return fmt.Errorf("%s: algo: %w", path, err)
			}
			sw, err := erl.AlgoSwitches(algo)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			cfg.Switches = sw
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
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
	evalEvery := fs.Int("eval-every", def.EvalEvery, "evaluate on held-out levels every N steps")
	evalLevels := fs.Int("eval-levels", def.EvalLevels, "number of held-out levels")
	evalFile := fs.String("eval-levels-file", "", "held-out levels `FILE` (JSONL) instead of generated ones")
	trainFile := fs.String("train-levels-file", "", "train on the levels of `FILE` (JSONL) instead of generated ones")
	curriculum := fs.String("curriculum", def.Curriculum, "generated training levels: "+strings.Join(erl.Curricula, ", ")+
		"\n(even-moves: optimal solution lengths spread evenly over 1 to 8 moves; adaptive: lengths the policy\nsolves about half the time; held-out levels keep the paper's distribution)")
	lr := fs.Float64("lr", def.Optim.LR, "learning rate")
	out := fs.String("out", "", "run `DIR` (default runs/ALGO-ENV-sSEED)")
	resume := fs.String("resume", "", "continue the run saved in `CKPT`")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	cfg := def
	if *configFile != "" {
		if err := loadConfigFile(*configFile, &cfg); err != nil {
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
		"eval-every": func() { cfg.EvalEvery = *evalEvery }, "eval-levels": func() { cfg.EvalLevels = *evalLevels },
		"eval-levels-file": func() { cfg.EvalFile = *evalFile }, "lr": func() { cfg.Optim.LR = *lr },
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
			if name != "resume" && name != "steps" && name != "time" && name != "out" {
				return usagef("--%s does not apply with --resume: a resumed run keeps its config (only --steps, --time and --out may be given)", name)
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
	fmt.Fprintf(sio.out, "erlgo train: %s on %s, %s model (%d parameters) on %s, %d steps of %d tasks × %d attempts, into %s\n",
		t.Config.Algo, t.Config.Env, t.Config.Size, t.Policy.Config.NumParams(), t.Config.Device, t.Config.Steps, t.Config.Batch, t.Config.Group, dir)
	if t.StepsDone > 0 {
		fmt.Fprintf(sio.out, "resuming after step %d\n", t.StepsDone)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := erl.Train(ctx, t, erl.RunDir(dir), sio.err); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "done: %d steps in %s; best held-out success (sampled) %.3f; run in %s\n",
		t.StepsDone, time.Since(start).Round(time.Second), t.Totals.BestEval, dir)
	return nil
}
