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

func (cpu) Prepare(w workload) func() { return prepare(w, hostKernels) }

// A kernelSet is one device's kernels, with the signatures of package kernels, and how to put
// operands in its memory: prepare builds every workload from it.
type kernelSet struct {
	floats func(host []float32) []float32 // the values in the device's memory
	ints   func(host []int32) []int32

	Gemm                     func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	AttentionForward         func(out, att, qkv []float32, lens []int32, B, T, C, NH int)
	AttentionBackward        func(dqkv, scratch, dout, qkv, att []float32, lens []int32, B, T, C, NH int)
	AttentionStep            func(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int)
	EmbeddingForward         func(out, wte, wpe []float32, tokens, pos []int32, C int)
	EmbeddingBackward        func(dwte, dwpe, dout []float32, tokens, pos []int32, C int)
	LayerNormForward         func(out, mean, rstd, x, weight, bias []float32, N, C int)
	LayerNormBackward        func(dx, dweight, dbias, dout, x, weight, mean, rstd []float32, N, C int)
	GeluForward              func(out, x []float32)
	GeluBackward             func(dx, x, dout []float32)
	LogSoftmaxGatherForward  func(logp, lse, logits []float32, targets []int32, N, V int)
	LogSoftmaxGatherBackward func(dlogits, dlogp, logits, lse []float32, targets []int32, N, V int)
	GatherRows               func(out, x []float32, idx []int32, C int)
	ScatterRows              func(dx, dout []float32, idx []int32, rows, C int)
	Add                      func(out, a, b []float32)
	CopyRows                 func(dst []float32, dstStride int, src []float32, srcStride int, dstRows, srcRows []int32, C int)
	AddBias                  func(x, bias []float32, N, C int)
	SumRows                  func(dbias, dout []float32, N, C int)
	AdamW                    func(param, grad, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, t int)
	SumSquares               func(x []float32) float64
	Scale                    func(x []float32, s float32)
}

// hostKernels are package kernels, on Go memory.
var hostKernels = kernelSet{
	floats: func(x []float32) []float32 { return x }, ints: func(x []int32) []int32 { return x },
	Gemm: kernels.Gemm, AttentionForward: kernels.AttentionForward, AttentionBackward: kernels.AttentionBackward,
	AttentionStep: kernels.AttentionStep, EmbeddingForward: kernels.EmbeddingForward, EmbeddingBackward: kernels.EmbeddingBackward,
	LayerNormForward: kernels.LayerNormForward, LayerNormBackward: kernels.LayerNormBackward,
	GeluForward: kernels.GeluForward, GeluBackward: kernels.GeluBackward,
	LogSoftmaxGatherForward: kernels.LogSoftmaxGatherForward, LogSoftmaxGatherBackward: kernels.LogSoftmaxGatherBackward,
	GatherRows: kernels.GatherRows, ScatterRows: kernels.ScatterRows, Add: kernels.Add, CopyRows: kernels.CopyRows,
	AddBias: kernels.AddBias, SumRows: kernels.SumRows, AdamW: kernels.AdamW, SumSquares: kernels.SumSquares, Scale: kernels.Scale,
}

// prepare allocates and fills the operands of w with k and returns a call that runs w once
// with k's kernels, or nil if w is none of them.
func prepare(w workload, k kernelSet) func() {
	s := w.s
	B, T, C, NH, V := s.B, s.T, s.C, s.NH, s.V
	N := B * T
	randn := func(n int) []float32 { return k.floats(randSlice(n)) }
	zeros := func(n int) []float32 { return k.floats(make([]float32, n)) }
	indices := func(n, hi int) []int32 { return k.ints(randIndices(n, hi)) }
	switch w.Kernel {
	case "Gemm":
		a, b, c := randn(w.M*w.K), randn(w.K*w.N), zeros(w.M*w.N)
		lda, ldb := w.K, w.N
		if w.TransA {
			lda = w.M
		}
		if w.TransB {
			ldb = w.K
		}
		return func() { k.Gemm(w.TransA, w.TransB, w.M, w.N, w.K, 1, a, lda, b, ldb, 0, c, w.N) }
	case "AttentionForward", "AttentionBackward":
		qkv, out, att := randn(N*3*C), zeros(N*C), zeros(B*NH*T*T)
		k.AttentionForward(out, att, qkv, nil, B, T, C, NH)
		if w.Kernel == "AttentionForward" {
			return func() { k.AttentionForward(out, att, qkv, nil, B, T, C, NH) }
		}
		dqkv, scratch, dout := zeros(N*3*C), zeros(B*NH*T*T), randn(N*C)
		return func() { k.AttentionBackward(dqkv, scratch, dout, qkv, att, nil, B, T, C, NH) }
	case "AttentionStep":
		q, kc, vc, out := randn(B*3*C), randn(N*C), randn(N*C), zeros(B*C)
		lens := make([]int32, B)
		for b := range lens {
			lens[b] = int32(T)
		}
		dlens := k.ints(lens)
		return func() { k.AttentionStep(out, q, kc, vc, dlens, B, T, C, NH) }
	}
	rows, cols := w.rows, w.cols
	n := rows * cols
	switch w.Kernel {
	case "EmbeddingForward", "EmbeddingBackward":
		tokens, pos := indices(rows, V), indices(rows, T)
		wte, wpe, rowsBuf := randn(V*cols), randn(T*cols), randn(n)
		if w.Kernel == "EmbeddingForward" {
			return func() { k.EmbeddingForward(rowsBuf, wte, wpe, tokens, pos, cols) }
		}
		return func() { k.EmbeddingBackward(wte, wpe, rowsBuf, tokens, pos, cols) }
	case "LayerNormForward", "LayerNormBackward":
		x, out, wt, bias := randn(n), zeros(n), randn(cols), randn(cols)
		mean, rstd := zeros(rows), zeros(rows)
		k.LayerNormForward(out, mean, rstd, x, wt, bias, rows, cols)
		if w.Kernel == "LayerNormForward" {
			return func() { k.LayerNormForward(out, mean, rstd, x, wt, bias, rows, cols) }
		}
		dout, dw, db := randn(n), zeros(cols), zeros(cols)
		return func() { k.LayerNormBackward(out, dw, db, dout, x, wt, mean, rstd, rows, cols) }
	case "GeluForward":
		x, out := randn(n), zeros(n)
		return func() { k.GeluForward(out, x) }
	case "GeluBackward":
		x, dout, dx := randn(n), randn(n), zeros(n)
		return func() { k.GeluBackward(dx, x, dout) }
	case "LogSoftmaxGatherForward", "LogSoftmaxGatherBackward":
		logits, targets := randn(n), indices(rows, cols)
		logp, lse := zeros(rows), zeros(rows)
		k.LogSoftmaxGatherForward(logp, lse, logits, targets, rows, cols)
		if w.Kernel == "LogSoftmaxGatherForward" {
			return func() { k.LogSoftmaxGatherForward(logp, lse, logits, targets, rows, cols) }
		}
		dlogp, dlogits := randn(rows), zeros(n)
		return func() { k.LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse, targets, rows, cols) }
	case "GatherRows", "ScatterRows":
		// Rows of a table twice as tall, as the sampler gathers one position per sequence.
		idx, table, picked := indices(rows, 2*rows), randn(2*n), randn(n)
		if w.Kernel == "GatherRows" {
			return func() { k.GatherRows(picked, table, idx, cols) }
		}
		return func() { k.ScatterRows(table, picked, idx, 2*rows, cols) }
	case "Add":
		a, b, out := randn(n), randn(n), zeros(n)
		return func() { k.Add(out, a, b) }
	case "CopyRows":
		qkv, kc := randn(rows*3*cols), zeros(n)
		src, dst := make([]int32, rows), make([]int32, rows)
		for i := range src {
			src[i], dst[i] = int32(i), int32(i)
		}
		dsrc, ddst := k.ints(src), k.ints(dst)
		return func() { k.CopyRows(kc, cols, qkv[cols:], 3*cols, ddst, dsrc, cols) }
	case "AddBias":
		x, bias := randn(n), randn(cols)
		return func() { k.AddBias(x, bias, rows, cols) }
	case "SumRows":
		dout, dbias := randn(n), zeros(cols)
		return func() { k.SumRows(dbias, dout, rows, cols) }
	case "AdamW":
		hm := randSlice(n)
		hv := make([]float32, n)
		for i := range hv {
			hv[i] = hm[i] * hm[i]
		}
		param, grad, m, v := randn(n), randn(n), k.floats(hm), k.floats(hv)
		return func() { k.AdamW(param, grad, m, v, 1e-4, 0.9, 0.95, 1e-8, 0.1, 100) }
	case "SumSquares":
		x := randn(n)
		return func() { k.SumSquares(x) }
	case "Scale":
		x := randn(n)
		return func() { k.Scale(x, 1) }
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
