package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/report"
)

const viewDoc = `
Writes a self-contained HTML page of a training run, to open in a browser from the file, with
no server and no network: the curves of its metrics (success, the loss and its terms, the
lift of reflection where the run reflects, peak memory), and a browser of the episodes it
logged at its evaluated steps, filtered by step and by outcome, each played back move by move
on a drawn board: the first attempt, its feedback, the reflection, the second attempt.

Training keeps RUN_DIR/view.html up to date at every evaluation; erlgo view writes it again,
for a run of an older erlgo or while a run goes on. The page's path is printed on standard
output.`

// runView is the view command.
func runView(sio stdio, args []string) error {
	flags := newFlagSet("view", "RUN_DIR [--out FILE.html]", viewDoc)
	out := flags.String("out", "", "page `FILE` (default RUN_DIR/view.html)")
	args, err := parseFlagsAndArgs(flags, args, sio)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("give one RUN_DIR (got %d)", len(args))
	}
	dir := erl.RunDir(args[0])
	run, err := loadRun(string(dir))
	if err != nil {
		return err
	}
	recs := run.Records
	if len(recs) == 0 {
		return fmt.Errorf("run dir %s has no %s (a committed run keeps only its summary): its curves and episodes are gone", dir, erl.MetricsJSONLFile)
	}
	eps, err := erl.ReadEpisodes(dir.Episodes())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	sum, err := report.ReadSummary(string(dir))
	if errors.Is(err, fs.ErrNotExist) { // a run of an older erlgo: no status, but its steps
		state := erl.RunState{Step: recs[len(recs)-1].Step, Steps: configSteps(string(dir))}
		if sum, err = report.SummarizeRun(dir, recs, state); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = filepath.Join(string(dir), report.ViewFile)
	}
	if err := report.WriteViewTo(path, dir, recs, eps, sum); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	fmt.Fprintf(sio.err, "%d metrics records and %d episodes; open it in a browser: file://%s\n", len(recs), len(eps), abs)
	fmt.Fprintln(sio.out, path)
	return nil
}

// configSteps returns the "steps" of the config.json in dir, or 0 if there is none.
func configSteps(dir string) int {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return 0
	}
	var cfg struct {
		Steps int `json:"steps"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return 0
	}
	return cfg.Steps
}
