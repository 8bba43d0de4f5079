package kernels

import (
	"math"
	"slices"
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

// TestExpShift holds the vector exponential of every path that has one to the accuracy of
// exp32, on the arguments the kernels give it (at most 80), with odd lengths so that the
// scalar tail runs too, and checks the sum it returns.
func TestExpShift(t *testing.T) {
	for _, p := range cpuPaths {
		if p.vectorWidth == 0 {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			defer func(saved *cpuPath) { active = saved }(active)
			active = p
			var src []float32
			for x := float32(-87); x <= 80; x += 1e-3 + float32(math.Abs(float64(x)))*1e-5 {
				src = append(src, x)
			}
			src = append(src, -88, -200, -1e30, float32(math.Inf(-1)), float32(math.NaN()))
			for len(src)%p.vectorWidth != 0 {
				src = append(src, 0)
			}
			const shift = 1.5
			dst := poisoned(len(src))
			sum := vecExpShift(dst, src, shift)
			worst, at := 0.0, float32(0)
			for i, x := range src {
				arg := x - shift // in float32, as the kernel subtracts
				got, want := float64(dst[i]), math.Exp(float64(arg))
				switch {
				case math.IsNaN(float64(x)):
					if !math.IsNaN(got) {
						t.Errorf("e^(NaN) = %g, want NaN", got)
					}
				case arg < minArg:
					if got < 0 || got > 1e-37 {
						t.Errorf("e^(%g) = %g, want 0 or a subnormal", arg, got)
					}
				default:
					if e := math.Abs(got-want) / want; e > worst {
						worst, at = e, arg
					}
				}
			}
			if worst > 1.5e-7 {
				t.Errorf("relative error %.3g at %g, want at most 1.5e-7", worst, at)
			}
			t.Logf("worst relative error %.3g at %g", worst, at)
			if !math.IsNaN(sum) {
				t.Errorf("sum over a NaN lane is %g, want NaN", sum)
			}
			// Without the NaN, the returned sum is the sum of the values written.
			src[slices.IndexFunc(src, func(x float32) bool { return x != x })] = 0
			sum = vecExpShift(dst, src, shift)
			var check float64
			for _, v := range dst {
				check += float64(v)
			}
			if math.Abs(sum-check) > 1e-9*check {
				t.Errorf("returned sum %g, the values written sum to %g", sum, check)
			}
		})
	}
}
