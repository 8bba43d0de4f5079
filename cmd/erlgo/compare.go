package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/erlgo/erlgo/erl"
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

With --json standard output is one JSON object, {"groups": [...]}, each group with its runs,
their test scores and lifts (see the second table); the tables go to standard error.`

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
	for i, dir := range dirs {
		recs, err := readRun(dir)
		if err != nil {
			return err
		}
		runs[i] = report.Run{Name: dir, Records: recs}
		switch ts, err := erl.ReadTestScores(erl.RunDir(dir).TestScores()); {
		case err == nil:
			runs[i].Test = &ts
		case !errors.Is(err, os.ErrNotExist):
			return err
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
	if err := report.PlotCompareGroups(*out, groups, baselines...); err != nil {
		return err
	}
	fmt.Fprintf(sio.err, "wrote %s\n", *out)
	if *asJSON {
		return writeJSON(sio, map[string]any{"groups": reports})
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

// readRun reads the records of the run in dir, with errors that say what is wrong with dir.
func readRun(dir string) ([]erl.Record, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("run dir %s does not exist", dir)
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, fmt.Errorf("%s is not a run directory", dir)
	}
	path := filepath.Join(dir, erl.MetricsJSONLFile)
	recs, err := erl.ReadMetrics(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("run dir %s has no %s: not a run, or one that has not begun", dir, erl.MetricsJSONLFile)
	case err != nil:
		return nil, err
	case len(recs) == 0:
		return nil, fmt.Errorf("%s has no records yet: the run has not finished a step", path)
	}
	return recs, nil
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
