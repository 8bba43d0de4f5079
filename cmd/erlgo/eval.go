package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
)

const evalDoc = `
Scores a checkpoint by first-attempt success (no feedback, no reflection: deployment), greedy
and sampled as in the paper's validation, with 95% intervals. Without --levels it generates the
training run's held-out levels. --random scores the uniformly random policy instead. With --json
standard output is one JSON object, and the table goes to standard error:
{"success": sampled success, "n": levels, "greedy": {...}, "sampled": {...}}.`

func runEval(sio stdio, args []string) error {
	fs := newFlagSet("eval", "--checkpoint FILE | --random [--levels FILE.jsonl] [--json]", evalDoc)
	def := erl.DefaultConfig()
	ckpt := fs.String("checkpoint", "", "checkpoint `FILE` (.safetensors)")
	random := fs.Bool("random", false, "score the uniformly random policy instead of a checkpoint")
	levels := fs.String("levels", "", "levels `FILE` (JSONL) to score on")
	env := fs.String("env", "", "environment of --levels (default: the checkpoint's)")
	n := fs.Int("n", def.EvalLevels, "generated held-out levels, without --levels")
	samples := fs.Int("samples", def.EvalSamples, "sampled attempts per level")
	asJSON := fs.Bool("json", false, "write the result as one JSON object on standard output (the table on standard error)")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	if (*ckpt == "") == !*random {
		return usagef("give either --checkpoint FILE or --random")
	}
	if *samples < 1 {
		return usagef("--samples must be at least 1")
	}
	if *levels == "" && (*n < 1 || *n > erl.MaxEvalLevels) {
		return usagef("--n %d: give 1 to %d generated levels, or a --levels file", *n, erl.MaxEvalLevels)
	}
	if *levels == "" {
		if err := erl.CheckEvaluation(*n, *samples); err != nil {
			return usageError{err} // before the levels are generated
		}
	}
	cfg := def
	if *random {
		return evalRandom(sio, cfg, *env, *levels, *n, *samples, *asJSON)
	}
	ck, err := model.LoadCheckpoint(*ckpt)
	if err != nil {
		return err
	}
	if raw, ok := ck.Extra["erl.config"]; ok {
		if _, err := erl.DecodeConfig([]byte(raw), &cfg); err != nil {
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
	if err := erl.CheckEvaluation(len(tasks), *samples); err != nil {
		return usageError{err}
	}
	ev, err := erl.Evaluate(ck.Model, erl.NewContexts(), tasks, cfg.EvalSample, *samples, cfg.Seed)
	if err != nil {
		return err
	}
	source := "generated held-out levels"
	if *levels != "" {
		source = *levels
	}
	table := tableWriter(sio, *asJSON)
	fmt.Fprintf(table, "%d levels (%s), first attempt only\n", len(tasks), source)
	fmt.Fprintf(table, "  greedy           %.3f  [%.3f, %.3f]  n=%d\n", ev.Greedy.Success, ev.Greedy.Lo, ev.Greedy.Hi, ev.Greedy.N)
	fmt.Fprintf(table, "  sampled (T=%.1f)  %.3f  [%.3f, %.3f]  n=%d\n", cfg.EvalSample.Temperature, ev.Sampled.Success, ev.Sampled.Lo, ev.Sampled.Hi, ev.Sampled.N)
	if *asJSON {
		return writeJSON(sio, map[string]any{"success": ev.Sampled.Success, "n": len(tasks), "greedy": ev.Greedy, "sampled": ev.Sampled})
	}
	return nil
}

// tableWriter is where eval writes its table: standard output, or standard error when
// standard output carries JSON, so that it carries nothing else.
func tableWriter(sio stdio, asJSON bool) io.Writer {
	if asJSON {
		return sio.err
	}
	return sio.out
}

// writeJSON writes v to standard output as one line of JSON.
func writeJSON(sio stdio, v any) error {
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(sio.out, string(js))
	return err
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
	if err := erl.CheckEvaluation(len(tasks), samples); err != nil {
		return usageError{err}
	}
	sc, err := erl.EvaluateRandom(tasks, samples, cfg.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(tableWriter(sio, asJSON), "%d levels, uniformly random policy\n  random           %.3f  [%.3f, %.3f]  n=%d\n", len(tasks), sc.Success, sc.Lo, sc.Hi, sc.N)
	if asJSON {
		return writeJSON(sio, map[string]any{"success": sc.Success, "n": len(tasks), "random": sc})
	}
	return nil
}
