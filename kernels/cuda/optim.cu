// optim.cu: AdamW, and the sum of squares of many slices behind the global gradient norm.
#include "common.cuh"

// optim_adamw is kernels.AdamW: c1 and c2 are the bias corrections 1/(1−beta^t), computed on
// the host in double as there.
extern "C" __global__ void optim_adamw(float* param, const float* grad, float* m, float* v, long long n, float lr,
                                       float beta1, float beta2, float eps, float weightDecay, float c1, float c2) {
  for_each_index(i, n) {
    const float g = grad[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float step = mi * c1 / (sqrtf(vi * c2) + eps);
    param[i] -= lr * (step + weightDecay * param[i]);
  }
}

#define SUMSQ_THREADS 256

// optim_sum_squares: grid (P, slices). table holds (address, length) pairs, one per slice;
// block p of slice s writes the sum of the squares of its part, in double, to
// partial[s·P + p]. The block must have SUMSQ_THREADS threads.
extern "C" __global__ void optim_sum_squares(double* partial, const long long* table) {
  __shared__ double red[32];
  const int s = blockIdx.y, P = gridDim.x;
  const float* x = reinterpret_cast<const float*>(table[2 * s]);
  const long long n = table[2 * s + 1];
  double acc = 0.0;
  for (long long i = (long long)blockIdx.x * SUMSQ_THREADS + threadIdx.x; i < n; i += (long long)P * SUMSQ_THREADS) {
    const double v = x[i];
    acc += v * v;
  }
  acc = block_sum(acc, red);
  if (threadIdx.x == 0) partial[(long long)s * P + blockIdx.x] = acc;
}

// optim_sum_partials: one block; out[0] = the sum of partial[0..n), in a fixed order.
extern "C" __global__ void optim_sum_partials(double* out, const double* partial, int n) {
  __shared__ double red[32];
  double acc = 0.0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, red);
  if (threadIdx.x == 0) out[0] = acc;
}
