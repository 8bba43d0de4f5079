// Package cuda runs package kernels on an NVIDIA GPU: the same functions, with the same
// signatures and the same references, on slices whose data is device memory.
//
// A Device owns one CUDA context (the device's primary context), one stream, a memory pool,
// a cuBLAS handle and the kernels: the matrix products are cuBLAS's, everything else is a
// kernel of the .cu files beside this one, compiled by NVRTC for the device's architecture once
// per process, when first used. Device memory is handed out as Go slices over the device's
// addresses (CUDA's unified address space): only the Device's methods read or write them, as
// package kernels' device contract requires; the host reaches their values through Upload and
// Download.
//
// Calls are asynchronous: they queue work on the stream and return. Download waits for the
// work queued before it, and so does anything that returns a value computed on the device.
//
// The kernels' tests are package kernels' own (kernels/cuda_test.go adds this package's kernels
// to the sets they run on), so the CUDA kernels are held to the host's float64 references
// within the tolerances that hold the host's kernels, kernel by kernel: 1e-6·√k for the
// products, 1e-5 for attention's output and probabilities and 1e-4 for its gradient, 1e-5 for
// LayerNorm and 1e-4 for its gradient, 1e-5 for GELU, the log-softmax gather and the
// embedding, 1e-6 and 1e-5 for AdamW's parameters and moments, and exactly for the row copies
// and gathers, relative to the larger of an element and its output's root mean square. Where
// the host sums in a fixed order (the embedding's gradient, ScatterRows), the kernels sum in
// the same order and give the same bits; the other reductions use a fixed order of their own,
// so a kernel gives the same result every run.
//
// The package needs the build tag gpu, CUDA's headers and libraries at build time, and NVIDIA's
// driver at run time (gorgonia.org/cu, which it uses for the driver API, exits the process at
// start-up when there is none). Without the tag it is empty. The tag nvrtc alone builds what
// compiles the kernels (NVRTC, a host library), so that its test checks every kernel source on
// a machine without a GPU: see env.sh.
package cuda
