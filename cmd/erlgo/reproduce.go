package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/internal/machine"
	"github.com/erlgo/erlgo/model"
	"github.com/erlgo/erlgo/report"
)

const reproduceDoc = `
Reproduces the paper's comparison: trains each algorithm of --algos with seeds 1 to --seeds on
each environment of --env, every run for --budget, as many runs at a time as the machine has
cores (--jobs), and ends by writing into --out a report of them: report.md (a table an
environment of each algorithm's final and best test success, with the mean, range and 95%
interval over its runs; figures of validation success against steps, environment steps and
wall-clock; the random policy at the same levels; the paper's findings beside ours),
summary.json (the same for programs) and a figure an environment, ENV.png.

The algorithms: erl, rlvr (4 attempts a task, as the others), rlvr-10 (10 attempts a task, the
reference's baseline, of about ERL's rollout compute), erl-nomem and erl-norefl.

Each run is an erlgo train process of its own, on its share of the cores (GOMAXPROCS), in
OUT/ENV/ALGO-sSEED, from the config OUT/ENV/ALGO-sSEED.config.json, its output in
OUT/ENV/ALGO-sSEED.log. Every run of an environment is scored at the same levels, which no run
trains on: OUT/levels/ENV-validation.jsonl, scored every few steps, chooses each run's best
checkpoint, and OUT/levels/ENV-test.jsonl scores its last and best checkpoints when it stops
(they are the splits of a training run of seed 1, generated once, unless --config gives level
files).

--budget is each run's training time (20m; the evaluations come on top of it), or its number
of steps (300), as the reference gives every algorithm the same steps. A run is evaluated about
20 times (--eval-every 0: spaced by the step time of its algorithm on its environment), and
checkpointed every other evaluation; a run already started keeps its spacing. --config FILE
(JSON or YAML, the keys of config.json) sets what every run starts from; reproduce then sets each
run's env, algo, group (rlvr-10), seed, steps, time, eval_every, checkpoint_every,
measure_lift, device and its validation and test levels (the file's eval_file and test_file,
where it gives them, are copied into OUT/levels; with more than one environment, give none).

Run again, the same command continues a reproduction: finished runs are kept, stopped ones
resume from their last checkpoint (erlgo train --resume), the others start. erlgo reproduce
--out DIR alone continues DIR's, with the settings it keeps in DIR/reproduce.json; settings
given that differ from them are refused, except --env, --algos and --seeds, which change the
runs it holds. Ctrl-C (or SIGTERM, or SIGHUP) stops every run after its current step, saved,
and once more at once, unsaved. The runs of a reproduction killed outright (kill -9) train on
to the end of their budget, and the next reproduction in DIR waits for them. --dry-run prints
the plan and how long it should take, and changes nothing. A reproduction pruned to each run's
config, summary and test scores (as those committed under bench/results) is still whole: its
report reads each such run from its summary, curves included.`

// The files of a reproduction's directory, besides its runs and the report's files.
const (
	reproduceSettingsFile = "reproduce.json"
	reproduceLockFile     = ".reproduce.lock"
	reproduceLevelsDir    = "levels"
)

// Defaults and bounds of erlgo reproduce.
const (
	defaultBudget = "20m"
	maxSeeds      = 1000
	// timeBudgetSteps is the steps of a run whose budget is a time: more than any run takes.
	timeBudgetSteps = 10_000_000
	// evaluationsPerRun is how often a run is evaluated (--eval-every 0), and
	// checkpointsPerRun how often it saves a numbered checkpoint and last.safetensors.
	evaluationsPerRun = 20
	checkpointsPerRun = 10
	// randomSamples is the number of the random policy's attempts at each level.
	randomSamples = 32
	// splitSeed is the seed of the training run whose validation and test levels every run of
	// a reproduction shares.
	splitSeed = 1
)

// variant is an algorithm of a reproduction: a named algorithm, and the attempts a task.
type variant struct {
	name  string
	algo  string
	group int // attempts a task; 0: the config's
	about string
	// stepSeconds is about a step's training time by environment, in seconds, on one core of
	// this project's machines (the default config, the CPU kernels in Go assembly, the lift
	// measured), from which the evaluations of a time budget are spaced: in 20 minutes,
	// Sokoban's ERL, RLVR and ERL without memory and without reflection made 3,959 to 6,652,
	// 27,148 to 36,046, 4,251 to 5,930 and 3,899 to 6,652 steps, FrozenLake's ERL and RLVR
	// 9,872 to 11,470 and 89,792 to 93,670 (bench/results/reproduce-*-20min); the others are
	// estimates from those.
	stepSeconds map[string]float64
}

// variants are the algorithms erlgo reproduce knows, in the order of its report.
var variants = []variant{
	{"erl", erl.AlgoERL, 0, "ERL", pace(0.24, 0.11)},
	{"rlvr", erl.AlgoRLVR, 0, "RLVR", pace(0.037, 0.013)},
	{"rlvr-10", erl.AlgoRLVR, 10, "RLVR, 10 attempts a task", pace(0.09, 0.033)},
	{"erl-nomem", erl.AlgoERLNoMemory, 0, "ERL without memory", pace(0.23, 0.11)},
	{"erl-norefl", erl.AlgoERLNoReflect, 0, "ERL without reflection", pace(0.24, 0.11)},
}

// pace returns the step times of a variant on Sokoban and FrozenLake.
func pace(sokoban, frozenLake float64) map[string]float64 {
	return map[string]float64{envs.EnvSokoban: sokoban, envs.EnvFrozenLake: frozenLake}
}

func variantNames() []string {
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.name
	}
	return names
}

func findVariant(name string) (variant, bool) {
	for _, v := range variants {
		if v.name == name {
			return v, true
		}
	}
	return variant{}, false
}

// reproduceSettings are a reproduction's settings, kept in its directory as reproduce.json.
// Envs, Algos and Seeds say which runs it holds; the rest must be the same for every run.
type reproduceSettings struct {
	Envs  []string `json:"envs"`
	Algos []string `json:"algos"`
	Seeds int      `json:"seeds"`
	// Budget is --budget as given: a duration, or a number of steps.
	Budget      string `json:"budget"`
	EvalEvery   int    `json:"eval_every"`
	MeasureLift bool   `json:"measure_lift"`
	Device      string `json:"device"`
	// Base is the config every run starts from: the defaults, and the --config file's.
	Base erl.Config `json:"base_config"`
	// ConfigFile is --config as given, for the command that the report shows.
	ConfigFile string `json:"config_file,omitempty"`
}

// decodeSettings decodes a reproduce.json, its base config as erl.DecodeConfig decodes a
// config.json: over the defaults, a key that an older erlgo did not write taking that erlgo's
// behaviour.
func decodeSettings(raw []byte) (reproduceSettings, error) {
	var s reproduceSettings
	var base struct {
		Base json.RawMessage `json:"base_config"`
	}
	if err := errors.Join(json.Unmarshal(raw, &s), json.Unmarshal(raw, &base)); err != nil {
		return s, err
	}
	s.Base = erl.DefaultConfig()
	if len(base.Base) > 0 {
		if _, err := erl.DecodeConfig(base.Base, &s.Base); err != nil {
			return s, fmt.Errorf("base_config: %w", err)
		}
	}
	return s, nil
}

// budget is a run's budget: a training time, or else a number of steps.
type budget struct {
	time  time.Duration
	steps int
}

// parseBudget reads --budget: a positive duration (20m, 1h30m) or number of steps (300).
func parseBudget(s string) (budget, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return budget{}, usagef("--budget %s: give at least 1 step, or a training time such as 20m", s)
		}
		return budget{steps: n}, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return budget{}, usagef("--budget %q: want a training time such as 20m or 1h30m, or a number of steps such as 300", s)
	case d <= 0:
		return budget{}, usagef("--budget %s: a run needs a positive training time", s)
	}
	return budget{time: d}, nil
}

func (b budget) String() string {
	if b.steps > 0 {
		return fmt.Sprintf("%d steps", b.steps)
	}
	return fmt.Sprintf("%s of training time", shortDuration(b.time))
}

// shortDuration formats d to the second without its trailing zero units: 20m, 5h, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// plannedRun is one run of a reproduction.
type plannedRun struct {
	env  string
	v    variant
	seed int
	// name is the run's directory in the reproduction's, ENV/ALGO-sSEED.
	name string
	cfg  erl.Config
}

func (r plannedRun) configFile() string { return r.name + ".config.json" }
func (r plannedRun) logFile() string    { return r.name + ".log" }

// reproduction is a planned reproduction: its directory, settings and runs.
type reproduction struct {
	dir      string
	settings reproduceSettings
	budget   budget
	runs     []plannedRun
}

// levelFiles returns the paths, in the reproduction's directory, of the validation and test
// levels of env.
func levelFiles(env string) (validation, test string) {
	return filepath.Join(reproduceLevelsDir, env+"-validation.jsonl"), filepath.Join(reproduceLevelsDir, env+"-test.jsonl")
}

// evalEvery returns how many steps apart the evaluations of a run of v on env are.
func (p *reproduction) evalEvery(env string, v variant) int {
	if p.settings.EvalEvery > 0 {
		return p.settings.EvalEvery
	}
	steps := float64(p.budget.steps)
	if p.budget.steps == 0 {
		steps = p.budget.time.Seconds() / v.stepSeconds[env]
	}
	return max(1, int(steps/evaluationsPerRun))
}

// plan lays out the runs of the settings, seed by seed (so that the first seed of every
// algorithm finishes first), then environment, then algorithm, and checks each run's config.
func (p *reproduction) plan() error {
	b, err := parseBudget(p.settings.Budget)
	if err != nil {
		return err
	}
	p.budget = b
	for seed := 1; seed <= p.settings.Seeds; seed++ {
		for _, env := range p.settings.Envs {
			for _, name := range p.settings.Algos {
				v, _ := findVariant(name)
				cfg := p.settings.Base
				cfg.Env, cfg.Algo, cfg.Seed, cfg.Device, cfg.MeasureLift = env, v.algo, uint64(seed), p.settings.Device, p.settings.MeasureLift
				if cfg.Switches, err = erl.AlgoSwitches(v.algo); err != nil {
					return err
				}
				if v.group > 0 {
					cfg.Group = v.group
				}
				cfg.Steps, cfg.Time = b.steps, erl.Duration(b.time)
				if b.steps == 0 {
					cfg.Steps = timeBudgetSteps
				}
				cfg.EvalEvery = p.evalEvery(env, v)
				cfg.CheckpointEvery = cfg.EvalEvery * evaluationsPerRun / checkpointsPerRun
				cfg.EvalFile, cfg.TestFile = levelFiles(env)
				r := plannedRun{env: env, v: v, seed: seed, name: filepath.Join(env, fmt.Sprintf("%s-s%d", v.name, seed)), cfg: cfg}
				check := cfg // the level files are checked once written
				check.EvalFile, check.TestFile = "", ""
				if err := check.Validate(); err != nil {
					return usagef("run %s: %v", r.name, err)
				}
				p.runs = append(p.runs, r)
			}
		}
	}
	return nil
}

// command is the command line that makes the reproduction, and continues it.
func (p *reproduction) command() string {
	s := p.settings
	envFlag := strings.Join(s.Envs, ",")
	if len(s.Envs) == len(envs.EnvNames()) {
		envFlag = "all"
	}
	cmd := fmt.Sprintf("erlgo reproduce --env %s --seeds %d --budget %s --algos %s", envFlag, s.Seeds, s.Budget, strings.Join(s.Algos, ","))
	if s.EvalEvery > 0 {
		cmd += fmt.Sprintf(" --eval-every %d", s.EvalEvery)
	}
	if s.MeasureLift {
		cmd += " --measure-lift"
	}
	if s.Device != "cpu" {
		cmd += " --device " + s.Device
	}
	if s.ConfigFile != "" {
		cmd += " --config " + s.ConfigFile
	}
	return cmd + " --out " + p.dir
}

func runReproduce(sio stdio, args []string) error {
	fs := newFlagSet("reproduce", "[--env sokoban|frozenlake|all] [--seeds 3] [--budget 20m] [--algos erl,rlvr,...] [--out DIR] [--dry-run]", reproduceDoc)
	def := erl.DefaultConfig()
	envFlag := fs.String("env", "all", "environments: "+strings.Join(envs.EnvNames(), ", ")+", or all")
	seeds := fs.Int("seeds", 3, "seeds a configuration: 1 to `N`")
	budgetFlag := fs.String("budget", defaultBudget, "each run's training time (20m, 1h30m), or number of steps (300)")
	algos := fs.String("algos", strings.Join(variantNames(), ","), "algorithms, comma-separated")
	out := fs.String("out", filepath.Join("runs", "reproduce"), "the reproduction's `DIR`")
	device := fs.String("device", def.Device, "cpu or cuda")
	jobs := fs.Int("jobs", 0, "runs at a time, each on its share of the cores (0: one a core)")
	evalEvery := fs.Int("eval-every", 0, "evaluate each run on the validation levels every `N` steps (0: about 20 times a run)")
	measureLift := fs.Bool("measure-lift", false, "measure the reflection's lift: a plain retry beside each guided one (off: under a time budget\nits rollouts would come out of ERL's training time)")
	configFile := fs.String("config", "", "config `FILE` (JSON or YAML) that every run starts from")
	dryRun := fs.Bool("dry-run", false, "print the plan and its expected duration, and change nothing")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	given := reproduceSettings{Seeds: *seeds, Budget: *budgetFlag, EvalEvery: *evalEvery, MeasureLift: *measureLift, Device: *device, Base: def}
	switch {
	case *seeds < 1 || *seeds > maxSeeds:
		return usagef("--seeds %d: give 1 to %d seeds", *seeds, maxSeeds)
	case *jobs < 0:
		return usagef("--jobs %d: give a number of runs at a time, or 0 for one a core", *jobs)
	case *evalEvery < 0:
		return usagef("--eval-every %d must not be negative (0: about %d evaluations a run)", *evalEvery, evaluationsPerRun)
	}
	if _, err := parseBudget(*budgetFlag); err != nil {
		return err
	}
	var err error
	if given.Envs, err = parseEnvs(*envFlag); err != nil {
		return err
	}
	if given.Algos, err = parseAlgos(*algos); err != nil {
		return err
	}
	if *configFile != "" {
		if err := loadConfigFile(*configFile, &given.Base, sio.err); err != nil {
			return usageError{err}
		}
		given.ConfigFile = *configFile
		if given.Base.TestFile == "" && given.Base.TestLevels < 1 {
			return usagef("%s: test_levels %d: a reproduction scores every run at test levels", *configFile, given.Base.TestLevels)
		}
		// The runs train in the reproduction's directory, and may continue from another.
		for _, path := range []*string{&given.Base.TrainFile, &given.Base.EvalFile, &given.Base.TestFile} {
			if *path != "" {
				if *path, err = filepath.Abs(*path); err != nil {
					return err
				}
			}
		}
	}
	p := &reproduction{dir: *out}
	if p.settings, err = resolveSettings(*out, given, set); err != nil {
		return err
	}
	if err := p.plan(); err != nil {
		return err
	}
	states, err := p.inspect()
	if err != nil {
		return err
	}
	j := *jobs
	if j == 0 {
		j = runtime.NumCPU()
		if p.settings.Device == "cuda" {
			j = 1 // one GPU: one run at a time
		}
	}
	if *dryRun {
		p.printPlan(sio, states, j)
		return nil
	}
	return p.execute(sio, states, j)
}

// parseEnvs reads --env: an environment, several comma-separated, or all.
func parseEnvs(s string) ([]string, error) {
	if s == "all" { // the paper's order: Sokoban first
		names := envs.EnvNames()
		slices.SortStableFunc(names, func(a, b string) int { return boolOrder(b == envs.EnvSokoban) - boolOrder(a == envs.EnvSokoban) })
		return names, nil
	}
	var out []string
	for _, e := range strings.Split(s, ",") {
		if !slices.Contains(envs.EnvNames(), e) {
			return nil, usagef("--env %q: want %s, or all", e, strings.Join(envs.EnvNames(), ", "))
		}
		if slices.Contains(out, e) {
			return nil, usagef("--env %s: %s is given twice", s, e)
		}
		out = append(out, e)
	}
	return out, nil
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseAlgos reads --algos.
func parseAlgos(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if _, ok := findVariant(a); !ok {
			return nil, usagef("--algos: unknown algorithm %q (want some of %s)", a, strings.Join(variantNames(), ", "))
		}
		if slices.Contains(out, a) {
			return nil, usagef("--algos %s: %s is given twice", s, a)
		}
		out = append(out, a)
	}
	return out, nil
}

// resolveSettings returns the settings of the reproduction in dir: those given, where dir
// holds none yet; else dir's, with the runs that the flags given (set) choose. Other settings
// given that differ from dir's are refused.
func resolveSettings(dir string, given reproduceSettings, set map[string]bool) (reproduceSettings, error) {
	path := filepath.Join(dir, reproduceSettingsFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != reproduceLockFile {
				return given, usagef("%s holds %s and no reproduction (no %s): give another --out, or an empty or new directory",
					dir, e.Name(), reproduceSettingsFile)
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return given, err
	} else if err != nil {
		return given, err
	}
	stored, err := decodeSettings(raw)
	if err != nil {
		return given, fmt.Errorf("%s: %w (not a reproduction's settings; give another --out)", path, err)
	}
	var differ []string
	flags := []struct {
		name         string
		given, saved any
	}{
		{"budget", given.Budget, stored.Budget}, {"eval-every", given.EvalEvery, stored.EvalEvery},
		{"measure-lift", given.MeasureLift, stored.MeasureLift}, {"device", given.Device, stored.Device},
	}
	for _, f := range flags {
		if set[f.name] && f.given != f.saved {
			differ = append(differ, fmt.Sprintf("--%s %v (its: %v)", f.name, f.given, f.saved))
		}
	}
	if set["config"] && !reflect.DeepEqual(given.Base, stored.Base) {
		differ = append(differ, "--config, in "+strings.Join(configDiff(given.Base, stored.Base), ", "))
	}
	if len(differ) > 0 {
		return given, usagef("%s holds a reproduction of other settings: %s; continue it without them (erlgo reproduce --out %s), or give another --out",
			dir, strings.Join(differ, "; "), dir)
	}
	if set["env"] {
		stored.Envs = given.Envs
	}
	if set["algos"] {
		stored.Algos = given.Algos
	}
	if set["seeds"] {
		stored.Seeds = given.Seeds
	}
	return stored, nil
}

// configDiff returns the keys of config.json whose values differ between a and b.
func configDiff(a, b erl.Config) []string {
	keys := func(c erl.Config) map[string]any {
		raw, _ := json.Marshal(c)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return m
	}
	ka, kb := keys(a), keys(b)
	var differ []string
	for _, k := range slices.Sorted(maps.Keys(ka)) {
		if !reflect.DeepEqual(ka[k], kb[k]) {
			differ = append(differ, k)
		}
	}
	return differ
}

// runState is where a run of a reproduction stands.
type runState string

const (
	statePending runState = "pending" // not started, or stopped and to be resumed
	stateRunning runState = "running"
	stateDone    runState = "done"    // its budget is spent, its test levels scored
	stateStopped runState = "stopped" // stopped by a signal, saved: resumes
	stateFailed  runState = "failed"
)

// found is what a run's directory holds when a reproduction starts.
type found struct {
	// done: the run finished. resume: it has a checkpoint to continue from. restart: it holds
	// files but no checkpoint (it was killed before it saved one): it starts again.
	done, resume, restart bool
	summary               *report.Summary
}

// inspect finds where each run stands, and refuses a run directory whose run is not the one
// planned.
func (p *reproduction) inspect() ([]found, error) {
	out := make([]found, len(p.runs))
	for i, r := range p.runs {
		dir := filepath.Join(p.dir, r.name)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
			continue
		} else if err != nil {
			return nil, err
		}
		if raw, err := os.ReadFile(erl.RunDir(dir).Config()); err == nil {
			cfg := erl.DefaultConfig()
			if _, err := erl.DecodeConfig(raw, &cfg); err != nil {
				return nil, fmt.Errorf("%s: %w", erl.RunDir(dir).Config(), err)
			}
			// A run keeps the evaluations it started with: the plan spaces them by this
			// erlgo's step times, which need not be those of the erlgo that started it.
			planned := r.cfg
			planned.EvalEvery, planned.CheckpointEvery = cfg.EvalEvery, cfg.CheckpointEvery
			if !reflect.DeepEqual(cfg, planned) {
				return nil, usagef("%s holds a run of other settings than the reproduction's (config.json differs in %s): move it away, or give another --out",
					dir, strings.Join(configDiff(cfg, planned), ", "))
			}
			p.runs[i].cfg = planned
		}
		f := found{}
		if s, err := report.ReadSummary(dir); err == nil {
			f.summary = &s
			_, terr := os.Stat(erl.RunDir(dir).TestScores())
			f.done = (s.Status == erl.StatusFinished || s.Status == erl.StatusTimeLimit) && terr == nil
		}
		if !f.done {
			if _, err := os.Stat(erl.RunDir(dir).Last()); err == nil {
				f.resume = true
			} else {
				f.restart = true
			}
		}
		out[i] = f
	}
	return out, nil
}

// trainArgs returns the erlgo train arguments that start or continue run r, which the
// reproduction found as f, run from the reproduction's directory.
func trainArgs(r plannedRun, f found) []string {
	switch {
	case f.resume:
		return []string{"train", "--resume", erl.RunDir(r.name).Last()}
	case f.restart:
		return []string{"train", "--config", r.configFile(), "--out", r.name, "--overwrite"}
	}
	return []string{"train", "--config", r.configFile(), "--out", r.name}
}

// remaining estimates the training time left to run r, found as f: its budget less what it
// has spent; 0 for a step budget, which has no duration before it runs.
func (p *reproduction) remaining(f found) time.Duration {
	if p.budget.time == 0 || f.done {
		return 0
	}
	left := p.budget.time
	if f.summary != nil {
		left -= time.Duration(f.summary.WallSeconds * float64(time.Second))
	}
	return max(0, left)
}

// printPlan prints the plan: the runs, what each will do, how many at a time, and how long.
func (p *reproduction) printPlan(sio stdio, states []found, jobs int) {
	w := sio.out
	todo, done, resume := 0, 0, 0
	var left []time.Duration
	for _, f := range states {
		switch {
		case f.done:
			done++
		case f.resume:
			resume++
		}
		if !f.done {
			todo++
			left = append(left, p.remaining(f))
		}
	}
	procs, jobs := coresEach(jobs), min(jobs, max(1, todo))
	fmt.Fprintf(w, "erlgo reproduce: the plan (--dry-run: nothing is changed)\n\n")
	fmt.Fprintf(w, "%d runs: %s × %s × seeds 1 to %d, into %s\n", len(p.runs), strings.Join(p.settings.Envs, ", "),
		strings.Join(p.settings.Algos, ", "), p.settings.Seeds, p.dir)
	fmt.Fprintf(w, "each run: %s; validation every", p.budget)
	for i, env := range p.settings.Envs {
		if i > 0 {
			fmt.Fprint(w, ";")
		}
		if len(p.settings.Envs) > 1 {
			fmt.Fprintf(w, " %s:", env)
		}
		for j, name := range p.settings.Algos {
			if j > 0 {
				fmt.Fprint(w, ",")
			}
			v, _ := findVariant(name)
			fmt.Fprintf(w, " %s (%s)", plural(p.evalEvery(env, v), "step"), name)
		}
	}
	fmt.Fprintf(w, "\n%d done, %d to resume, %d to start; %d at a time (%d cores: GOMAXPROCS %d each)\n",
		done, resume, todo-resume, jobs, runtime.NumCPU(), procs)
	if todo > 0 {
		if p.budget.time > 0 {
			fmt.Fprintf(w, "expected wall-clock: %s of training (%d runs of %s, %d at a time), and the evaluations on top (some 20 a run, seconds each)\n",
				shortDuration(makespan(nil, left, jobs)), todo, shortDuration(p.budget.time), jobs)
		} else {
			fmt.Fprintf(w, "expected wall-clock: %d runs of %d steps, %d at a time: a step takes from a fraction of a second (RLVR) to seconds (ERL) a core\n",
				todo, p.budget.steps, jobs)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\twill\tcommand (in "+p.dir+")")
	for i, r := range p.runs {
		f := states[i]
		will := "start"
		switch {
		case f.done:
			fmt.Fprintf(tw, "%s\tkeep\tdone: %s\n", r.name, doneLine(f.summary))
			continue
		case f.resume && f.summary != nil:
			will = fmt.Sprintf("resume after step %d", f.summary.Step)
		case f.resume:
			will = "resume"
		case f.restart:
			will = "start again (no checkpoint)"
		}
		fmt.Fprintf(tw, "%s\t%s\terlgo %s\n", r.name, will, strings.Join(trainArgs(r, f), " "))
	}
	tw.Flush()
}

// doneLine says in a few words what a finished run, of summary s, came to.
func doneLine(s *report.Summary) string {
	line := fmt.Sprintf("%s, %s of training", plural(s.Step, "step"), shortDuration(seconds(s.WallSeconds)))
	if t := s.Test; t != nil {
		line += fmt.Sprintf("; test success %.3f (best checkpoint %.3f)", t.Last.Sampled.Success, t.Best.Sampled.Success)
	}
	return line
}

// plural formats n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// makespan returns how long runs of the given durations take, jobs at a time, each started
// as soon as a slot is free, in the order given, after runs that are busy for the given times
// already, one a slot.
func makespan(busy, durations []time.Duration, jobs int) time.Duration {
	slots := make([]time.Duration, max(1, jobs, len(busy)))
	copy(slots, busy)
	for _, d := range durations {
		i := slices.Index(slots, slices.Min(slots))
		slots[i] += d
	}
	return slices.Max(slots)
}

// writeLevels writes the validation and test levels of each environment, where they are not
// there yet: those of the base config's level files, or else the splits of a training run of
// splitSeed with the base config's sizes. It then checks them as a run will read them.
func (p *reproduction) writeLevels(sio stdio) error {
	if err := os.MkdirAll(filepath.Join(p.dir, reproduceLevelsDir), 0o755); err != nil {
		return err
	}
	for _, env := range p.settings.Envs {
		val, test := levelFiles(env)
		val, test = filepath.Join(p.dir, val), filepath.Join(p.dir, test)
		_, errVal := os.Stat(val)
		_, errTest := os.Stat(test)
		cfg := p.settings.Base
		cfg.Env, cfg.Seed = env, splitSeed
		if errVal != nil || errTest != nil {
			vt, tt, err := erl.Splits(cfg)
			if err != nil {
				return fmt.Errorf("%s levels: %w", env, err)
			}
			if err := errors.Join(envs.WriteLevels(val, vt), envs.WriteLevels(test, tt)); err != nil {
				return err
			}
			fmt.Fprintf(sio.err, "wrote the %s levels that every run shares: %d validation levels to %s, %d test levels to %s\n", env, len(vt), val, len(tt), test)
		}
		cfg.EvalFile, cfg.TestFile = val, test
		if _, _, err := erl.Splits(cfg); err != nil {
			return err
		}
	}
	return nil
}

// writeSettings writes the reproduction's settings, which make its directory a
// reproduction's.
func (p *reproduction) writeSettings() error {
	return atomicfile.WriteJSON(filepath.Join(p.dir, reproduceSettingsFile), p.settings)
}

// writeConfigs writes each run's config.
func (p *reproduction) writeConfigs() error {
	for _, r := range p.runs {
		if err := os.MkdirAll(filepath.Join(p.dir, r.env), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteJSON(filepath.Join(p.dir, r.configFile()), r.cfg); err != nil {
			return err
		}
	}
	return nil
}

// writeReport writes the reproduction's report from its finished runs.
func (p *reproduction) writeReport() (report.ReproductionSummary, error) {
	v := buildVersion()
	written := fmt.Sprintf("Report written by erlgo %s on %s, on %s.", v.Version, time.Now().Format("2006-01-02"), machine.This())
	mc, err := model.NewConfig(p.settings.Base.Size)
	if err != nil {
		return report.ReproductionSummary{}, err
	}
	rep := report.Reproduction{Command: p.command(), Budget: p.budget.String(),
		Model: fmt.Sprintf("the %s model (%d parameters)", p.settings.Base.Size, mc.NumParams())}
	for _, env := range p.settings.Envs {
		valFile, testFile := levelFiles(env)
		val, err := erl.ReadLevels(filepath.Join(p.dir, valFile), env)
		if err != nil {
			return report.ReproductionSummary{}, err
		}
		test, err := erl.ReadLevels(filepath.Join(p.dir, testFile), env)
		if err != nil {
			return report.ReproductionSummary{}, err
		}
		e := report.ReproductionEnv{Env: env, ValidationFile: valFile, TestFile: testFile, ValidationLevels: len(val), TestLevels: len(test), RandomSamples: randomSamples}
		if e.Random, err = erl.EvaluateRandom(test, randomSamples, splitSeed); err != nil {
			return report.ReproductionSummary{}, err
		}
		if e.RandomValidation, err = erl.EvaluateRandom(val, randomSamples, splitSeed); err != nil {
			return report.ReproductionSummary{}, err
		}
		for _, name := range p.settings.Algos {
			v, _ := findVariant(name)
			a := report.ReproductionAlgo{Name: v.name, About: v.about}
			for _, r := range p.runs {
				if r.env != env || r.v.name != name {
					continue
				}
				a.Planned++
				run, ok, err := p.finishedRun(r)
				if err != nil {
					return report.ReproductionSummary{}, err
				}
				if ok {
					a.Runs = append(a.Runs, run)
				}
			}
			e.Algos = append(e.Algos, a)
		}
		rep.Envs = append(rep.Envs, e)
	}
	var machines []*machine.Machine
	for _, e := range rep.Envs {
		for _, a := range e.Algos {
			for _, r := range a.Runs {
				machines = append(machines, r.Summary.Machine)
			}
		}
	}
	rep.About = []string{written}
	if len(machines) > 0 {
		rep.About = append(rep.About, "The runs trained on (each run's last stretch of training): "+trainedOn(machines)+".")
	}
	return report.WriteReproduction(p.dir, rep)
}

// trainedOn says where runs trained, from the machines their summaries record (nil where a
// summary does not): each machine with its number of runs, in the order of their first runs.
func trainedOn(machines []*machine.Machine) string {
	var names []string
	runs := map[string]int{}
	unrecorded := 0
	for _, m := range machines {
		if m == nil {
			unrecorded++
			continue
		}
		if runs[m.String()] == 0 {
			names = append(names, m.String())
		}
		runs[m.String()]++
	}
	var parts []string
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s (%s)", name, plural(runs[name], "run")))
	}
	if unrecorded > 0 {
		parts = append(parts, fmt.Sprintf("not recorded for %s, whose summaries predate it", plural(unrecorded, "run")))
	}
	return strings.Join(parts, "; ")
}

// finishedRun reads the summary, records and test scores of run r, if it finished.
func (p *reproduction) finishedRun(r plannedRun) (report.Run, bool, error) {
	dir := filepath.Join(p.dir, r.name)
	s, err := report.ReadSummary(dir)
	if errors.Is(err, fs.ErrNotExist) || err == nil && s.Status != erl.StatusFinished && s.Status != erl.StatusTimeLimit {
		return report.Run{}, false, nil
	} else if err != nil {
		return report.Run{}, false, err
	}
	// A committed reproduction keeps its runs' summaries and test scores, not their metrics: such
	// a run is reported from its summary.
	recs, err := erl.ReadMetrics(erl.RunDir(dir).Metrics())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return report.Run{}, false, err
	}
	ts, err := erl.ReadTestScores(erl.RunDir(dir).TestScores())
	if err != nil {
		return report.Run{}, false, err
	}
	return report.Run{Name: r.name, Records: recs, Test: &ts, Summary: &s}, true, nil
}
