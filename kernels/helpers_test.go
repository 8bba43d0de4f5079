package kernels

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the random test inputs; 0 draws one from the clock")

// clockSeed is drawn once per run, so that every test of a run shares one seed to report.
var clockSeed = uint64(time.Now().UnixNano())

// newRand returns the random source of one test, derived from the run's seed and the test's
// name, so that a failing test can be replayed alone with -seed.
func newRand(t testing.TB) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = clockSeed
	}
	t.Logf("inputs from -seed=%d", seed)
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// randn returns n normally distributed values scaled by s.
func randn(rng *rand.Rand, n int, s float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * s)
	}
	return x
}

// poisoned returns n NaNs: an output left unwritten shows up as NaN in the comparison.
func poisoned(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// randIndices returns n indices in [0, hi).
func randIndices(rng *rand.Rand, n, hi int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(rng.IntN(hi))
	}
	return idx
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

// checkClose fails t unless every got[i] is within rtol of want[i], relative to the larger of
// |want[i]| and the root mean square of want: plain relative error would demand the
// impossible of elements that cancel to near zero, while the output's own scale is what
// float32 rounding is proportional to. A NaN in want, marking memory the kernel must leave
// alone, requires a NaN in got.
func checkClose(t testing.TB, name string, got []float32, want []float64, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	scale := rms(finite(want))
	var bad []string
	worst := 0.0
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(w) {
			if !math.IsNaN(g) {
				bad = append(bad, fmt.Sprintf("[%d] = %g, want untouched NaN", i, g))
			}
			continue
		}
		e := math.Abs(g-w) / math.Max(math.Abs(w), scale)
		if scale == 0 {
			e = math.Abs(g - w)
		}
		worst = math.Max(worst, e)
		if !(e <= rtol) {
			bad = append(bad, fmt.Sprintf("[%d] = %g, want %g (error %.2g)", i, g, w, e))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: %d of %d values off by more than %.2g (rms %.3g), first: %s",
			name, len(bad), len(want), rtol, scale, strings.Join(bad[:min(len(bad), 4)], "; "))
	}
	t.Logf("%s: worst relative error %.2g of %.2g allowed", name, worst, rtol)
}

// finite returns the elements of x that are not NaN.
func finite(x []float64) []float64 {
	var y []float64
	for _, v := range x {
		if !math.IsNaN(v) {
			y = append(y, v)
		}
	}
	return y
}

// checkGrad holds got, a kernel's gradient of L(x) = Σ r∘f(x), to central differences of L,
// where f is a float64 reference forward pass; x holds the kernel's inputs widened, so both
// sides differentiate at the same point. f may read x but must not keep it.
func checkGrad(t testing.TB, name string, got []float32, x []float64, f func() []float64, r []float64, rtol float64) {
	t.Helper()
	// With float64 references, h = 1e-5 leaves truncation (h²) and cancellation (ε/h) errors
	// near 1e-10, far below the float32 kernels' own.
	const h = 1e-5
	loss := func() float64 {
		var s float64
		for i, y := range f() {
			s += r[i] * y
		}
		return s
	}
	want := make([]float64, len(x))
	for i, xi := range x {
		x[i] = xi + h
		up := loss()
		x[i] = xi - h
		down := loss()
		x[i] = xi
		want[i] = (up - down) / (2 * h)
	}
	checkClose(t, name, got, want, rtol)
}

// mustPanic fails t unless f panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		msg := fmt.Sprint(recover())
		if !strings.Contains(msg, want) {
			t.Errorf("panic %q, want one containing %q", msg, want)
		}
	}()
	f()
}
