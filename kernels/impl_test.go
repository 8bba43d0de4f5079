package kernels

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/erlgo/erlgo/internal/shadow"
)

// A kernelSet is one implementation of the kernels as the tests call it: every function takes
// and returns host slices. The tests that hold kernels to their references run on every set
// in kernelSets, so that an implementation on another device meets the same tests, on the same
// fresh random inputs and odd sizes, as the host's.
type kernelSet struct {
	name                     string
	Gemm                     func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	GemmStridedBatched       func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int)
	AddBias                  func(x, bias []float32, N, C int)
	SumRows                  func(dbias, dout []float32, N, C int)
	Add                      func(out, a, b []float32)
	Scale                    func(x []float32, s float32)
	SumSquares               func(x []float32) float64
	AdamW                    func(param, grad, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, t int)
	LayerNormForward         func(out, mean, rstd, x, weight, bias []float32, N, C int)
	LayerNormBackward        func(dx, dweight, dbias, dout, x, weight, mean, rstd []float32, N, C int)
	AttentionForward         func(out, att, qkv []float32, lens []int32, B, T, C, NH int)
	AttentionBackward        func(dqkv, scratch, dout, qkv, att []float32, lens []int32, B, T, C, NH int)
	AttentionStep            func(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int)
	CopyRows                 func(dst []float32, dstStride int, src []float32, srcStride int, dstRows, srcRows []int32, C int)
	GeluForward              func(out, x []float32)
	GeluBackward             func(dx, x, dout []float32)
	EmbeddingForward         func(out, wte, wpe []float32, tokens, pos []int32, C int)
	EmbeddingBackward        func(dwte, dwpe, dout []float32, tokens, pos []int32, C int)
	GatherRows               func(out, x []float32, idx []int32, C int)
	ScatterRows              func(dx, dout []float32, idx []int32, rows, C int)
	LogSoftmaxGatherForward  func(logp, lse, logits []float32, targets []int32, N, V int)
	LogSoftmaxGatherBackward func(dlogits, dlogp, logits, lse []float32, targets []int32, N, V int)
}

// hostKernels are this package's functions.
var hostKernels = kernelSet{
	name: "host", Gemm: Gemm, GemmStridedBatched: GemmStridedBatched, AddBias: AddBias, SumRows: SumRows,
	Add: Add, Scale: Scale, SumSquares: SumSquares, AdamW: AdamW,
	LayerNormForward: LayerNormForward, LayerNormBackward: LayerNormBackward,
	AttentionForward: AttentionForward, AttentionBackward: AttentionBackward, AttentionStep: AttentionStep,
	CopyRows: CopyRows, GeluForward: GeluForward, GeluBackward: GeluBackward,
	EmbeddingForward: EmbeddingForward, EmbeddingBackward: EmbeddingBackward,
	GatherRows: GatherRows, ScatterRows: ScatterRows,
	LogSoftmaxGatherForward: LogSoftmaxGatherForward, LogSoftmaxGatherBackward: LogSoftmaxGatherBackward,
}

// kernelSets are the implementations the tests run on: the host's on each path this CPU can
// take (host/avx512, host/avx2, host/generic), and the host's kernels reached through the
// shadow device, which exercises the path a GPU implementation takes (onDevice) on memory the
// host cannot read. A build with another device appends its set.
var kernelSets = append(pathSets(), shadowKernels())

// pathSets returns the host's kernels forced onto each path this CPU can take. A path the CPU
// lacks cannot be tested here, and is not listed by cpuPaths.
func pathSets() []kernelSet {
	var sets []kernelSet
	for _, p := range cpuPaths {
		sets = append(sets, mapFuncs("host/"+p.name, hostKernels, func(f reflect.Value) func([]reflect.Value) []reflect.Value {
			return func(args []reflect.Value) []reflect.Value {
				defer func(saved *cpuPath) { active = saved }(active)
				active = p
				return f.Call(args)
			}
		}))
	}
	return sets
}

// forEachSet runs test once per kernel set, as a subtest named after it.
func forEachSet(t *testing.T, test func(t *testing.T, k kernelSet)) {
	for _, k := range kernelSets {
		t.Run(k.name, func(t *testing.T) { test(t, k) })
	}
}

// mapFuncs returns a set named name whose every function is wrap applied to src's.
func mapFuncs(name string, src kernelSet, wrap func(f reflect.Value) func(args []reflect.Value) []reflect.Value) kernelSet {
	out := kernelSet{name: name}
	ov, sv := reflect.ValueOf(&out).Elem(), reflect.ValueOf(src)
	for i := range ov.NumField() {
		if f := sv.Field(i); f.Kind() == reflect.Func {
			ov.Field(i).Set(reflect.MakeFunc(f.Type(), wrap(f)))
		}
	}
	return out
}

// deviceMemory is where an implementation on another device keeps its operands: its
// functions take slices of it, which the host may not read.
type deviceMemory struct {
	alloc       func(n int) []float32
	allocIndex  func(n int) []int32
	upload      func(dst, src []float32)
	uploadIndex func(dst, src []int32)
	download    func(dst, src []float32)
}

// onDevice turns kernels that take slices of mem into a set that takes host slices: each call
// copies every slice argument to mem (once per distinct slice, so that an output that aliases
// an input still does), runs, and copies every float argument back, outputs and the inputs
// that a kernel accumulates into alike.
func onDevice(name string, mem deviceMemory, kernels kernelSet) kernelSet {
	return mapFuncs(name, kernels, func(f reflect.Value) func([]reflect.Value) []reflect.Value {
		return func(args []reflect.Value) []reflect.Value {
			floats, indices := deviceCopies[float32]{}, deviceCopies[int32]{}
			onDev := make([]reflect.Value, len(args))
			for i, a := range args {
				switch h := a.Interface().(type) {
				case []float32:
					onDev[i] = reflect.ValueOf(floats.of(h, mem.alloc, mem.upload))
				case []int32:
					onDev[i] = reflect.ValueOf(indices.of(h, mem.allocIndex, mem.uploadIndex))
				default:
					onDev[i] = a
				}
			}
			out := f.Call(onDev)
			for h, d := range floats {
				mem.download(h.slice(), d)
			}
			return out
		}
	})
}

// deviceCopies maps the host slices of one call to their copies on a device.
type deviceCopies[E float32 | int32] map[hostSlice[E]][]E

// hostSlice identifies a host slice by its first element and length.
type hostSlice[E float32 | int32] struct {
	p *E
	n int
}

func (h hostSlice[E]) slice() []E { return unsafe.Slice(h.p, h.n) }

// of returns the device copy of h, made and filled on first sight; nil stays nil.
func (c deviceCopies[E]) of(h []E, alloc func(int) []E, upload func(dst, src []E)) []E {
	if h == nil {
		return nil
	}
	k := hostSlice[E]{unsafe.SliceData(h), len(h)}
	d, ok := c[k]
	if !ok {
		d = alloc(len(h))
		upload(d, h)
		c[k] = d
	}
	return d
}

// shadowKernels is the host's kernels on a device whose memory the host cannot read (package
// shadow): a kernel test that passes on it passes through onDevice as a GPU implementation
// would.
func shadowKernels() kernelSet {
	mem := &shadow.Memory{}
	device := mapFuncs("shadow", hostKernels, func(f reflect.Value) func([]reflect.Value) []reflect.Value {
		return func(args []reflect.Value) []reflect.Value {
			for i, a := range args {
				switch s := a.Interface().(type) {
				case []float32:
					args[i] = reflect.ValueOf(mem.Floats(s))
				case []int32:
					args[i] = reflect.ValueOf(mem.Indices(s))
				}
			}
			return f.Call(args)
		}
	})
	return onDevice("shadow", deviceMemory{
		alloc:       mem.Alloc,
		allocIndex:  mem.AllocIndex,
		upload:      func(dst, src []float32) { copy(mem.Floats(dst), src) },
		uploadIndex: func(dst, src []int32) { copy(mem.Indices(dst), src) },
		download:    func(dst, src []float32) { copy(dst, mem.Floats(src)) },
	}, device)
}
