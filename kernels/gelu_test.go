package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// geluInputs returns n inputs spread over GELU's whole range, with the extremes where the
// exponential overflows or underflows at the front.
func geluInputs(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(3 * rng.NormFloat64())
	}
	copy(x, []float32{-100, -12, 0, 12, 100})
	return x
}

func TestGelu(t *testing.T) { forEachSet(t, testGelu) }

func testGelu(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, n := range []int{1, 7, 100_003} {
		name := fmt.Sprintf("n=%d", n)
		x, dout := geluInputs(rng, n), randn(rng, n, 1)
		out := poisoned(n)
		k.GeluForward(out, x)
		want := make([]float64, n)
		ref.GeluForward(want, to64(x))
		checkClose(t, name+"/forward", out, want, 1e-5)

		dx := poisoned(n)
		k.GeluBackward(dx, x, dout)
		ref.GeluBackward(want, to64(x), to64(dout))
		checkClose(t, name+"/backward", dx, want, 1e-5)
	}
}

func TestGeluInPlace(t *testing.T) { forEachSet(t, testGeluInPlace) }

func testGeluInPlace(t *testing.T, k kernelSet) {
	rng := newRand(t)
	x, dout := geluInputs(rng, 1000), randn(rng, 1000, 1)
	want := make([]float64, len(x))
	ref.GeluBackward(want, to64(x), to64(dout))
	k.GeluBackward(dout, x, dout)
	checkClose(t, "backward", dout, want, 1e-5)
	ref.GeluForward(want, to64(x))
	k.GeluForward(x, x)
	checkClose(t, "forward", x, want, 1e-5)
}

func TestGeluGrad(t *testing.T) { forEachSet(t, testGeluGrad) }

func testGeluGrad(t *testing.T, k kernelSet) {
	rng := newRand(t)
	x, dout := geluInputs(rng, 200), randn(rng, 200, 1)
	dx := make([]float32, len(x))
	k.GeluBackward(dx, x, dout)
	x64 := to64(x)
	f := func() []float64 {
		y := make([]float64, len(x64))
		ref.GeluForward(y, x64)
		return y
	}
	checkGrad(t, "dx", dx, x64, f, to64(dout), 1e-4)
}
