package model

import (
	"fmt"
	"math"
)

// Objective configures the loss over scored tokens. Every scored token belongs to one of two
// terms, chosen by its weights in TokenData:
//
//   - policy gradient (pg_weight > 0): the GRPO/PPO clipped surrogate
//     −min(ρ·A, clip(ρ, 1−ClipLow, 1+ClipHigh)·A) with ρ = π/π_old, plus KLCoef times the k3
//     estimator of KL(π‖π_ref): exp(ref−logp) − (ref−logp) − 1;
//   - distillation (distill_weight > 0): DistillCoef times the negative log-likelihood, scaled
//     by the importance ratio ρ clipped at DistillISClip (a constant; 0 turns it off).
//
// The weights carry the aggregation (token-mean or sequence-mean), so the loss of a batch split
// into micro-batches is the sum of theirs.
type Objective struct {
	ClipLow       float64 `json:"clip_low"`
	ClipHigh      float64 `json:"clip_high"`
	KLCoef        float64 `json:"kl_coef"`
	DistillCoef   float64 `json:"distill_coef"`
	DistillISClip float64 `json:"distill_is_clip"`
}

// DefaultObjective holds the paper's settings: clip 0.2/0.28, KL coefficient 0.001.
func DefaultObjective() Objective {
	return Objective{ClipLow: 0.2, ClipHigh: 0.28, KLCoef: 0.001, DistillCoef: 1}
}

// Validate reports a setting that cannot work.
func (o Objective) Validate() error {
	switch {
	case o.ClipLow < 0 || o.ClipLow >= 1:
		return fmt.Errorf("clip_low %g is outside [0, 1)", o.ClipLow)
	case o.ClipHigh < 0:
		return fmt.Errorf("clip_high %g is negative", o.ClipHigh)
	case o.KLCoef < 0 || o.DistillCoef < 0 || o.DistillISClip < 0:
		return fmt.Errorf("coefficients must not be negative (kl %g, distill %g, is clip %g)", o.KLCoef, o.DistillCoef, o.DistillISClip)
	}
	return nil
}

// Terms are the parts of one loss evaluation, each already weighted, so Loss = PG + KL + Distill.
type Terms struct {
	Loss, PG, KL, Distill float64
	// ClipFrac is the weighted fraction of policy-gradient tokens whose ratio was clipped,
	// KLMean the weighted mean of the k3 estimate, RatioMean the weighted mean of ρ.
	ClipFrac, KLMean, RatioMean float64
	// PGWeight and DistillWeight are the summed token weights, for averaging across micro-batches.
	PGWeight, DistillWeight float64
}

// Add accumulates the terms of another micro-batch.
func (t *Terms) Add(u Terms) {
	t.Loss += u.Loss
	t.PG += u.PG
	t.KL += u.KL
	t.Distill += u.Distill
	t.ClipFrac += u.ClipFrac
	t.KLMean += u.KLMean
	t.RatioMean += u.RatioMean
	t.PGWeight += u.PGWeight
	t.DistillWeight += u.DistillWeight
}

// tokenStats are the objective's per-token inputs.
type tokenStats[T float] struct {
	logp, old, ref, adv, wPG, wDistill []T
}

// objectiveTerms evaluates the objective in float64; when dlogp is not nil it also writes
// dloss/dlogp there. It is the one definition of the loss, shared by the graph's forward and
// backward ops.
func objectiveTerms[T float](o Objective, s tokenStats[T], dlogp []T) Terms {
	var t Terms
	for i, lp := range s.logp {
		logp := float64(lp)
		var grad float64
		if w := float64(s.wPG[i]); w != 0 {
			ratio := safeExp(logp - float64(s.old[i]))
			adv := float64(s.adv[i])
			clipped := math.Min(math.Max(ratio, 1-o.ClipLow), 1+o.ClipHigh)
			surr, surrClipped := ratio*adv, clipped*adv
			pg := -math.Min(surr, surrClipped)
			if surr <= surrClipped {
				grad += -w * adv * ratio // the unclipped branch is active: d(ρ)/dlogp = ρ
			}
			if clipped != ratio {
				t.ClipFrac += w
			}
			d := float64(s.ref[i]) - logp
			kl := safeExp(d) - d - 1
			grad += w * o.KLCoef * (1 - safeExp(d))
			t.PG += w * pg
			t.KL += w * o.KLCoef * kl
			t.KLMean += w * kl
			t.RatioMean += w * ratio
			t.PGWeight += w
		}
		if w := float64(s.wDistill[i]); w != 0 {
			is := 1.0
			if o.DistillISClip > 0 {
				is = math.Min(safeExp(logp-float64(s.old[i])), o.DistillISClip)
			}
			t.Distill += -w * o.DistillCoef * is * logp
			grad += -w * o.DistillCoef * is
			t.DistillWeight += w
		}
		if dlogp != nil {
			dlogp[i] = T(grad)
		}
	}
	t.Loss = t.PG + t.KL + t.Distill
	return t
}
