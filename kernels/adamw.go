package kernels

import (
	"math"

	"gonum.org/v1/gonum/blas/gonum"

	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// AdamW updates param in place (decoupled weight decay, bias-corrected moments; t is the 1-based step).
//
// With m̂ = m/(1−beta1^t) and v̂ = v/(1−beta2^t) after the moment updates,
// param −= lr·(m̂/(√v̂ + eps) + weightDecay·param), as in PyTorch's AdamW. m and v are
// updated in place; all four slices hold len(param) elements. Elements are processed
// concurrently.
func AdamW(param, grad, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, t int) {
	shape.AdamW(param, grad, m, v, t)
	n := len(param)
	// The corrections go to 1 as t grows; float64 keeps beta^t accurate for small 1−beta.
	c1 := float32(1 / (1 - math.Pow(float64(beta1), float64(t))))
	c2 := float32(1 / (1 - math.Pow(float64(beta2), float64(t))))
	parallelFor(n, 4, func(lo, hi int) {
		p, ms, vs := param[lo:hi], m[lo:hi], v[lo:hi]
		for i, g := range grad[lo:hi] {
			mi := beta1*ms[i] + (1-beta1)*g
			vi := beta2*vs[i] + (1-beta2)*g*g
			ms[i], vs[i] = mi, vi
			step := mi * c1 / (float32(math.Sqrt(float64(vi*c2))) + eps)
			p[i] -= lr * (step + weightDecay*p[i])
		}
	})
}

// SumSquares returns the sum of squares of x, accumulated in float64 (for the global gradient norm). Scale multiplies x by s in place.
func SumSquares(x []float32) float64 {
	return gonum.Implementation{}.Dsdot(len(x), x, 1, x, 1)
}

// Scale multiplies every element of x by s in place, concurrently for long x.
func Scale(x []float32, s float32) {
	parallelFor(len(x), 1, func(lo, hi int) {
		xs := x[lo:hi]
		v := vectorPart(len(xs))
		vecScale(xs[:v], s)
		for i := v; i < len(xs); i++ {
			xs[i] *= s
		}
	})
}
