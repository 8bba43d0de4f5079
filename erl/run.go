package erl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/internal/atomicfile"
)

// RunDir lays out a training run's directory.
type RunDir string

// Config is the resolved configuration of the run.
func (d RunDir) Config() string { return filepath.Join(string(d), "config.json") }

// Last is the checkpoint of the latest saved step, the one to resume from.
func (d RunDir) Last() string { return filepath.Join(string(d), "last.safetensors") }

// Best is the checkpoint of the best held-out evaluation so far.
func (d RunDir) Best() string { return filepath.Join(string(d), "best.safetensors") }

// HeldOut is the run's held-out levels as a level file, for erlgo eval --levels.
func (d RunDir) HeldOut() string { return filepath.Join(string(d), "heldout.jsonl") }

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
var RunFiles = []string{"config.json", "heldout.jsonl", MetricsJSONLFile, EpisodesFile,
	"last.safetensors", "best.safetensors", "step-*.safetensors", ".*.tmp*"}

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
// writing into dir the resolved config, the held-out levels, metrics.jsonl (a Record a step,
// and one for step 0: the initial policy's evaluation), episodes.jsonl (the Episodes of every
// evaluated step), and the checkpoints. It evaluates on the held-out levels before the first
// step, every Config.EvalEvery steps, and after the last. It returns why the run stopped. A
// cancelled run saves its last checkpoint and returns StatusInterrupted and no error: it can
// be resumed. A failed step (a non-finite loss or gradient) stops the run with an error and
// leaves the last good checkpoint in place.
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
	if err := envs.WriteLevels(dir.HeldOut(), t.EvalTasks); err != nil {
		return StatusFailed, err
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
		fmt.Fprintf(progress, "step 0 (the initial policy): held-out success greedy %.3f, sampled %.3f\n", *rec.EvalGreedy, *rec.EvalSampled)
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

// evaluate scores the policy on the held-out levels, records it, and keeps the best checkpoint.
func (t *Trainer) evaluate(rec *Record, dir RunDir) error {
	ev, err := Evaluate(t.Policy, t.Contexts, t.EvalTasks, t.Config.EvalSample, t.Config.EvalSamples, t.Config.Seed)
	if err != nil {
		return err
	}
	g, s := ev.Greedy.Success, ev.Sampled.Success
	rec.EvalGreedy, rec.EvalSampled = &g, &s
	rec.RSSMB = peakRSSMiB()
	if s > t.Totals.BestEval || t.Totals.BestEval == 0 {
		t.Totals.BestEval = s
		return t.Save(dir.Best())
	}
	return nil
}
