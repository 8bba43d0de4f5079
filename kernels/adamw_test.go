package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

func TestAdamW(t *testing.T) { forEachSet(t, testAdamW) }

func testAdamW(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, n := range []int{1, 7, 100_003} {
		param, m, v := randn(rng, n, 1), make([]float32, n), make([]float32, n)
		p64, m64, v64 := to64(param), make([]float64, n), make([]float64, n)
		// Three steps, so that the moments and the bias corrections both carry over.
		for step := 1; step <= 3; step++ {
			grad := randn(rng, n, 0.1)
			k.AdamW(param, grad, m, v, 1e-3, 0.9, 0.95, 1e-8, 0.1, step)
			ref.AdamW(p64, to64(grad), m64, v64, 1e-3, 0.9, 0.95, 1e-8, 0.1, step)
			name := fmt.Sprintf("n=%d/step %d", n, step)
			checkClose(t, name+"/param", param, p64, 1e-6)
			checkClose(t, name+"/m", m, m64, 1e-5)
			checkClose(t, name+"/v", v, v64, 1e-5)
		}
	}
	mustPanic(t, "step t = 0", func() { AdamW(nil, nil, nil, nil, 1, 0.9, 0.9, 1e-8, 0, 0) })
}

func TestSumSquaresScale(t *testing.T) { forEachSet(t, testSumSquaresScale) }

func testSumSquaresScale(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, n := range []int{0, 1, 7, 100_003} {
		x := randn(rng, n, 1)
		got, want := k.SumSquares(x), ref.SumSquares(to64(x))
		// float64 accumulation makes the sum exact but for the last few bits.
		if math.Abs(got-want) > 1e-12*math.Max(want, 1) {
			t.Errorf("n=%d: SumSquares = %.17g, want %.17g", n, got, want)
		}
		wantScaled := to64(x)
		ref.Scale(wantScaled, 0.37)
		k.Scale(x, 0.37)
		checkClose(t, fmt.Sprintf("n=%d/Scale", n), x, wantScaled, 1e-6)
	}
}
