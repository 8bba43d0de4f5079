//go:build gpu || cudaemu

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/erlgo/erlgo/kernels/cuda"
)

func init() {
	dev, err := cuda.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kernels: no CUDA backend:", err)
		return
	}
	backends = append(backends, gpu{dev})
}

// gpu runs package kernels/cuda on the process's GPU, and times its calls by CUDA events.
type gpu struct{ dev *cuda.Device }

func (gpu) Name() string { return "cuda" }

// Describe names the device, for the report.
func (g gpu) Describe() string { return g.dev.String() }

func (g gpu) Time(calls int, call func()) time.Duration { return g.dev.Time(calls, call) }

// The GPU's ceilings: cuBLAS's Sgemm on a product large enough to fill the device, and a
// device-to-device copy of a buffer far larger than its L2 cache.
const (
	gpuCeilingSquare    = 4096
	gpuCeilingCopyBytes = 1 << 30
)

func (g gpu) Ceilings() (matrix, memory run) {
	n, copyBytes := gpuCeilingSquare, gpuCeilingCopyBytes
	d := g.dev
	if d.Arch() == "emulated" { // the CPU emulator of the kernels: ceilings it measures in seconds
		n, copyBytes = 512, 64<<20
	}
	a, b, c := g.kernels().floats(randSlice(n*n)), g.kernels().floats(randSlice(n*n)), d.Alloc(n*n)
	matrix.workload = workload{Name: "cuBLAS Sgemm", Kernel: "Sgemm", Shape: fmt.Sprintf("NN m=n=k=%d", n), FLOPs: 2 * float64(n) * float64(n) * float64(n)}
	matrix.call = func() { d.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n) }
	src, dst := d.Alloc(copyBytes/f32), d.Alloc(copyBytes/f32)
	memory.workload = workload{Name: "cuMemcpyDtoD", Kernel: "copy", Shape: fmt.Sprintf("%d MiB", copyBytes>>20), Bytes: 2 * float64(copyBytes)}
	memory.call = func() { d.Copy(dst, src) }
	return matrix, memory
}

func (g gpu) Prepare(w workload) func() { return prepare(w, g.kernels()) }

// kernels are the device's kernels, with operands uploaded to its memory.
func (g gpu) kernels() kernelSet {
	d := g.dev
	return kernelSet{
		floats: func(x []float32) []float32 { y := d.Alloc(len(x)); d.Upload(y, x); return y },
		ints:   func(x []int32) []int32 { y := d.AllocIndex(len(x)); d.UploadIndex(y, x); return y },
		Gemm:   d.Gemm, AttentionForward: d.AttentionForward, AttentionBackward: d.AttentionBackward,
		AttentionStep: d.AttentionStep, EmbeddingForward: d.EmbeddingForward, EmbeddingBackward: d.EmbeddingBackward,
		LayerNormForward: d.LayerNormForward, LayerNormBackward: d.LayerNormBackward,
		GeluForward: d.GeluForward, GeluBackward: d.GeluBackward,
		LogSoftmaxGatherForward: d.LogSoftmaxGatherForward, LogSoftmaxGatherBackward: d.LogSoftmaxGatherBackward,
		GatherRows: d.GatherRows, ScatterRows: d.ScatterRows, Add: d.Add, CopyRows: d.CopyRows,
		AddBias: d.AddBias, SumRows: d.SumRows, AdamW: d.AdamW, SumSquares: d.SumSquares, Scale: d.Scale,
	}
}
