package model

import (
	"fmt"

	"gorgonia.org/tensor"
)

// engine is the tensor.Engine of the model's programs, so that every instruction a program
// executes runs on the ops' backend.
//
// A TapeMachine passes values between ops without reading them, with one exception: where a
// node feeds several ops (the residual stream, the embedding tied to the head), G.Grad sums
// the gradients that flow back to it with Gorgonia's own elementwise +, and tensor.Add hands
// that sum to the engine of its operands. Through this engine the sum runs on the backend's
// add, as every other instruction does. A backend whose values the host cannot read (device
// memory) depends on that, so the engine implements no other arithmetic: a built-in Gorgonia
// op that finds its way into a program fails with an error that names it instead of touching
// the values on the host. Its memory methods are the host's, as the backends' values are.
//
// The tensors of a program's buffers carry an engine that also names their arena, so that a
// sum's operands count as used in the arena's plan of the program (arena.go).
type engine[T float] struct {
	be    *backend[T]
	arena *arena[T]
}

var _ interface {
	tensor.Engine
	tensor.Adder
} = engine[float32]{}

// host manages the memory of the engine's tensors. Only its memory methods are used: its
// arithmetic would bypass the backend.
var host tensor.StdEng

func (engine[T]) AllocAccessible() bool                               { return host.AllocAccessible() }
func (engine[T]) Alloc(size int64) (tensor.Memory, error)             { return host.Alloc(size) }
func (engine[T]) Free(mem tensor.Memory, size int64) error            { return host.Free(mem, size) }
func (engine[T]) Memset(mem tensor.Memory, val any) error             { return host.Memset(mem, val) }
func (engine[T]) Memclr(mem tensor.Memory)                            { host.Memclr(mem) }
func (engine[T]) Memcpy(dst, src tensor.Memory) error                 { return host.Memcpy(dst, src) }
func (engine[T]) Accessible(mem tensor.Memory) (tensor.Memory, error) { return host.Accessible(mem) }
func (engine[T]) WorksWith(order tensor.DataOrder) bool               { return host.WorksWith(order) }

// Add computes a + b in place into a (what the TapeMachine asks for, with tensor.UseUnsafe),
// into a reuse tensor, or into a new tensor.
func (e engine[T]) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	fo := tensor.ParseFuncOpts(opts...)
	if fo.Incr() != nil {
		return nil, fmt.Errorf("model engine: Add into an increment tensor is not supported")
	}
	if !a.Shape().Eq(b.Shape()) || a.Dtype() != e.be.dtype || b.Dtype() != e.be.dtype {
		return nil, fmt.Errorf("model engine: Add of %v %v and %v %v", a.Dtype(), a.Shape(), b.Dtype(), b.Shape())
	}
	out := a
	switch {
	case fo.Reuse() != nil:
		out = fo.Reuse()
	case fo.Safe():
		out = e.be.newTensor(a.Shape()...)
	}
	// The machine hands a sum tensors of its own that share the data of the ops' buffers, and
	// one to reuse, which need not be an operand's: all three count as used now in the plan of
	// the arena the sum runs in.
	if e.arena != nil {
		for _, t := range []tensor.Tensor{a, b, out} {
			e.arena.read(sumOp, t)
		}
	}
	e.be.add(out.Data().([]T), a.Data().([]T), b.Data().([]T))
	return out, nil
}

// sumOp is the op identity of Gorgonia's sums in an arena's plan; consecutive sums count as one
// op, which only lengthens the lives of the buffers they read.
const sumOp = -1

// AddScalar is not used by the model's programs.
func (e engine[T]) AddScalar(a tensor.Tensor, b interface{}, leftTensor bool, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	return nil, fmt.Errorf("model engine: AddScalar is not supported")
}

// memory is what the model does with tensors outside its programs: parameters, gradients,
// optimizer moments and program inputs. Every tensor a backend makes carries that backend's
// engine, which implements memory, so code that holds a tensor reaches the backend that holds
// its data through it (memoryOf) and never needs to know which one it is.
type memory interface {
	newTensor(shape ...int) *tensor.Dense
	newIndexTensor(shape ...int) *tensor.Dense
	// read copies a tensor's values to the host; write copies values from the host into it.
	read(t *tensor.Dense) []float64
	write(t *tensor.Dense, values []float64)
	writeIndex(t *tensor.Dense, values []int32)
	zero(t *tensor.Dense)
	// copy copies src into dst, both on the backend.
	copy(dst, src *tensor.Dense)
	// accumulate adds g into acc.
	accumulate(acc, g *tensor.Dense)
	// sumSquares is the sum of the squares of the elements of ts, read back once.
	sumSquares(ts []*tensor.Dense) float64
	// adamW scales grad by gradScale, then steps param and its moments m and v.
	adamW(param, grad, m, v *tensor.Dense, gradScale, lr, beta1, beta2, eps, weightDecay float64, step int)
	// build compiles the model's graph for a batch shape on this backend.
	build(m *Model, key programKey, obj Objective) (*program, error)
	// newArena returns an empty *arena[T] for programs on this backend.
	newArena() any
}

// memoryOf returns the backend that holds t's data.
func memoryOf(t *tensor.Dense) memory {
	mem, ok := t.Engine().(memory)
	if !ok {
		panic(fmt.Sprintf("model: a %v tensor that no backend made (engine %T)", t.Shape(), t.Engine()))
	}
	return mem
}

func data[T float](t *tensor.Dense) []T { return t.Data().([]T) }

func (e engine[T]) newTensor(shape ...int) *tensor.Dense      { return e.be.newTensor(shape...) }
func (e engine[T]) newIndexTensor(shape ...int) *tensor.Dense { return e.be.newIndexTensor(shape...) }

func (e engine[T]) read(t *tensor.Dense) []float64 {
	host := make([]T, t.Shape().TotalSize())
	e.be.download(host, data[T](t))
	out := make([]float64, len(host))
	for i, x := range host {
		out[i] = float64(x)
	}
	return out
}

func (e engine[T]) write(t *tensor.Dense, values []float64) {
	host := make([]T, len(values))
	for i, x := range values {
		host[i] = T(x)
	}
	e.be.upload(data[T](t), host)
}

func (e engine[T]) writeIndex(t *tensor.Dense, values []int32) {
	e.be.uploadIndex(t.Data().([]int32), values)
}

func (e engine[T]) zero(t *tensor.Dense) { e.be.zero(data[T](t)) }

func (e engine[T]) copy(dst, src *tensor.Dense) { e.be.copy(data[T](dst), data[T](src)) }

func (e engine[T]) accumulate(acc, g *tensor.Dense) {
	e.be.add(data[T](acc), data[T](acc), data[T](g))
}

func (e engine[T]) sumSquares(ts []*tensor.Dense) float64 {
	xs := make([][]T, len(ts))
	for i, t := range ts {
		xs[i] = data[T](t)
	}
	return e.be.sumSquares(xs)
}

func (e engine[T]) adamW(param, grad, m, v *tensor.Dense, gradScale, lr, beta1, beta2, eps, weightDecay float64, step int) {
	g := data[T](grad)
	if gradScale != 1 {
		e.be.scale(g, T(gradScale))
	}
	e.be.adamW(data[T](param), g, data[T](m), data[T](v), T(lr), T(beta1), T(beta2), T(eps), T(weightDecay), step)
}

func (e engine[T]) newArena() any { return &arena[T]{be: e.be} }

func (e engine[T]) build(m *Model, key programKey, obj Objective) (*program, error) {
	return buildProgram(m, e.be, key, obj)
}
