package kernels

import (
	"math"
	"testing"
)

func TestExp32(t *testing.T) {
	// Every float32 in [-87, 88.7] would take a while; a step of about 1e-4 still visits
	// every reduction interval thousands of times.
	worst, at := 0.0, float32(0)
	for x := float32(-87); x <= 88.72; x += 1e-4 + x*1e-6 {
		want := math.Exp(float64(x))
		if e := math.Abs(float64(exp32(x))-want) / want; e > worst {
			worst, at = e, x
		}
	}
	if worst > 1.5e-7 {
		t.Errorf("exp32: relative error %.3g at %g, want at most 1.5e-7", worst, at)
	}
	t.Logf("worst relative error %.3g at %g", worst, at)

	inf := float32(math.Inf(1))
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {-inf, 0}, {-88, 0}, {89, inf}, {inf, inf},
	} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if got := exp32(float32(math.NaN())); !math.IsNaN(float64(got)) {
		t.Errorf("exp32(NaN) = %g, want NaN", got)
	}
}
