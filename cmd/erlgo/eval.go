package main

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
)

const evalDoc = `
Scores a checkpoint by first-attempt success (no feedback, no reflection: deployment), greedy
and sampled as in the paper's validation, over all the levels and by the length of their
optimal solutions. Intervals are 95%, from a bootstrap over levels: the attempts at one level
are not independent, so the levels are resampled (2000 times, with a fixed seed; at a success
of 0 or 1, Wilson's interval over the levels).

The levels are those of --levels, or else the training run's own test split (or with --split
validation its validation split), generated again from its config; a run's directory holds
both as test.jsonl and validation.jsonl. Report test figures: the validation levels chose the
run's best checkpoint. --random scores the uniformly random policy instead.

With --json standard output is one JSON object, and the table goes to standard error:
{"success": sampled success, "n": levels, "source": "which levels", "interval": "how",
"greedy": {...}, "sampled": {...}, "by_length": [{"moves": 1, "greedy": {...}, "sampled":
{...}}, ...]}, each score {"success", "n" (attempts), "levels", "lo", "hi"}.`

// Split names for eval --split.
const (
	splitTest       = "test"
	splitValidation = "validation"
)

func runEval(sio stdio, args []string) error {
	fs := newFlagSet("eval", "--checkpoint FILE | --random [--levels FILE.jsonl | --split test|validation] [--device cpu|cuda] [--json]", evalDoc)
	def := erl.DefaultConfig()
	ckpt := fs.String("checkpoint", "", "checkpoint `FILE` (.safetensors)")
	random := fs.Bool("random", false, "score the uniformly random policy instead of a checkpoint")
	levels := fs.String("levels", "", "levels `FILE` (JSONL) to score on")
	split := fs.String("split", splitTest, "without --levels, the run's split to generate: test or validation")
	env := fs.String("env", "", "environment of --levels (default: the checkpoint's; with --random, the one the levels name)")
	n := fs.Int("n", 0, "number of generated levels of the split (default: the run's)")
	samples := fs.Int("samples", def.EvalSamples, "sampled attempts per level")
	asJSON := fs.Bool("json", false, "write the result as one JSON object on standard output (the table on standard error)")
	device := fs.String("device", "cpu", "cpu or cuda (the GPU, in a build with -tags gpu)")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case (*ckpt == "") == !*random:
		return usagef("give either --checkpoint FILE or --random")
	case *samples < 1:
		return usagef("--samples must be at least 1")
	case *split != splitTest && *split != splitValidation:
		return usagef("--split %q: want test or validation", *split)
	case *levels != "" && (set["split"] || set["n"]):
		return usagef("--levels gives the levels: --split and --n are for generated ones")
	case set["n"] && (*n < 1 || *n > erl.MaxEvalLevels):
		return usagef("--n %d: give 1 to %d generated levels, or a --levels file", *n, erl.MaxEvalLevels)
	}
	if err := model.CheckDevice(*device); err != nil {
		return usageError{err}
	}
	cfg := def
	var ck *model.Checkpoint
	if !*random {
		var err error
		if ck, err = model.LoadCheckpoint(*ckpt); err != nil {
			return err
		}
		if err := ck.To(*device); err != nil {
			return err
		}
		if raw, ok := ck.Extra["erl.config"]; ok {
			if _, err := erl.DecodeConfig([]byte(raw), &cfg); err != nil {
				return fmt.Errorf("%s: run config: %w", *ckpt, err)
			}
			if *levels == "" && *split == splitTest && !hasTestSplit(raw) {
				fmt.Fprintf(sio.err, "erlgo eval: note: the run of %s had no test split (it kept only its validation levels out of training): generated test levels may be among those it trained on\n", *ckpt)
			}
		}
		if err := cfg.CheckPolicy(ck.Model.Config); err != nil {
			return fmt.Errorf("%s: %w", *ckpt, err)
		}
	}
	switch {
	case *env != "":
		cfg.Env = *env
	case *random && *levels != "":
		// The random policy has no checkpoint to name the environment: the levels do.
		cfg.Env = cmp.Or(envs.LevelSetEnv(*levels), cfg.Env)
	}
	tasks, source, err := evalLevels(cfg, *levels, *split, *n, *samples)
	if err != nil {
		return err
	}
	if err := erl.CheckEvaluation(len(tasks), *samples); err != nil {
		return usageError{err}
	}
	table := tableWriter(sio, *asJSON)
	if *random {
		sc, err := erl.EvaluateRandom(tasks, *samples, cfg.Seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(table, "%d levels (%s), uniformly random policy\n%s\n", len(tasks), source, erl.IntervalMethod)
		fmt.Fprintf(table, "  random           %s\n", formatScore(sc))
		if *asJSON {
			return writeJSON(sio, map[string]any{"success": sc.Success, "n": len(tasks), "source": source, "interval": erl.IntervalMethod, "random": sc})
		}
		return nil
	}
	ev, err := erl.Evaluate(ck.Model, erl.NewContexts(ck.Vocab), tasks, cfg.EvalSample, *samples, cfg.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(table, "%d levels (%s), first attempt only\n%s\n", len(tasks), source, ev.Interval)
	writeEvalTable(table, ev, cfg.EvalSample.Temperature)
	if *asJSON {
		return writeJSON(sio, struct {
			Success float64 `json:"success"`
			N       int     `json:"n"`
			Source  string  `json:"source"`
			erl.Evaluation
		}{ev.Sampled.Success, len(tasks), source, ev})
	}
	return nil
}

// evalLevels returns the levels eval scores, and what they are in words: those of the file
// levels, or the split of the run of cfg as the run made it (from its level file, or
// generated, n levels if n > 0). Levels too many for samples attempts each are refused before
// they are generated.
func evalLevels(cfg erl.Config, levels, split string, n, samples int) ([]envs.Task, string, error) {
	if levels != "" {
		tasks, err := erl.ReadLevels(levels, cfg.Env)
		return tasks, levels, err
	}
	file, count := &cfg.TestFile, &cfg.TestLevels
	if split == splitValidation {
		file, count = &cfg.EvalFile, &cfg.EvalLevels
		cfg.TestLevels = 0 // the validation split does not need the test split's generation
	}
	if *file != "" {
		if n > 0 {
			return nil, "", usagef("--n %d: the run's %s split is the level file %s, not generated levels", n, split, *file)
		}
		val, test, err := erl.Splits(cfg)
		if split == splitValidation {
			return val, fmt.Sprintf("the run's %s split, %s", split, *file), err
		}
		return test, fmt.Sprintf("the run's %s split, %s", split, *file), err
	}
	if n > 0 {
		*count = n
	} else if *count == 0 { // a run without a test split: the default size
		*count = erl.DefaultConfig().TestLevels
	}
	if err := erl.CheckEvaluation(*count, samples); err != nil {
		return nil, "", usageError{err}
	}
	val, test, err := erl.Splits(cfg)
	source := fmt.Sprintf("the %s split of seed %d, generated", split, cfg.Seed)
	if split == splitValidation {
		return val, source, err
	}
	return test, source, err
}

// hasTestSplit reports whether the run of the config rawConfig (a checkpoint's) had a test
// split, kept out of its training.
func hasTestSplit(rawConfig string) bool {
	var cfg struct {
		TestLevels *int   `json:"test_levels"`
		TestFile   string `json:"test_file"`
	}
	return json.Unmarshal([]byte(rawConfig), &cfg) == nil && (cfg.TestFile != "" || cfg.TestLevels != nil && *cfg.TestLevels > 0)
}

// formatScore formats a score for eval's tables: the rate, its interval and what it counts.
func formatScore(s erl.Score) string {
	return fmt.Sprintf("%.3f  [%.3f, %.3f]  %d levels × %d", s.Success, s.Lo, s.Hi, s.Levels, s.N/max(1, s.Levels))
}

// writeEvalTable writes ev as eval's table: the scores over all the levels, then by optimal
// solution length.
func writeEvalTable(w io.Writer, ev erl.Evaluation, temperature float64) {
	fmt.Fprintf(w, "  greedy           %s\n", formatScore(ev.Greedy))
	fmt.Fprintf(w, "  sampled (T=%.1f)  %s\n", temperature, formatScore(ev.Sampled))
	fmt.Fprintln(w, "by optimal solution length:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  moves\tlevels\tgreedy\t95% interval\tsampled\t95% interval")
	for _, l := range ev.ByLength {
		moves := fmt.Sprint(l.Moves)
		if l.Moves == 0 {
			moves = "none within the budget"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%.3f\t[%.3f, %.3f]\t%.3f\t[%.3f, %.3f]\n", moves, l.Greedy.Levels,
			l.Greedy.Success, l.Greedy.Lo, l.Greedy.Hi, l.Sampled.Success, l.Sampled.Lo, l.Sampled.Hi)
	}
	tw.Flush()
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
