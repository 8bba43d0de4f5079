package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
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
	// Last and Best are the latest held-out evaluation and the best one (by sampled success,
	// the first of equals); both are absent before the first evaluation.
	Last *Evaluation `json:"last_eval,omitempty"`
	Best *Evaluation `json:"best_eval,omitempty"`
	// PeakRSSMB is the training process's peak resident set size, in MiB.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// Error is what stopped a failed run.
	Error string `json:"error,omitempty"`
}

// Evaluation is one held-out evaluation of a run.
type Evaluation struct {
	Step    int     `json:"step"`
	Greedy  float64 `json:"greedy"`
	Sampled float64 `json:"sampled"`
}

// Summarize summarizes the run whose records are recs and whose state is s.
func Summarize(recs []erl.Record, s erl.RunState) Summary {
	sum := Summary{Status: s.Status, Step: s.Step, Steps: s.Steps}
	if s.Err != nil {
		sum.Error = s.Err.Error()
	}
	for _, r := range recs {
		sum.WallSeconds, sum.EnvSteps = r.WallSeconds, r.EnvSteps
		sum.PeakRSSMB = max(sum.PeakRSSMB, r.RSSMB)
		if r.EvalSampled == nil || r.EvalGreedy == nil {
			continue
		}
		ev := &Evaluation{Step: r.Step, Greedy: *r.EvalGreedy, Sampled: *r.EvalSampled}
		sum.Last = ev
		if sum.Best == nil || ev.Sampled > sum.Best.Sampled {
			sum.Best = ev
		}
	}
	return sum
}

// String says in one line where the run stands, and what its held-out evaluations say.
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
		b.WriteString("; held-out success: not evaluated yet")
	} else {
		fmt.Fprintf(&b, "; held-out success (sampled) %.3f at step %d", s.Last.Sampled, s.Last.Step)
		if s.Best.Sampled > s.Last.Sampled {
			fmt.Fprintf(&b, ", best %.3f at step %d", s.Best.Sampled, s.Best.Step)
		}
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
