package erl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/model"
)

// RunDir lays out a training run's directory.
type RunDir string

// Config is the resolved configuration of the run.
func (d RunDir) Config() string { return filepath.Join(string(d), "config.json") }

// Last is the checkpoint of the latest saved step, the one to resume from.
func (d RunDir) Last() string { return filepath.Join(string(d), "last.safetensors") }

// Best is the checkpoint of the best validation evaluation so far.
func (d RunDir) Best() string { return filepath.Join(string(d), "best.safetensors") }

// Validation and Test are the run's validation and test levels as level files, for erlgo
// eval --levels. (A run of an erlgo before the test split has heldout.jsonl, its validation
// levels, instead.)
func (d RunDir) Validation() string { return filepath.Join(string(d), "validation.jsonl") }

// Test: see Validation.
func (d RunDir) Test() string { return filepath.Join(string(d), "test.jsonl") }

// TestScores is the scoring of the run's test levels (TestScores), written when the run stops.
func (d RunDir) TestScores() string { return filepath.Join(string(d), TestScoresFile) }

// Metrics is the run's metrics.jsonl.
func (d RunDir) Metrics() string { return filepath.Join(string(d), MetricsJSONLFile) }

// Episodes is the run's episodes.jsonl.
func (d RunDir) Episodes() string { return filepath.Join(string(d), EpisodesFile) }

// Numbered is the periodic checkpoint of a step.
func (d RunDir) Numbered(step int) string {
	return filepath.Join(string(d), fmt.Sprintf("step-%06d.safetensors", step))
}

// RunFiles are the glob patterns, relative to a run directory, of the files Train writes
// there, temporary files of an interrupted write included.
var RunFiles = []string{"config.json", "validation.jsonl", "test.jsonl", TestScoresFile, "heldout.jsonl",
	MetricsJSONLFile, EpisodesFile, "last.safetensors", "best.safetensors", "step-*.safetensors", ".*.tmp*"}

// Status says where a training run stands.
type Status string

// The statuses of a run.
const (
	StatusRunning     Status = "running"     // between evaluations
	StatusFinished    Status = "finished"    // every configured step is done
	StatusTimeLimit   Status = "time limit"  // stopped by Config.Time before its last step
	StatusInterrupted Status = "interrupted" // stopped by its context (Ctrl-C, a signal): resumable
	StatusFailed      Status = "failed"      // stopped by an error
)

// RunState is where a run stands when Train reports it.
type RunState struct {
	Status Status
	// Step is the number of steps done; Steps the number the run is configured for.
	Step, Steps int
	// Err is what stopped a failed run.
	Err error
}

// TrainOptions are where Train reports, besides the run directory.
type TrainOptions struct {
	// Progress receives the progress bar and notices (nil: none).
	Progress io.Writer
	// Report, when not nil, is called after every evaluation, once the evaluation's records
	// are written, and once more as Train returns, whatever stopped the run (a failure
	// included), once the last checkpoint is saved. It keeps whatever a reader of the run
	// directory looks at up to date (cmd/erlgo passes report.Refresh: plots, a summary, the
	// episodes as text) without erl knowing any of it. An error it returns while the run goes
	// on is shown on Progress, and the run goes on; one it returns at the end is returned.
	Report func(RunDir, RunState) error
}

// Train trains until the config's steps or time are spent, or ctx is cancelled (Ctrl-C),
// writing into dir the resolved config, the validation and test levels, metrics.jsonl (a
// Record a step, and one for step 0: the initial policy's evaluation), episodes.jsonl (the
// Episodes of every evaluated step), and the checkpoints. It evaluates on the validation
// levels before the first step, every Config.EvalEvery steps, and after the last, keeping the
// best checkpoint by them. Whenever the run stops, unless it failed, it scores the last and
// the best checkpoint on the test levels into test-scores.json (TestScores). It returns why
// the run stopped. A cancelled run saves its last checkpoint and returns StatusInterrupted
// and no error: it can be resumed. A failed step (a non-finite loss or gradient) stops the
// run with an error and leaves the last good checkpoint in place.
func Train(ctx context.Context, t *Trainer, dir RunDir, opt TrainOptions) (status Status, err error) {
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	cfg := t.Config
	report := func(s Status, err error) error {
		if opt.Report == nil {
			return nil
		}
		return opt.Report(dir, RunState{Status: s, Step: t.StepsDone, Steps: cfg.Steps, Err: err})
	}

	if err := os.MkdirAll(string(dir), 0o755); err != nil {
		return StatusFailed, err
	}
	if err := atomicfile.WriteJSON(dir.Config(), t.Config); err != nil {
		return StatusFailed, err
	}
	if err := envs.WriteLevels(dir.Validation(), t.ValTasks); err != nil {
		return StatusFailed, err
	}
	if len(t.TestTasks) > 0 {
		if err := envs.WriteLevels(dir.Test(), t.TestTasks); err != nil {
			return StatusFailed, err
		}
	}
	metrics, err := OpenMetrics(string(dir), t.StepsDone)
	if err != nil {
		return StatusFailed, err
	}
	episodes, err := OpenEpisodes(string(dir), t.StepsDone)
	if err != nil {
		metrics.Close()
		return StatusFailed, err
	}
	defer func() {
		// The logs are closed before the last report reads them.
		err = errors.Join(err, metrics.Close(), episodes.Close())
		if status != StatusFailed && len(t.TestTasks) > 0 {
			if terr := t.scoreTest(dir, progress); terr != nil {
				err = errors.Join(err, fmt.Errorf("erl: the run is saved, but its test levels were not scored: %w", terr))
			}
		}
		if status == StatusFailed {
			err = errors.Join(err, report(status, err))
		} else if rerr := report(status, nil); rerr != nil {
			err = errors.Join(err, fmt.Errorf("erl: the run is saved, but not its report: %w", rerr))
		}
	}()
	reportMidRun := func() {
		if err := report(StatusRunning, nil); err != nil {
			fmt.Fprintf(progress, "the report of step %d was not written (training goes on): %v\n", t.StepsDone, err)
		}
	}
	logged := -1 // the last step whose episodes are in episodes.jsonl
	logEpisodes := func() error {
		if t.Last == nil || logged == t.StepsDone {
			return nil
		}
		eps, err := t.episodes()
		if err != nil {
			return err
		}
		logged = t.StepsDone
		return episodes.Write(eps)
	}

	budget := time.Duration(cfg.Time)
	spent := func() bool { return budget > 0 && time.Duration(t.Totals.WallSeconds*float64(time.Second)) >= budget }
	bar := newProgressBar(progress, cfg.Steps, t.StepsDone, budget)
	if t.StepsDone == 0 && ctx.Err() == nil {
		rec := Record{Step: 0}
		if err := t.evaluate(&rec, dir); err != nil {
			return StatusFailed, err
		}
		if err := metrics.Write(rec); err != nil {
			return StatusFailed, err
		}
		fmt.Fprintf(progress, "step 0 (the initial policy): validation success greedy %.3f, sampled %.3f\n", *rec.EvalGreedy, *rec.EvalSampled)
		bar.evaluated(rec)
		reportMidRun()
	}
	segmentStart := t.Totals.WallSeconds
	for t.StepsDone < cfg.Steps && !spent() {
		if ctx.Err() != nil {
			bar.finish()
			fmt.Fprintf(progress, "interrupted after step %d: saving %s\n", t.StepsDone, dir.Last())
			if err := logEpisodes(); err != nil {
				return StatusFailed, err
			}
			if err := t.Save(dir.Last()); err != nil {
				return StatusFailed, err
			}
			return StatusInterrupted, nil
		}
		rec, err := t.Step()
		if err != nil {
			bar.finish()
			if _, statErr := os.Stat(dir.Last()); statErr == nil {
				return StatusFailed, fmt.Errorf("%w (the last good checkpoint is %s)", err, dir.Last())
			}
			return StatusFailed, err
		}
		evaluated := (cfg.EvalEvery > 0 && t.StepsDone%cfg.EvalEvery == 0) || t.StepsDone == cfg.Steps || spent()
		if evaluated {
			if err := t.evaluate(&rec, dir); err != nil {
				return StatusFailed, err
			}
			if err := logEpisodes(); err != nil {
				return StatusFailed, err
			}
		}
		if err := metrics.Write(rec); err != nil {
			return StatusFailed, err
		}
		if cfg.CheckpointEvery > 0 && t.StepsDone%cfg.CheckpointEvery == 0 {
			if err := t.Save(dir.Numbered(t.StepsDone)); err != nil {
				return StatusFailed, err
			}
			if err := t.Save(dir.Last()); err != nil {
				return StatusFailed, err
			}
		}
		bar.update(rec, t.Totals.WallSeconds-segmentStart)
		if evaluated && t.StepsDone < cfg.Steps && !spent() {
			reportMidRun() // the last evaluation is reported as Train returns
		}
	}
	bar.finish()
	if err := t.Save(dir.Last()); err != nil {
		return StatusFailed, err
	}
	if t.StepsDone < cfg.Steps {
		return StatusTimeLimit, nil
	}
	return StatusFinished, nil
}

// evaluate scores the policy on the validation levels, records it, and keeps the best
// checkpoint.
func (t *Trainer) evaluate(rec *Record, dir RunDir) error {
	ev, err := Evaluate(t.Policy, t.Contexts, t.ValTasks, t.Config.EvalSample, t.Config.EvalSamples, t.Config.Seed)
	if err != nil {
		return err
	}
	g, s := ev.Greedy.Success, ev.Sampled.Success
	rec.EvalGreedy, rec.EvalSampled = &g, &s
	rec.RSSMB = peakRSSMiB()
	if s > t.Totals.BestEval || t.Totals.BestEval == 0 {
		t.Totals.BestEval, t.Totals.BestStep = s, t.StepsDone
		return t.Save(dir.Best())
	}
	return nil
}

// scoreTest scores the last checkpoint (the policy as it stands) and the best one on the test
// levels, and writes test-scores.json.
func (t *Trainer) scoreTest(dir RunDir, progress io.Writer) error {
	fmt.Fprintf(progress, "scoring the %d test levels (never seen in training) on the last and the best checkpoint\n", len(t.TestTasks))
	cfg := t.Config
	last, err := Evaluate(t.Policy, t.Contexts, t.TestTasks, cfg.EvalSample, cfg.EvalSamples, cfg.Seed)
	if err != nil {
		return err
	}
	ts := TestScores{Levels: len(t.TestTasks),
		Last: CheckpointScore{Checkpoint: filepath.Base(dir.Last()), Step: t.StepsDone, Evaluation: last}}
	best := CheckpointScore{Checkpoint: filepath.Base(dir.Best()), Step: t.Totals.BestStep, Evaluation: last}
	if best.Step != t.StepsDone { // else the best checkpoint holds the policy as it stands
		ck, err := model.LoadCheckpoint(dir.Best())
		if err != nil {
			return err
		}
		if best.Evaluation, err = Evaluate(ck.Model, t.Contexts, t.TestTasks, cfg.EvalSample, cfg.EvalSamples, cfg.Seed); err != nil {
			return err
		}
	}
	ts.Best = best
	for _, c := range []CheckpointScore{ts.Last, ts.Best} {
		fmt.Fprintf(progress, "  test success of %s (step %d): sampled %.3f [%.3f, %.3f], greedy %.3f [%.3f, %.3f]\n", c.Checkpoint, c.Step,
			c.Sampled.Success, c.Sampled.Lo, c.Sampled.Hi, c.Greedy.Success, c.Greedy.Lo, c.Greedy.Hi)
	}
	return atomicfile.WriteJSON(dir.TestScores(), ts)
}

// TestScoresFile is the name of a run's test scores in its directory.
const TestScoresFile = "test-scores.json"

// TestScores is what Train writes as test-scores.json when a run stops: the first-attempt
// success of its last and its best checkpoint on its test levels.
type TestScores struct {
	// Levels is the number of test levels.
	Levels int             `json:"levels"`
	Last   CheckpointScore `json:"last"`
	Best   CheckpointScore `json:"best"`
}

// CheckpointScore is the evaluation of one checkpoint of a run.
type CheckpointScore struct {
	// Checkpoint is the checkpoint's file name in the run directory, and Step the step it was
	// saved at.
	Checkpoint string `json:"checkpoint"`
	Step       int    `json:"step"`
	Evaluation
}

// ReadTestScores reads a run's test-scores.json.
func ReadTestScores(path string) (TestScores, error) {
	var ts TestScores
	raw, err := os.ReadFile(path)
	if err != nil {
		return ts, err
	}
	if err := json.Unmarshal(raw, &ts); err != nil {
		return ts, fmt.Errorf("%s: %w", path, err)
	}
	return ts, nil
}
