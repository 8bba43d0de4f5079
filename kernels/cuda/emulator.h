// emulator.h: the CUDA that erlgo's kernel sources use, on the CPU, so that their tests run on
// a machine without a GPU (-tags cudaemu, on amd64; see emulator.go). emulator.cpp includes it
// before the .cu files themselves.
//
// Each thread of a block is a fiber; a block's fibers take turns on the calling thread, each
// running until it reaches a barrier or returns, and blocks run one after another. __shared__
// becomes static storage, which a block's fibers share and the next block reuses, as a block's
// shared memory is. __syncthreads waits for every thread of the block that has not returned,
// a warp shuffle exchanges values between two barriers of its warp, and a barrier that can
// never complete is reported: so shared memory, reductions and barriers behave as on a GPU. Not
// modelled: races between barriers, atomics, the GPU's own rounding of exp and the like
// (the host's libm stands in), limits on blocks and shared memory, and speed.
#pragma once

#include <math.h>

#include <algorithm>
#include <cmath>
#include <cstring>

struct emu_dim3 {
  unsigned x, y, z;
};
extern emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
extern unsigned char* emu_dynamic_shared;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(emu_dynamic_shared)

void __syncthreads();
int __syncthreads_or(int predicate);
float __shfl_xor_sync(unsigned mask, float v, int laneMask);
double __shfl_xor_sync(unsigned mask, double v, int laneMask);

inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}

using std::isfinite;
using std::max;
using std::min;
