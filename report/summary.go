package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/internal/machine"
)

// SummaryFile is the name of the summary of a run in its directory.
const SummaryFile = "summary.json"

// Summary is where a run stands: what Refresh writes as summary.json.
type Summary struct {
	Status erl.Status `json:"status"`
	// Step is the number of steps done, of Steps configured.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// WallSeconds is the training time so far, and EnvSteps the environment actions taken.
	WallSeconds float64 `json:"wall_s"`
	EnvSteps    int64   `json:"env_steps"`
	// Last and Best are the latest validation evaluation and the best one (by sampled
	// success, the first of equals); both are absent before the first evaluation.
	Last *Evaluation `json:"last_eval,omitempty"`
	Best *Evaluation `json:"best_eval,omitempty"`
	// Evaluations are all of them, in order: the run's validation curves, which its summary
	// keeps where its metrics are not kept (a committed reproduction's runs).
	Evaluations []Evaluation `json:"evaluations,omitempty"`
	// Test is the scoring of the test levels when the run last stopped (test-scores.json):
	// the figures to report. It is absent before then, and for runs without a test split.
	Test *erl.TestScores `json:"test,omitempty"`
	// Lift is the reflection's lift pooled over every step that measured it; absent where none
	// did.
	Lift *Lift `json:"reflection_lift,omitempty"`
	// PeakRSSMB is the training process's peak resident set size, in MiB.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// Machine is where the run last trained (a resumed run may have trained elsewhere
	// before); absent in summaries written before erlgo recorded it.
	Machine *machine.Machine `json:"machine,omitempty"`
	// Error is what stopped a failed run.
	Error string `json:"error,omitempty"`
}

// Evaluation is one validation evaluation of a run, after Step steps, EnvSteps environment
// actions and WallSeconds of training.
type Evaluation struct {
	Step        int     `json:"step"`
	EnvSteps    int64   `json:"env_steps"`
	WallSeconds float64 `json:"wall_s"`
	Greedy      float64 `json:"greedy"`
	Sampled     float64 `json:"sampled"`
}

// evaluationRecords returns the summary's evaluations as the records they were taken from,
// with only what a comparison's curves draw: the step, environment steps, training time and
// validation success.
func (s Summary) evaluationRecords() []erl.Record {
	recs := make([]erl.Record, len(s.Evaluations))
	for i, ev := range s.Evaluations {
		recs[i] = erl.Record{Step: ev.Step, EnvSteps: ev.EnvSteps, WallSeconds: ev.WallSeconds, EvalGreedy: &ev.Greedy, EvalSampled: &ev.Sampled}
	}
	return recs
}

// SummarizeRun summarizes the run in dir whose records are recs and whose state is s:
// Summarize, and the test scores the run wrote, if any.
func SummarizeRun(dir erl.RunDir, recs []erl.Record, s erl.RunState) (Summary, error) {
	sum := Summarize(recs, s)
	ts, err := erl.ReadTestScores(dir.TestScores())
	switch {
	case err == nil:
		sum.Test = &ts
	case !errors.Is(err, fs.ErrNotExist):
		return sum, err
	}
	return sum, nil
}

// Summarize summarizes the run whose records are recs and whose state is s, from the records
// alone (no test scores).
func Summarize(recs []erl.Record, s erl.RunState) Summary {
	sum := Summary{Status: s.Status, Step: s.Step, Steps: s.Steps}
	if l, ok := PoolLift(recs); ok {
		sum.Lift = &l
	}
	if s.Err != nil {
		sum.Error = s.Err.Error()
	}
	for _, r := range recs {
		sum.WallSeconds, sum.EnvSteps = r.WallSeconds, r.EnvSteps
		sum.PeakRSSMB = max(sum.PeakRSSMB, r.RSSMB)
		if r.EvalSampled == nil || r.EvalGreedy == nil {
			continue
		}
		sum.Evaluations = append(sum.Evaluations, Evaluation{Step: r.Step, EnvSteps: r.EnvSteps, WallSeconds: r.WallSeconds,
			Greedy: *r.EvalGreedy, Sampled: *r.EvalSampled})
	}
	for i, ev := range sum.Evaluations {
		if sum.Best == nil || ev.Sampled > sum.Best.Sampled {
			sum.Best = &sum.Evaluations[i]
		}
	}
	if n := len(sum.Evaluations); n > 0 {
		sum.Last = &sum.Evaluations[n-1]
	}
	return sum
}

// String says in one line where the run stands, and what its evaluations and its lift say.
func (s Summary) String() string {
	var b strings.Builder
	switch s.Status {
	case erl.StatusFinished:
		fmt.Fprintf(&b, "finished %d steps", s.Step)
	case erl.StatusRunning:
		fmt.Fprintf(&b, "running: %d of %d steps", s.Step, s.Steps)
	default:
		fmt.Fprintf(&b, "%s after %d of %d steps", s.Status, s.Step, s.Steps)
	}
	fmt.Fprintf(&b, " (%s of training)", time.Duration(s.WallSeconds*float64(time.Second)).Round(time.Second))
	if s.Last == nil {
		b.WriteString("; validation success: not evaluated yet")
	} else {
		fmt.Fprintf(&b, "; validation success (sampled) %.3f at step %d", s.Last.Sampled, s.Last.Step)
		if s.Best.Sampled > s.Last.Sampled {
			fmt.Fprintf(&b, ", best %.3f at step %d", s.Best.Sampled, s.Best.Step)
		}
	}
	if t := s.Test; t != nil {
		fmt.Fprintf(&b, "; test success (sampled) of the best checkpoint (step %d) %.3f [%.3f, %.3f]",
			t.Best.Step, t.Best.Sampled.Success, t.Best.Sampled.Lo, t.Best.Sampled.Hi)
		if t.Last.Step != s.Step {
			fmt.Fprintf(&b, ", scored when the run stopped after step %d", t.Last.Step)
		}
	}
	if l := s.Lift; l != nil {
		fmt.Fprintf(&b, "; reflection lift %+.3f [%+.3f, %+.3f] over %d retries", l.Lift.Value, l.Lift.Lo, l.Lift.Hi, l.Attempts)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "; error: %s", s.Error)
	}
	return b.String()
}

// ReadSummary reads the summary.json of the run directory dir.
func ReadSummary(dir string) (Summary, error) {
	var s Summary
	path := filepath.Join(dir, SummaryFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func writeSummary(dir string, s Summary) error {
	return atomicfile.WriteJSON(filepath.Join(dir, SummaryFile), s)
}
