package kernels

import "github.com/erlgo/erlgo/kernels/internal/shape"

// GELU's tanh approximation, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), is
// computed as x·σ(2u), σ the logistic function: the two are equal, and σ(2u) = 1/(1 + e^(−2u))
// costs one exp32, where math.Tanh costs ten times as much, and has no cancellation for
// negative x, where 1 + tanh(u) does.
const (
	geluScale = 0.7978845608028654 // √(2/π)
	geluCubic = 0.044715
	// geluExpCap caps e^(−2u) at e^80, so that e·s stays finite (and close to 1) where x is so
	// negative that e^(−2u) would overflow.
	geluExpCap = 80
)

// GeluForward: the tanh approximation of GELU (as GPT-2). GeluBackward: dx = dout * gelu'(x).
//
// out must hold len(x) elements and may alias x.
func GeluForward(out, x []float32) {
	shape.GeluForward(out, x)
	parallelFor(len(x), 1, func(lo, hi int) {
		o, xs := out[lo:hi], x[lo:hi]
		n := vectorPart(len(xs))
		vecGeluForward(o, xs[:n])
		o, xs = o[n:], xs[n:]
		for i, v := range xs {
			o[i] = v / (1 + geluExp(v))
		}
	})
}

// GeluBackward writes dx = dout * gelu'(x) for the tanh approximation of GELU, over len(x)
// elements. dx may alias dout.
func GeluBackward(dx, x, dout []float32) {
	shape.GeluBackward(dx, x, dout)
	parallelFor(len(x), 1, func(lo, hi int) {
		d, g, xs := dx[lo:hi], dout[lo:hi], x[lo:hi]
		n := vectorPart(len(xs))
		vecGeluBackward(d, xs[:n], g)
		d, g, xs = d[n:], g[n:], xs[n:]
		for i, v := range xs {
			// gelu = x·s with s = σ(2u), so gelu' = s + x·2·s·(1−s)·u'. 1−s is taken as e·s,
			// which keeps its relative accuracy where s is close to 1.
			e := geluExp(v)
			s := 1 / (1 + e)
			du := geluScale * (1 + 3*geluCubic*v*v)
			d[i] = g[i] * (s + 2*v*s*(e*s)*du)
		}
	})
}

// geluExp returns e^(−2u) for GELU's u(x), capped at e^geluExpCap.
func geluExp(v float32) float32 {
	return exp32(min(-2*geluScale*(v+geluCubic*v*v*v), geluExpCap))
}
