// objective.cu: the training objective's reductions over the scored tokens, as
// model.objectiveTerms computes them on the host (see model/objective.go): the GRPO/PPO clipped
// surrogate with the k3 KL estimate, and the distillation term.
#include "common.cuh"

// The host's math.Min and math.Max, which return NaN when either argument is: fmin and fmax
// return the other one.
__device__ __forceinline__ double go_min(double a, double b) { return (a < b || a != a) ? a : b; }
__device__ __forceinline__ double go_max(double a, double b) { return (a > b || a != a) ? a : b; }

// safe_exp keeps a ratio finite when a policy drifts far from the one that sampled.
__device__ __forceinline__ double safe_exp(double x) { return exp(go_min(x, 20.0)); }

// The sums objective_terms writes, in this order.
enum { PG, KL, DISTILL, CLIP_FRAC, KL_MEAN, RATIO_MEAN, PG_WEIGHT, DISTILL_WEIGHT, NUM_TERMS };

// objective_terms: one block. It writes the NUM_TERMS sums over the n tokens to terms, and,
// when dlogp is not null, dloss/dlogp of each token.
extern "C" __global__ void objective_terms(double* terms, float* dlogp, const float* logp, const float* old,
                                           const float* ref, const float* adv, const float* wPG, const float* wDistill,
                                           int n, double clipLow, double clipHigh, double klCoef, double distillCoef,
                                           double isClip) {
  __shared__ double red[32];
  double acc[NUM_TERMS] = {};
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const double lp = logp[i];
    double grad = 0.0;
    const double w = wPG[i];
    if (w != 0.0) {
      const double ratio = safe_exp(lp - old[i]), a = adv[i];
      const double clipped = go_min(go_max(ratio, 1.0 - clipLow), 1.0 + clipHigh);
      const double surr = ratio * a, surrClipped = clipped * a;
      if (surr <= surrClipped) grad += -w * a * ratio;  // the unclipped branch is active
      if (clipped != ratio) acc[CLIP_FRAC] += w;
      const double d = (double)ref[i] - lp, kl = safe_exp(d) - d - 1.0;
      grad += w * klCoef * (1.0 - safe_exp(d));
      acc[PG] += w * -go_min(surr, surrClipped);
      acc[KL] += w * klCoef * kl;
      acc[KL_MEAN] += w * kl;
      acc[RATIO_MEAN] += w * ratio;
      acc[PG_WEIGHT] += w;
    }
    const double wd = wDistill[i];
    if (wd != 0.0) {
      const double is = isClip > 0.0 ? go_min(safe_exp(lp - old[i]), isClip) : 1.0;
      acc[DISTILL] += -wd * distillCoef * is * lp;
      grad += -wd * distillCoef * is;
      acc[DISTILL_WEIGHT] += wd;
    }
    if (dlogp) dlogp[i] = (float)grad;
  }
  for (int k = 0; k < NUM_TERMS; k++) {
    const double s = block_sum(acc[k], red);
    if (threadIdx.x == 0) terms[k] = s;
  }
}
