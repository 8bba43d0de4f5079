package kernels

import (
	"fmt"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// elementwiseSizes reach past minParallelWork, so that both the serial and the concurrent
// paths run.
var elementwiseSizes = [][2]int{{1, 1}, {3, 7}, {400, 130}}

func TestAdd(t *testing.T) { forEachSet(t, testAdd) }

func testAdd(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range elementwiseSizes {
		n := s[0] * s[1]
		for _, alias := range []string{"none", "a", "b"} {
			a, b := randn(rng, n, 1), randn(rng, n, 1)
			want := make([]float64, n)
			ref.Add(want, to64(a), to64(b))
			out := poisoned(n)
			switch alias {
			case "a":
				out = a
			case "b":
				out = b
			}
			k.Add(out, a, b)
			checkClose(t, fmt.Sprintf("n=%d/out aliases %s", n, alias), out, want, 1e-6)
		}
	}
}

func TestAddBiasSumRows(t *testing.T) { forEachSet(t, testAddBiasSumRows) }

func testAddBiasSumRows(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range elementwiseSizes {
		N, C := s[0], s[1]
		name := fmt.Sprintf("N=%d,C=%d", N, C)
		x, bias, dout := randn(rng, N*C, 1), randn(rng, C, 1), randn(rng, N*C, 1)
		want := to64(x)
		ref.AddBias(want, to64(bias), N, C)
		k.AddBias(x, bias, N, C)
		checkClose(t, name+"/AddBias", x, want, 1e-6)

		dbias := poisoned(C)
		k.SumRows(dbias, dout, N, C)
		wantDbias := make([]float64, C)
		ref.SumRows(wantDbias, to64(dout), N, C)
		checkClose(t, name+"/SumRows", dbias, wantDbias, 1e-5)

		if N*C > 100 {
			continue // finite differences cost C passes over the matrix
		}
		x64, b64 := to64(x), to64(bias)
		f := func() []float64 {
			y := append([]float64(nil), x64...)
			ref.AddBias(y, b64, N, C)
			return y
		}
		checkGrad(t, name+"/SumRows is the gradient of AddBias", dbias, b64, f, to64(dout), 1e-5)
	}
}
