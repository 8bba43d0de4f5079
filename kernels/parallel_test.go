package kernels

import (
	"fmt"
	"sync/atomic"
	"testing"
)

func TestParallelFor(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		for _, cost := range []int{0, 1, minParallelWork} {
			hits := make([]atomic.Int32, n)
			parallelFor(n, cost, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if h := hits[i].Load(); h != 1 {
					t.Fatalf("n=%d, cost=%d: index %d visited %d times", n, cost, i, h)
				}
			}
		}
	}
}

func TestForColumnBlocks(t *testing.T) {
	for _, C := range []int{0, 1, 15, 16, 17, 130, 1000} {
		for _, cost := range []int{1, minParallelWork} {
			hits := make([]atomic.Int32, C)
			forColumnBlocks(C, cost, func(c0, c1 int) {
				if c1-c0 > colBlock || (c0%lineFloats != 0) {
					panic(fmt.Sprintf("block [%d, %d)", c0, c1))
				}
				for j := c0; j < c1; j++ {
					hits[j].Add(1)
				}
			})
			for j := range hits {
				if h := hits[j].Load(); h != 1 {
					t.Fatalf("C=%d, cost=%d: column %d visited %d times", C, cost, j, h)
				}
			}
		}
	}
}

// raceEnabled reports whether the tests run under the race detector; race_test.go sets it.
var raceEnabled bool

// TestAllocation holds the kernels to their promise to allocate nothing in proportion to
// their work: at small sizes, which stay on the caller's goroutine, a call allocates only the
// closures that would carry its work to parallelFor (forColumnBlocks adds one of its own).
func TestAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	const N, C, B, T, NH = 4, 8, 1, 4, 2
	x, y, z := make([]float32, N*C), make([]float32, N*C), make([]float32, C*C)
	w, b := make([]float32, C), make([]float32, C)
	mean, rstd := make([]float32, N), make([]float32, N)
	qkv, att, scratch := make([]float32, B*T*3*C), make([]float32, B*NH*T*T), make([]float32, B*NH*T*T)
	idx := []int32{0, 1, 2, 3}
	for _, tc := range []struct {
		name     string
		closures float64
		f        func()
	}{
		{"Gemm", 0, func() { Gemm(false, true, N, N, C, 1, x, C, y, C, 0, z, N) }},
		{"GemmStridedBatched", 1, func() { GemmStridedBatched(true, false, C, C, N, 1, x, C, 0, y, C, 0, 0, z, C, 0, 1) }},
		{"EmbeddingForward", 1, func() { EmbeddingForward(z, x, y, idx, idx, C) }},
		{"EmbeddingBackward", 0, func() { EmbeddingBackward(x, y, z, idx, idx, C) }},
		{"LayerNormForward", 1, func() { LayerNormForward(z, mean, rstd, x, w, b, N, C) }},
		{"LayerNormBackward", 3, func() { LayerNormBackward(z, w, b, y, x, w, mean, rstd, N, C) }},
		{"AttentionForward", 1, func() { AttentionForward(x, att, qkv, nil, B, T, C, NH) }},
		{"AttentionBackward", 1, func() { AttentionBackward(qkv, scratch, x, qkv, att, nil, B, T, C, NH) }},
		{"GeluForward", 1, func() { GeluForward(z, x) }},
		{"GeluBackward", 1, func() { GeluBackward(z, x, y) }},
		{"LogSoftmaxGatherForward", 1, func() { LogSoftmaxGatherForward(mean, rstd, x, idx, N, C) }},
		{"LogSoftmaxGatherBackward", 1, func() { LogSoftmaxGatherBackward(z, mean, x, rstd, idx, N, C) }},
		{"GatherRows", 1, func() { GatherRows(z, x, idx, C) }},
		{"ScatterRows", 0, func() { ScatterRows(z, x, idx, N, C) }},
		{"Add", 1, func() { Add(z[:N*C], x, y) }},
		{"AddBias", 1, func() { AddBias(z, b, N, C) }},
		{"SumRows", 2, func() { SumRows(b, z, N, C) }},
		{"AdamW", 1, func() { AdamW(x, y, z, z, 1e-3, 0.9, 0.95, 1e-8, 0, 1) }},
		{"SumSquares", 0, func() { SumSquares(x) }},
		{"Scale", 1, func() { Scale(x, 0.5) }},
	} {
		if n := testing.AllocsPerRun(10, tc.f); n > tc.closures {
			t.Errorf("%s: %v allocations per call, want at most %v", tc.name, n, tc.closures)
		}
	}
}
