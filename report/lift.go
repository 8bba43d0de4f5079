package report

import (
	"math"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/stats"
)

// LiftMethod says how a Lift's intervals are made.
const LiftMethod = "95% interval, percentile bootstrap over the retried tasks of every step pooled " +
	"(2000 resamples of the (step, task) pairs with replacement, fixed seed): a task's retries share its level"

// Lift is the reflection's lift pooled over steps of a run (or of several runs): the success
// of the guided second attempts and of the plain retries at the same retried attempts
// (erl.Record.SuccessPlain), and their difference, each with its 95% interval.
type Lift struct {
	// FromStep and ToStep are the first and last step pooled; Steps how many measured the lift.
	FromStep int `json:"from_step"`
	ToStep   int `json:"to_step"`
	Steps    int `json:"steps"`
	// Attempts is the number of retried attempts, Tasks the number of (step, task) pairs they
	// were at: the unit the bootstrap resamples.
	Attempts int            `json:"attempts"`
	Tasks    int            `json:"tasks"`
	Lift     stats.Estimate `json:"lift"`
	Guided   stats.Estimate `json:"guided"`
	Plain    stats.Estimate `json:"plain"`
	Interval string         `json:"interval"`
}

// PoolLift pools the lift over the records that measured it, the retried tasks of each step
// the clusters. ok is false where none did (RLVR, a run without Config.MeasureLift, a run of
// an older erlgo).
func PoolLift(recs []erl.Record) (l Lift, ok bool) {
	var diff, guided, plain []stats.Cluster
	for _, r := range recs {
		if len(r.RetryTasks) == 0 {
			continue
		}
		if l.Steps == 0 {
			l.FromStep = r.Step
		}
		l.ToStep = r.Step
		l.Steps++
		for _, c := range r.RetryTasks {
			n := float64(c.Attempts)
			diff = append(diff, stats.Cluster{Sum: float64(c.Guided - c.Plain), N: n})
			guided = append(guided, stats.Cluster{Sum: float64(c.Guided), N: n})
			plain = append(plain, stats.Cluster{Sum: float64(c.Plain), N: n})
			l.Attempts += c.Attempts
		}
	}
	if l.Steps == 0 {
		return Lift{}, false
	}
	l.Tasks = len(diff)
	l.Lift = stats.Bootstrap(diff, stats.Resamples, stats.Seed)
	l.Guided = stats.Bootstrap(guided, stats.Resamples, stats.Seed)
	l.Plain = stats.Bootstrap(plain, stats.Resamples, stats.Seed)
	l.Interval = LiftMethod
	return l, true
}

// CombinedLiftMethod says how CombineLifts makes its intervals.
const CombinedLiftMethod = "95% interval, normal approximation combined from each run's own (a percentile bootstrap " +
	"over its retried tasks): the attempts-weighted mean of the runs' figures, its standard error from theirs"

// CombineLifts pools the lifts of several runs whose records are gone (runs pruned to their
// summaries): each figure is the mean of the runs' weighted by their retried attempts, which
// is what pooling their retried tasks gives, and its interval is the normal one of that mean,
// each run's standard error read from its interval's width. Pooling the records themselves
// (PoolLift) gives the same figures and, with thousands of retried tasks a run, intervals
// within a few percent of these. ok is false where lifts is empty.
func CombineLifts(lifts []Lift) (l Lift, ok bool) {
	if len(lifts) == 0 {
		return Lift{}, false
	}
	l.FromStep, l.ToStep = lifts[0].FromStep, lifts[0].ToStep
	for _, r := range lifts {
		l.FromStep, l.ToStep = min(l.FromStep, r.FromStep), max(l.ToStep, r.ToStep)
		l.Steps += r.Steps
		l.Attempts += r.Attempts
		l.Tasks += r.Tasks
	}
	combine := func(figure func(Lift) stats.Estimate) stats.Estimate {
		var mean, variance float64
		for _, r := range lifts {
			w := float64(r.Attempts) / float64(l.Attempts)
			e := figure(r)
			se := (e.Hi - e.Lo) / (2 * stats.Z95)
			mean += w * e.Value
			variance += w * w * se * se
		}
		half := stats.Z95 * math.Sqrt(variance)
		return stats.Estimate{Value: mean, Lo: mean - half, Hi: mean + half}
	}
	l.Lift = combine(func(r Lift) stats.Estimate { return r.Lift })
	l.Guided = combine(func(r Lift) stats.Estimate { return r.Guided })
	l.Plain = combine(func(r Lift) stats.Estimate { return r.Plain })
	l.Interval = CombinedLiftMethod
	return l, true
}

// liftWindows pools the lift over consecutive windows of the records that measured it, about
// runPlotWindows of them, for plotting the lift along a run.
func liftWindows(recs []erl.Record) []Lift {
	var measured []erl.Record
	for _, r := range recs {
		if len(r.RetryTasks) > 0 {
			measured = append(measured, r)
		}
	}
	window := max(1, len(measured)/runPlotWindows)
	var out []Lift
	for from := 0; from < len(measured); from += window {
		l, _ := PoolLift(measured[from:min(from+window, len(measured))])
		out = append(out, l)
	}
	return out
}
