package model

// The transformer's Gorgonia ops. Gorgonia's own ops allocate a fresh tensor per run and have no
// fused LayerNorm, attention or log-softmax gather, so every op of the policy is written here as
// a custom Op whose arithmetic runs on a backend: package kernels for float32, and the kernels'
// float64 references (package kernels/ref) for the float64 graph that the gradient check
// differentiates. A backend also owns the memory of every tensor it runs on, so that one on a
// device can keep a whole training step there (TestDeviceMemoryParity holds the model to that
// with a backend whose memory the host cannot read). Each op owns its output and, where its
// gradient needs them, the statistics its forward pass saved: buffers laid out on its
// program's first run (a graph's shapes are fixed) in the arena that the model's programs share
// (arena.go). Gradients are symbolic (SDOp): each backward rule is
// itself an op of this file, so the TapeMachine runs forward and backward as one program.

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"runtime"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/kernels"
	"github.com/erlgo/erlgo/kernels/ref"
)

// float is the element type of a graph.
type float interface{ ~float32 | ~float64 }

// backend is what the ops run on, for one element type: its memory and its arithmetic. Its
// arithmetic has the signatures of package kernels, on slices of the backend's memory. The
// host's backends hand out Go memory; a device's backend (backend_cuda.go) hands out slices over
// device memory, which only its own functions dereference: nothing outside a backend reads or
// writes a tensor's data except through upload and download.
type backend[T float] struct {
	dtype tensor.Dtype

	alloc         func(n int) []T     // zeroed
	allocIndex    func(n int) []int32 // zeroed
	upload        func(dst, src []T)  // dst in the backend's memory, src on the host
	uploadIndex   func(dst, src []int32)
	download      func(dst, src []T) // dst on the host
	downloadIndex func(dst, src []int32)
	zero          func(x []T)
	copy          func(dst, src []T) // both in the backend's memory
	// free and freeIndex, where not nil, take back memory that alloc and allocIndex gave: a
	// device's pool. A tensor's memory goes back when the tensor is garbage, so code that
	// works on a tensor's data keeps the tensor.
	free      func(x []T)
	freeIndex func(x []int32)

	gemm                     func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)
	addBias                  func(x, bias []T, N, C int)
	sumRows                  func(dbias, dout []T, N, C int)
	layerNormForward         func(out, mean, rstd, x, weight, bias []T, N, C int)
	layerNormBackward        func(dx, dweight, dbias, dout, x, weight, mean, rstd []T, N, C int)
	attentionForward         func(out, att, qkv []T, lens []int32, B, T, C, NH int)
	attentionBackward        func(dqkv, scratch, dout, qkv, att []T, lens []int32, B, T, C, NH int)
	geluForward              func(out, x []T)
	geluBackward             func(dx, x, dout []T)
	add                      func(out, a, b []T)
	gatherRows               func(out, x []T, idx []int32, C int)
	scatterRows              func(dx, dout []T, idx []int32, rows, C int)
	logSoftmaxGatherForward  func(logp, lse, logits []T, targets []int32, N, V int)
	logSoftmaxGatherBackward func(dlogits, dlogp, logits, lse []T, targets []int32, N, V int)
	scale                    func(x []T, s T)
	embeddingForward         func(out, wte, wpe []T, tokens, pos []int32, C int)
	attentionStep            func(out, qkv, kc, vc []T, lens []int32, B, capacity, C, NH int)
	copyRows                 func(dst []T, dstStride int, src []T, srcStride int, dstRows, srcRows []int32, C int)
	// sumSquares is the sum of the squares of every element of every slice: the square of the
	// global gradient norm, read back once a step.
	sumSquares func(xs [][]T) float64
	adamW      func(param, grad, m, v []T, lr, beta1, beta2, eps, weightDecay T, t int)
	// objective evaluates Objective over the scored tokens and returns its Terms, which a
	// training step reads back to log; given dlogp, it writes dloss/dlogp there instead and its
	// Terms are not read.
	objective func(o Objective, s tokenStats[T], dlogp []T) Terms
	// sample draws a token from each of B rows of logits (V columns): see sampleRows. Only
	// float32 backends have it, as only float32 models decode.
	sample func(tokens []int32, logp, logits []T, ids, offsets []int32, u []T, B, V int, sc SampleConfig)
}

var (
	cpuKernels = withHostMemory(&backend[float32]{
		dtype: tensor.Float32, gemm: kernels.Gemm, addBias: kernels.AddBias, sumRows: kernels.SumRows,
		layerNormForward: kernels.LayerNormForward, layerNormBackward: kernels.LayerNormBackward,
		attentionForward: kernels.AttentionForward, attentionBackward: kernels.AttentionBackward,
		geluForward: kernels.GeluForward, geluBackward: kernels.GeluBackward, add: kernels.Add,
		gatherRows: kernels.GatherRows, scatterRows: kernels.ScatterRows,
		logSoftmaxGatherForward: kernels.LogSoftmaxGatherForward, logSoftmaxGatherBackward: kernels.LogSoftmaxGatherBackward,
		embeddingForward: kernels.EmbeddingForward, attentionStep: kernels.AttentionStep, copyRows: kernels.CopyRows,
		scale: kernels.Scale, sumSquares: sumEach(kernels.SumSquares), adamW: kernels.AdamW,
		objective: objectiveTerms[float32], sample: sampleRows,
	})
	references = withHostMemory(&backend[float64]{
		dtype: tensor.Float64, gemm: ref.Gemm, addBias: ref.AddBias, sumRows: ref.SumRows,
		layerNormForward: ref.LayerNormForward, layerNormBackward: ref.LayerNormBackward,
		attentionForward: ref.AttentionForward,
		attentionBackward: func(dqkv, _, dout, qkv, att []float64, lens []int32, B, T, C, NH int) {
			ref.AttentionBackward(dqkv, dout, qkv, att, lens, B, T, C, NH)
		},
		geluForward: ref.GeluForward, geluBackward: ref.GeluBackward, add: ref.Add,
		gatherRows: ref.GatherRows, scatterRows: ref.ScatterRows,
		logSoftmaxGatherForward: ref.LogSoftmaxGatherForward,
		logSoftmaxGatherBackward: func(dlogits, dlogp, logits, _ []float64, targets []int32, N, V int) {
			ref.LogSoftmaxGatherBackward(dlogits, dlogp, logits, targets, N, V)
		},
		embeddingForward: ref.EmbeddingForward, attentionStep: ref.AttentionStep, copyRows: ref.CopyRows,
		scale: ref.Scale, sumSquares: sumEach(ref.SumSquares), adamW: ref.AdamW,
		objective: objectiveTerms[float64],
	})
)

// sumEach extends a sum of squares over one slice to many.
func sumEach[T float](sumSquares func([]T) float64) func([][]T) float64 {
	return func(xs [][]T) float64 {
		var s float64
		for _, x := range xs {
			s += sumSquares(x)
		}
		return s
	}
}

// withHostMemory gives a backend Go memory.
func withHostMemory[T float](be *backend[T]) *backend[T] {
	be.alloc = func(n int) []T { return make([]T, n) }
	be.allocIndex = func(n int) []int32 { return make([]int32, n) }
	be.upload = func(dst, src []T) { copy(dst, src) }
	be.uploadIndex = func(dst, src []int32) { copy(dst, src) }
	be.download = func(dst, src []T) { copy(dst, src) }
	be.downloadIndex = func(dst, src []int32) { copy(dst, src) }
	be.zero = func(x []T) { clear(x) }
	be.copy = func(dst, src []T) { copy(dst, src) }
	return be
}

// newTensor returns a zeroed tensor in the backend's memory.
func (be *backend[T]) newTensor(shape ...int) *tensor.Dense {
	data := be.alloc(tensor.Shape(shape).TotalSize())
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data), tensor.WithEngine(engine[T]{be: be}))
	if be.free != nil {
		runtime.AddCleanup(t, be.free, data)
	}
	return t
}

// newIndexTensor returns a zeroed int32 tensor in the backend's memory.
func (be *backend[T]) newIndexTensor(shape ...int) *tensor.Dense {
	data := be.allocIndex(tensor.Shape(shape).TotalSize())
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data), tensor.WithEngine(engine[T]{be: be}))
	if be.freeIndex != nil {
		runtime.AddCleanup(t, be.freeIndex, data)
	}
	return t
}

// opSerial makes every op instance hash differently: Gorgonia merges nodes whose op and
// children hash alike, and two ops of this file with the same inputs (dx and dW of one Linear)
// are different computations.
var opSerial atomic.Int64

// opBase carries what every op of this file shares: its backend, the arena of its program's
// buffers (set once the program is built), identity, and the Gorgonia boilerplate.
type opBase[T float] struct {
	be    *backend[T]
	arena *arena[T]
	name  string
	id    int64
	out   arenaBuffer[T]
}

// useArena places the op's buffers in a.
func (o *opBase[T]) useArena(a *arena[T]) { o.arena = a }

func newBase[T float](be *backend[T], name string) opBase[T] {
	return opBase[T]{be: be, name: name, id: opSerial.Add(1)}
}

func (o *opBase[T]) ReturnsPtr() bool      { return false }
func (o *opBase[T]) CallsExtern() bool     { return false }
func (o *opBase[T]) OverwritesInput() int  { return -1 }
func (o *opBase[T]) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", o.name, o.id) }
func (o *opBase[T]) String() string        { return o.name }
func (o *opBase[T]) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// types builds the Gorgonia type of an op from the dimensions of its inputs and output: a
// positive count is a tensor of T, 0 a scalar of T, and −1 a vector of int32 (token ids,
// lengths).
func (o *opBase[T]) types(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		switch {
		case d < 0:
			ts[i] = G.TensorType{Dims: 1, Of: tensor.Int32}
		case d == 0:
			ts[i] = o.be.dtype
		default:
			ts[i] = G.TensorType{Dims: d, Of: o.be.dtype}
		}
	}
	return hm.NewFnType(ts...)
}

// output is the op's own output buffer.
func (o *opBase[T]) output(shape ...int) (*tensor.Dense, []T) {
	return o.out.get(o.arena, o.id, shape...)
}

// buffer returns another buffer of the op's program, shaped as asked, and its data: the
// statistics a forward op saves, or those its gradient op reads.
func (o *opBase[T]) buffer(b *arenaBuffer[T], shape ...int) (*tensor.Dense, []T) {
	return b.get(o.arena, o.id, shape...)
}

// in returns the data of an input of the op, which counts as a read in its arena's plan.
func (o *opBase[T]) in(v G.Value) []T {
	if t, ok := v.(*tensor.Dense); ok {
		o.arena.read(o.id, t)
	}
	return v.Data().([]T)
}

func ints(v G.Value) []int32 { return v.Data().([]int32) }

func shapeOf(ds []G.DimSizer, i int) (tensor.Shape, error) {
	s, ok := ds[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("input %d has no known shape (%T)", i, ds[i])
	}
	return s, nil
}

func apply(op G.Op, children ...*G.Node) (*G.Node, error) { return G.ApplyOp(op, children...) }

// ---- Linear: y = x·Wᵀ + b (PyTorch's layout: W is out×in) ----

type linearOp[T float] struct {
	opBase[T]
	hasBias bool
}

func newLinear[T float](be *backend[T], hasBias bool) *linearOp[T] {
	return &linearOp[T]{opBase: newBase(be, "Linear"), hasBias: hasBias}
}

func (o *linearOp[T]) Arity() int {
	if o.hasBias {
		return 3
	}
	return 2
}

func (o *linearOp[T]) Type() hm.Type {
	if o.hasBias {
		return o.types(2, 2, 1, 2)
	}
	return o.types(2, 2, 2)
}

func (o *linearOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	x, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	w, err := shapeOf(ds, 1)
	if err != nil {
		return nil, err
	}
	if x[1] != w[1] {
		return nil, fmt.Errorf("Linear: x is %v but W is %v", x, w)
	}
	return tensor.Shape{x[0], w[0]}, nil
}

func (o *linearOp[T]) Do(vs ...G.Value) (G.Value, error) {
	n, in, outDim := vs[0].Shape()[0], vs[0].Shape()[1], vs[1].Shape()[0]
	out, y := o.output(n, outDim)
	o.be.gemm(false, true, n, outDim, in, 1, o.in(vs[0]), in, o.in(vs[1]), in, 0, y, outDim)
	if o.hasBias {
		o.be.addBias(y, o.in(vs[2]), n, outDim)
	}
	return out, nil
}

func (o *linearOp[T]) DiffWRT(int) []bool { return []bool{true, true, true}[:o.Arity()] }

func (o *linearOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&gemmOp[T]{opBase: newBase(o.be, "LinearDx")}, grad, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(&gemmOp[T]{opBase: newBase(o.be, "LinearDw"), transA: true}, grad, in[0])
	if err != nil {
		return nil, err
	}
	grads := G.Nodes{dx, dw}
	if o.hasBias {
		db, err := apply(&sumRowsOp[T]{opBase: newBase(o.be, "LinearDb")}, grad)
		if err != nil {
			return nil, err
		}
		grads = append(grads, db)
	}
	return grads, nil
}

// gemmOp computes op(A)·B with op(A) = A or Aᵀ: the two gradients of Linear.
type gemmOp[T float] struct {
	opBase[T]
	transA bool
}

func (o *gemmOp[T]) Arity() int    { return 2 }
func (o *gemmOp[T]) Type() hm.Type { return o.types(2, 2, 2) }

func (o *gemmOp[T]) dims(a, b tensor.Shape) (m, n, k int, err error) {
	m, k = a[0], a[1]
	if o.transA {
		m, k = k, m
	}
	if b[0] != k {
		return 0, 0, 0, fmt.Errorf("%s: %v and %v do not multiply", o.name, a, b)
	}
	return m, b[1], k, nil
}

func (o *gemmOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	a, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	b, err := shapeOf(ds, 1)
	if err != nil {
		return nil, err
	}
	m, n, _, err := o.dims(a, b)
	return tensor.Shape{m, n}, err
}

func (o *gemmOp[T]) Do(vs ...G.Value) (G.Value, error) {
	m, n, k, err := o.dims(vs[0].Shape(), vs[1].Shape())
	if err != nil {
		return nil, err
	}
	out, c := o.output(m, n)
	o.be.gemm(o.transA, false, m, n, k, 1, o.in(vs[0]), vs[0].Shape()[1], o.in(vs[1]), n, 0, c, n)
	return out, nil
}

// sumRowsOp sums a matrix over its rows: the gradient of a bias.
type sumRowsOp[T float] struct{ opBase[T] }

func (o *sumRowsOp[T]) Arity() int    { return 1 }
func (o *sumRowsOp[T]) Type() hm.Type { return o.types(2, 1) }
func (o *sumRowsOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}

func (o *sumRowsOp[T]) Do(vs ...G.Value) (G.Value, error) {
	n, c := vs[0].Shape()[0], vs[0].Shape()[1]
	out, db := o.output(c)
	o.be.sumRows(db, o.in(vs[0]), n, c)
	return out, nil
}

// ---- LayerNorm ----

type layerNormOp[T float] struct {
	opBase[T]
	mean, rstd arenaBuffer[T] // saved for the backward pass
}

func newLayerNorm[T float](be *backend[T]) *layerNormOp[T] {
	return &layerNormOp[T]{opBase: newBase(be, "LayerNorm")}
}

func (o *layerNormOp[T]) Arity() int                                        { return 3 }
func (o *layerNormOp[T]) Type() hm.Type                                     { return o.types(2, 1, 1, 2) }
func (o *layerNormOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }

func (o *layerNormOp[T]) Do(vs ...G.Value) (G.Value, error) {
	n, c := vs[0].Shape()[0], vs[0].Shape()[1]
	out, y := o.output(n, c)
	_, mean := o.buffer(&o.mean, n)
	_, rstd := o.buffer(&o.rstd, n)
	o.be.layerNormForward(y, mean, rstd, o.in(vs[0]), o.in(vs[1]), o.in(vs[2]), n, c)
	return out, nil
}

func (o *layerNormOp[T]) DiffWRT(int) []bool { return []bool{true, true, true} }

func (o *layerNormOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&layerNormGradOp[T]{opBase: newBase(o.be, "LayerNormDx"), fwd: o}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&layerNormGradOp[T]{opBase: newBase(o.be, "LayerNormDw"), fwd: o, weight: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	db, err := apply(&sumRowsOp[T]{opBase: newBase(o.be, "LayerNormDb")}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// layerNormGradOp computes dx (or, with weight set, dweight) of LayerNorm from (x, weight, dy),
// using the mean and rstd its forward op saved.
type layerNormGradOp[T float] struct {
	opBase[T]
	fwd    *layerNormOp[T]
	weight bool
}

func (o *layerNormGradOp[T]) Arity() int { return 3 }
func (o *layerNormGradOp[T]) Type() hm.Type {
	if o.weight {
		return o.types(2, 1, 2, 1)
	}
	return o.types(2, 1, 2, 2)
}
func (o *layerNormGradOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if o.weight {
		return shapeOf(ds, 1)
	}
	return shapeOf(ds, 0)
}

func (o *layerNormGradOp[T]) Do(vs ...G.Value) (G.Value, error) {
	n, c := vs[0].Shape()[0], vs[0].Shape()[1]
	var out *tensor.Dense
	var dx, dw []T
	if o.weight {
		out, dw = o.output(c)
	} else {
		out, dx = o.output(n, c)
	}
	_, mean := o.buffer(&o.fwd.mean, n)
	_, rstd := o.buffer(&o.fwd.rstd, n)
	o.be.layerNormBackward(dx, dw, nil, o.in(vs[2]), o.in(vs[0]), o.in(vs[1]), mean, rstd, n, c)
	return out, nil
}

// ---- Causal multi-head attention over packed q|k|v ----

type attentionOp[T float] struct {
	opBase[T]
	batch, seq, heads int
	att               arenaBuffer[T] // the softmax probabilities, saved for the backward pass
}

func newAttention[T float](be *backend[T], batch, seq, heads int) *attentionOp[T] {
	return &attentionOp[T]{opBase: newBase(be, "Attention"), batch: batch, seq: seq, heads: heads}
}

func (o *attentionOp[T]) Arity() int    { return 2 }
func (o *attentionOp[T]) Type() hm.Type { return o.types(2, -1, 2) }
func (o *attentionOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	if s[0] != o.batch*o.seq || s[1]%3 != 0 || (s[1]/3)%o.heads != 0 {
		return nil, fmt.Errorf("Attention: qkv %v does not fit batch %d, seq %d, %d heads", s, o.batch, o.seq, o.heads)
	}
	return tensor.Shape{s[0], s[1] / 3}, nil
}

func (o *attentionOp[T]) Do(vs ...G.Value) (G.Value, error) {
	c := vs[0].Shape()[1] / 3
	out, y := o.output(o.batch*o.seq, c)
	_, att := o.buffer(&o.att, o.batch, o.heads, o.seq, o.seq)
	o.be.attentionForward(y, att, o.in(vs[0]), ints(vs[1]), o.batch, o.seq, c, o.heads)
	return out, nil
}

func (o *attentionOp[T]) DiffWRT(int) []bool { return []bool{true, false} }

func (o *attentionOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&attentionGradOp[T]{opBase: newBase(o.be, "AttentionDqkv"), fwd: o}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

// attentionGradOp computes d(qkv) from (qkv, lens, dout) with the probabilities its forward op saved.
type attentionGradOp[T float] struct {
	opBase[T]
	fwd     *attentionOp[T]
	scratch arenaBuffer[T]
}

func (o *attentionGradOp[T]) Arity() int    { return 3 }
func (o *attentionGradOp[T]) Type() hm.Type { return o.types(2, -1, 2, 2) }
func (o *attentionGradOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(ds, 0)
}

func (o *attentionGradOp[T]) Do(vs ...G.Value) (G.Value, error) {
	f := o.fwd
	c := vs[0].Shape()[1] / 3
	out, dqkv := o.output(f.batch*f.seq, 3*c)
	_, scratch := o.buffer(&o.scratch, f.batch, f.heads, f.seq, f.seq)
	_, att := o.buffer(&f.att, f.batch, f.heads, f.seq, f.seq)
	o.be.attentionBackward(dqkv, scratch, o.in(vs[2]), o.in(vs[0]), att, ints(vs[1]), f.batch, f.seq, c, f.heads)
	return out, nil
}

// ---- GELU ----

type geluOp[T float] struct{ opBase[T] }

func newGelu[T float](be *backend[T]) *geluOp[T] { return &geluOp[T]{newBase(be, "GELU")} }

func (o *geluOp[T]) Arity() int                                        { return 1 }
func (o *geluOp[T]) Type() hm.Type                                     { return o.types(2, 2) }
func (o *geluOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }

func (o *geluOp[T]) Do(vs ...G.Value) (G.Value, error) {
	out, y := o.output(vs[0].Shape()...)
	o.be.geluForward(y, o.in(vs[0]))
	return out, nil
}

func (o *geluOp[T]) DiffWRT(int) []bool { return []bool{true} }
func (o *geluOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&geluGradOp[T]{newBase(o.be, "GELUDx")}, in[0], grad)
	return G.Nodes{d}, err
}

// geluGradOp computes dx of GELU from (x, dy).
type geluGradOp[T float] struct{ opBase[T] }

func (o *geluGradOp[T]) Arity() int                                        { return 2 }
func (o *geluGradOp[T]) Type() hm.Type                                     { return o.types(2, 2, 2) }
func (o *geluGradOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }
func (o *geluGradOp[T]) Do(vs ...G.Value) (G.Value, error) {
	out, dx := o.output(vs[0].Shape()...)
	o.be.geluBackward(dx, o.in(vs[0]), o.in(vs[1]))
	return out, nil
}

// ---- Elementwise add: residual connections, and the logit mask ----

type addOp[T float] struct{ opBase[T] }

func newAdd[T float](be *backend[T]) *addOp[T] { return &addOp[T]{newBase(be, "Add")} }

func (o *addOp[T]) Arity() int    { return 2 }
func (o *addOp[T]) Type() hm.Type { return o.types(2, 2, 2) }
func (o *addOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	a, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	b, err := shapeOf(ds, 1)
	if err != nil {
		return nil, err
	}
	if !a.Eq(b) {
		return nil, fmt.Errorf("Add: shapes %v and %v differ", a, b)
	}
	return a, nil
}
func (o *addOp[T]) Do(vs ...G.Value) (G.Value, error) {
	out, y := o.output(vs[0].Shape()...)
	o.be.add(y, o.in(vs[0]), o.in(vs[1]))
	return out, nil
}
func (o *addOp[T]) DiffWRT(int) []bool { return []bool{true, true} }
func (o *addOp[T]) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad, grad}, nil
}

// ---- Row gather: embedding lookup, and selecting the positions that are scored ----

type gatherRowsOp[T float] struct{ opBase[T] }

func newGatherRows[T float](be *backend[T]) *gatherRowsOp[T] {
	return &gatherRowsOp[T]{newBase(be, "GatherRows")}
}

func (o *gatherRowsOp[T]) Arity() int    { return 2 }
func (o *gatherRowsOp[T]) Type() hm.Type { return o.types(2, -1, 2) }
func (o *gatherRowsOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	x, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	idx, err := shapeOf(ds, 1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{idx.TotalSize(), x[1]}, nil
}
func (o *gatherRowsOp[T]) Do(vs ...G.Value) (G.Value, error) {
	idx, c := ints(vs[1]), vs[0].Shape()[1]
	out, y := o.output(len(idx), c)
	o.be.gatherRows(y, o.in(vs[0]), idx, c)
	return out, nil
}
func (o *gatherRowsOp[T]) DiffWRT(int) []bool { return []bool{true, false} }
func (o *gatherRowsOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&scatterRowsOp[T]{newBase(o.be, "ScatterRows")}, in[0], grad, in[1])
	return G.Nodes{d, nil}, err
}

// scatterRowsOp is GatherRows' gradient: rows of dy added into a zeroed matrix shaped like x.
type scatterRowsOp[T float] struct{ opBase[T] }

func (o *scatterRowsOp[T]) Arity() int                                        { return 3 }
func (o *scatterRowsOp[T]) Type() hm.Type                                     { return o.types(2, 2, -1, 2) }
func (o *scatterRowsOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }
func (o *scatterRowsOp[T]) Do(vs ...G.Value) (G.Value, error) {
	rows, c := vs[0].Shape()[0], vs[0].Shape()[1]
	out, dx := o.output(rows, c)
	o.be.scatterRows(dx, o.in(vs[1]), ints(vs[2]), rows, c)
	return out, nil
}

// ---- Log-probability of the chosen tokens ----

type logSoftmaxGatherOp[T float] struct {
	opBase[T]
	lse arenaBuffer[T] // saved for the backward pass
}

func newLogSoftmaxGather[T float](be *backend[T]) *logSoftmaxGatherOp[T] {
	return &logSoftmaxGatherOp[T]{opBase: newBase(be, "LogSoftmaxGather")}
}

func (o *logSoftmaxGatherOp[T]) Arity() int    { return 2 }
func (o *logSoftmaxGatherOp[T]) Type() hm.Type { return o.types(2, -1, 1) }
func (o *logSoftmaxGatherOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0]}, nil
}
func (o *logSoftmaxGatherOp[T]) Do(vs ...G.Value) (G.Value, error) {
	n, v := vs[0].Shape()[0], vs[0].Shape()[1]
	out, logp := o.output(n)
	_, lse := o.buffer(&o.lse, n)
	o.be.logSoftmaxGatherForward(logp, lse, o.in(vs[0]), ints(vs[1]), n, v)
	return out, nil
}
func (o *logSoftmaxGatherOp[T]) DiffWRT(int) []bool { return []bool{true, false} }
func (o *logSoftmaxGatherOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&logSoftmaxGatherGradOp[T]{opBase: newBase(o.be, "LogSoftmaxGatherDlogits"), fwd: o}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

// logSoftmaxGatherGradOp computes dlogits from (logits, targets, dlogp) with the saved logsumexp.
type logSoftmaxGatherGradOp[T float] struct {
	opBase[T]
	fwd *logSoftmaxGatherOp[T]
}

func (o *logSoftmaxGatherGradOp[T]) Arity() int    { return 3 }
func (o *logSoftmaxGatherGradOp[T]) Type() hm.Type { return o.types(2, -1, 1, 2) }
func (o *logSoftmaxGatherGradOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(ds, 0)
}
func (o *logSoftmaxGatherGradOp[T]) Do(vs ...G.Value) (G.Value, error) {
	n, v := vs[0].Shape()[0], vs[0].Shape()[1]
	out, dlogits := o.output(n, v)
	_, lse := o.buffer(&o.fwd.lse, n)
	o.be.logSoftmaxGatherBackward(dlogits, o.in(vs[2]), o.in(vs[0]), lse, ints(vs[1]), n, v)
	return out, nil
}

// ---- The training objective over scored tokens ----

// tokenColumns names the per-token inputs of the objective, in order.
var tokenColumns = [...]string{"old_logp", "ref_logp", "advantage", "pg_weight", "distill_weight"}

// objectiveOp reduces the log-probabilities of the scored tokens to the scalar loss of
// Objective; its inputs are logp and the columns of tokenColumns, in order.
type objectiveOp[T float] struct {
	opBase[T]
	cfg   Objective
	terms Terms // of the last forward run, for logging
}

// objectiveState is what a program reads and sets on its objective, whatever its element type.
type objectiveState interface {
	configure(Objective)
	lastTerms() Terms
}

func (o *objectiveOp[T]) configure(cfg Objective) { o.cfg = cfg }
func (o *objectiveOp[T]) lastTerms() Terms        { return o.terms }

func newObjective[T float](be *backend[T], cfg Objective) *objectiveOp[T] {
	return &objectiveOp[T]{opBase: newBase(be, "Objective"), cfg: cfg}
}

func (o *objectiveOp[T]) Arity() int { return 1 + len(tokenColumns) }
func (o *objectiveOp[T]) Type() hm.Type {
	return o.types(1, 1, 1, 1, 1, 1, 0)
}
func (o *objectiveOp[T]) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o *objectiveOp[T]) Do(vs ...G.Value) (G.Value, error) {
	o.terms = o.be.objective(o.cfg, o.columns(vs), nil)
	if o.be.dtype == tensor.Float32 {
		return G.NewF32(float32(o.terms.Loss)), nil
	}
	return G.NewF64(o.terms.Loss), nil
}

// columns returns the objective's inputs: the log-probabilities and the tokenColumns.
func (o *opBase[T]) columns(vs []G.Value) tokenStats[T] {
	return tokenStats[T]{logp: o.in(vs[0]), old: o.in(vs[1]), ref: o.in(vs[2]),
		adv: o.in(vs[3]), wPG: o.in(vs[4]), wDistill: o.in(vs[5])}
}

func (o *objectiveOp[T]) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}

func (o *objectiveOp[T]) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&objectiveGradOp[T]{opBase: newBase(o.be, "ObjectiveDlogp"), fwd: o}, append(in[:len(in):len(in)], grad)...)
	grads := make(G.Nodes, len(in))
	grads[0] = d
	return grads, err
}

// objectiveGradOp computes dloss/dlogp from the objective's inputs and the upstream scalar.
type objectiveGradOp[T float] struct {
	opBase[T]
	fwd *objectiveOp[T]
}

func (o *objectiveGradOp[T]) Arity() int    { return o.fwd.Arity() + 1 }
func (o *objectiveGradOp[T]) Type() hm.Type { return o.types(1, 1, 1, 1, 1, 1, 0, 1) }
func (o *objectiveGradOp[T]) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(ds, 0)
}
func (o *objectiveGradOp[T]) Do(vs ...G.Value) (G.Value, error) {
	out, d := o.output(vs[0].Shape()...)
	o.be.objective(o.fwd.cfg, o.columns(vs), d)
	var upstream T
	switch u := vs[len(vs)-1].Data().(type) {
	case T:
		upstream = u
	case []T:
		upstream = u[0]
	default:
		return nil, fmt.Errorf("%s: upstream gradient is %T", o.name, u)
	}
	o.be.scale(d, upstream)
	return out, nil
}

// safeExp keeps a ratio finite when a policy drifts far from the one that sampled.
func safeExp(x float64) float64 { return math.Exp(math.Min(x, 20)) }
