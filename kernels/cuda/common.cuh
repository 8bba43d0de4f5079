// common.cuh: what the kernel sources share. Every kernel is extern "C", named after its file
// (pointwise_add is in pointwise.cu), so that the Go side finds its module by its name.
#pragma once

// DYNAMIC_SHARED declares a kernel's dynamic shared memory (the launch's sharedMemBytes) as an
// array of T. The CPU emulator of the kernels' tests (emulator.h) defines it otherwise.
#ifndef DYNAMIC_SHARED
#define DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

// for_each_index runs over i in [0, n) with a grid-stride loop.
#define for_each_index(i, n) \
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

// Sum and Max are the reductions below.
struct Sum {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// warp_reduce reduces v over the 32 lanes of a warp with Op; every lane gets the result. The
// order of the operations is fixed, so results do not vary from run to run.
template <class Op, class T>
__device__ __forceinline__ T warp_reduce(T v) {
  for (int o = 16; o > 0; o >>= 1) v = Op()(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// block_reduce reduces v over a block whose size is a multiple of 32, at most 1024; every
// thread gets the result. identity is Op's (0 for Sum); scratch is shared memory of 32
// elements, free on entry and on return.
template <class Op, class T>
__device__ __forceinline__ T block_reduce(T v, T* scratch, T identity) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_reduce<Op>(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = warp_reduce<Op>(lane < warps ? scratch[lane] : identity);
  __syncthreads();
  return v;
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) { return warp_reduce<Sum>(v); }
template <class T>
__device__ __forceinline__ T block_sum(T v, T* scratch) { return block_reduce<Sum>(v, scratch, T(0)); }
__device__ __forceinline__ float block_max(float v, float* scratch) {
  return block_reduce<Max>(v, scratch, __int_as_float(0xff800000));  // −∞
}

// The tanh approximation of GELU as package kernels computes it: x·σ(2u), with
// u = √(2/π)·(x + 0.044715·x³) and e^(−2u) capped at e^80 (see kernels/gelu.go).
#define GELU_SCALE 0.7978845608028654f
#define GELU_CUBIC 0.044715f
__device__ __forceinline__ float gelu_exp(float v) {
  return expf(fminf(-2.0f * GELU_SCALE * (v + GELU_CUBIC * v * v * v), 80.0f));
}
