// sampler.cu: the sampler's draw of one token per row of logits, as model.sampleRows does it
// on the host (see model/sampler.go), so that only the tokens and their log-probabilities come
// back: greedy, or at a temperature with top-k and top-p, among each row's allowed tokens.
#include "common.cuh"

#define SAMPLER_THREADS 256

// sampler_draw: one block of SAMPLER_THREADS threads a row. Row b's allowed tokens are
// ids[offsets[b]..offsets[b+1]), every token when that range is empty; u[b] is its uniform
// number. It writes tokens[b] and logp[b], the token's log-probability at temperature 1 under
// the softmax over the allowed tokens, or −1 and NaN when the row is not finite. Dynamic shared
// memory holds 16·V bytes. The parts whose order decides the bits (the sums, the cut and the
// draw) run on one thread, in the host's order; V is the vocabulary, a few hundred tokens.
extern "C" __global__ void sampler_draw(int* tokens, float* logp, const float* logits, const int* ids,
                                        const int* offsets, const float* u, int V, int greedy, double temperature,
                                        int topK, double topP) {
  DYNAMIC_SHARED(double, p);  // V probabilities, then V candidates and V ranks
  int* cand = reinterpret_cast<int*>(p + V);
  int* order = cand + V;
  __shared__ float bestVal[SAMPLER_THREADS];
  __shared__ int bestAt[SAMPLER_THREADS];
  __shared__ int token;
  const int b = blockIdx.x, tid = threadIdx.x;
  const float* row = logits + (long long)b * V;

  int bad = 0;
  for (int j = tid; j < V; j += blockDim.x) bad |= !isfinite(row[j]);
  if (__syncthreads_or(bad)) {
    if (tid == 0) {
      tokens[b] = -1;
      logp[b] = __int_as_float(0x7fc00000);  // NaN
    }
    return;
  }
  const int lo = offsets[b], hi = offsets[b + 1], all = hi <= lo, n = all ? V : hi - lo;
  for (int k = tid; k < n; k += blockDim.x) cand[k] = all ? k : ids[lo + k];
  __syncthreads();

  if (greedy) {
    // The first candidate, in candidate order, with the largest logit.
    float best = __int_as_float(0xff800000);
    int at = n;
    for (int k = tid; k < n; k += blockDim.x) {
      if (row[cand[k]] > best || at == n) {
        best = row[cand[k]];
        at = k;
      }
    }
    bestVal[tid] = best;
    bestAt[tid] = at;
    __syncthreads();
    if (tid == 0) {
      for (int t = 1; t < blockDim.x; t++) {
        if (bestAt[t] < n && (bestVal[t] > best || (bestVal[t] == best && bestAt[t] < at))) {
          best = bestVal[t];
          at = bestAt[t];
        }
      }
      token = cand[at];
    }
  } else {
    const double temp = temperature > 0.0 ? temperature : 1.0;
    for (int k = tid; k < n; k += blockDim.x) p[k] = (double)row[cand[k]] / temp;
    __syncthreads();
    __shared__ double mx, sum;
    if (tid == 0) {
      mx = p[0];
      for (int k = 1; k < n; k++) mx = fmax(mx, p[k]);
    }
    __syncthreads();
    for (int k = tid; k < n; k += blockDim.x) p[k] = exp(p[k] - mx);
    __syncthreads();
    // A stable sort by probability, largest first: each candidate's rank.
    for (int k = tid; k < n; k += blockDim.x) {
      int r = 0;
      for (int j = 0; j < n; j++) r += p[j] > p[k] || (p[j] == p[k] && j < k);
      order[r] = k;
    }
    __syncthreads();
    if (tid == 0) {
      sum = 0.0;
      for (int k = 0; k < n; k++) sum += p[k];
      int m = n;
      if (topK > 0 && topK < m) m = topK;
      if (topP > 0.0 && topP < 1.0) {
        double acc = 0.0;
        for (int i = 0; i < m; i++) {
          acc += p[order[i]] / sum;
          if (acc >= topP) {
            m = i + 1;
            break;
          }
        }
      }
      double kept = 0.0;
      for (int i = 0; i < m; i++) kept += p[order[i]];
      double r = (double)u[b] * kept;
      int pick = order[m - 1];
      for (int i = 0; i < m; i++) {
        r -= p[order[i]];
        if (r < 0.0) {
          pick = order[i];
          break;
        }
      }
      token = cand[pick];
    }
  }
  __syncthreads();
  if (tid == 0) {
    float mxf = row[cand[0]];
    for (int k = 1; k < n; k++) mxf = fmaxf(mxf, row[cand[k]]);
    double s = 0.0;
    for (int k = 0; k < n; k++) s += exp((double)(row[cand[k]] - mxf));
    tokens[b] = token;
    logp[b] = (float)((double)(row[token] - mxf) - log(s));
  }
}
