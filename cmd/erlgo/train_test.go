package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
	"github.com/erlgo/erlgo/report"
)

// TestTrainThenEval trains a few steps from a YAML config with flags over it, resumes the run,
// and scores its checkpoint on a level file with --json.
func TestTrainThenEval(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "run.yaml")
	yaml := "algo: erl-nomem\nbatch: 2\ngroup: 2\nsteps: 2\neval_levels: 3\ntest_levels: 3\neval_samples: 1\nreflection_len: 4\nevery_bogus: 1\n"
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
	if code != 0 || out != "" || !strings.Contains(errb, "resuming after step 1") {
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
	var res struct {
		Success  *float64 `json:"success"`
		N        int      `json:"n"`
		Interval string   `json:"interval"`
		Sampled  erl.Score
		ByLength []erl.LengthScore `json:"by_length"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Success == nil || res.N != 5 || !strings.Contains(errb, "first attempt only") {
		t.Fatalf("eval --json: stdout %q (%v), stderr %q; want one JSON object on stdout, the table on stderr", out, err, errb)
	}
	levelsByLength := 0
	for _, l := range res.ByLength {
		levelsByLength += l.Sampled.Levels
	}
	if res.Sampled.N != 10 || res.Sampled.Levels != 5 || levelsByLength != 5 || !strings.Contains(res.Interval, "bootstrap over levels") ||
		!strings.Contains(errb, "by optimal solution length") {
		t.Errorf("eval --json: %+v; want 10 sampled attempts at 5 levels, tabulated by length, with the interval's method", res)
	}
	code, out, _ = erlgo("", "eval", "--random", "--n", "4", "--samples", "2", "--json")
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.N != 4 {
		t.Fatalf("eval --random --json: exit %d, stdout %q (%v); want one JSON object", code, out, err)
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
	small := []string{"train", "--algo", "rlvr", "--batch", "2", "--group", "2", "--steps", "1", "--eval-levels", "2", "--test-levels", "2", "--train-levels-file", levels}
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

// tinyTrain is the flags of a training run that takes about a second.
var tinyTrain = []string{"train", "--algo", "rlvr", "--batch", "2", "--group", "2", "--steps", "1", "--eval-levels", "2", "--test-levels", "2"}

// TestTrainRefusesToOverwrite checks that a run directory that holds anything is never
// trained into by mistake, and that --overwrite deletes the old run's files, and only those.
func TestTrainRefusesToOverwrite(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	if code, out, errb := erlgo("", append(tinyTrain, "--out", run)...); code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errb)
	}
	metrics, err := os.ReadFile(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(run, "last.safetensors")
	code, _, errb := erlgo("", append(tinyTrain, "--out", run)...)
	if code != 2 || !strings.Contains(errb, "already holds a training run") || !strings.Contains(errb, "--resume "+last) || !strings.Contains(errb, "--overwrite") {
		t.Fatalf("training again into a run: exit %d, %q; want a refusal naming --resume and --overwrite", code, errb)
	}
	if again, err := os.ReadFile(filepath.Join(run, "metrics.jsonl")); err != nil || string(again) != string(metrics) {
		t.Fatalf("the refused run changed metrics.jsonl (%v)", err)
	}

	// --overwrite deletes what a run writes, a stale numbered checkpoint included, and
	// nothing else.
	stale := filepath.Join(run, "step-000050.safetensors")
	notes := filepath.Join(run, "notes.txt")
	for _, f := range []string{stale, notes} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errb = erlgo("", append(tinyTrain, "--out", run, "--overwrite", "--steps", "2")...)
	if code != 0 || !strings.Contains(errb, "--overwrite: deleted") {
		t.Fatalf("--overwrite: exit %d, %q", code, errb)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("--overwrite left the old run's step-000050.safetensors")
	}
	if _, err := os.Stat(notes); err != nil {
		t.Errorf("--overwrite deleted a file a run does not write: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(run, "config.json"))
	if err != nil || !strings.Contains(string(raw), `"steps": 2`) {
		t.Errorf("config.json after --overwrite is not the new run's (%v)", err)
	}

	// A directory that holds something else, a file, and a resumed run sent into another
	// run's directory are refused too.
	other := filepath.Join(root, "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "thesis.tex"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(tinyTrain, "--out", other), "is not empty (it holds thesis.tex"},
		{append(tinyTrain, "--out", notes), "is a file, not a directory"},
		{[]string{"train", "--resume", last, "--out", other}, "is not empty"},
		{[]string{"train", "--resume", last, "--overwrite"}, "--overwrite would delete the run that --resume"},
	} {
		if code, _, errb := erlgo("", tc.args...); code != 2 || !strings.Contains(errb, tc.want) {
			t.Errorf("erlgo %q: exit %d, %q; want exit 2 and %q", tc.args, code, errb, tc.want)
		}
	}
	if code, _, errb := erlgo("", "train", "--resume", last, "--steps", "3"); code != 0 {
		t.Errorf("resuming in the run's own directory: exit %d, %q", code, errb)
	}
}

// TestTrainSavesOnSignal stops a training process with each signal that stops a run (Ctrl-C,
// SIGTERM, SIGHUP from a closed terminal): each saves a checkpoint that resumes, writes the
// run's plots and summary, and exits with 128 plus the signal's number.
func TestTrainSavesOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(os.Args[0], append(slices.Clone(tinyTrain), "--steps", "100000", "--eval-every", "100000", "--out", dir)...)
			cmd.Env = append(os.Environ(), "ERLGO_MAIN=1") // the test binary is erlgo (TestMain)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
				if recs, _ := erl.ReadMetrics(filepath.Join(dir, "metrics.jsonl")); len(recs) >= 3 {
					break // step 0's evaluation and two steps
				}
				if time.Now().After(deadline) {
					t.Fatalf("no steps after 2 minutes:\n%s", stderr.String())
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 128+int(sig) {
				t.Fatalf("exit %v, want status %d:\n%s", err, 128+int(sig), stderr.String())
			}
			if !strings.Contains(stderr.String(), "continue with erlgo train --resume") {
				t.Errorf("stderr does not say how to continue:\n%s", stderr.String())
			}
			tr, err := erl.ResumeTrainer(filepath.Join(dir, "last.safetensors"), nil)
			if err != nil || tr.StepsDone < 2 {
				t.Fatalf("the saved checkpoint does not resume after step 2 or later: %v", err)
			}
			sum, err := report.ReadSummary(dir)
			if err != nil || sum.Status != erl.StatusInterrupted || sum.Step != tr.StepsDone || sum.Last == nil || sum.Last.Step != 0 {
				t.Errorf("summary %+v (%v), want interrupted after step %d, evaluated at step 0", sum, err, tr.StepsDone)
			}
			for _, f := range []string{report.SuccessPlotFile, report.LossPlotFile, report.ViewFile} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("the interrupted run has no %s: %v", f, err)
				}
			}
		})
	}
}

// TestView writes the viewer's page of a run, and of a run of an older erlgo, which has no
// summary.json and no episodes.jsonl.
func TestView(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if code, _, errb := erlgo("", append(tinyTrain, "--out", run)...); code != 0 {
		t.Fatalf("train: %s", errb)
	}
	page := filepath.Join(t.TempDir(), "page.html")
	code, out, errb := erlgo("", "view", run, "--out", page)
	if code != 0 || out != page+"\n" || !strings.Contains(errb, "open it in a browser: file://") {
		t.Fatalf("view: exit %d, stdout %q, stderr %q", code, out, errb)
	}
	html, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(html), `"status":"finished"`) {
		t.Errorf("the page lacks the run's summary (%v)", err)
	}
	for _, f := range []string{"summary.json", "episodes.jsonl"} {
		if err := os.Remove(filepath.Join(run, f)); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errb := erlgo("", "view", run); code != 0 || out != filepath.Join(run, "view.html")+"\n" {
		t.Errorf("view of an older run: exit %d, stdout %q, stderr %q", code, out, errb)
	}
	pruned := t.TempDir() // a committed run: its summary, not its metrics
	if err := os.WriteFile(filepath.Join(pruned, "summary.json"), []byte(`{"status":"finished","step":3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"view"}, 2, "give one RUN_DIR (got 0)"},
		{[]string{"view", run, run}, 2, "give one RUN_DIR (got 2)"},
		{[]string{"view", filepath.Join(run, "missing")}, 1, "does not exist"},
		{[]string{"view", t.TempDir()}, 1, "has neither metrics.jsonl nor summary.json"},
		{[]string{"view", pruned}, 1, "its curves and episodes are gone"},
	} {
		if code, _, errb := erlgo("", tc.args...); code != tc.code || !strings.Contains(errb, tc.want) {
			t.Errorf("erlgo %q: exit %d, %q; want exit %d and %q", tc.args, code, errb, tc.code, tc.want)
		}
	}
}

// TestConfigFileErrors checks that a config file's mistakes are named in its own terms, in
// YAML as in JSON, and that the objective's old key names work with a deprecation notice.
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file, content, want string
	}{
		{"a.yaml", "batch: x\n", "a.yaml: batch: text where a whole number is wanted"},
		{"b.yaml", "objective:\n  clip_low: [1]\n", "b.yaml: objective.clip_low: an array where a number is wanted"},
		{"c.yml", "stepz: 3\n", `c.yml: unknown key "stepz"`},
		{"d.json", "{\"steps\": 1,\n}", "d.json: line 2, column 1: invalid character"},
		{"e.yaml", "time: soon\n", `e.yaml: "soon" is not a duration`},
	} {
		path := filepath.Join(dir, tc.file)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errb := erlgo("", "train", "--config", path)
		if code != 2 || !strings.Contains(errb, tc.want) || strings.Contains(errb, " json: ") || strings.Contains(errb, "Go struct") {
			t.Errorf("%s: exit %d, %q; want exit 2 and %q, with no word of JSON or Go", tc.file, code, errb, tc.want)
		}
	}
	old := filepath.Join(dir, "old.yaml")
	if err := os.WriteFile(old, []byte("objective:\n  KLCoef: 0.01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	code, _, errb := erlgo("", append(tinyTrain, "--config", old, "--out", run)...)
	if code != 0 || !strings.Contains(errb, "the key objective.KLCoef → objective.kl_coef is deprecated") {
		t.Fatalf("old key: exit %d, %q; want a deprecation notice", code, errb)
	}
	raw, err := os.ReadFile(filepath.Join(run, "config.json"))
	if err != nil || !strings.Contains(string(raw), `"kl_coef": 0.01`) || strings.Contains(string(raw), "KLCoef") {
		t.Errorf("config.json of the run (%v):\n%s\nwant kl_coef 0.01 and no CamelCase key", err, raw)
	}
}

// TestREADMEReproductionFigures holds the figures README gives, each as a comment on the line of
// the command that gives it, for the committed reproductions' checkpoints and levels.
func TestREADMEReproductionFigures(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const results = "bench/results/reproduce-600steps"
	// README's $SOKOBAN and $FROZENLAKE: the comparison at the default, 20 minutes a run; $R,
	// $S and $F: the earlier default's at 600 steps a run, and Sokoban's and FrozenLake's at 20
	// minutes. (The longer names come first: at one position the first that matches replaces.)
	paths := strings.NewReplacer("$SOKOBAN", "../../bench/results/reproduce-sokoban-20min-default",
		"$FROZENLAKE", "../../bench/results/reproduce-frozenlake-20min-default",
		"$R", "../../"+results, "$S", "../../bench/results/reproduce-sokoban-20min", "$F", "../../bench/results/reproduce-frozenlake-20min")
	score := func(ev erl.Evaluation) string {
		return fmt.Sprintf("%.3f sampled, %.3f greedy", ev.Sampled.Success, ev.Greedy.Success)
	}
	random := func(res struct{ Random erl.Score }) string { return fmt.Sprintf("%.3f", res.Random.Success) }
	for _, tc := range []struct {
		shown  string // the command as README shows it, with $R, $S, $F, $SOKOBAN or $FROZENLAKE for a results directory
		figure func(out []byte) (string, error)
	}{
		{"erlgo eval --checkpoint $SOKOBAN/sokoban/erl-s1/best.safetensors --levels $SOKOBAN/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $SOKOBAN/sokoban/rlvr-s1/best.safetensors --levels $SOKOBAN/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $FROZENLAKE/frozenlake/erl-s1/best.safetensors --levels $FROZENLAKE/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $FROZENLAKE/frozenlake/rlvr-s1/best.safetensors --levels $FROZENLAKE/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --random --levels $SOKOBAN/levels/sokoban-test.jsonl --samples 32", jsonFigure(random)},
		{"erlgo eval --random --levels $FROZENLAKE/levels/frozenlake-test.jsonl --samples 32", jsonFigure(random)},
		{"erlgo eval --checkpoint $R/sokoban/erl-s1/best.safetensors --levels $R/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $R/frozenlake/erl-s1/best.safetensors --levels $R/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --random --levels $R/levels/sokoban-test.jsonl --samples 32", jsonFigure(random)},
		{"erlgo eval --random --levels $R/levels/frozenlake-test.jsonl --samples 32", jsonFigure(random)}, // the levels name their environment
		{"erlgo eval --checkpoint $S/sokoban/erl-s1/best.safetensors --levels $S/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $S/sokoban/rlvr-s1/best.safetensors --levels $S/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $S/sokoban/rlvr-10-s1/best.safetensors --levels $S/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $S/sokoban/erl-nomem-s1/best.safetensors --levels $S/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $S/sokoban/erl-norefl-s1/best.safetensors --levels $S/levels/sokoban-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $F/frozenlake/erl-s1/best.safetensors --levels $F/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $F/frozenlake/rlvr-s1/best.safetensors --levels $F/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $F/frozenlake/rlvr-10-s1/best.safetensors --levels $F/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $F/frozenlake/erl-nomem-s1/best.safetensors --levels $F/levels/frozenlake-test.jsonl", jsonFigure(score)},
		{"erlgo eval --checkpoint $F/frozenlake/erl-norefl-s1/best.safetensors --levels $F/levels/frozenlake-test.jsonl", jsonFigure(score)},
	} {
		line, ok := lineOf(string(readme), tc.shown+" ")
		if !ok {
			t.Errorf("README no longer gives %q", tc.shown)
			continue
		}
		_, comment, _ := strings.Cut(line, "#")
		args := strings.Fields(paths.Replace(tc.shown))[1:]
		code, out, errb := erlgo("", append(args, "--json")...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", tc.shown, code, errb)
			continue
		}
		got, err := tc.figure([]byte(out))
		if err != nil {
			t.Errorf("%s: %v", tc.shown, err)
		} else if strings.TrimSpace(comment) != got {
			t.Errorf("%s gives %s; README says %q", tc.shown, got, strings.TrimSpace(comment))
		}
	}
	for _, split := range []string{"sokoban-test", "sokoban-validation", "frozenlake-test", "frozenlake-validation"} {
		env, name, _ := strings.Cut(split, "-")
		file := "../../" + results + "/levels/" + split + ".jsonl"
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		made := filepath.Join(t.TempDir(), split+".jsonl")
		n := strconv.Itoa(bytes.Count(want, []byte("\n")))
		if code, _, errb := erlgo("", "levels", "--env", env, "--split", name, "--seed", "1", "--n", n, "--out", made); code != 0 {
			t.Fatalf("levels %s: %s", split, errb)
		}
		if got, err := os.ReadFile(made); err != nil || !bytes.Equal(got, want) {
			t.Errorf("erlgo levels --env %s --split %s --seed 1 --n %s does not make %s (%v)", env, name, n, file, err)
		}
		// The 20-minute reproductions share them.
		other := paths.Replace(map[string]string{"sokoban": "$S", "frozenlake": "$F"}[env] + "/levels/" + split + ".jsonl")
		if got, err := os.ReadFile(other); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not %s (%v)", other, file, err)
		}
	}
}

// jsonFigure reads a command's --json output into V and renders the figure a document gives.
func jsonFigure[V any](render func(V) string) func([]byte) (string, error) {
	return func(out []byte) (string, error) {
		var v V
		if err := json.Unmarshal(out, &v); err != nil {
			return "", err
		}
		return render(v), nil
	}
}

// lineOf returns the first line of doc that contains s.
func lineOf(doc, s string) (string, bool) {
	for line := range strings.Lines(doc) {
		if strings.Contains(line, s) {
			return line, true
		}
	}
	return "", false
}

// TestRESULTSTestFigures holds bench/RESULTS.md's test-split figures of the committed 20-minute
// checkpoints, and of the random policy, to the commands that give them, and the committed level
// files to the commands that make them.
func TestRESULTSTestFigures(t *testing.T) {
	doc, err := os.ReadFile("../../bench/RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	const results = "../../bench/results/sokoban-cpu-20min/"
	test := results + "test.jsonl"
	for _, split := range []struct{ file, args string }{
		{test, "--split test --seed 1 --n 512"},
		{results + "heldout.jsonl", "--split validation --seed 1"},
	} {
		made := filepath.Join(t.TempDir(), "levels.jsonl")
		if code, _, errb := erlgo("", append([]string{"levels", "--out", made}, strings.Fields(split.args)...)...); code != 0 {
			t.Fatalf("levels %s: %s", split.args, errb)
		}
		want, err1 := os.ReadFile(split.file)
		got, err2 := os.ReadFile(made)
		if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Errorf("erlgo levels %s does not make %s (%v, %v)", split.args, split.file, err1, err2)
		}
	}
	score := func(s erl.Score) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", s.Success, s.Lo, s.Hi) }
	for _, algo := range []string{"erl", "rlvr"} {
		code, out, errb := erlgo("", "eval", "--checkpoint", results+algo+"/best.safetensors", "--levels", test, "--json")
		var ev erl.Evaluation
		if err := json.Unmarshal([]byte(out), &ev); code != 0 || err != nil {
			t.Fatalf("eval %s: exit %d, %v: %s", algo, code, err, errb)
		}
		for _, want := range []string{score(ev.Sampled), score(ev.Greedy)} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("RESULTS.md lacks %s's test figure %s", algo, want)
			}
		}
	}
	for _, args := range [][]string{
		{"--levels", test, "--samples", "32"},
		{"--split", "validation", "--samples", "32"},
	} {
		shown := "erlgo eval --random " + strings.Join(args, " ")
		if !strings.Contains(string(doc), strings.ReplaceAll(shown, "../../", "")) {
			t.Errorf("RESULTS.md no longer gives %q", shown)
		}
		code, out, errb := erlgo("", append([]string{"eval", "--random", "--json"}, args...)...)
		var res struct{ Random erl.Score }
		if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
			t.Fatalf("%s: exit %d, %v: %s", shown, code, err, errb)
		}
		if !strings.Contains(string(doc), score(res.Random)) {
			t.Errorf("RESULTS.md lacks the random policy's figure %s (%s)", score(res.Random), shown)
		}
	}
}

// TestDocumentedConfigs: every config file that README.md or bench/RESULTS.md gives a command
// (--config bench/...) loads and makes a valid run.
func TestDocumentedConfigs(t *testing.T) {
	configs := map[string]bool{}
	for _, doc := range []string{"../../README.md", "../../bench/RESULTS.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("--config (bench/[^ `\n]+)").FindAllStringSubmatch(string(text), -1) {
			configs[m[1]] = true
		}
	}
	if len(configs) == 0 {
		t.Fatal("neither README.md nor bench/RESULTS.md gives a config file: the test holds nothing")
	}
	for path := range configs {
		cfg := erl.DefaultConfig()
		if err := loadConfigFile("../../"+path, &cfg, io.Discard); err != nil {
			t.Errorf("%s: %v", path, err)
		} else if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
