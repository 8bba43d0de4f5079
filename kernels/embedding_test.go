package kernels

import (
	"fmt"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

func TestEmbedding(t *testing.T) { forEachSet(t, testEmbedding) }

func testEmbedding(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range [][3]int{{1, 1, 1}, {7, 5, 3}, {500, 11, 70}} {
		N, V, C := s[0], s[1], s[2]
		const maxT = 9
		name := fmt.Sprintf("N=%d,V=%d,C=%d", N, V, C)
		// More rows than tokens, so that rows repeat and the backward pass must add them.
		tokens, pos := randIndices(rng, N, V), randIndices(rng, N, maxT)
		wte, wpe, dout := randn(rng, V*C, 1), randn(rng, maxT*C, 1), randn(rng, N*C, 1)

		out := poisoned(N * C)
		k.EmbeddingForward(out, wte, wpe, tokens, pos, C)
		want := make([]float64, N*C)
		ref.EmbeddingForward(want, to64(wte), to64(wpe), tokens, pos, C)
		checkClose(t, name+"/out", out, want, 1e-6)

		// The backward pass accumulates, so it starts from gradients already there.
		dwte, dwpe := randn(rng, V*C, 1), randn(rng, maxT*C, 1)
		wantDwte, wantDwpe := to64(dwte), to64(dwpe)
		k.EmbeddingBackward(dwte, dwpe, dout, tokens, pos, C)
		ref.EmbeddingBackward(wantDwte, wantDwpe, to64(dout), tokens, pos, C)
		checkClose(t, name+"/dwte", dwte, wantDwte, 1e-5)
		checkClose(t, name+"/dwpe", dwpe, wantDwpe, 1e-5)
	}
}

func TestEmbeddingGrad(t *testing.T) { forEachSet(t, testEmbeddingGrad) }

func testEmbeddingGrad(t *testing.T, k kernelSet) {
	rng := newRand(t)
	const N, V, C, maxT = 12, 5, 3, 4
	tokens, pos := randIndices(rng, N, V), randIndices(rng, N, maxT)
	wte, wpe, dout := to64(randn(rng, V*C, 1)), to64(randn(rng, maxT*C, 1)), randn(rng, N*C, 1)
	dwte, dwpe := make([]float32, V*C), make([]float32, maxT*C)
	k.EmbeddingBackward(dwte, dwpe, dout, tokens, pos, C)
	f := func() []float64 {
		y := make([]float64, N*C)
		ref.EmbeddingForward(y, wte, wpe, tokens, pos, C)
		return y
	}
	checkGrad(t, "dwte", dwte, wte, f, to64(dout), 1e-5)
	checkGrad(t, "dwpe", dwpe, wpe, f, to64(dout), 1e-5)
}

func TestGatherScatterRows(t *testing.T) { forEachSet(t, testGatherScatterRows) }

func testGatherScatterRows(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range [][3]int{{1, 1, 1}, {6, 4, 3}, {400, 300, 130}} {
		R, rows, C := s[0], s[1], s[2]
		name := fmt.Sprintf("R=%d,rows=%d,C=%d", R, rows, C)
		idx := randIndices(rng, R, rows)
		x, dout := randn(rng, rows*C, 1), randn(rng, R*C, 1)

		out := poisoned(R * C)
		k.GatherRows(out, x, idx, C)
		want := make([]float64, R*C)
		ref.GatherRows(want, to64(x), idx, C)
		checkClose(t, name+"/gather", out, want, 0)

		dx := poisoned(rows * C)
		k.ScatterRows(dx, dout, idx, rows, C)
		wantDx := make([]float64, rows*C)
		ref.ScatterRows(wantDx, to64(dout), idx, rows, C)
		checkClose(t, name+"/scatter", dx, wantDx, 1e-5)

		if rows*C > 100 {
			continue // finite differences cost rows·C gathers
		}
		x64 := to64(x)
		f := func() []float64 {
			y := make([]float64, R*C)
			ref.GatherRows(y, x64, idx, C)
			return y
		}
		checkGrad(t, name+"/scatter is the gradient of gather", dx, x64, f, to64(dout), 1e-5)
	}
}

func TestEmbeddingPanics(t *testing.T) {
	wte, wpe, out := make([]float32, 12), make([]float32, 8), make([]float32, 8)
	mustPanic(t, "tokens[1] = 3, outside [0, 3)", func() { EmbeddingForward(out, wte, wpe, []int32{0, 3}, []int32{0, 1}, 4) })
	mustPanic(t, "pos[0] = -1, outside [0, 2)", func() { EmbeddingBackward(wte, wpe, out, []int32{0, 2}, []int32{-1, 1}, 4) })
	mustPanic(t, "len(pos) = 1, need 2", func() { EmbeddingForward(out, wte, wpe, []int32{0, 2}, []int32{1}, 4) })
	mustPanic(t, "idx[0] = 5, outside [0, 2)", func() { ScatterRows(out, wte, []int32{5}, 2, 4) })
}
