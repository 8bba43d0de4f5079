/*
 * erlgo's cuda.h: NVIDIA's cuda.h, made to declare the CUDA 12 driver ABI that gorgonia.org/cu
 * v0.9.6 was written against, so that cu builds unmodified against CUDA 13.0's headers.
 *
 * The build puts this file's directory first on the include path (kernels/cuda/env.sh and
 * bench/gpu.sh prepend it to CGO_CFLAGS), so every `#include <cuda.h>`, cu's and ours, lands here
 * and continues into the real header with #include_next.
 *
 * cuda.h 13.0 maps five entry points, by macro, to new versions with new signatures, and cu calls
 * them with the old arguments, which fails to compile (7 errors). Each line below undoes one
 * remap and declares the CUDA 12 prototype instead. These are the prototypes that cuda.h 13.0
 * itself declares in its __CUDA_API_VERSION_INTERNAL block: NVIDIA's statement that the ABI
 * entry points still exist, which driver 580 exports (the GPU machine's probe checks this with
 * nm -D on libcuda.so.1). __CUDA_API_VERSION_INTERNAL itself must not be defined here: it would
 * undo every remap, back to the 32-bit-pointer entry points of CUDA 3.
 */
#ifndef ERLGO_COMPAT_CUDA_H
#define ERLGO_COMPAT_CUDA_H

#include_next <cuda.h>

#if CUDA_VERSION >= 13000

#ifdef __cplusplus
extern "C" {
#endif

/* cuCtxCreate is cuCtxCreate_v4 (it takes CUctxCreateParams*); cu passes (pctx, flags, dev),
   the arguments of cuCtxCreate_v2, the entry point CUDA 12's cuda.h mapped the name to. */
#undef cuCtxCreate
#define cuCtxCreate cuCtxCreate_v2
CUresult CUDAAPI cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev);

/* cuMemAdvise is cuMemAdvise_v2 (a CUmemLocation instead of a device); cu passes a device. */
#undef cuMemAdvise
CUresult CUDAAPI cuMemAdvise(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUdevice device);

/* cuMemPrefetchAsync is cuMemPrefetchAsync_v2 (a CUmemLocation and flags); cu passes a device. */
#undef cuMemPrefetchAsync
CUresult CUDAAPI cuMemPrefetchAsync(CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream);

/* cuGraphGetEdges is cuGraphGetEdges_v2 (it adds edge data); cu passes no edge data. */
#undef cuGraphGetEdges
CUresult CUDAAPI cuGraphGetEdges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, size_t *numEdges);

/* cuGraphAddDependencies is cuGraphAddDependencies_v2 (it adds edge data); likewise. */
#undef cuGraphAddDependencies
CUresult CUDAAPI cuGraphAddDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to, size_t numDependencies);

#ifdef __cplusplus
}
#endif

#endif /* CUDA_VERSION >= 13000 */

#endif /* ERLGO_COMPAT_CUDA_H */
