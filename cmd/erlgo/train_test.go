package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/model"
)

// TestTrainThenEval trains a few steps from a YAML config with flags over it, resumes the run,
// and scores its checkpoint on a level file with --json.
func TestTrainThenEval(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "run.yaml")
	yaml := "algo: erl-nomem\nbatch: 2\ngroup: 2\nsteps: 2\neval_levels: 3\neval_samples: 1\nreflection_len: 4\nevery_bogus: 1\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errb := erlgo("", "train", "--config", cfgPath); code != 2 || !strings.Contains(errb, "every_bogus") {
		t.Fatalf("an unknown config key: exit %d, %q", code, errb)
	}
	yaml = strings.ReplaceAll(yaml, "every_bogus: 1\n", "")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	code, out, errb := erlgo("", "train", "--config", cfgPath, "--steps", "1", "--out", run)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errb)
	}
	var saved struct {
		Algo  string `json:"algo"`
		Steps int    `json:"steps"`
		Batch int    `json:"batch"`
	}
	raw, err := os.ReadFile(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Algo != "erl-nomem" || saved.Steps != 1 || saved.Batch != 2 {
		t.Fatalf("resolved config %+v: want the file's algo and batch, the flag's steps", saved)
	}
	code, out, errb = erlgo("", "train", "--resume", filepath.Join(run, "last.safetensors"), "--steps", "2")
	if code != 0 || !strings.Contains(out, "resuming after step 1") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errb)
	}

	levels := filepath.Join(dir, "levels.jsonl")
	if code, _, errb := erlgo("", "levels", "--n", "5", "--seed", "99", "--out", levels); code != 0 {
		t.Fatalf("levels: %s", errb)
	}
	code, out, errb = erlgo("", "eval", "--checkpoint", filepath.Join(run, "last.safetensors"), "--levels", levels, "--samples", "2", "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s\n%s", code, out, errb)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct {
		Success *float64 `json:"success"`
		N       int      `json:"n"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || res.Success == nil || res.N != 5 {
		t.Fatalf("eval --json last line %q: %v", lines[len(lines)-1], err)
	}
	if code, _, errb := erlgo("", "eval", "--checkpoint", levels); code != 1 || !strings.Contains(errb, levels) {
		t.Fatalf("eval of a file that is not a checkpoint: exit %d, %q", code, errb)
	}
	// A policy of an older erlgo, whose 256 positions this version's contexts overrun.
	cfg, err := model.NewConfig(model.Small)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ContextLen = 256
	older, err := model.New(cfg, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	olderPath := filepath.Join(dir, "older.safetensors")
	if err := model.SaveCheckpoint(olderPath, older, nil, nil); err != nil {
		t.Fatal(err)
	}
	if code, _, errb := erlgo("", "eval", "--checkpoint", olderPath, "--levels", levels); code != 1 || !strings.Contains(errb, "older erlgo") {
		t.Fatalf("eval of an older erlgo's checkpoint: exit %d, %q", code, errb)
	}
	if code, _, errb := erlgo("", "train", "--batch", "0"); code != 2 || !strings.Contains(errb, "batch") {
		t.Fatalf("train --batch 0: exit %d, %q", code, errb)
	}
}

// TestTrainLevelsFileAndCurriculum checks that a training level file replaces the default
// curriculum, which shapes generated levels, and that asking for both is refused.
func TestTrainLevelsFileAndCurriculum(t *testing.T) {
	dir := t.TempDir()
	levels := filepath.Join(dir, "train.jsonl")
	if code, _, errb := erlgo("", "levels", "--n", "4", "--seed", "7", "--out", levels); code != 0 {
		t.Fatalf("levels: %s", errb)
	}
	small := []string{"train", "--algo", "rlvr", "--batch", "2", "--group", "2", "--steps", "1", "--eval-levels", "2", "--train-levels-file", levels}
	run := filepath.Join(dir, "run")
	if code, out, errb := erlgo("", append(small, "--out", run)...); code != 0 {
		t.Fatalf("train on a level file: exit %d\n%s\n%s", code, out, errb)
	}
	raw, err := os.ReadFile(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		Curriculum string `json:"curriculum"`
		TrainFile  string `json:"train_file"`
	}
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Curriculum != "none" || saved.TrainFile != levels {
		t.Fatalf("resolved config: curriculum %q, train_file %q; want none and the file", saved.Curriculum, saved.TrainFile)
	}
	code, _, errb := erlgo("", append(small, "--curriculum", "adaptive", "--out", filepath.Join(dir, "both"))...)
	if code != 2 || !strings.Contains(errb, "curriculum") {
		t.Fatalf("a curriculum and a level file: exit %d, %q; want a usage error naming the curriculum", code, errb)
	}
}
