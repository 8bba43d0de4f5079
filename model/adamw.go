package model

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// OptimConfig configures AdamW, gradient clipping and the learning-rate schedule.
type OptimConfig struct {
	LR          float64 `json:"lr"`
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	WeightDecay float64 `json:"weight_decay"`
	// ClipNorm rescales the gradient when its global norm exceeds it; 0 turns clipping off.
	ClipNorm float64 `json:"clip_norm"`
	// Warmup is the number of steps over which the rate rises linearly from 0.
	Warmup int `json:"warmup"`
	// Schedule is "constant" or "cosine" (decay to MinLRFrac·LR at TotalSteps).
	Schedule   string  `json:"schedule"`
	TotalSteps int     `json:"total_steps"`
	MinLRFrac  float64 `json:"min_lr_frac"`
}

// DefaultOptim is AdamW as used for small transformers trained from scratch.
func DefaultOptim() OptimConfig {
	return OptimConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.01, ClipNorm: 1, Warmup: 10, Schedule: "constant", MinLRFrac: 0.1}
}

// Validate reports a setting that cannot work.
func (c OptimConfig) Validate() error {
	switch {
	case !(c.LR > 0):
		return fmt.Errorf("lr %g must be positive", c.LR)
	case c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("betas (%g, %g) must lie in [0, 1)", c.Beta1, c.Beta2)
	case !(c.Eps > 0) || c.WeightDecay < 0 || c.ClipNorm < 0 || c.Warmup < 0:
		return fmt.Errorf("eps %g must be positive; weight_decay %g, clip_norm %g and warmup %d must not be negative", c.Eps, c.WeightDecay, c.ClipNorm, c.Warmup)
	case c.Schedule != "constant" && c.Schedule != "cosine":
		return fmt.Errorf("schedule %q is not constant or cosine", c.Schedule)
	case c.Schedule == "cosine" && c.TotalSteps < 1:
		return fmt.Errorf("the cosine schedule needs total_steps")
	}
	return nil
}

// LRAt is the learning rate of 1-based step t.
func (c OptimConfig) LRAt(t int) float64 {
	if c.Warmup > 0 && t <= c.Warmup {
		return c.LR * float64(t) / float64(c.Warmup)
	}
	if c.Schedule != "cosine" {
		return c.LR
	}
	frac := math.Min(1, float64(t-c.Warmup)/math.Max(1, float64(c.TotalSteps-c.Warmup)))
	minLR := c.LR * c.MinLRFrac
	return minLR + 0.5*(c.LR-minLR)*(1+math.Cos(math.Pi*frac))
}

// AdamW holds the optimizer's state: the step count and both moments of every parameter.
type AdamW struct {
	Config OptimConfig
	Step   int
	M, V   []*tensor.Dense
}

// NewAdamW returns an optimizer for params with zeroed moments.
func NewAdamW(cfg OptimConfig, params []*Param) (*AdamW, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &AdamW{Config: cfg}
	for _, p := range params {
		mem := memoryOf(p.Value)
		o.M = append(o.M, mem.newTensor(p.Value.Shape()...))
		o.V = append(o.V, mem.newTensor(p.Value.Shape()...))
	}
	return o, nil
}

// Update applies one step to params from their Grad: it measures the global gradient norm,
// refuses a non-finite one (the parameters stay as they were), clips, and steps AdamW. Weight
// decay applies to matrices only, not to biases and LayerNorm gains. It returns the norm before
// clipping and the learning rate used.
func (o *AdamW) Update(params []*Param) (gradNorm, lr float64, err error) {
	if len(params) == 0 {
		return 0, 0, fmt.Errorf("model: no parameters to update")
	}
	grads := make([]*tensor.Dense, len(params))
	for i, p := range params {
		grads[i] = p.Grad
	}
	gradNorm = math.Sqrt(memoryOf(grads[0]).sumSquares(grads))
	if math.IsNaN(gradNorm) || math.IsInf(gradNorm, 0) {
		return gradNorm, 0, fmt.Errorf("model: the gradient norm is %v", gradNorm)
	}
	scale := 1.0
	if c := o.Config.ClipNorm; c > 0 && gradNorm > c {
		scale = c / gradNorm
	}
	o.Step++
	lr = o.Config.LRAt(o.Step)
	c := o.Config
	for i, p := range params {
		wd := c.WeightDecay
		if p.Value.Dims() < 2 {
			wd = 0
		}
		memoryOf(p.Value).adamW(p.Value, p.Grad, o.M[i], o.V[i], scale, lr, c.Beta1, c.Beta2, c.Eps, wd, o.Step)
	}
	return gradNorm, lr, nil
}
