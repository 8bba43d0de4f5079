package main

import (
	"encoding/json"
	"fmt"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
)

const evalDoc = `
Scores a checkpoint by first-attempt success (no feedback, no reflection: deployment), greedy
and sampled as in the paper's validation, with 95% intervals. Without --levels it generates the
training run's held-out levels. --random scores the uniformly random policy instead. With --json
the last line is a JSON object:
{"success": sampled success, "n": levels, "greedy": {...}, "sampled": {...}}.`

func runEval(sio stdio, args []string) error {
	fs := newFlagSet("eval", "--checkpoint FILE | --random [--levels FILE.jsonl] [--device cpu|cuda] [--json]", evalDoc)
	def := erl.DefaultConfig()
	ckpt := fs.String("checkpoint", "", "checkpoint `FILE` (.safetensors)")
	random := fs.Bool("random", false, "score the uniformly random policy instead of a checkpoint")
	levels := fs.String("levels", "", "levels `FILE` (JSONL) to score on")
	env := fs.String("env", "", "environment of --levels (default: the checkpoint's)")
	n := fs.Int("n", def.EvalLevels, "generated held-out levels, without --levels")
	samples := fs.Int("samples", def.EvalSamples, "sampled attempts per level")
	asJSON := fs.Bool("json", false, "end with a JSON line")
	device := fs.String("device", "cpu", "cpu or cuda (the GPU, in a build with -tags gpu)")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	if (*ckpt == "") == !*random {
		return usagef("give either --checkpoint FILE or --random")
	}
	if *samples < 1 {
		return usagef("--samples must be at least 1")
	}
	if err := model.CheckDevice(*device); err != nil {
		return usageError{err}
	}
	cfg := def
	if *random {
		return evalRandom(sio, cfg, *env, *levels, *n, *samples, *asJSON)
	}
	ck, err := model.LoadCheckpoint(*ckpt)
	if err != nil {
		return err
	}
	if err := ck.To(*device); err != nil {
		return err
	}
	if raw, ok := ck.Extra["erl.config"]; ok {
		if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
			return fmt.Errorf("%s: run config: %w", *ckpt, err)
		}
	}
	if err := cfg.CheckPolicy(ck.Model.Config); err != nil {
		return fmt.Errorf("%s: %w", *ckpt, err)
	}
	if *env != "" {
		cfg.Env = *env
	}
	cfg.EvalFile, cfg.EvalLevels = *levels, *n
	tasks, err := erl.HeldOutTasks(cfg)
	if err != nil {
		return err
	}
	ev, err := erl.Evaluate(ck.Model, erl.NewContexts(), tasks, cfg.EvalSample, *samples, cfg.Seed)
	if err != nil {
		return err
	}
	source := "generated held-out levels"
	if *levels != "" {
		source = *levels
	}
	fmt.Fprintf(sio.out, "%d levels (%s), first attempt only\n", len(tasks), source)
	fmt.Fprintf(sio.out, "  greedy           %.3f  [%.3f, %.3f]  n=%d\n", ev.Greedy.Success, ev.Greedy.Lo, ev.Greedy.Hi, ev.Greedy.N)
	fmt.Fprintf(sio.out, "  sampled (T=%.1f)  %.3f  [%.3f, %.3f]  n=%d\n", cfg.EvalSample.Temperature, ev.Sampled.Success, ev.Sampled.Lo, ev.Sampled.Hi, ev.Sampled.N)
	if *asJSON {
		js, err := json.Marshal(map[string]any{"success": ev.Sampled.Success, "n": len(tasks), "greedy": ev.Greedy, "sampled": ev.Sampled})
		if err != nil {
			return err
		}
		fmt.Fprintln(sio.out, string(js))
	}
	return nil
}

// evalRandom scores the uniformly random policy on the levels eval would use.
func evalRandom(sio stdio, cfg erl.Config, env, levels string, n, samples int, asJSON bool) error {
	if env != "" {
		cfg.Env = env
	}
	cfg.EvalFile, cfg.EvalLevels = levels, n
	tasks, err := erl.HeldOutTasks(cfg)
	if err != nil {
		return err
	}
	sc, err := erl.EvaluateRandom(tasks, samples, cfg.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "%d levels, uniformly random policy\n  random           %.3f  [%.3f, %.3f]  n=%d\n", len(tasks), sc.Success, sc.Lo, sc.Hi, sc.N)
	if asJSON {
		js, err := json.Marshal(map[string]any{"success": sc.Success, "n": len(tasks), "random": sc})
		if err != nil {
			return err
		}
		fmt.Fprintln(sio.out, string(js))
	}
	return nil
}
