// logsoftmax.cu: the log-probability of each row's target under the softmax of its logits,
// and its gradient (see kernels/logsoftmax.go). One block a row.
#include "common.cuh"

// logsoftmax_gather_forward: logp[i] = logits[i,t] − logsumexp(logits[i,:]) for t = targets[i]
// >= 0, else 0; lse (may be null) gets every row's logsumexp.
extern "C" __global__ void logsoftmax_gather_forward(float* logp, float* lse, const float* logits, const int* targets,
                                                     int N, int V) {
  __shared__ float fred[32];
  __shared__ double dred[32];
  for (int i = blockIdx.x; i < N; i += gridDim.x) {
    const float* row = logits + (long long)i * V;
    float mx = __int_as_float(0xff800000);  // −∞
    for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, row[j]);
    mx = block_max(mx, fred);
    double sum = 0.0;
    for (int j = threadIdx.x; j < V; j += blockDim.x) sum += expf(row[j] - mx);
    sum = block_sum(sum, dred);
    if (threadIdx.x == 0) {
      const double l = (double)mx + log(sum);
      if (lse) lse[i] = (float)l;
      const int t = targets[i];
      logp[i] = t >= 0 && t < V ? (float)((double)row[t] - l) : 0.0f;
    }
  }
}

// logsoftmax_gather_backward: dlogits[i,j] = dlogp[i]·(onehot(t)_j − softmax(logits[i])_j),
// from the saved lse; rows with a negative target get zeros.
extern "C" __global__ void logsoftmax_gather_backward(float* dlogits, const float* dlogp, const float* logits,
                                                      const float* lse, const int* targets, int N, int V) {
  for (int i = blockIdx.x; i < N; i += gridDim.x) {
    const float* row = logits + (long long)i * V;
    float* d = dlogits + (long long)i * V;
    const int t = targets[i];
    const float g = dlogp[i], l = lse[i];
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
      if (t < 0) {
        d[j] = 0.0f;
        continue;
      }
      float v = -g * expf(row[j] - l);
      if (j == t) v += g;
      d[j] = v;
    }
  }
}
