// layernorm.cu: LayerNorm and its gradient, with the host's arithmetic: statistics in double,
// the biased variance from a second pass, eps 1e-5 (see kernels/layernorm.go).
#include "common.cuh"

#define LAYERNORM_EPS 1e-5

// layernorm_forward normalises each of the N rows of x (C columns), one warp per row; mean and
// rstd may be null.
extern "C" __global__ void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                                             const float* bias, int N, int C) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (long long i = (long long)blockIdx.x * warps + threadIdx.x / 32; i < N; i += (long long)gridDim.x * warps) {
    const float* xi = x + i * C;
    double s = 0.0;
    for (int j = lane; j < C; j += 32) s += xi[j];
    const double m = warp_sum(s) / C;
    double ss = 0.0;
    for (int j = lane; j < C; j += 32) {
      const double d = (double)xi[j] - m;
      ss += d * d;
    }
    const double rs = 1.0 / sqrt(warp_sum(ss) / C + LAYERNORM_EPS);
    float* oi = out + i * C;
    for (int j = lane; j < C; j += 32) oi[j] = (float)(((double)xi[j] - m) * rs) * weight[j] + bias[j];
    if (lane == 0) {
      if (mean) mean[i] = (float)m;
      if (rstd) rstd[i] = (float)rs;
    }
  }
}

// layernorm_backward_dx writes dx = rstd·(g − mean(g) − x̂·mean(g∘x̂)), g = weight∘dout, one
// warp per row.
extern "C" __global__ void layernorm_backward_dx(float* dx, const float* dout, const float* x, const float* weight,
                                                 const float* mean, const float* rstd, int N, int C) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (long long i = (long long)blockIdx.x * warps + threadIdx.x / 32; i < N; i += (long long)gridDim.x * warps) {
    const float* xi = x + i * C;
    const float* gi = dout + i * C;
    const float m = mean[i], r = rstd[i];
    double sg = 0.0, sgx = 0.0;
    for (int j = lane; j < C; j += 32) {
      const float g = weight[j] * gi[j];
      sg += g;
      sgx += g * (xi[j] - m) * r;
    }
    const float mg = (float)(warp_sum(sg) / C), mgx = (float)(warp_sum(sgx) / C);
    float* di = dx + i * C;
    for (int j = lane; j < C; j += 32) di[j] = r * (weight[j] * gi[j] - mg - (xi[j] - m) * r * mgx);
  }
}

// layernorm_backward_params writes dweight[c] = Σ dout∘x̂ and dbias[c] = Σ dout over the rows,
// accumulated in double as rows_sum does; either may be null.
extern "C" __global__ void layernorm_backward_params(float* dweight, float* dbias, const float* dout, const float* x,
                                                     const float* mean, const float* rstd, int N, int C) {
  __shared__ double pw[32][33], pb[32][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  double w = 0.0, b = 0.0;
  if (c < C) {
    for (int i = threadIdx.y; i < N; i += 32) {
      const float g = dout[(long long)i * C + c];
      w += g * (x[(long long)i * C + c] - mean[i]) * rstd[i];
      b += g;
    }
  }
  pw[threadIdx.y][threadIdx.x] = w;
  pb[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    double sw = 0.0, sb = 0.0;
    for (int k = 0; k < 32; k++) {
      sw += pw[k][threadIdx.x];
      sb += pb[k][threadIdx.x];
    }
    if (dweight) dweight[c] = (float)sw;
    if (dbias) dbias[c] = (float)sb;
  }
}
