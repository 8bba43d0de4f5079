package stats

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// RunsMethod says in words how Crossed's intervals are made, for outputs to state.
const RunsMethod = "95% interval, percentile bootstrap over runs and levels (2000 resamples, fixed seed; " +
	"each resample draws the levels with replacement, the same draw for every configuration, " +
	"and each configuration's runs with replacement); at a rate of 0 or 1, Wilson's interval over the levels"

// Runs is the success of several runs of one configuration (its seeds, say) at the same
// levels: Solved[r][l] of the Attempts attempts of run r at level l succeeded.
type Runs struct {
	Solved   [][]int
	Attempts int
}

// Crossed is the bootstrap of the mean success of configurations whose runs were all scored
// at the same levels: runs and levels are crossed, each run having attempted every level.
// Both vary from one reproduction to another, the runs by their seeds and the levels by their
// draw from the environment's distribution, and both are resampled: an interval over levels
// alone would say how precisely these runs were scored, not how well the configuration
// trains. With few runs (3 seeds, say) the runs' part of the interval is rough: the
// resamples can only recombine the runs there are.
type Crossed struct {
	groups []Runs
	levels int
	value  []float64   // by group: the mean success over its runs
	reps   [][]float64 // by group, then resample
}

// NewCrossed resamples the groups resamples times, from a source seeded by seed. Every group
// must have runs, every run the same number of levels (at least one), and Attempts must be
// positive.
func NewCrossed(groups []Runs, resamples int, seed uint64) (*Crossed, error) {
	switch {
	case len(groups) == 0:
		return nil, errors.New("stats: no groups of runs")
	case resamples < 1:
		return nil, fmt.Errorf("stats: %d resamples", resamples)
	}
	levels := -1
	for g, runs := range groups {
		if len(runs.Solved) == 0 {
			return nil, fmt.Errorf("stats: group %d has no runs", g)
		}
		if runs.Attempts < 1 {
			return nil, fmt.Errorf("stats: group %d: %d attempts a level", g, runs.Attempts)
		}
		for r, solved := range runs.Solved {
			if levels < 0 {
				levels = len(solved)
			}
			if len(solved) != levels || levels == 0 {
				return nil, fmt.Errorf("stats: run %d of group %d was scored at %d levels, the first run at %d: runs must share their levels", r, g, len(solved), levels)
			}
		}
	}
	c := &Crossed{groups: groups, levels: levels, value: make([]float64, len(groups)), reps: make([][]float64, len(groups))}
	for g, runs := range groups {
		total := 0
		for _, solved := range runs.Solved {
			for _, s := range solved {
				total += s
			}
		}
		c.value[g] = float64(total) / float64(len(runs.Solved)*levels*runs.Attempts)
		c.reps[g] = make([]float64, resamples)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(levels)))
	weight := make([]int, levels) // how often each level is drawn
	var runSums []float64
	for i := range resamples {
		clear(weight)
		for range levels {
			weight[rng.IntN(levels)]++
		}
		for g, runs := range groups {
			runSums = runSums[:0]
			for _, solved := range runs.Solved {
				s := 0
				for l, w := range weight {
					s += w * solved[l]
				}
				runSums = append(runSums, float64(s))
			}
			var sum float64
			for range runs.Solved {
				sum += runSums[rng.IntN(len(runSums))]
			}
			c.reps[g][i] = sum / float64(len(runs.Solved)*levels*runs.Attempts)
		}
	}
	return c, nil
}

// Mean returns the mean success of group g over its runs, with its 95% interval. Where every
// attempt of every run came out alike (none solved, or all), which the bootstrap would give
// as a point, the interval is Wilson's over the levels, as Success gives it.
func (c *Crossed) Mean(g int) Estimate {
	if v := c.value[g]; v == 0 || v == 1 {
		return Wilson(v*float64(c.levels), float64(c.levels))
	}
	return c.interval(c.value[g], c.reps[g])
}

// Diff returns the difference of the mean success of groups a and b, a − b, with its 95%
// interval from the same resamples: the levels drawn alike for both (so that the hardness of
// the levels, shared by both, cancels) and the runs of each group drawn on their own.
func (c *Crossed) Diff(a, b int) Estimate {
	d := make([]float64, len(c.reps[a]))
	for i := range d {
		d[i] = c.reps[a][i] - c.reps[b][i]
	}
	return c.interval(c.value[a]-c.value[b], d)
}

// interval returns value with the 2.5% and 97.5% quantiles of its resamples reps.
func (c *Crossed) interval(value float64, reps []float64) Estimate {
	sorted := slices.Sorted(slices.Values(reps))
	est := Estimate{Value: value, Lo: quantile(sorted, 0.025), Hi: quantile(sorted, 0.975)}
	// The resamples' quantiles can miss the estimate by rounding when every ratio is alike.
	est.Lo, est.Hi = min(est.Lo, est.Value), max(est.Hi, est.Value)
	return est
}
