// Package kernels executes the numerical work of the policy: matrix products, embedding
// lookups, LayerNorm, causal attention, GELU, log-softmax with gather, and the AdamW update,
// each with its gradient, and the sampler's KV cache and attention over it. Every kernel works on
// flat row-major float32 slices and has a plain float64 reference in package kernels/ref that
// the tests hold it to.
//
// # Conventions
//
// Outputs are overwritten, not accumulated, unless a kernel's documentation says otherwise
// (EmbeddingBackward accumulates). An output documented as optional may be nil, and the
// kernel then skips computing it. Slices may be longer than a kernel needs; only the leading
// elements are read or written. Outputs must not overlap inputs unless the documentation
// allows it.
//
// Dimensions, slice lengths and indices are checked before any work starts, and a mistake
// panics with a message that names the kernel and the argument, as gonum's BLAS does: they
// are programming errors, not conditions to recover from.
//
// # Concurrency and allocation
//
// A kernel whose work is large enough spreads it over runtime.GOMAXPROCS(0) goroutines and
// returns when all have finished; different kernels may run concurrently on disjoint outputs.
//
// Apart from the scratch space AttentionBackward allocates when its caller passes none,
// kernels allocate nothing in proportion to their work: a call allocates up to three closures
// of about a hundred bytes that carry its work to the goroutines (and the goroutines, when it
// starts them), and the attention kernels take per-head buffers from a sync.Pool, which
// allocates only when it is empty.
//
// # CPU paths
//
// On the host the kernels run on one of several sets of inner loops, chosen at start from
// what the CPU supports: "avx512" and "avx2" (amd64 with FMA; Go assembly, no cgo) or
// "generic" (pure Go, every architecture: gonum's Sgemm for the products). The environment
// variable ERLGO_CPU selects another path the CPU can take, and CPUPath names the one in use.
// The tests run every path the CPU can take against the same references.
//
// The matrix product on the vector paths is blocked as in BLIS: a block of B is packed once
// and shared by every goroutine, and micro-kernels keep a 6×16 (AVX2) or 12×32 (AVX-512) tile
// of C in registers while they read A in place (see tiledGemm).
//
// # Devices
//
// The signatures are also the contract for an implementation on another device. Package model
// calls the kernels through a backend that owns the memory its slices point into as well as
// the arithmetic, and reads or writes that memory only through the backend's upload and
// download; so a GPU implementation can take slices whose data is device memory, which only it
// dereferences. The tests that hold the kernels to their references run on every implementation
// in their kernelSets: the host's, and the host's kernels on a shadow device whose memory the
// host cannot read (package internal/shadow), reached as a GPU implementation would be, through
// an adapter that uploads each argument, runs and downloads; and, in a build with the tag gpu
// (or cudaemu, its CPU emulator), package kernels/cuda's, the GPU implementation, reached the
// same way (AddDeviceSet).
package kernels
