package main

import (
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/erlgo/erlgo/kernels"
)

// A backend runs workloads on one device and measures that device's ceilings; each backend
// adds a column to the results. A CUDA backend, built with -tags gpu, appends itself to
// backends from an init function in a file of its own.
type backend interface {
	Name() string
	// Ceilings returns the calls whose throughput bounds the device's kernels, a large
	// matrix product and a large copy, to be timed like any workload.
	Ceilings() (matrix, memory run)
	// Prepare allocates and fills the operands of w and returns a call that runs w once, to
	// completion, or nil if the backend has no such kernel.
	Prepare(w workload) func()
}

var backends = []backend{cpu{}}

// A run is a workload with the call that runs it once on some backend.
type run struct {
	workload
	call func()
}

// cpu runs package kernels on the host, on runtime.GOMAXPROCS(0) threads.
type cpu struct{}

func (cpu) Name() string { return "cpu" }

// ceilingSquare is the order of the square product whose rate, on the kernels' own Gemm, is
// the ceiling of the matrix kernels: large enough that call overheads vanish.
const ceilingSquare = 1024

// ceilingCopyBytes is the size of the buffer copied for the bandwidth ceiling, eight times
// the 32 MiB last-level cache of the machines measured so far.
const ceilingCopyBytes = 256 << 20

func (cpu) Ceilings() (matrix, memory run) {
	const n = ceilingSquare
	a, b, c := randSlice(n*n), randSlice(n*n), make([]float32, n*n)
	matrix.workload = workload{Name: "Gemm " + kernels.CPUPath(), Kernel: "Gemm", Shape: "NN m=n=k=1024", FLOPs: 2 * n * n * n}
	matrix.call = func() { kernels.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n) }
	// src must be written: pages never touched all map to one zero page, which stays in cache.
	src, dst := randSlice(ceilingCopyBytes/f32), make([]float32, ceilingCopyBytes/f32)
	memory.workload = workload{Name: "copy()", Kernel: "copy", Shape: "256 MiB", Bytes: 2 * ceilingCopyBytes}
	// The kernels stream memory from every thread, so the ceiling does too.
	memory.call = func() {
		p := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		for i := range p {
			lo, hi := i*len(src)/p, (i+1)*len(src)/p
			wg.Go(func() { copy(dst[lo:hi], src[lo:hi]) })
		}
		wg.Wait()
	}
	return matrix, memory
}

func (cpu) Prepare(w workload) func() {
	s := w.s
	B, T, C, NH, V := s.B, s.T, s.C, s.NH, s.V
	N := B * T
	switch w.Kernel {
	case "Gemm":
		a, b, c := randSlice(w.M*w.K), randSlice(w.K*w.N), make([]float32, w.M*w.N)
		lda, ldb := w.K, w.N
		if w.TransA {
			lda = w.M
		}
		if w.TransB {
			ldb = w.K
		}
		return func() { kernels.Gemm(w.TransA, w.TransB, w.M, w.N, w.K, 1, a, lda, b, ldb, 0, c, w.N) }
	case "AttentionForward", "AttentionBackward":
		qkv, out, att := randSlice(N*3*C), make([]float32, N*C), make([]float32, B*NH*T*T)
		kernels.AttentionForward(out, att, qkv, nil, B, T, C, NH)
		if w.Kernel == "AttentionForward" {
			return func() { kernels.AttentionForward(out, att, qkv, nil, B, T, C, NH) }
		}
		dqkv, scratch, dout := make([]float32, N*3*C), make([]float32, B*NH*T*T), randSlice(N*C)
		return func() { kernels.AttentionBackward(dqkv, scratch, dout, qkv, att, nil, B, T, C, NH) }
	case "AttentionStep":
		q, kc, vc, out := randSlice(B*3*C), randSlice(N*C), randSlice(N*C), make([]float32, B*C)
		lens := make([]int32, B)
		for b := range lens {
			lens[b] = int32(T)
		}
		return func() { kernels.AttentionStep(out, q, kc, vc, lens, B, T, C, NH) }
	}
	rows, cols := w.rows, w.cols
	n := rows * cols
	switch w.Kernel {
	case "EmbeddingForward", "EmbeddingBackward":
		tokens, pos := randIndices(rows, V), randIndices(rows, T)
		wte, wpe, rowsBuf := randSlice(V*cols), randSlice(T*cols), randSlice(n)
		if w.Kernel == "EmbeddingForward" {
			return func() { kernels.EmbeddingForward(rowsBuf, wte, wpe, tokens, pos, cols) }
		}
		return func() { kernels.EmbeddingBackward(wte, wpe, rowsBuf, tokens, pos, cols) }
	case "LayerNormForward", "LayerNormBackward":
		x, out, wt, bias := randSlice(n), make([]float32, n), randSlice(cols), randSlice(cols)
		mean, rstd := make([]float32, rows), make([]float32, rows)
		kernels.LayerNormForward(out, mean, rstd, x, wt, bias, rows, cols)
		if w.Kernel == "LayerNormForward" {
			return func() { kernels.LayerNormForward(out, mean, rstd, x, wt, bias, rows, cols) }
		}
		dout, dw, db := randSlice(n), make([]float32, cols), make([]float32, cols)
		return func() { kernels.LayerNormBackward(out, dw, db, dout, x, wt, mean, rstd, rows, cols) }
	case "GeluForward":
		x, out := randSlice(n), make([]float32, n)
		return func() { kernels.GeluForward(out, x) }
	case "GeluBackward":
		x, dout, dx := randSlice(n), randSlice(n), make([]float32, n)
		return func() { kernels.GeluBackward(dx, x, dout) }
	case "LogSoftmaxGatherForward", "LogSoftmaxGatherBackward":
		logits, targets := randSlice(n), randIndices(rows, cols)
		logp, lse := make([]float32, rows), make([]float32, rows)
		kernels.LogSoftmaxGatherForward(logp, lse, logits, targets, rows, cols)
		if w.Kernel == "LogSoftmaxGatherForward" {
			return func() { kernels.LogSoftmaxGatherForward(logp, lse, logits, targets, rows, cols) }
		}
		dlogp, dlogits := randSlice(rows), make([]float32, n)
		return func() { kernels.LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse, targets, rows, cols) }
	case "GatherRows", "ScatterRows":
		// Rows of a table twice as tall, as the sampler gathers one position per sequence.
		idx, table, picked := randIndices(rows, 2*rows), randSlice(2*n), randSlice(n)
		if w.Kernel == "GatherRows" {
			return func() { kernels.GatherRows(picked, table, idx, cols) }
		}
		return func() { kernels.ScatterRows(table, picked, idx, 2*rows, cols) }
	case "Add":
		a, b, out := randSlice(n), randSlice(n), make([]float32, n)
		return func() { kernels.Add(out, a, b) }
	case "CopyRows":
		qkv, kc := randSlice(rows*3*cols), make([]float32, n)
		src, dst := make([]int32, rows), make([]int32, rows)
		for i := range src {
			src[i], dst[i] = int32(i), int32(i)
		}
		return func() { kernels.CopyRows(kc, cols, qkv[cols:], 3*cols, dst, src, cols) }
	case "AddBias":
		x, bias := randSlice(n), randSlice(cols)
		return func() { kernels.AddBias(x, bias, rows, cols) }
	case "SumRows":
		dout, dbias := randSlice(n), make([]float32, cols)
		return func() { kernels.SumRows(dbias, dout, rows, cols) }
	case "AdamW":
		param, grad, m, v := randSlice(n), randSlice(n), randSlice(n), make([]float32, n)
		for i := range v {
			v[i] = m[i] * m[i]
		}
		return func() { kernels.AdamW(param, grad, m, v, 1e-4, 0.9, 0.95, 1e-8, 0.1, 100) }
	case "SumSquares":
		x := randSlice(n)
		return func() { kernels.SumSquares(x) }
	case "Scale":
		x := randSlice(n)
		return func() { kernels.Scale(x, 1) }
	}
	return nil
}

var rng = rand.New(rand.NewPCG(1, 2))

func randSlice(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func randIndices(n, hi int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(rng.IntN(hi))
	}
	return idx
}
