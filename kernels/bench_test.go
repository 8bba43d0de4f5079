package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The benchmarks run at the shapes of the small model (d_model 64, 4 heads, 64 sequences of
// 128 tokens) and report throughput: GFLOP/s of useful arithmetic for the products and
// attention, GB/s of compulsory traffic (each operand read or written once) for the rest.
// go run ./bench/kernels measures every kernel at every model size against ceilings.

func benchData(n int) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	return randn(rng, n, 1)
}

func reportGFLOPs(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func reportGBs(b *testing.B, bytes float64) {
	b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkGemm measures the product on every path this CPU can take (avx512, avx2, generic:
// gonum's Sgemm), side by side.
func BenchmarkGemm(b *testing.B) {
	for _, s := range []struct {
		transA, transB bool
		m, n, k        int
	}{
		// The model's linear layers keep W as out×in: y = x·Wᵀ, dx = dy·W, dW = dyᵀ·x.
		{false, true, 8192, 192, 64},   // qkv projection
		{false, true, 8192, 256, 64},   // MLP up
		{false, true, 8192, 64, 256},   // MLP down
		{false, false, 8192, 64, 192},  // qkv input gradient
		{true, false, 192, 64, 8192},   // qkv weight gradient
		{true, false, 256, 1024, 4096}, // MLP down weight gradient, base model
		{false, false, 512, 512, 512},
		{false, false, 1024, 1024, 1024},
	} {
		a, bb, c := benchData(s.m*s.k), benchData(s.k*s.n), make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		for _, p := range cpuPaths {
			name := fmt.Sprintf("%s/%s/m=%d,n=%d,k=%d", p.name, transName(s.transA, s.transB), s.m, s.n, s.k)
			b.Run(name, func(b *testing.B) {
				defer func(saved *cpuPath) { active = saved }(active)
				active = p
				for b.Loop() {
					Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
				}
				reportGFLOPs(b, 2*float64(s.m*s.n*s.k))
			})
		}
	}
}

func transName(transA, transB bool) string {
	n := [2]string{"N", "T"}
	return n[b2i(transA)] + n[b2i(transB)]
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// attentionFLOPs counts the multiply-adds of the causal products, two per visible query-key
// pair and head dimension in each of QKᵀ and P·V; the backward pass has twice as many.
func attentionFLOPs(B, T, C int) float64 {
	return 4 * float64(B) * float64(T*(T+1)/2) * float64(C)
}

func BenchmarkAttentionForward(b *testing.B) {
	const B, T, C, NH = 64, 128, 64, 4
	qkv, out, att := benchData(B*T*3*C), make([]float32, B*T*C), make([]float32, B*NH*T*T)
	for b.Loop() {
		AttentionForward(out, att, qkv, nil, B, T, C, NH)
	}
	reportGFLOPs(b, attentionFLOPs(B, T, C))
}

func BenchmarkAttentionBackward(b *testing.B) {
	const B, T, C, NH = 64, 128, 64, 4
	qkv, dout, out, att := benchData(B*T*3*C), benchData(B*T*C), make([]float32, B*T*C), make([]float32, B*NH*T*T)
	dqkv, scratch := make([]float32, B*T*3*C), make([]float32, B*NH*T*T)
	AttentionForward(out, att, qkv, nil, B, T, C, NH)
	for b.Loop() {
		AttentionBackward(dqkv, scratch, dout, qkv, att, nil, B, T, C, NH)
	}
	reportGFLOPs(b, 2*attentionFLOPs(B, T, C))
}

func BenchmarkLayerNorm(b *testing.B) {
	const N, C = 8192, 64
	x, w, bias, dout := benchData(N*C), benchData(C), benchData(C), benchData(N*C)
	out, dx, mean, rstd := make([]float32, N*C), make([]float32, N*C), make([]float32, N), make([]float32, N)
	dw, db := make([]float32, C), make([]float32, C)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			LayerNormForward(out, mean, rstd, x, w, bias, N, C)
		}
		reportGBs(b, 4*2*N*C) // x in, out
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd, N, C)
		}
		reportGBs(b, 4*3*N*C) // dout and x in, dx out
	})
}

func BenchmarkGelu(b *testing.B) {
	const n = 8192 * 256
	x, dout, out := benchData(n), benchData(n), make([]float32, n)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			GeluForward(out, x)
		}
		reportGBs(b, 4*2*n)
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			GeluBackward(out, x, dout)
		}
		reportGBs(b, 4*3*n)
	})
}

func BenchmarkAdamW(b *testing.B) {
	const n = 1 << 20
	p, g, m, v := benchData(n), benchData(n), make([]float32, n), make([]float32, n)
	for b.Loop() {
		AdamW(p, g, m, v, 1e-3, 0.9, 0.95, 1e-8, 0.1, 10)
	}
	reportGBs(b, 4*7*n) // param, grad, m, v in; param, m, v out
}
