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

// warp_sum and warp_max reduce over the 32 lanes of a warp; every lane gets the result. The
// order of the additions is fixed, so results do not vary from run to run.
__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// block_sum and block_max reduce over a block whose size is a multiple of 32, at most 1024;
// every thread gets the result. scratch is shared memory of 32 elements, free on entry and
// on return.
__device__ __forceinline__ double block_sum(double v, double* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.0;
  v = warp_sum(v);
  __syncthreads();
  return v;
}
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : __int_as_float(0xff800000);  // −∞
  v = warp_max(v);
  __syncthreads();
  return v;
}

// The tanh approximation of GELU as package kernels computes it: x·σ(2u), with
// u = √(2/π)·(x + 0.044715·x³) and e^(−2u) capped at e^80 (see kernels/gelu.go).
#define GELU_SCALE 0.7978845608028654f
#define GELU_CUBIC 0.044715f
__device__ __forceinline__ float gelu_exp(float v) {
  return expf(fminf(-2.0f * GELU_SCALE * (v + GELU_CUBIC * v * v * v), 80.0f));
}
