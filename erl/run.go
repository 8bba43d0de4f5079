package erl

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// Episodes is the text log of sampled episodes.
func (d RunDir) Episodes() string { return filepath.Join(string(d), "episodes.txt") }

// Numbered is the periodic checkpoint of a step.
func (d RunDir) Numbered(step int) string {
	return filepath.Join(string(d), fmt.Sprintf("step-%06d.safetensors", step))
}

// RunFiles are the glob patterns, relative to a run directory, of the files Train writes
// there, temporary files of an interrupted write included.
var RunFiles = []string{"config.json", "heldout.jsonl", MetricsJSONLFile, MetricsCSVFile, "episodes.txt",
	"last.safetensors", "best.safetensors", "step-*.safetensors", SuccessPlotFile, LossPlotFile, ".*.tmp*"}

// Train trains until the config's steps or time are spent, or ctx is cancelled (Ctrl-C), writing
// metrics, checkpoints, sampled episodes and plots into dir. A cancelled run saves its last
// checkpoint and returns nil: it can be resumed. A failed step (a non-finite loss or gradient)
// stops the run with an error and leaves the last good checkpoint in place.
func Train(ctx context.Context, t *Trainer, dir RunDir, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(string(dir), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(dir.Config(), t.Config); err != nil {
		return err
	}
	if err := envs.WriteLevels(dir.HeldOut(), t.EvalTasks); err != nil {
		return err
	}
	metrics, err := OpenMetrics(string(dir), t.StepsDone)
	if err != nil {
		return err
	}
	defer metrics.Close()
	cfg := t.Config
	budget := time.Duration(cfg.Time)
	bar := newProgressBar(progress, cfg.Steps, t.StepsDone, budget)
	segmentStart := t.Totals.WallSeconds

	for t.StepsDone < cfg.Steps {
		if ctx.Err() != nil {
			bar.finish()
			fmt.Fprintf(progress, "interrupted at step %d: saving %s\n", t.StepsDone, dir.Last())
			return t.Save(dir.Last())
		}
		if budget > 0 && time.Duration(t.Totals.WallSeconds*float64(time.Second)) >= budget {
			break
		}
		rec, err := t.Step()
		if err != nil {
			bar.finish()
			if _, statErr := os.Stat(dir.Last()); statErr == nil {
				return fmt.Errorf("%w (the last good checkpoint is %s)", err, dir.Last())
			}
			return err
		}
		last := t.StepsDone == cfg.Steps ||
			(budget > 0 && time.Duration(t.Totals.WallSeconds*float64(time.Second)) >= budget)
		if (cfg.EvalEvery > 0 && t.StepsDone%cfg.EvalEvery == 0) || last {
			if err := t.evaluate(&rec, dir); err != nil {
				return err
			}
			if err := appendEpisode(dir.Episodes(), t); err != nil {
				return err
			}
		}
		if err := metrics.Write(rec); err != nil {
			return err
		}
		if cfg.CheckpointEvery > 0 && t.StepsDone%cfg.CheckpointEvery == 0 {
			if err := t.Save(dir.Numbered(t.StepsDone)); err != nil {
				return err
			}
			if err := t.Save(dir.Last()); err != nil {
				return err
			}
		}
		bar.update(rec, t.Totals.WallSeconds-segmentStart)
	}
	bar.finish()
	if err := t.Save(dir.Last()); err != nil {
		return err
	}
	recs, err := ReadMetrics(filepath.Join(string(dir), "metrics.jsonl"))
	if err != nil {
		return err
	}
	return PlotRun(string(dir), recs)
}

// evaluate scores the policy on the held-out levels, records it, and keeps the best checkpoint.
func (t *Trainer) evaluate(rec *Record, dir RunDir) error {
	ev, err := Evaluate(t.Policy, t.Contexts, t.EvalTasks, t.Config.EvalSample, t.Config.EvalSamples, t.Config.Seed)
	if err != nil {
		return err
	}
	g, s := ev.Greedy.Success, ev.Sampled.Success
	rec.EvalGreedy, rec.EvalSampled = &g, &s
	if s > t.Totals.BestEval || t.Totals.BestEval == 0 {
		t.Totals.BestEval = s
		return t.Save(dir.Best())
	}
	return nil
}

// appendEpisode renders one episode of the latest step (a retried one when there is one) to the
// run's episode log.
func appendEpisode(path string, t *Trainer) error {
	ep := t.Last
	if ep == nil || len(ep.First) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "=== step %d ===\n", t.StepsDone)
	show := func(title string, a *Attempt) {
		symbols, _ := envs.DefaultSymbols(a.Task.Env)
		g, err := a.Task.New()
		if err != nil {
			return
		}
		fmt.Fprintf(&b, "%s:\n%s\n", title, strings.Join(g.Render(symbols), "\n"))
		var acts []string
		for _, x := range a.Actions {
			acts = append(acts, x.String())
		}
		fmt.Fprintf(&b, "actions: %s\nfeedback: %s\n", strings.Join(acts, " "), a.Feedback.Text())
	}
	if len(ep.Retried) > 0 {
		k := t.StepsDone % len(ep.Retried)
		show("first attempt", ep.First[ep.Retried[k]])
		if k < len(ep.Reflections) {
			fmt.Fprintf(&b, "reflection: %s\n", t.Contexts.Describe(ep.Reflections[k]))
		} else {
			b.WriteString("reflection: (none: the second attempt sees the first attempt and its feedback)\n")
		}
		show("second attempt", ep.Second[k])
	} else {
		show("first attempt", ep.First[t.StepsDone%len(ep.First)])
	}
	b.WriteString("\n")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
