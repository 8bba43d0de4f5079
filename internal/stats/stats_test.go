package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// levels simulates an evaluation: n levels, each with a success probability drawn by p, and
// attempts Bernoulli attempts at each.
func levels(rng *rand.Rand, n, attempts int, p func() float64) []int {
	solved := make([]int, n)
	for i := range solved {
		pi := p()
		for range attempts {
			if rng.Float64() < pi {
				solved[i]++
			}
		}
	}
	return solved
}

// TestBootstrapOfIndependentLevelsIsWilson: with one attempt a level, levels that are
// independent Bernoulli trials, the bootstrap over levels is a binomial interval, and close to
// Wilson's away from 0 and 1.
func TestBootstrapOfIndependentLevelsIsWilson(t *testing.T) {
	for _, tc := range []struct{ n, solved int }{{400, 120}, {256, 52}, {128, 64}, {1000, 900}} {
		solved := make([]int, tc.n)
		for i := range tc.solved {
			solved[i] = 1
		}
		got := Success(solved, 1)
		want := Wilson(float64(tc.solved), float64(tc.n))
		// Wilson's interval is asymmetric where the bootstrap's is nearly symmetric; they
		// differ by about z²/(2n) in the centre.
		tol := 0.15 * (want.Hi - want.Lo)
		if got.Value != want.Value || math.Abs(got.Lo-want.Lo) > tol || math.Abs(got.Hi-want.Hi) > tol {
			t.Errorf("%d of %d: bootstrap %+v, Wilson %+v", tc.solved, tc.n, got, want)
		}
	}
}

// TestBootstrapWidensForClusteredAttempts: where some levels are nearly always solved and the
// rest nearly never, 4 attempts at a level carry little more than one does; the bootstrap
// over levels is about twice as wide as a Wilson interval that counts the attempts as
// independent, and as wide as Wilson's over the levels.
func TestBootstrapWidensForClusteredAttempts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	solved := levels(rng, 256, 4, func() float64 {
		if rng.Float64() < 0.3 {
			return 0.95
		}
		return 0.02
	})
	total := 0
	for _, s := range solved {
		total += s
	}
	boot := Success(solved, 4)
	attempts := Wilson(float64(total), float64(4*len(solved)))
	ratio := (boot.Hi - boot.Lo) / (attempts.Hi - attempts.Lo)
	if ratio < 1.6 || ratio > 2.1 {
		t.Errorf("bootstrap %+v, Wilson over attempts %+v: width ratio %.2f, want about 2 (the square root of 4 attempts a level)", boot, attempts, ratio)
	}
}

// TestBootstrapCoverage: over many simulated evaluations of 128 levels × 4 attempts whose
// levels differ (most hard, some easy, as erlgo's policies find Sokoban levels), the 95%
// bootstrap interval over levels holds the true success rate about 95% of the time; Wilson's
// interval over attempts, which counts them as independent, holds it far less often.
func TestBootstrapCoverage(t *testing.T) {
	trials := 400
	if testing.Short() {
		trials = 100
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const easy, pEasy, pHard = 0.25, 0.9, 0.05
	truth := easy*pEasy + (1-easy)*pHard
	var bootHits, wilsonHits int
	for range trials {
		solved := levels(rng, 128, 4, func() float64 {
			if rng.Float64() < easy {
				return pEasy
			}
			return pHard
		})
		total := 0
		for _, s := range solved {
			total += s
		}
		cs := make([]Cluster, len(solved))
		for i, s := range solved {
			cs[i] = Cluster{Sum: float64(s), N: 4}
		}
		if b := Bootstrap(cs, 1000, uint64(trials)); b.Lo <= truth && truth <= b.Hi {
			bootHits++
		}
		if w := Wilson(float64(total), 512); w.Lo <= truth && truth <= w.Hi {
			wilsonHits++
		}
	}
	boot, wilson := float64(bootHits)/float64(trials), float64(wilsonHits)/float64(trials)
	// The percentile bootstrap runs a little short of its level at 128 clusters; 400 trials
	// estimate a coverage to about ±1.1 points.
	t.Logf("coverage boot %.3f wilson %.3f", boot, wilson)
	if boot < 0.91 || boot > 0.985 {
		t.Errorf("bootstrap over levels covers the truth %.3f of the time, want about 0.95", boot)
	}
	if wilson > 0.88 {
		t.Errorf("Wilson over attempts covers the truth %.3f of the time: the levels' clustering should make it miss more", wilson)
	}
}

// TestBootstrapOfDifferences: clusters whose sums are differences (a paired comparison of two
// kinds of attempt at the same tasks) give the difference of the rates, and an interval that
// excludes zero only where the difference is clear.
func TestBootstrapOfDifferences(t *testing.T) {
	var none, clear []Cluster
	for i := range 200 {
		d := float64(i%3 - 1) // -1, 0, 1: no difference on the whole
		none = append(none, Cluster{Sum: d, N: 2})
		clear = append(clear, Cluster{Sum: d + 1, N: 2})
	}
	if e := Bootstrap(none, Resamples, Seed); e.Lo >= 0 || e.Hi <= 0 || math.Abs(e.Value+0.0025) > 1e-12 {
		t.Errorf("no difference: %+v, want an interval around 0", e)
	}
	if e := Bootstrap(clear, Resamples, Seed); e.Lo <= 0 || math.Abs(e.Value-0.4975) > 1e-12 {
		t.Errorf("a clear difference: %+v, want an interval above 0", e)
	}
}

// TestSuccessAtTheEnds: a rate of 0 or 1 gets Wilson's interval over the levels, not a point;
// the bootstrap is reproducible; nothing scored is the zero Estimate.
func TestSuccessAtTheEnds(t *testing.T) {
	zero := Success(make([]int, 128), 4)
	if want := Wilson(0, 128); zero != want || zero.Hi < 0.02 {
		t.Errorf("no level solved: %+v, want Wilson over 128 levels %+v", zero, want)
	}
	all := make([]int, 50)
	for i := range all {
		all[i] = 4
	}
	if got, want := Success(all, 4), Wilson(50, 50); got != want || got.Lo > 0.95 {
		t.Errorf("every level solved: %+v, want %+v", got, want)
	}
	some := []int{0, 1, 4, 2, 0, 0, 3}
	if a, b := Success(some, 4), Success(some, 4); a != b {
		t.Errorf("the same levels scored twice: %+v and %+v", a, b)
	}
	if got := Success(nil, 4); got != (Estimate{}) {
		t.Errorf("no levels: %+v", got)
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5}
	for _, tc := range []struct{ q, want float64 }{{0, 1}, {0.5, 3}, {0.25, 2}, {0.1, 1.4}, {1, 5}} {
		if got := quantile(xs, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}
