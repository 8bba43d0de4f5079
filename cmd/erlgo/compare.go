package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/machine"
	"github.com/erlgo/erlgo/report"
)

const compareDoc = `
Compares training runs: prints a table of each run's length, cost, final and best validation
success and late training success before and after reflection, and writes one figure of
validation success (sampled; greedy where a run, or one run of a group, has no sampled
evaluation) against training steps, environment steps and wall-clock minutes. Runs are named
by their directory's base name; runs whose names collide are named by the algorithm in their
config.json, then by path.

Where runs have test scores (test-scores.json: their best and last checkpoints scored on their
test levels when they stopped) or measured the reflection's lift, a second table gives each
group's test success of the best checkpoints (one run: with its 95% interval, a bootstrap over
levels; several: mean and range), the lift pooled over its runs (with its 95% interval, a
bootstrap over the retried tasks), and a third the test success by optimal solution length.
Report these: the validation levels chose the best checkpoints.

Runs given the same name, by --names (erl,erl,erl,rlvr,rlvr,rlvr) or by --group-by-algo, form a
group, seeds of one configuration say. A group of several runs is drawn as the mean of their
validation success, over the steps, environment steps or minutes that all of them reach, with a
band from their minimum to their maximum; the table then has a row a group: the number of runs,
their mean length and cost, and the mean and range (min–max) of their final and best validation
success. Every run of such a group must have a validation evaluation.

Where every run was scored at the same test levels (its test.jsonl or, for a run pruned of
it, the level file that its config.json names in the reproduction holding it), a last table
gives the first group's test success (sampled) less each other group's, of the last and the
best checkpoints, with 95% intervals from a bootstrap over runs and levels, the levels drawn
alike for both groups; where they were not, compare says why it gives none. A run pruned to
its config.json, summary.json and test-scores.json (as a committed reproduction keeps its
runs) is compared from its summary: its validation curve, its end and its lift. Where the
runs' summaries say they trained on different machines (or cores), compare notes it, with
each machine's runs: their wall-clock and time-budgeted figures then mix the machines' speeds.

With --json standard output is one JSON object, {"groups": [...], "differences": [...]}, each
group with its runs, their test scores and lifts (see the second table), and the differences
where there are any; the tables go to standard error.`

// runCompare is the compare command.
func runCompare(sio stdio, args []string) error {
	fs := newFlagSet("compare", "RUN_DIR... [--out FILE.png] [--names a,b,c | --group-by-algo] [--baseline random=0.027]", compareDoc)
	out := fs.String("out", "compare.png", "figure `FILE` (PNG)")
	names := fs.String("names", "", "comma-separated run `NAMES`, one per RUN_DIR; runs of one name form a group")
	byAlgo := fs.Bool("group-by-algo", false, "name each run by the algorithm in its config.json, so that the runs of each algorithm form a group")
	baseline := fs.String("baseline", "", "dashed reference lines, `NAME=SUCCESS[,...]` (e.g. random=0.023 from erlgo eval --random)")
	asJSON := fs.Bool("json", false, "write the groups, their test scores and lifts as one JSON object on standard output (the tables on standard error)")

	dirs, err := parseFlagsAndArgs(fs, args, sio)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usagef("no RUN_DIR given")
	}
	var runNames []string
	switch {
	case *names != "" && *byAlgo:
		return usagef("--names and --group-by-algo both name the runs: give one")
	case *names != "":
		runNames = strings.Split(*names, ",")
		if len(runNames) != len(dirs) {
			return usagef("--names gives %d names for %d run dirs", len(runNames), len(dirs))
		}
	case !*byAlgo:
		runNames = defaultRunNames(dirs)
	}

	var baselines []report.Baseline
	if *baseline != "" {
		for _, kv := range strings.Split(*baseline, ",") {
			name, value, ok := strings.Cut(kv, "=")
			v, err := strconv.ParseFloat(value, 64)
			if !ok || name == "" || err != nil || v < 0 || v > 1 {
				return usagef("--baseline %q: want NAME=SUCCESS with SUCCESS in [0, 1]", kv)
			}
			baselines = append(baselines, report.Baseline{Name: name, Success: v})
		}
	}

	runs := make([]report.Run, len(dirs))
	machines := make([]*machine.Machine, len(dirs))
	for i, dir := range dirs {
		if runs[i], err = loadRun(dir); err != nil {
			return err
		}
		if s, err := report.ReadSummary(dir); err == nil {
			machines[i] = s.Machine
		}
	}
	if *byAlgo {
		runNames = make([]string, len(dirs))
		for i, dir := range dirs {
			if runNames[i] = configAlgo(dir); runNames[i] == "" {
				return fmt.Errorf("--group-by-algo: run dir %s has no config.json naming its algo", dir)
			}
		}
	}
	groups := groupRuns(runs, runNames)

	var table string
	if len(groups) == len(runs) {
		// No runs to pool: the table of single runs, which says more about each.
		for i, g := range groups {
			runs[i].Name = g.Name
		}
		table = report.CompareTable(runs)
	} else {
		var err error
		if table, err = report.CompareGroupTable(groups); err != nil {
			return err
		}
	}
	reports := report.CompareReports(groups)
	tables := tableWriter(sio, *asJSON)
	fmt.Fprint(tables, table+report.TestTable(reports))
	diffs, whyNot := report.TestDifferences(groups)
	switch {
	case len(diffs) > 0:
		fmt.Fprint(tables, report.DifferenceTable(diffs))
	case len(groups) > 1 && slices.ContainsFunc(runs, func(r report.Run) bool { return r.Test != nil }):
		fmt.Fprintf(tables, "\nno differences of test success between the groups: %s\n", whyNot)
	}
	if differentMachines(machines) {
		fmt.Fprintf(sio.err, "\nnote: these runs trained on different machines or cores, whose speeds differ (and whose kernel paths "+
			"can make the runs themselves differ): read their wall-clock and time-budgeted results with care. %s\n", trainedOn(machines))
	}
	if err := report.PlotCompareGroups(*out, groups, baselines...); err != nil {
		return err
	}
	fmt.Fprintf(sio.err, "wrote %s\n", *out)
	if *asJSON {
		out := map[string]any{"groups": reports}
		if len(diffs) > 0 {
			out["differences"] = diffs
		}
		return writeJSON(sio, out)
	}
	return nil
}

// groupRuns gathers runs into groups by their names, one name each, in the order of the
// groups' first runs. The runs keep their own names, their directories, which tell them apart
// within a group.
func groupRuns(runs []report.Run, names []string) []report.Group {
	var groups []report.Group
	index := make(map[string]int)
	for i, name := range names {
		j, ok := index[name]
		if !ok {
			j = len(groups)
			index[name] = j
			groups = append(groups, report.Group{Name: name})
		}
		groups[j].Runs = append(groups[j].Runs, runs[i])
	}
	return groups
}

// differentMachines reports whether the machines recorded hold two that differ.
func differentMachines(machines []*machine.Machine) bool {
	var first *machine.Machine
	for _, m := range machines {
		switch {
		case m == nil:
		case first == nil:
			first = m
		case *m != *first:
			return true
		}
	}
	return false
}

// loadRun reads the run in dir: its records or, where it was pruned to its summary (a
// committed run keeps its config, summary and test scores, not its metrics), its summary; its
// test scores, where it has them, and which test levels they are of.
func loadRun(dir string) (report.Run, error) {
	run := report.Run{Name: dir}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return run, fmt.Errorf("run dir %s does not exist", dir)
	case err != nil:
		return run, err
	case !info.IsDir():
		return run, fmt.Errorf("%s is not a run directory", dir)
	}
	path := erl.RunDir(dir).Metrics()
	recs, err := erl.ReadMetrics(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s, err := report.ReadSummary(dir)
		if errors.Is(err, os.ErrNotExist) {
			return run, fmt.Errorf("run dir %s has neither %s nor %s: not a run, or one that has not begun", dir, erl.MetricsJSONLFile, report.SummaryFile)
		} else if err != nil {
			return run, err
		}
		run.Summary = &s
	case err != nil:
		return run, err
	case len(recs) == 0:
		return run, fmt.Errorf("%s has no records yet: the run has not finished a step", path)
	}
	run.Records = recs
	switch ts, err := erl.ReadTestScores(erl.RunDir(dir).TestScores()); {
	case err == nil:
		run.Test = &ts
	case !errors.Is(err, os.ErrNotExist):
		return run, err
	}
	run.TestLevels, err = testLevelsID(dir)
	return run, err
}

// testLevelsID identifies the test levels of the run in dir by the SHA-256 of their file: the
// run's test.jsonl or, where it was pruned, the file its config.json names, which a run of a
// reproduction names relative to the reproduction's directory; "" where neither is there.
func testLevelsID(dir string) (string, error) {
	path := erl.RunDir(dir).Test()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		path = configTestFile(dir)
	}
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// configTestFile returns the test level file that the config.json in dir names: as it is
// where absolute, under the reproduction holding the run where relative (a reproduction's run
// dir is REPRODUCTION/ENV/RUN); "" where it names none or is not found so.
func configTestFile(dir string) string {
	raw, err := os.ReadFile(erl.RunDir(dir).Config())
	var cfg struct {
		TestFile string `json:"test_file"`
	}
	if err != nil || json.Unmarshal(raw, &cfg) != nil || cfg.TestFile == "" {
		return ""
	}
	if filepath.IsAbs(cfg.TestFile) {
		return cfg.TestFile
	}
	root := filepath.Join(dir, "..", "..")
	if _, err := os.Stat(filepath.Join(root, reproduceSettingsFile)); err != nil {
		return ""
	}
	return filepath.Join(root, cfg.TestFile)
}

// defaultRunNames names each run by its directory's base name. Runs whose names collide are
// renamed by the algorithm in their config.json, and those that still collide by their path.
func defaultRunNames(dirs []string) []string {
	names := make([]string, len(dirs))
	for i, dir := range dirs {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs // so that "." is named too
		}
		names[i] = filepath.Base(dir)
	}
	for _, rename := range []func(dir string) string{configAlgo, filepath.Clean} {
		count := make(map[string]int)
		for _, n := range names {
			count[n]++
		}
		for i, n := range names {
			if count[n] > 1 {
				if r := rename(dirs[i]); r != "" {
					names[i] = r
				}
			}
		}
	}
	return names
}

// configAlgo returns the "algo" of the config.json in dir, or "" if there is none.
func configAlgo(dir string) string {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return ""
	}
	var cfg struct {
		Algo string `json:"algo"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return ""
	}
	return cfg.Algo
}
