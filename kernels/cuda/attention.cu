// attention.cu: causal multi-head attention over packed q|k|v with padding masks, its
// gradient, and the sampler's step over a KV cache (see kernels/attention.go and decode.go).
// Key j is visible to query i when j <= i and j < lens[b]. Each block does one row of one
// head: a query (or, in attention_backward_key, a key) of one sequence; the head dimension is
// at most ATTENTION_MAX_HEAD, the scores of a row live in dynamic shared memory.
#include "common.cuh"

#define ATTENTION_MAX_HEAD 128

// visible_len is how many positions of sequence b hold tokens.
__device__ __forceinline__ int visible_len(const int* lens, int b, int T) {
  return lens ? min(max(lens[b], 0), T) : T;
}

// scores sets s[j] = scale·(q·k_j) for j < n, where k_j starts at k + j·stride: one warp a key.
__device__ __forceinline__ void scores(float* s, const float* q, const float* k, long long stride, int n, int hd, float scale) {
  const int lane = threadIdx.x % 32, warps = blockDim.x / 32;
  for (int j = threadIdx.x / 32; j < n; j += warps) {
    const float* kj = k + j * stride;
    float dot = 0.0f;
    for (int d = lane; d < hd; d += 32) dot += q[d] * kj[d];
    dot = warp_sum(dot);
    if (lane == 0) s[j] = dot * scale;
  }
  __syncthreads();
}

// softmax turns s[0..n) into probabilities as the host does: shifted by the maximum, the sum
// in double, then multiplied by the sum's reciprocal.
__device__ __forceinline__ void softmax(float* s, int n, float* fred, double* dred) {
  float mx = __int_as_float(0xff800000);  // −∞
  for (int j = threadIdx.x; j < n; j += blockDim.x) mx = fmaxf(mx, s[j]);
  mx = block_max(mx, fred);
  double sum = 0.0;
  for (int j = threadIdx.x; j < n; j += blockDim.x) {
    const float e = expf(s[j] - mx);
    s[j] = e;
    sum += e;
  }
  sum = block_sum(sum, dred);
  const float inv = (float)(1.0 / sum);
  for (int j = threadIdx.x; j < n; j += blockDim.x) s[j] *= inv;
  __syncthreads();
}

// attention_forward: grid (T queries, B·NH heads). out is (B,T,C), att (B,NH,T,T) gets every
// probability, 0 for keys the query does not see.
extern "C" __global__ void attention_forward(float* out, float* att, const float* qkv, const int* lens, int T, int C,
                                             int NH, float scale) {
  DYNAMIC_SHARED(float, s);
  __shared__ float q[ATTENTION_MAX_HEAD], fred[32];
  __shared__ double dred[32];
  const int i = blockIdx.x, bh = blockIdx.y, b = bh / NH, h = bh % NH, hd = C / NH;
  const long long C3 = 3LL * C;
  const int n = min(i + 1, visible_len(lens, b, T));
  const float* base = qkv + (long long)b * T * C3 + h * hd;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) q[d] = base[i * C3 + d];
  __syncthreads();
  scores(s, q, base + C, C3, n, hd, scale);
  softmax(s, n, fred, dred);
  float* row = att + ((long long)bh * T + i) * T;
  for (int j = threadIdx.x; j < T; j += blockDim.x) row[j] = j < n ? s[j] : 0.0f;
  const float* v = base + 2 * C;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j < n; j++) acc += s[j] * v[j * C3 + d];
    out[((long long)b * T + i) * C + h * hd + d] = acc;
  }
}

// attention_backward_query: grid (T queries, B·NH heads). With P = att, it writes the row's
// dS = P∘(dP − rowsum(P∘dP)), dP = dO·Vᵀ, into ds (B,NH,T,T; 0 where the key is hidden), and
// dQ = scale·dS·K into the q part of dqkv.
extern "C" __global__ void attention_backward_query(float* dqkv, float* ds, const float* dout, const float* qkv,
                                                    const float* att, const int* lens, int T, int C, int NH, float scale) {
  DYNAMIC_SHARED(float, s);
  __shared__ float dO[ATTENTION_MAX_HEAD];
  __shared__ double dred[32];
  const int i = blockIdx.x, bh = blockIdx.y, b = bh / NH, h = bh % NH, hd = C / NH;
  const long long C3 = 3LL * C;
  const int n = min(i + 1, visible_len(lens, b, T));
  const float* base = qkv + (long long)b * T * C3 + h * hd;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) dO[d] = dout[((long long)b * T + i) * C + h * hd + d];
  __syncthreads();
  scores(s, dO, base + 2 * C, C3, n, hd, 1.0f);  // dP
  const float* p = att + ((long long)bh * T + i) * T;
  double dot = 0.0;
  for (int j = threadIdx.x; j < n; j += blockDim.x) dot += (double)p[j] * (double)s[j];
  const float rowsum = (float)block_sum(dot, dred);
  float* dsRow = ds + ((long long)bh * T + i) * T;
  for (int j = threadIdx.x; j < T; j += blockDim.x) {
    const float v = j < n ? p[j] * (s[j] - rowsum) : 0.0f;
    dsRow[j] = v;
    if (j < n) s[j] = v;
  }
  __syncthreads();
  const float* k = base + C;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j < n; j++) acc += s[j] * k[j * C3 + d];
    dqkv[((long long)b * T + i) * C3 + h * hd + d] = acc * scale;
  }
}

// attention_backward_key: grid (T keys, B·NH heads), after attention_backward_query. It
// writes dV = Pᵀ·dO and dK = scale·dSᵀ·Q for key j, summed over the queries i >= j that see
// it; keys at or past lens[b] get zeros.
extern "C" __global__ void attention_backward_key(float* dqkv, const float* ds, const float* dout, const float* qkv,
                                                  const float* att, const int* lens, int T, int C, int NH, float scale) {
  const int j = blockIdx.x, bh = blockIdx.y, b = bh / NH, h = bh % NH, hd = C / NH;
  const long long C3 = 3LL * C;
  const bool visible = j < visible_len(lens, b, T);
  float* dk = dqkv + ((long long)b * T + j) * C3 + C + h * hd;
  float* dv = dk + C;
  const float* q = qkv + (long long)b * T * C3 + h * hd;
  const float* dO = dout + (long long)b * T * C + h * hd;
  const float* p = att + (long long)bh * T * T + j;
  const float* dsj = ds + (long long)bh * T * T + j;
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float k = 0.0f, v = 0.0f;
    if (visible) {
      for (int i = j; i < T; i++) {
        v += p[(long long)i * T] * dO[(long long)i * C + d];
        k += dsj[(long long)i * T] * q[i * C3 + d];
      }
    }
    dk[d] = k * scale;
    dv[d] = v;
  }
}

// attention_step: grid (B·NH). One new query per sequence over its KV cache: qkv is (B,3C),
// kc and vc (B,capacity,C) of which the first lens[b] rows are attended; out is (B,C).
extern "C" __global__ void attention_step(float* out, const float* qkv, const float* kc, const float* vc, const int* lens,
                                          int capacity, int C, int NH, float scale) {
  DYNAMIC_SHARED(float, s);
  __shared__ float q[ATTENTION_MAX_HEAD], fred[32];
  __shared__ double dred[32];
  const int bh = blockIdx.x, b = bh / NH, h = bh % NH, hd = C / NH;
  const int n = min(max(lens[b], 0), capacity);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) q[d] = qkv[(long long)b * 3 * C + h * hd + d];
  __syncthreads();
  const long long row0 = (long long)b * capacity * C + h * hd;
  scores(s, q, kc + row0, C, n, hd, scale);
  softmax(s, n, fred, dred);
  for (int d = threadIdx.x; d < hd; d += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j < n; j++) acc += s[j] * vc[row0 + (long long)j * C + d];
    out[(long long)b * C + h * hd + d] = acc;
  }
}
