package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
)

const pretrainDoc = `
Pretrains a policy as a world model of the game, self-supervised on uniformly random play, with
no solutions and no rewards to learn from: at every turn of a random attempt it learns to
predict the random player's action, the board that follows it and, after the attempt's last
action, the feedback that follows it, in the token formats the policy reads when it plays
(predicting the random actions keeps its choice of action as random as a fresh policy's). It
writes into --out config.json, metrics.jsonl (the loss a step; the negative log-likelihood of
the held-out play's unchanged cells, changed cells, feedback words and actions at step 0, every
--eval-every steps and at the end) and pretrained.safetensors, for any algorithm of erlgo train
to start from:

  erlgo pretrain --out runs/pretrain
  erlgo train --init runs/pretrain/pretrained.safetensors

Pretraining never plays the validation and test levels of the training runs of --split-seeds
(generated with --val-levels and --test-levels, erlgo train's defaults); a run started from its
checkpoint with other splits is refused. The model size and --reflection-vocab must be the
training run's.

Ctrl-C, SIGTERM or SIGHUP saves the checkpoint as it stands after the current step and stops
(it is usable as is; pretraining does not resume).`

func runPretrain(sio stdio, args []string) error {
	fs := newFlagSet("pretrain", "[flags]", pretrainDoc)
	def := erl.DefaultPretrainConfig()
	env := fs.String("env", def.Env, "environment: sokoban or frozenlake")
	size := fs.String("size", string(def.Size), "model size: small (CPU default) or base (GPU default)")
	vocab := fs.String("reflection-vocab", def.ReflectionVocab, "the vocabulary of the training runs to start from it: "+strings.Join(erl.ReflectionVocabs, ", "))
	seed := fs.Uint64("seed", def.Seed, "seed of the initial weights, the levels and the random play")
	steps := fs.Int("steps", def.Steps, "pretraining steps (updates)")
	limit := fs.Duration("time", 0, "stop after this much training time, e.g. 5m (0: no limit)")
	batch := fs.Int("batch", def.Batch, "levels a step, one random attempt at each, every turn of which is trained")
	splitSeeds := fs.String("split-seeds", joinSeeds(def.SplitSeeds), "comma-separated `SEEDS` of the training runs whose validation and test levels are never played")
	valLevels := fs.Int("val-levels", def.ValLevels, "the number of validation levels of those runs")
	testLevels := fs.Int("test-levels", def.TestLevels, "the number of test levels of those runs")
	heldOut := fs.Int("held-out-levels", def.HeldOutLevels, "pretraining's own held-out levels, scored and never trained on")
	evalEvery := fs.Int("eval-every", def.EvalEvery, "score the held-out play every `N` steps (and at the start and the end)")
	lr := fs.Float64("lr", def.Optim.LR, "learning rate")
	out := fs.String("out", "", "output `DIR` (default runs/pretrain-ENV-sSEED)")
	overwrite := fs.Bool("overwrite", false, "write into a directory that already holds a pretraining, deleting its files first")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	seeds, err := parseSeeds(*splitSeeds)
	if err != nil {
		return usagef("--split-seeds: %v", err)
	}
	cfg := def
	cfg.Env, cfg.Size, cfg.ReflectionVocab, cfg.Seed = *env, model.Size(*size), *vocab, *seed
	cfg.Steps, cfg.Time, cfg.Batch, cfg.SplitSeeds = *steps, erl.Duration(*limit), *batch, seeds
	cfg.ValLevels, cfg.TestLevels, cfg.HeldOutLevels, cfg.EvalEvery = *valLevels, *testLevels, *heldOut, *evalEvery
	cfg.Optim.LR = *lr
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", fmt.Sprintf("pretrain-%s-s%d", cfg.Env, cfg.Seed))
	}
	removed, err := preparePretrainDir(dir, *overwrite)
	if err != nil {
		return err
	}
	if removed > 0 {
		fmt.Fprintf(sio.err, "--overwrite: deleted %d files of the pretraining in %s\n", removed, dir)
	}
	p, err := erl.NewPretrainer(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.err, "erlgo pretrain: a world model of %s, %s model (%d parameters), %d steps of %d random attempts, into %s\n",
		cfg.Env, cfg.Size, p.Policy.Config.NumParams(), cfg.Steps, cfg.Batch, dir)
	fmt.Fprintf(sio.err, "the validation and test levels of the training runs of seeds %s are never played\n", joinSeeds(cfg.SplitSeeds))
	ctx, received, stop := notifyStop(sio)
	defer stop()
	start := time.Now()
	status, err := erl.Pretrain(ctx, p, dir, sio.err)
	fmt.Fprintf(sio.err, "%s: %d steps (%s of training); held-out %s; this session took %s\n", status, p.StepsDone,
		time.Duration(p.WallSeconds*float64(time.Second)).Round(time.Second), p.HeldOut, time.Since(start).Round(time.Second))
	if err != nil {
		return err
	}
	if sig, ok := received().(syscall.Signal); ok && status == erl.StatusInterrupted {
		return exitCode(128 + int(sig))
	}
	return nil
}

// preparePretrainDir checks that pretraining may write into dir: one that does not exist or
// is empty, or with overwrite one whose pretraining files it deletes first.
func preparePretrainDir(dir string, overwrite bool) (removed int, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	case len(entries) == 0:
		return 0, nil
	case !overwrite:
		return 0, usagef("%s is not empty (it holds %s, among %d entries), and erlgo pretrain does not write over it: give another --out, or --overwrite to delete the files a pretraining writes there first",
			dir, entries[0].Name(), len(entries))
	}
	return removeFiles(dir, erl.PretrainFiles)
}

// parseSeeds reads comma-separated seeds.
func parseSeeds(s string) ([]uint64, error) {
	var seeds []uint64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seed (a whole number)", f)
		}
		seeds = append(seeds, v)
	}
	return seeds, nil
}

// joinSeeds writes seeds as parseSeeds reads them.
func joinSeeds(seeds []uint64) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ",")
}
