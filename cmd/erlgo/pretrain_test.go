package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/erl"
)

// TestPretrainThenTrain pretrains a world model for the runs of one seed, trains every
// algorithm from it, and checks what is refused: an occupied directory, a run it does not
// fit, and bad flags.
func TestPretrainThenTrain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pretrain")
	small := []string{"--val-levels", "3", "--test-levels", "2"}
	args := append([]string{"pretrain", "--steps", "3", "--batch", "2", "--held-out-levels", "2", "--split-seeds", "1", "--out", out}, small...)
	code, stdout, errb := erlgo("", args...)
	if code != 0 || stdout != "" || !strings.Contains(errb, "step 3/3") || !strings.Contains(errb, "erlgo train --init") {
		t.Fatalf("pretrain: exit %d\n%s\n%s", code, stdout, errb)
	}
	for _, f := range []string{"config.json", erl.MetricsJSONLFile, erl.PretrainedFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errb := erlgo("", args...); code != 2 || !strings.Contains(errb, "--overwrite") {
		t.Fatalf("pretrain into an occupied directory: exit %d, %q", code, errb)
	}
	if code, _, errb := erlgo("", append(args, "--overwrite")...); code != 0 || !strings.Contains(errb, "deleted 3 files") {
		t.Fatalf("pretrain --overwrite: exit %d, %q", code, errb)
	}

	ckpt := filepath.Join(out, erl.PretrainedFile)
	runArgs := append([]string{"--init", ckpt, "--steps", "1", "--batch", "2", "--group", "2"}, small...)
	for _, algo := range erl.Algos {
		run := filepath.Join(dir, algo)
		code, _, errb := erlgo("", append([]string{"train", "--algo", algo, "--out", run}, runArgs...)...)
		if code != 0 || !strings.Contains(errb, "started from "+ckpt) {
			t.Fatalf("train --algo %s --init: exit %d\n%s", algo, code, errb)
		}
		var cfg erl.Config
		raw, err := os.ReadFile(filepath.Join(run, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Init != ckpt || len(cfg.InitSHA256) != 64 {
			t.Fatalf("%s: config.json records init %q, hash %q (%v)", algo, cfg.Init, cfg.InitSHA256, err)
		}
	}
	code, _, errb = erlgo("", append([]string{"train", "--out", filepath.Join(dir, "s2"), "--seed", "2"}, runArgs...)...)
	if code != 2 || !strings.Contains(errb, "--split-seeds 2") {
		t.Fatalf("train --init for a seed pretraining did not keep out: exit %d, %q", code, errb)
	}
	code, _, errb = erlgo("", append([]string{"train", "--out", filepath.Join(dir, "plans"), "--reflection-vocab", "plans"}, runArgs...)...)
	if code != 2 || !strings.Contains(errb, "erlgo-vocab-plans-1") {
		t.Fatalf("train --init of another vocabulary: exit %d, %q", code, errb)
	}
	code, _, errb = erlgo("", append([]string{"train", "--out", filepath.Join(dir, "again"), "--init", filepath.Join(dir, erl.AlgoERL, "last.safetensors")}, small...)...)
	if code != 2 || !strings.Contains(errb, "not a checkpoint of erlgo pretrain") {
		t.Fatalf("train --init of a training checkpoint: exit %d, %q", code, errb)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pretrain", "--split-seeds", "1,x"}, `"x" is not a seed`},
		{[]string{"pretrain", "--steps", "0"}, "steps 0"},
		{[]string{"pretrain", "--reflection-vocab", "emoji"}, "reflection_vocab"},
		{[]string{"train", "--memory-mode", "rulebook"}, "memory_mode"},
		{[]string{"train", "--reflection-reward", "lift", "--measure-lift=false"}, "measure_lift"},
	} {
		if code, _, errb := erlgo("", c.args...); code != 2 || !strings.Contains(errb, c.want) {
			t.Errorf("erlgo %q: exit %d, %q; want a usage error naming %s", c.args, code, errb, c.want)
		}
	}
	if code, stdout, _ := erlgo("", "--help"); code != 0 || !strings.Contains(stdout, "pretrain") {
		t.Errorf("erlgo --help does not list pretrain: %q", stdout)
	}
}
