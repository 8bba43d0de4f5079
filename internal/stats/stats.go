// Package stats holds the statistics erlgo reports its success rates with: 95% intervals that
// account for how the attempts cluster. Attempts at one level are not independent of each
// other (a level the policy solves once it tends to solve again), so an interval that counts
// attempts as independent draws is too narrow; the unit of resampling here is the cluster (a
// level's attempts, or a training task's retries), as a reviewer would have it.
package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Cluster is one unit of resampling: what was counted over its attempts (successes, or a
// difference of successes between two kinds of attempt at the same task) and how many
// attempts there were.
type Cluster struct {
	Sum float64
	N   float64
}

// Estimate is a rate with its 95% interval.
type Estimate struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// Resamples is the number of bootstrap resamples erlgo draws for an interval, and Seed the
// seed they are drawn from: fixed, so that an interval reproduces exactly. With 2000
// resamples the ends of a 95% interval move by about a tenth of its half-width from one seed
// to another.
const (
	Resamples = 2000
	Seed      = 0x626f6f74 // "boot"
)

// IntervalMethod says in words how Bootstrap's intervals are made, for outputs to state.
const IntervalMethod = "95% interval, percentile bootstrap over levels (2000 resamples of the levels with replacement, fixed seed)"

// Z95 is the 97.5% quantile of the standard normal distribution: a normal 95% interval is
// the estimate ± Z95 standard errors.
const Z95 = 1.959963984540054

// Bootstrap returns the ratio estimate ΣSum/ΣN over the clusters and its 95% percentile
// bootstrap interval: the clusters are resampled with replacement resamples times, from a
// source seeded by seed, and the interval runs from the 2.5% to the 97.5% quantile of the
// resamples' ratios. Every cluster must have N > 0; no clusters give the zero Estimate.
//
// The interval accounts for the correlation of attempts within a cluster, whatever it is, and
// for differences between clusters; it says nothing of variation it does not see: clusters
// that all came out alike (every level failed, say) give an interval of one point.
func Bootstrap(cs []Cluster, resamples int, seed uint64) Estimate {
	if len(cs) == 0 {
		return Estimate{}
	}
	var sum, n float64
	for _, c := range cs {
		sum += c.Sum
		n += c.N
	}
	est := Estimate{Value: sum / n}
	rng := rand.New(rand.NewPCG(seed, uint64(len(cs))))
	ratios := make([]float64, resamples)
	for r := range ratios {
		var s, m float64
		for range cs {
			c := cs[rng.IntN(len(cs))]
			s += c.Sum
			m += c.N
		}
		ratios[r] = s / m
	}
	slices.Sort(ratios)
	est.Lo, est.Hi = quantile(ratios, 0.025), quantile(ratios, 0.975)
	// The resamples' quantiles can miss the estimate by rounding when every ratio is alike.
	est.Lo, est.Hi = min(est.Lo, est.Value), max(est.Hi, est.Value)
	return est
}

// quantile returns the q-quantile of sorted, interpolating linearly between order statistics
// (the definition of R's type 7 and numpy's default).
func quantile(sorted []float64, q float64) float64 {
	h := q * float64(len(sorted)-1)
	i := int(h)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// Wilson returns the success rate successes/n and its 95% Wilson score interval, the
// binomial interval for n independent trials that stays inside [0, 1] and does not collapse
// to a point at 0 or n successes. n must be positive.
func Wilson(successes, n float64) Estimate {
	p := successes / n
	const z = Z95
	centre := (p + z*z/(2*n)) / (1 + z*z/n)
	half := z / (1 + z*z/n) * math.Sqrt(p*(1-p)/n+z*z/(4*n*n))
	return Estimate{Value: p, Lo: math.Max(0, centre-half), Hi: math.Min(1, centre+half)}
}

// Success returns the success rate over levels, where solved[i] of the attempts at level i
// succeeded and every level had attempts of them, with its 95% interval from a bootstrap over
// the levels (Bootstrap, Resamples, Seed). A rate of 0 or 1, where every level came out
// alike and the bootstrap interval would be a point, gets the Wilson interval of as many
// independent trials as there are levels instead: what a level-by-level count can exclude.
// No levels give the zero Estimate.
func Success(solved []int, attempts int) Estimate {
	if len(solved) == 0 || attempts < 1 {
		return Estimate{}
	}
	cs := make([]Cluster, len(solved))
	total := 0
	for i, s := range solved {
		cs[i] = Cluster{Sum: float64(s), N: float64(attempts)}
		total += s
	}
	if total == 0 || total == len(solved)*attempts {
		return Wilson(float64(total/attempts), float64(len(solved)))
	}
	return Bootstrap(cs, Resamples, Seed)
}
