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
type engine[T float] struct{ be *backend[T] }

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
		out = tensor.New(tensor.WithShape(a.Shape().Clone()...), tensor.WithBacking(make([]T, a.Shape().TotalSize())), tensor.WithEngine(e))
	}
	e.be.add(out.Data().([]T), a.Data().([]T), b.Data().([]T))
	return out, nil
}

// AddScalar is not used by the model's programs.
func (e engine[T]) AddScalar(a tensor.Tensor, b interface{}, leftTensor bool, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	return nil, fmt.Errorf("model engine: AddScalar is not supported")
}
