package model

// The transformer's Gorgonia ops. Gorgonia's own ops allocate a fresh tensor per run and have no
// fused LayerNorm, attention or log-softmax gather, so every op of the policy is written here as
// a custom Op whose arithmetic runs in package kernels. Each op owns its output (allocated on the
// first run, reused after: the graph's shapes are fixed) and, where its gradient needs them, the
// statistics saved by the forward pass. A float64 graph, which the gradient check runs, computes
// through the kernels' float64 references (package kernels/ref) instead. Gradients are symbolic (SDOp): each backward rule is
// itself an op of this file, so the TapeMachine runs forward and backward as one program.

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/kernels"
	"github.com/erlgo/erlgo/kernels/ref"
)

// opSerial makes every op instance hash differently: Gorgonia merges nodes whose op and
// children hash alike, and two ops of this file with the same inputs (dx and dW of one Linear)
// are different computations.
var opSerial atomic.Int64

// opBase carries what every op of this file shares: identity and the Gorgonia boilerplate.
type opBase struct {
	name string
	id   int64
}

func newBase(name string) opBase { return opBase{name: name, id: opSerial.Add(1)} }

func (o *opBase) ReturnsPtr() bool      { return false }
func (o *opBase) CallsExtern() bool     { return false }
func (o *opBase) OverwritesInput() int  { return -1 }
func (o *opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s#%d", o.name, o.id) }
func (o *opBase) String() string        { return o.name }
func (o *opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// outBuf is an op's output tensor, allocated on first use.
type outBuf struct{ t *tensor.Dense }

func (b *outBuf) get(dt tensor.Dtype, shape ...int) *tensor.Dense {
	if b.t == nil || b.t.Dtype() != dt || !b.t.Shape().Eq(tensor.Shape(shape)) {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	return b.t
}

// tensorType is the Gorgonia type of a value with dims dimensions of dt; dims 0 is a scalar.
func tensorType(dt tensor.Dtype, dims int) hm.Type {
	if dims == 0 {
		return dt
	}
	return G.TensorType{Dims: dims, Of: dt}
}

func fnType(ts ...hm.Type) hm.Type { return hm.NewFnType(ts...) }

// float is the element type of the graph: float32 for training, float64 for gradient checks.
type float interface{ ~float32 | ~float64 }

func floats[T float](v G.Value) []T { return v.Data().([]T) }
func ints(v G.Value) []int32        { return v.Data().([]int32) }

// scalarOf reads a scalar value of either float width.
func scalarOf(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	case []float32:
		return float64(x[0])
	case []float64:
		return x[0]
	}
	panic(fmt.Sprintf("model: %T is not a float scalar", v.Data()))
}

func dtypeOf(v G.Value) tensor.Dtype { return v.Dtype() }

func shapeOf(ds []G.DimSizer, i int) (tensor.Shape, error) {
	s, ok := ds[i].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("input %d has no known shape (%T)", i, ds[i])
	}
	return s, nil
}

// dispatch runs f32 or f64 by the dtype of v: the graph is float32 for training and float64 for
// the gradient check, and the kernels are generic over both.
func dispatch(v G.Value, f32, f64 func()) error {
	switch v.Dtype() {
	case tensor.Float32:
		f32()
	case tensor.Float64:
		f64()
	default:
		return fmt.Errorf("model: unsupported dtype %v", v.Dtype())
	}
	return nil
}

func apply(op G.Op, children ...*G.Node) (*G.Node, error) { return G.ApplyOp(op, children...) }

// ---- Linear: y = x·Wᵀ + b (PyTorch's layout: W is out×in) ----

type linearOp struct {
	opBase
	dt      tensor.Dtype
	hasBias bool
	out     outBuf
}

func newLinear(dt tensor.Dtype, hasBias bool) *linearOp {
	return &linearOp{opBase: newBase("Linear"), dt: dt, hasBias: hasBias}
}

func (o *linearOp) Arity() int {
	if o.hasBias {
		return 3
	}
	return 2
}

func (o *linearOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	if o.hasBias {
		return fnType(m, m, tensorType(o.dt, 1), m)
	}
	return fnType(m, m, m)
}

func (o *linearOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
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

func (o *linearOp) Do(vs ...G.Value) (G.Value, error) {
	x, w := vs[0], vs[1]
	n, in, outDim := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	out := o.out.get(o.dt, n, outDim)
	err := dispatch(x, func() {
		y := out.Data().([]float32)
		kernels.Gemm(false, true, n, outDim, in, 1, floats[float32](x), in, floats[float32](w), in, 0, y, outDim)
		if o.hasBias {
			kernels.AddBias(y, floats[float32](vs[2]), n, outDim)
		}
	}, func() {
		y := out.Data().([]float64)
		ref.Gemm(false, true, n, outDim, in, 1, floats[float64](x), in, floats[float64](w), in, 0, y, outDim)
		if o.hasBias {
			ref.AddBias(y, floats[float64](vs[2]), n, outDim)
		}
	})
	return out, err
}

func (o *linearOp) DiffWRT(int) []bool { return []bool{true, true, true}[:o.Arity()] }

func (o *linearOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&gemmOp{opBase: newBase("LinearDx"), dt: o.dt}, grad, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(&gemmOp{opBase: newBase("LinearDw"), dt: o.dt, transA: true}, grad, in[0])
	if err != nil {
		return nil, err
	}
	grads := G.Nodes{dx, dw}
	if o.hasBias {
		db, err := apply(&sumRowsOp{opBase: newBase("LinearDb"), dt: o.dt}, grad)
		if err != nil {
			return nil, err
		}
		grads = append(grads, db)
	}
	return grads, nil
}

// gemmOp computes op(A)·B with op(A) = A or Aᵀ: the two gradients of Linear.
type gemmOp struct {
	opBase
	dt     tensor.Dtype
	transA bool
	out    outBuf
}

func (o *gemmOp) Arity() int { return 2 }
func (o *gemmOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	return fnType(m, m, m)
}

func (o *gemmOp) dims(a, b tensor.Shape) (m, n, k int, err error) {
	m, k = a[0], a[1]
	if o.transA {
		m, k = k, m
	}
	if b[0] != k {
		return 0, 0, 0, fmt.Errorf("%s: %v and %v do not multiply", o.name, a, b)
	}
	return m, b[1], k, nil
}

func (o *gemmOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
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

func (o *gemmOp) Do(vs ...G.Value) (G.Value, error) {
	a, b := vs[0], vs[1]
	m, n, k, err := o.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	out := o.out.get(o.dt, m, n)
	lda := a.Shape()[1]
	err = dispatch(a, func() {
		kernels.Gemm(o.transA, false, m, n, k, 1, floats[float32](a), lda, floats[float32](b), n, 0, out.Data().([]float32), n)
	}, func() {
		ref.Gemm(o.transA, false, m, n, k, 1, floats[float64](a), lda, floats[float64](b), n, 0, out.Data().([]float64), n)
	})
	return out, err
}

// sumRowsOp sums a matrix over its rows: the gradient of a bias.
type sumRowsOp struct {
	opBase
	dt  tensor.Dtype
	out outBuf
}

func (o *sumRowsOp) Arity() int    { return 1 }
func (o *sumRowsOp) Type() hm.Type { return fnType(tensorType(o.dt, 2), tensorType(o.dt, 1)) }
func (o *sumRowsOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[1]}, nil
}

func (o *sumRowsOp) Do(vs ...G.Value) (G.Value, error) {
	n, c := vs[0].Shape()[0], vs[0].Shape()[1]
	out := o.out.get(o.dt, c)
	err := dispatch(vs[0], func() { kernels.SumRows(out.Data().([]float32), floats[float32](vs[0]), n, c) },
		func() { ref.SumRows(out.Data().([]float64), floats[float64](vs[0]), n, c) })
	return out, err
}

// ---- LayerNorm ----

type layerNormOp struct {
	opBase
	dt         tensor.Dtype
	out        outBuf
	mean, rstd outBuf // saved for the backward pass
}

func newLayerNorm(dt tensor.Dtype) *layerNormOp {
	return &layerNormOp{opBase: newBase("LayerNorm"), dt: dt}
}

func (o *layerNormOp) Arity() int { return 3 }
func (o *layerNormOp) Type() hm.Type {
	m, v := tensorType(o.dt, 2), tensorType(o.dt, 1)
	return fnType(m, v, v, m)
}
func (o *layerNormOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }

func (o *layerNormOp) Do(vs ...G.Value) (G.Value, error) {
	n, c := vs[0].Shape()[0], vs[0].Shape()[1]
	out := o.out.get(o.dt, n, c)
	mean, rstd := o.mean.get(o.dt, n), o.rstd.get(o.dt, n)
	err := dispatch(vs[0], func() {
		kernels.LayerNormForward(out.Data().([]float32), mean.Data().([]float32), rstd.Data().([]float32),
			floats[float32](vs[0]), floats[float32](vs[1]), floats[float32](vs[2]), n, c)
	}, func() {
		ref.LayerNormForward(out.Data().([]float64), mean.Data().([]float64), rstd.Data().([]float64),
			floats[float64](vs[0]), floats[float64](vs[1]), floats[float64](vs[2]), n, c)
	})
	return out, err
}

func (o *layerNormOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (o *layerNormOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&layerNormGradOp{opBase: newBase("LayerNormDx"), fwd: o}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := apply(&layerNormGradOp{opBase: newBase("LayerNormDw"), fwd: o, weight: true}, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	db, err := apply(&sumRowsOp{opBase: newBase("LayerNormDb"), dt: o.dt}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw, db}, nil
}

// layerNormGradOp computes dx (or, with weight set, dweight) of LayerNorm from (x, weight, dy),
// using the mean and rstd its forward op saved.
type layerNormGradOp struct {
	opBase
	fwd    *layerNormOp
	weight bool
	out    outBuf
}

func (o *layerNormGradOp) Arity() int { return 3 }
func (o *layerNormGradOp) Type() hm.Type {
	m, v := tensorType(o.fwd.dt, 2), tensorType(o.fwd.dt, 1)
	if o.weight {
		return fnType(m, v, m, v)
	}
	return fnType(m, v, m, m)
}
func (o *layerNormGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	if o.weight {
		return shapeOf(ds, 1)
	}
	return shapeOf(ds, 0)
}

func (o *layerNormGradOp) Do(vs ...G.Value) (G.Value, error) {
	n, c := vs[0].Shape()[0], vs[0].Shape()[1]
	var out *tensor.Dense
	if o.weight {
		out = o.out.get(o.fwd.dt, c)
	} else {
		out = o.out.get(o.fwd.dt, n, c)
	}
	f := o.fwd
	err := dispatch(vs[0], func() {
		var dx, dw []float32
		if o.weight {
			dw = out.Data().([]float32)
		} else {
			dx = out.Data().([]float32)
		}
		kernels.LayerNormBackward(dx, dw, nil, floats[float32](vs[2]), floats[float32](vs[0]), floats[float32](vs[1]),
			f.mean.t.Data().([]float32), f.rstd.t.Data().([]float32), n, c)
	}, func() {
		var dx, dw []float64
		if o.weight {
			dw = out.Data().([]float64)
		} else {
			dx = out.Data().([]float64)
		}
		ref.LayerNormBackward(dx, dw, nil, floats[float64](vs[2]), floats[float64](vs[0]), floats[float64](vs[1]),
			f.mean.t.Data().([]float64), f.rstd.t.Data().([]float64), n, c)
	})
	return out, err
}

// ---- Causal multi-head attention over packed q|k|v ----

type attentionOp struct {
	opBase
	dt           tensor.Dtype
	batch, seq   int
	heads        int
	out, att     outBuf
	scratchShape int
}

func newAttention(dt tensor.Dtype, batch, seq, heads int) *attentionOp {
	return &attentionOp{opBase: newBase("Attention"), dt: dt, batch: batch, seq: seq, heads: heads}
}

func (o *attentionOp) Arity() int { return 2 }
func (o *attentionOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	return fnType(m, tensorType(tensor.Int32, 1), m)
}
func (o *attentionOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	if s[0] != o.batch*o.seq || s[1]%3 != 0 || (s[1]/3)%o.heads != 0 {
		return nil, fmt.Errorf("Attention: qkv %v does not fit batch %d, seq %d, %d heads", s, o.batch, o.seq, o.heads)
	}
	return tensor.Shape{s[0], s[1] / 3}, nil
}

func (o *attentionOp) Do(vs ...G.Value) (G.Value, error) {
	c := vs[0].Shape()[1] / 3
	out := o.out.get(o.dt, o.batch*o.seq, c)
	att := o.att.get(o.dt, o.batch, o.heads, o.seq, o.seq)
	lens := ints(vs[1])
	err := dispatch(vs[0], func() {
		kernels.AttentionForward(out.Data().([]float32), att.Data().([]float32), floats[float32](vs[0]), lens, o.batch, o.seq, c, o.heads)
	}, func() {
		ref.AttentionForward(out.Data().([]float64), att.Data().([]float64), floats[float64](vs[0]), lens, o.batch, o.seq, c, o.heads)
	})
	return out, err
}

func (o *attentionOp) DiffWRT(int) []bool { return []bool{true, false} }

func (o *attentionOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&attentionGradOp{opBase: newBase("AttentionDqkv"), fwd: o}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

// attentionGradOp computes d(qkv) from (qkv, lens, dout) with the probabilities its forward op saved.
type attentionGradOp struct {
	opBase
	fwd          *attentionOp
	out, scratch outBuf
}

func (o *attentionGradOp) Arity() int { return 3 }
func (o *attentionGradOp) Type() hm.Type {
	m := tensorType(o.fwd.dt, 2)
	return fnType(m, tensorType(tensor.Int32, 1), m, m)
}
func (o *attentionGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }

func (o *attentionGradOp) Do(vs ...G.Value) (G.Value, error) {
	f := o.fwd
	c := vs[0].Shape()[1] / 3
	out := o.out.get(f.dt, f.batch*f.seq, 3*c)
	scratch := o.scratch.get(f.dt, f.batch, f.heads, f.seq, f.seq)
	lens := ints(vs[1])
	err := dispatch(vs[0], func() {
		kernels.AttentionBackward(out.Data().([]float32), scratch.Data().([]float32), floats[float32](vs[2]),
			floats[float32](vs[0]), f.att.t.Data().([]float32), lens, f.batch, f.seq, c, f.heads)
	}, func() {
		ref.AttentionBackward(out.Data().([]float64), floats[float64](vs[2]),
			floats[float64](vs[0]), f.att.t.Data().([]float64), lens, f.batch, f.seq, c, f.heads)
	})
	return out, err
}

// ---- GELU ----

type geluOp struct {
	opBase
	dt  tensor.Dtype
	out outBuf
}

func newGelu(dt tensor.Dtype) *geluOp { return &geluOp{opBase: newBase("GELU"), dt: dt} }

func (o *geluOp) Arity() int    { return 1 }
func (o *geluOp) Type() hm.Type { return fnType(tensorType(o.dt, 2), tensorType(o.dt, 2)) }
func (o *geluOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(ds, 0)
}

func (o *geluOp) Do(vs ...G.Value) (G.Value, error) {
	out := o.out.get(o.dt, vs[0].Shape()...)
	err := dispatch(vs[0], func() { kernels.GeluForward(out.Data().([]float32), floats[float32](vs[0])) },
		func() { ref.GeluForward(out.Data().([]float64), floats[float64](vs[0])) })
	return out, err
}

func (o *geluOp) DiffWRT(int) []bool { return []bool{true} }
func (o *geluOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&geluGradOp{opBase: newBase("GELUDx"), dt: o.dt}, in[0], grad)
	return G.Nodes{d}, err
}

// geluGradOp computes dx of GELU from (x, dy).
type geluGradOp struct {
	opBase
	dt  tensor.Dtype
	out outBuf
}

func (o *geluGradOp) Arity() int { return 2 }
func (o *geluGradOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	return fnType(m, m, m)
}
func (o *geluGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }
func (o *geluGradOp) Do(vs ...G.Value) (G.Value, error) {
	out := o.out.get(o.dt, vs[0].Shape()...)
	err := dispatch(vs[0], func() {
		kernels.GeluBackward(out.Data().([]float32), floats[float32](vs[0]), floats[float32](vs[1]))
	}, func() {
		ref.GeluBackward(out.Data().([]float64), floats[float64](vs[0]), floats[float64](vs[1]))
	})
	return out, err
}

// ---- Residual add ----

type addOp struct {
	opBase
	dt  tensor.Dtype
	out outBuf
}

func newAdd(dt tensor.Dtype) *addOp { return &addOp{opBase: newBase("Add"), dt: dt} }

func (o *addOp) Arity() int { return 2 }
func (o *addOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	return fnType(m, m, m)
}
func (o *addOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
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
func (o *addOp) Do(vs ...G.Value) (G.Value, error) {
	out := o.out.get(o.dt, vs[0].Shape()...)
	err := dispatch(vs[0], func() {
		kernels.Add(out.Data().([]float32), floats[float32](vs[0]), floats[float32](vs[1]))
	}, func() {
		ref.Add(out.Data().([]float64), floats[float64](vs[0]), floats[float64](vs[1]))
	})
	return out, err
}
func (o *addOp) DiffWRT(int) []bool { return []bool{true, true} }
func (o *addOp) SymDiff(_ G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad, grad}, nil
}

// ---- Row gather (embedding lookup, selecting the positions that are scored) ----

type gatherRowsOp struct {
	opBase
	dt  tensor.Dtype
	out outBuf
}

func newGatherRows(dt tensor.Dtype) *gatherRowsOp {
	return &gatherRowsOp{opBase: newBase("GatherRows"), dt: dt}
}

func (o *gatherRowsOp) Arity() int { return 2 }
func (o *gatherRowsOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	return fnType(m, tensorType(tensor.Int32, 1), m)
}
func (o *gatherRowsOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
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
func (o *gatherRowsOp) Do(vs ...G.Value) (G.Value, error) {
	idx := ints(vs[1])
	c := vs[0].Shape()[1]
	out := o.out.get(o.dt, len(idx), c)
	err := dispatch(vs[0], func() { kernels.GatherRows(out.Data().([]float32), floats[float32](vs[0]), idx, c) },
		func() { ref.GatherRows(out.Data().([]float64), floats[float64](vs[0]), idx, c) })
	return out, err
}
func (o *gatherRowsOp) DiffWRT(int) []bool { return []bool{true, false} }
func (o *gatherRowsOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&scatterRowsOp{opBase: newBase("ScatterRows"), dt: o.dt}, in[0], grad, in[1])
	return G.Nodes{d, nil}, err
}

// scatterRowsOp is GatherRows' gradient: rows of dy added into a zeroed matrix shaped like x.
type scatterRowsOp struct {
	opBase
	dt  tensor.Dtype
	out outBuf
}

func (o *scatterRowsOp) Arity() int { return 3 }
func (o *scatterRowsOp) Type() hm.Type {
	m := tensorType(o.dt, 2)
	return fnType(m, m, tensorType(tensor.Int32, 1), m)
}
func (o *scatterRowsOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }
func (o *scatterRowsOp) Do(vs ...G.Value) (G.Value, error) {
	rows, c := vs[0].Shape()[0], vs[0].Shape()[1]
	out := o.out.get(o.dt, rows, c)
	idx := ints(vs[2])
	err := dispatch(vs[0], func() { kernels.ScatterRows(out.Data().([]float32), floats[float32](vs[1]), idx, rows, c) },
		func() { ref.ScatterRows(out.Data().([]float64), floats[float64](vs[1]), idx, rows, c) })
	return out, err
}

// ---- Log-probability of the chosen tokens ----

type logSoftmaxGatherOp struct {
	opBase
	dt       tensor.Dtype
	out, lse outBuf
}

func newLogSoftmaxGather(dt tensor.Dtype) *logSoftmaxGatherOp {
	return &logSoftmaxGatherOp{opBase: newBase("LogSoftmaxGather"), dt: dt}
}

func (o *logSoftmaxGatherOp) Arity() int { return 2 }
func (o *logSoftmaxGatherOp) Type() hm.Type {
	return fnType(tensorType(o.dt, 2), tensorType(tensor.Int32, 1), tensorType(o.dt, 1))
}
func (o *logSoftmaxGatherOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(ds, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0]}, nil
}
func (o *logSoftmaxGatherOp) Do(vs ...G.Value) (G.Value, error) {
	n, v := vs[0].Shape()[0], vs[0].Shape()[1]
	out, lse := o.out.get(o.dt, n), o.lse.get(o.dt, n)
	targets := ints(vs[1])
	err := dispatch(vs[0], func() {
		kernels.LogSoftmaxGatherForward(out.Data().([]float32), lse.Data().([]float32), floats[float32](vs[0]), targets, n, v)
	}, func() {
		ref.LogSoftmaxGatherForward(out.Data().([]float64), lse.Data().([]float64), floats[float64](vs[0]), targets, n, v)
	})
	return out, err
}
func (o *logSoftmaxGatherOp) DiffWRT(int) []bool { return []bool{true, false} }
func (o *logSoftmaxGatherOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&logSoftmaxGatherGradOp{opBase: newBase("LogSoftmaxGatherDlogits"), fwd: o}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

// logSoftmaxGatherGradOp computes dlogits from (logits, targets, dlogp) with the saved logsumexp.
type logSoftmaxGatherGradOp struct {
	opBase
	fwd *logSoftmaxGatherOp
	out outBuf
}

func (o *logSoftmaxGatherGradOp) Arity() int { return 3 }
func (o *logSoftmaxGatherGradOp) Type() hm.Type {
	m := tensorType(o.fwd.dt, 2)
	return fnType(m, tensorType(tensor.Int32, 1), tensorType(o.fwd.dt, 1), m)
}
func (o *logSoftmaxGatherGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf(ds, 0)
}
func (o *logSoftmaxGatherGradOp) Do(vs ...G.Value) (G.Value, error) {
	n, v := vs[0].Shape()[0], vs[0].Shape()[1]
	out := o.out.get(o.fwd.dt, n, v)
	targets := ints(vs[1])
	err := dispatch(vs[0], func() {
		kernels.LogSoftmaxGatherBackward(out.Data().([]float32), floats[float32](vs[2]), floats[float32](vs[0]),
			o.fwd.lse.t.Data().([]float32), targets, n, v)
	}, func() {
		ref.LogSoftmaxGatherBackward(out.Data().([]float64), floats[float64](vs[2]), floats[float64](vs[0]), targets, n, v)
	})
	return out, err
}

// ---- The training objective over scored tokens ----

// objectiveOp reduces the log-probabilities of the scored tokens to the scalar loss of
// Objective; its inputs are logp and the per-token columns of TokenData, in tokenColumns order.
type objectiveOp struct {
	opBase
	dt    tensor.Dtype
	cfg   Objective
	terms Terms // of the last forward run, for logging
	out   outBuf
}

// tokenColumns names the per-token inputs of the objective, in order.
var tokenColumns = [...]string{"old_logp", "ref_logp", "advantage", "pg_weight", "distill_weight"}

func newObjective(dt tensor.Dtype, cfg Objective) *objectiveOp {
	return &objectiveOp{opBase: newBase("Objective"), dt: dt, cfg: cfg}
}

func (o *objectiveOp) Arity() int { return 1 + len(tokenColumns) }
func (o *objectiveOp) Type() hm.Type {
	ts := make([]hm.Type, 0, o.Arity()+1)
	for range o.Arity() {
		ts = append(ts, tensorType(o.dt, 1))
	}
	return fnType(append(ts, tensorType(o.dt, 0))...)
}
func (o *objectiveOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (o *objectiveOp) Do(vs ...G.Value) (G.Value, error) {
	var loss float64
	err := dispatch(vs[0], func() { o.terms = objectiveTerms(o.cfg, columnsOf[float32](vs), nil) },
		func() { o.terms = objectiveTerms(o.cfg, columnsOf[float64](vs), nil) })
	loss = o.terms.Loss
	if o.dt == tensor.Float32 {
		return G.NewF32(float32(loss)), err
	}
	return G.NewF64(loss), err
}

func columnsOf[T float](vs []G.Value) tokenStats[T] {
	return tokenStats[T]{logp: floats[T](vs[0]), old: floats[T](vs[1]), ref: floats[T](vs[2]),
		adv: floats[T](vs[3]), wPG: floats[T](vs[4]), wDistill: floats[T](vs[5])}
}

func (o *objectiveOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	d[0] = true
	return d
}

func (o *objectiveOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := apply(&objectiveGradOp{opBase: newBase("ObjectiveDlogp"), fwd: o}, append(in[:len(in):len(in)], grad)...)
	grads := make(G.Nodes, len(in))
	grads[0] = d
	return grads, err
}

// objectiveGradOp computes dloss/dlogp from the objective's inputs and the upstream scalar.
type objectiveGradOp struct {
	opBase
	fwd *objectiveOp
	out outBuf
}

func (o *objectiveGradOp) Arity() int { return o.fwd.Arity() + 1 }
func (o *objectiveGradOp) Type() hm.Type {
	ts := make([]hm.Type, 0, o.Arity()+1)
	for range o.fwd.Arity() {
		ts = append(ts, tensorType(o.fwd.dt, 1))
	}
	return fnType(append(ts, tensorType(o.fwd.dt, 0), tensorType(o.fwd.dt, 1))...)
}
func (o *objectiveGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) { return shapeOf(ds, 0) }
func (o *objectiveGradOp) Do(vs ...G.Value) (G.Value, error) {
	out := o.out.get(o.fwd.dt, vs[0].Shape()...)
	upstream := scalarOf(vs[len(vs)-1])
	err := dispatch(vs[0], func() {
		d := out.Data().([]float32)
		objectiveTerms(o.fwd.cfg, columnsOf[float32](vs), d)
		kernels.Scale(d, float32(upstream))
	}, func() {
		d := out.Data().([]float64)
		objectiveTerms(o.fwd.cfg, columnsOf[float64](vs), d)
		ref.Scale(d, upstream)
	})
	return out, err
}

// safeExp keeps a ratio finite when a policy drifts far from the one that sampled.
func safeExp(x float64) float64 { return math.Exp(math.Min(x, 20)) }
