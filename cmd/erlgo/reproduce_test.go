package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/machine"
	"github.com/erlgo/erlgo/report"
)

// TestReproduceFlags: every flag is checked, with an error that names it, before any work.
func TestReproduceFlags(t *testing.T) {
	dir := t.TempDir()
	noTest := filepath.Join(dir, "no-test.yaml")
	if err := os.WriteFile(noTest, []byte("test_levels: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "repro")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seeds", "0"}, "--seeds 0: give 1 to 1000 seeds"},
		{[]string{"--seeds", "1001"}, "--seeds 1001"},
		{[]string{"--budget", "0"}, "--budget 0: give at least 1 step"},
		{[]string{"--budget", "-5m"}, "--budget -5m: a run needs a positive training time"},
		{[]string{"--budget", "soon"}, `--budget "soon": want a training time such as 20m`},
		{[]string{"--algos", "ppo"}, `--algos: unknown algorithm "ppo" (want some of erl, rlvr, rlvr-10, erl-nomem, erl-norefl)`},
		{[]string{"--algos", "erl,rlvr,erl"}, "--algos erl,rlvr,erl: erl is given twice"},
		{[]string{"--env", "maze"}, `--env "maze": want frozenlake, sokoban, or all`},
		{[]string{"--jobs", "-1"}, "--jobs -1"},
		{[]string{"--eval-every", "-2"}, "--eval-every -2 must not be negative"},
		{[]string{"--device", "cuda", "--dry-run"}, "run sokoban/erl-s1: device cuda: this erlgo was built without GPU support"},
		{[]string{"--config", noTest}, "test_levels 0: a reproduction scores every run at test levels"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, _, errb := erlgo("", append([]string{"reproduce", "--out", out}, tc.args...)...)
		if code != 2 || !strings.Contains(errb, tc.want) {
			t.Errorf("reproduce %q: exit %d, %q; want exit 2 and %q", tc.args, code, errb, tc.want)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused reproduction left %s behind (%v)", out, err)
	}
	taken := filepath.Join(dir, "taken")
	if err := errors.Join(os.Mkdir(taken, 0o755), os.WriteFile(filepath.Join(taken, "notes.txt"), nil, 0o644)); err != nil {
		t.Fatal(err)
	}
	if code, _, errb := erlgo("", "reproduce", "--dry-run", "--out", taken); code != 2 || !strings.Contains(errb, "holds notes.txt and no reproduction (no reproduce.json)") {
		t.Errorf("a directory that holds something else: exit %d, %q", code, errb)
	}
	if code, out, _ := erlgo("", "reproduce", "--help"); code != 0 || !strings.Contains(out, "rlvr-10 (10 attempts a task") || !strings.Contains(out, "-dry-run") {
		t.Errorf("reproduce --help: exit %d:\n%s", code, out)
	}
}

// TestReproduceDryRun: --dry-run prints every run of --env all and how long they take, and
// writes nothing.
func TestReproduceDryRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "repro")
	code, stdout, errb := erlgo("", "reproduce", "--env", "all", "--dry-run", "--jobs", "3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	for _, want := range []string{
		"30 runs: sokoban, frozenlake × erl, rlvr, rlvr-10, erl-nomem, erl-norefl × seeds 1 to 3",
		"each run: 20m of training time; validation every sokoban: 250 steps (erl), 1621 steps (rlvr), 666 steps (rlvr-10), 260 steps (erl-nomem), 250 steps (erl-norefl); " +
			"frozenlake: 545 steps (erl), 4615 steps (rlvr), 1818 steps (rlvr-10), 545 steps (erl-nomem), 545 steps (erl-norefl)",
		"0 done, 0 to resume, 30 to start; 3 at a time",
		"expected wall-clock: 3h20m of training (30 runs of 20m, 3 at a time)",
		"sokoban/rlvr-10-s1", "start  erlgo train --config frozenlake/erl-norefl-s3.config.json --out frozenlake/erl-norefl-s3",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the plan lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, " erlgo train --config "); n != 30 {
		t.Errorf("%d runs to start, want 30:\n%s", n, stdout)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--dry-run wrote %s (%v)", out, err)
	}
}

// TestCommittedReproductionsContinue: every committed reproduction, whichever erlgo wrote it,
// is one this erlgo continues with all its runs done: its settings and its runs' configs
// decode to what they were (a key an older erlgo did not write taking that erlgo's
// behaviour, not today's default).
func TestCommittedReproductionsContinue(t *testing.T) {
	settings, err := filepath.Glob(filepath.Join("..", "..", "bench", "results", "*", reproduceSettingsFile))
	if err != nil || len(settings) == 0 {
		t.Fatalf("no committed reproduction found (%v)", err)
	}
	for _, path := range settings {
		dir := filepath.Dir(path)
		code, stdout, errb := erlgo("", "reproduce", "--dry-run", "--out", dir)
		if code != 0 || !regexp.MustCompile(`\d+ done, 0 to resume, 0 to start`).MatchString(stdout) {
			t.Errorf("%s: exit %d, %s%s; want every run done and kept", dir, code, stdout, errb)
		}
	}
}

// tinyReproduce is the settings of a reproduction whose runs take a few seconds each.
const tinyReproduce = "batch: 2\ngroup: 2\neval_levels: 4\ntest_levels: 6\neval_samples: 2\nreflection_len: 4\n"

// TestReproduceResumes runs a reproduction of 4 runs, one at a time, and stops it three
// ways: with Ctrl-C as its second run trains, which saves that run; with kill -9 of the
// reproduction as its third trains, which trains on alone, the next reproduction waiting for
// it; and with kill -9 of the reproduction and of its fourth run, a crash, whose run resumes
// from its last checkpoint. Each time the next reproduction keeps the finished runs, resumes
// the stopped one and starts the others, and the last writes the report of all four.
func TestReproduceResumes(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("finds the runs' processes in /proc:", err)
	}
	root := t.TempDir()
	cfg := filepath.Join(root, "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyReproduce), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "repro")
	const steps = 80 // a run checkpoints every 20 steps (2 × --eval-every)
	args := []string{"reproduce", "--env", "sokoban", "--algos", "erl,rlvr", "--seeds", "2", "--budget", fmt.Sprint(steps), "--eval-every", "10",
		"--jobs", "1", "--config", cfg, "--out", dir}
	runDir := func(name string) string { return filepath.Join(dir, "sokoban", name) }
	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "ERLGO_MAIN=1") // the test binary is erlgo (TestMain), and so are its runs
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, &stderr
	}
	// waitFor waits until the run name is done, and the run next has trained past step
	// past.
	waitFor := func(name, next string, past int, stderr *bytes.Buffer) {
		t.Helper()
		for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			sum, err := report.ReadSummary(runDir(name))
			recs, _ := erl.ReadMetrics(erl.RunDir(runDir(next)).Metrics())
			if err == nil && sum.Status == erl.StatusFinished && len(recs) > past+1 {
				if len(recs) == steps+1 {
					t.Fatalf("%s finished before the test could stop it", next)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not done, or %s not past step %d, after 3 minutes:\n%s", name, next, past, stderr)
			}
		}
	}

	// Ctrl-C while rlvr-s1 trains.
	cmd, stderr := start()
	waitFor("erl-s1", "rlvr-s1", 3, stderr)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("after Ctrl-C: %v, want exit status 130:\n%s", err, stderr)
	}
	continued := fmt.Sprintf("continue with: erlgo reproduce --env sokoban --seeds 2 --budget %d --algos erl,rlvr --eval-every 10 --config %s --out %s", steps, cfg, dir)
	if !strings.Contains(stderr.String(), continued) || !strings.Contains(stderr.String(), "sokoban/rlvr-s1 stopped: stopped by interrupt, saved") {
		t.Errorf("after Ctrl-C, stderr does not say the run saved and how to continue (%q):\n%s", continued, stderr)
	}
	if sum, err := report.ReadSummary(runDir("rlvr-s1")); err != nil || sum.Status != erl.StatusInterrupted {
		t.Errorf("rlvr-s1 after Ctrl-C: %+v, %v; want interrupted", sum, err)
	}
	if _, err := os.Stat(runDir("erl-s2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("erl-s2 started after Ctrl-C (%v)", err)
	}
	finished, err := os.ReadFile(erl.RunDir(runDir("erl-s1")).Metrics())
	if err != nil {
		t.Fatal(err)
	}

	// kill -9 of the reproduction while erl-s2 trains: the run trains on alone.
	cmd, stderr = start()
	waitFor("rlvr-s1", "erl-s2", 3, stderr)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !strings.Contains(stderr.String(), "(1 done)") || strings.Contains(stderr.String(), "sokoban/erl-s1 starts") ||
		!strings.Contains(stderr.String(), "sokoban/rlvr-s1 resumes: erlgo train --resume sokoban/rlvr-s1/last.safetensors") {
		t.Errorf("the second reproduction should keep erl-s1 and resume rlvr-s1:\n%s", stderr)
	}

	// The third waits for erl-s2 (it holds the directory's lock), and crashes with its run
	// rlvr-s2 past its checkpoint of step 40.
	cmd, stderr = start()
	waitFor("erl-s2", "rlvr-s2", 45, stderr)
	kids := childProcesses(t, cmd.Process.Pid)
	for _, p := range append(kids, cmd.Process.Pid) {
		syscall.Kill(p, syscall.SIGKILL)
	}
	cmd.Wait()
	if len(kids) != 1 || !strings.Contains(stderr.String(), "waiting for them to end") || !strings.Contains(stderr.String(), "(3 done)") {
		t.Errorf("the third reproduction should wait for erl-s2, then train rlvr-s2 alone (processes %v):\n%s", kids, stderr)
	}

	// The last resumes rlvr-s2 and writes the report.
	t.Setenv("ERLGO_MAIN", "1") // for the runs of the reproduction in this process
	code, _, errb := erlgo("", args...)
	if code != 0 {
		t.Fatalf("the last reproduction: exit %d:\n%s", code, errb)
	}
	if !strings.Contains(errb, "sokoban/rlvr-s2 resumes") || strings.Count(errb, "resumes") != 1 {
		t.Errorf("the last reproduction should resume rlvr-s2 and keep the rest:\n%s", errb)
	}
	for name, sessions := range map[string]int{"erl-s1": 1, "rlvr-s1": 2, "erl-s2": 1, "rlvr-s2": 2} {
		recs, err := erl.ReadMetrics(erl.RunDir(runDir(name)).Metrics())
		if err != nil {
			t.Fatal(err)
		}
		logged := make([]int, len(recs))
		for i, r := range recs {
			logged[i] = r.Step
		}
		if want := seq(0, steps); !slices.Equal(logged, want) {
			t.Errorf("%s logged steps %v, want each of 0 to %d once", name, logged, steps)
		}
		log, err := os.ReadFile(filepath.Join(dir, "sokoban", name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count("\n"+string(log), "\n=== "); n != sessions {
			t.Errorf("%s was trained in %d sessions, want %d:\n%s", name, n, sessions, log)
		}
	}
	if again, err := os.ReadFile(erl.RunDir(runDir("erl-s1")).Metrics()); err != nil || !bytes.Equal(again, finished) {
		t.Errorf("the finished erl-s1 was trained again (%v)", err)
	}

	var sum report.ReproductionSummary
	raw, err := os.ReadFile(filepath.Join(dir, report.ReproductionSummaryFile))
	if err == nil {
		err = json.Unmarshal(raw, &sum)
	}
	if err != nil || !sum.Complete || sum.Runs != 4 || len(sum.Envs) != 1 || len(sum.Envs[0].Algos) != 2 || sum.Envs[0].TestLevels != 6 {
		t.Fatalf("summary.json (%v):\n%s", err, raw)
	}
	md, err := os.ReadFile(filepath.Join(dir, report.ReproductionReportFile))
	if err != nil {
		t.Fatal(err)
	}
	here := machine.This()
	trained := "The runs trained on (each run's last stretch of training): " + here.CPU
	for _, want := range []string{"erlgo reproduce --env sokoban --seeds 2 --budget 80", "all 4 planned runs finished", "| ERL | 2 | 80 |", "| RLVR | 2 | 80 |", "(sokoban.png)",
		trained, fmt.Sprintf("kernels on the %s path (4 runs).", here.Path)} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sokoban.png")); err != nil {
		t.Error(err)
	}

	// A reproduction of other settings is refused, and keeps its runs.
	code, _, errb = erlgo("", "reproduce", "--out", dir, "--budget", "81")
	if code != 2 || !strings.Contains(errb, "holds a reproduction of other settings: --budget 81 (its: 80)") {
		t.Errorf("another budget: exit %d, %q", code, errb)
	}
	other := filepath.Join(root, "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(tinyReproduce, "batch: 2", "batch: 3", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errb = erlgo("", "reproduce", "--out", dir, "--config", other)
	if code != 2 || !strings.Contains(errb, "--config, in batch") {
		t.Errorf("another config: exit %d, %q", code, errb)
	}
	// The same command, with no flags but --out: every run done, the report written again.
	code, _, errb = erlgo("", "reproduce", "--out", dir)
	if code != 0 || !strings.Contains(errb, "all 4 runs in "+dir+" are done") {
		t.Errorf("continuing a finished reproduction: exit %d, %q", code, errb)
	}

	// Pruned as a committed reproduction is (erl-s1's metrics and checkpoints gone), it is still
	// done, and reported whole: erl-s1 from its summary, its curve too.
	for _, f := range []string{"metrics.jsonl", "metrics.csv", "last.safetensors"} {
		if err := os.Remove(filepath.Join(runDir("erl-s1"), f)); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errb = erlgo("", "reproduce", "--out", dir)
	if code != 0 || !strings.Contains(errb, "all 4 runs in "+dir+" are done") {
		t.Fatalf("a pruned reproduction: exit %d, %q", code, errb)
	}
	md, err = os.ReadFile(filepath.Join(dir, report.ReproductionReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"all 4 planned runs finished", "| ERL | 2 | 80 |", "their metrics.jsonl absent (a committed reproduction keeps each run's config, summary and test scores, not its metrics): `sokoban/erl-s1`.", "| `sokoban/erl-s1` | 80 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the pruned reproduction's report.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(string(md), "Not in the figure") {
		t.Errorf("erl-s1's summary holds its curve, yet the report leaves it out of the figure:\n%s", md)
	}
}

// childProcesses returns the processes whose parent is pid, from /proc.
func childProcesses(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, and ends at the last parenthesis.
		var child, parent int
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if _, err := fmt.Sscan(string(raw), &child); err == nil && len(fields) > 1 {
			if _, err := fmt.Sscan(fields[1], &parent); err == nil && parent == pid {
				kids = append(kids, child)
			}
		}
	}
	return kids
}

// TestReproduceLevels: every run of an environment shares its levels, generated once, or
// those of the config's level files, copied into the reproduction.
func TestReproduceLevels(t *testing.T) {
	root := t.TempDir()
	base := erl.DefaultConfig()
	base.EvalLevels, base.TestLevels = 5, 7
	gen := &reproduction{dir: filepath.Join(root, "gen"), settings: reproduceSettings{Envs: []string{"sokoban", "frozenlake"}, Base: base}}
	var sio stdio
	sio.err = &bytes.Buffer{}
	if err := gen.writeLevels(sio); err != nil {
		t.Fatal(err)
	}
	for _, env := range gen.settings.Envs {
		cfg := base
		cfg.Env, cfg.Seed = env, splitSeed
		wantVal, wantTest, err := erl.Splits(cfg) // a training run of seed 1's
		if err != nil {
			t.Fatal(err)
		}
		val, test := levelFiles(env)
		for path, want := range map[string][]envs.Task{val: wantVal, test: wantTest} {
			got, err := erl.ReadLevels(filepath.Join(gen.dir, path), env)
			if err != nil || !slices.EqualFunc(got, want, equalTasks) {
				t.Errorf("%s: %d levels (%v), want the %d of a run of seed %d", path, len(got), err, len(want), splitSeed)
			}
		}
	}
	// The config's files: its test levels, and validation levels generated apart from them.
	file := filepath.Join(root, "mine.jsonl")
	if err := envs.WriteLevels(file, gen.mustRead(t, "sokoban", "test")[:3]); err != nil {
		t.Fatal(err)
	}
	base.TestFile = file
	given := &reproduction{dir: filepath.Join(root, "given"), settings: reproduceSettings{Envs: []string{"sokoban"}, Base: base}}
	if err := given.writeLevels(sio); err != nil {
		t.Fatal(err)
	}
	if got := given.mustRead(t, "sokoban", "test"); len(got) != 3 || !equalTasks(got[0], gen.mustRead(t, "sokoban", "test")[0]) {
		t.Errorf("the config's test file was not copied: %d levels", len(got))
	}
	if got := given.mustRead(t, "sokoban", "validation"); len(got) != 5 {
		t.Errorf("%d validation levels, want 5 generated", len(got))
	}
}

// mustRead reads the reproduction's split (validation or test) of env.
func (p *reproduction) mustRead(t *testing.T, env, split string) []envs.Task {
	t.Helper()
	val, test := levelFiles(env)
	path := test
	if split == "validation" {
		path = val
	}
	tasks, err := erl.ReadLevels(filepath.Join(p.dir, path), env)
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

// seq returns the integers from a to b.
func seq(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// TestReproduceKeepsCadence: a run already started keeps the spacing of its evaluations and
// checkpoints (the plan's follows the step times this erlgo assumes, which may have changed),
// and a run of any other settings than the plan's is refused, naming them.
func TestReproduceKeepsCadence(t *testing.T) {
	dir := t.TempDir()
	p := &reproduction{dir: dir, settings: reproduceSettings{Envs: []string{envs.EnvFrozenLake}, Algos: []string{"erl", "rlvr"}, Seeds: 1,
		Budget: defaultBudget, MeasureLift: true, Device: "cpu", Base: erl.DefaultConfig()}}
	if err := p.plan(); err != nil {
		t.Fatal(err)
	}
	started := p.runs[0].cfg
	started.EvalEvery, started.CheckpointEvery = p.runs[0].cfg.EvalEvery/3, p.runs[0].cfg.CheckpointEvery/3
	write := func(cfg erl.Config) {
		t.Helper()
		runDir := filepath.Join(dir, p.runs[0].name)
		raw, _ := json.Marshal(cfg)
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(erl.RunDir(runDir).Config(), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(started)
	planned := p.runs[1].cfg
	if _, err := p.inspect(); err != nil {
		t.Fatalf("a run started at other evaluation steps: %v", err)
	}
	if !reflect.DeepEqual(p.runs[0].cfg, started) || !reflect.DeepEqual(p.runs[1].cfg, planned) {
		t.Errorf("after inspect, the started run's config is %+v, want %+v; the other's changed: %v", p.runs[0].cfg, started, !reflect.DeepEqual(p.runs[1].cfg, planned))
	}
	started.Batch++
	write(started)
	if _, err := p.inspect(); err == nil || !strings.Contains(err.Error(), "config.json differs in batch)") {
		t.Errorf("a run of another batch: %v, want a refusal that names batch", err)
	}
}

// TestMakespan: runs are placed in the slot that frees first, after the runs already busy.
func TestMakespan(t *testing.T) {
	m := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Minute
		}
		return out
	}
	for _, tc := range []struct {
		busy, runs []time.Duration
		jobs       int
		want       time.Duration
	}{
		{nil, m(20, 20, 20), 2, 40 * time.Minute},
		{nil, m(20, 20, 20, 20), 2, 40 * time.Minute},
		{m(5, 15), m(20, 20), 2, 35 * time.Minute},
		{nil, m(10), 4, 10 * time.Minute},
		{nil, nil, 2, 0},
	} {
		if got := makespan(tc.busy, tc.runs, tc.jobs); got != tc.want {
			t.Errorf("makespan(%v, %v, %d) = %v, want %v", tc.busy, tc.runs, tc.jobs, got, tc.want)
		}
	}
}

// TestBudget: --budget is a training time or a number of steps, and is said in words.
func TestBudget(t *testing.T) {
	for _, tc := range []struct{ in, want string }{{"20m", "20m of training time"}, {"1h30m", "1h30m of training time"},
		{"2h", "2h of training time"}, {"90s", "1m30s of training time"}, {"300", "300 steps"}} {
		b, err := parseBudget(tc.in)
		if err != nil || b.String() != tc.want {
			t.Errorf("--budget %s: %q, %v; want %q", tc.in, b, err, tc.want)
		}
	}
}

// TestMetricsTail: the progress view reads what a run appends, a line being written only once
// it is whole, and a file replaced (a resumed run's) from its start.
func TestMetricsTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	write := func(flag int, s string) {
		f, err := os.OpenFile(path, flag|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	tail := metricsTail{path: path}
	tail.poll() // no file yet
	if _, ok := tail.last(); ok {
		t.Fatal("a record before the file exists")
	}
	write(os.O_CREATE, `{"step":0,"eval_sampled":0.25}`+"\n"+`{"step":1}`+"\n"+`{"step":2,"eval_sa`)
	tail.poll()
	if r, _ := tail.last(); r.Step != 1 || tail.bestEval != 0.25 {
		t.Errorf("after a torn line: step %d, best %v; want step 1, best 0.25", r.Step, tail.bestEval)
	}
	write(os.O_APPEND, `mpled":0.5}`+"\n"+`{"step":3,"eval_sampled":0.125}`+"\n")
	tail.poll()
	if r, _ := tail.last(); r.Step != 3 || tail.bestEval != 0.5 || *tail.eval != 0.125 {
		t.Errorf("after the line is whole: step %d, best %v, last %v; want 3, 0.5, 0.125", r.Step, tail.bestEval, *tail.eval)
	}
	replaced := path + ".new"
	if err := os.WriteFile(replaced, []byte(`{"step":0,"eval_sampled":0.1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(replaced, path); err != nil {
		t.Fatal(err)
	}
	tail.poll()
	if r, _ := tail.last(); r.Step != 0 || tail.bestEval != 0.1 {
		t.Errorf("after the file is replaced: step %d, best %v; want 0, 0.1", r.Step, tail.bestEval)
	}
}
