package kernels

import (
	"fmt"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// layerNormSizes include C = 1, where every row is its own mean, and C = 130, which spans
// two column blocks of the backward pass and ends off a cache line.
var layerNormSizes = [][2]int{{1, 1}, {3, 7}, {5, 64}, {300, 130}}

func TestLayerNorm(t *testing.T) { forEachSet(t, testLayerNorm) }

func testLayerNorm(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range layerNormSizes {
		N, C := s[0], s[1]
		name := fmt.Sprintf("N=%d,C=%d", N, C)
		// An offset mean tests the variance against cancellation.
		x := randn(rng, N*C, 2)
		for i := range x {
			x[i] += 3
		}
		w, b, dout := randn(rng, C, 1), randn(rng, C, 1), randn(rng, N*C, 1)
		out, mean, rstd := poisoned(N*C), poisoned(N), poisoned(N)
		k.LayerNormForward(out, mean, rstd, x, w, b, N, C)
		wantOut, wantMean, wantRstd := make([]float64, N*C), make([]float64, N), make([]float64, N)
		ref.LayerNormForward(wantOut, wantMean, wantRstd, to64(x), to64(w), to64(b), N, C)
		checkClose(t, name+"/out", out, wantOut, 1e-5)
		checkClose(t, name+"/mean", mean, wantMean, 1e-5)
		checkClose(t, name+"/rstd", rstd, wantRstd, 1e-5)

		inference := poisoned(N * C)
		k.LayerNormForward(inference, nil, nil, x, w, b, N, C)
		checkClose(t, name+"/out without mean and rstd", inference, wantOut, 1e-5)

		wantDx, wantDw, wantDb := make([]float64, N*C), make([]float64, C), make([]float64, C)
		ref.LayerNormBackward(wantDx, wantDw, wantDb, to64(dout), to64(x), to64(w), wantMean, wantRstd, N, C)
		// Each output alone, then all three, so that skipping one disturbs none of the others.
		for _, want := range []string{"dx", "dweight", "dbias", "all"} {
			var dx, dw, db []float32
			if want == "dx" || want == "all" {
				dx = poisoned(N * C)
			}
			if want == "dweight" || want == "all" {
				dw = poisoned(C)
			}
			if want == "dbias" || want == "all" {
				db = poisoned(C)
			}
			k.LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd, N, C)
			if dx != nil {
				checkClose(t, name+"/"+want+"/dx", dx, wantDx, 1e-4)
			}
			if dw != nil {
				checkClose(t, name+"/"+want+"/dweight", dw, wantDw, 1e-4)
			}
			if db != nil {
				checkClose(t, name+"/"+want+"/dbias", db, wantDb, 1e-4)
			}
		}
	}
}

func TestLayerNormGrad(t *testing.T) { forEachSet(t, testLayerNormGrad) }

func testLayerNormGrad(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range layerNormSizes[:3] {
		N, C := s[0], s[1]
		name := fmt.Sprintf("N=%d,C=%d", N, C)
		x, w, b, dout := randn(rng, N*C, 1), randn(rng, C, 1), randn(rng, C, 1), randn(rng, N*C, 1)
		out, mean, rstd := make([]float32, N*C), make([]float32, N), make([]float32, N)
		k.LayerNormForward(out, mean, rstd, x, w, b, N, C)
		dx, dw, db := make([]float32, N*C), make([]float32, C), make([]float32, C)
		k.LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd, N, C)

		x64, w64, b64 := to64(x), to64(w), to64(b)
		f := func() []float64 {
			y := make([]float64, N*C)
			ref.LayerNormForward(y, make([]float64, N), make([]float64, N), x64, w64, b64, N, C)
			return y
		}
		r := to64(dout)
		checkGrad(t, name+"/dx", dx, x64, f, r, 1e-4)
		checkGrad(t, name+"/dweight", dw, w64, f, r, 1e-4)
		checkGrad(t, name+"/dbias", db, b64, f, r, 1e-4)
	}
}
