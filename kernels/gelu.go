package kernels

// GELU's tanh approximation, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), is
// computed as x·σ(2u), σ the logistic function: the two are equal, and σ(2u) = 1/(1 + e^(−2u))
// costs one exp32, where math.Tanh costs ten times as much, and has no cancellation for
// negative x, where 1 + tanh(u) does.
const (
	geluScale = 0.7978845608028654 // √(2/π)
	geluCubic = 0.044715
)

// GeluForward: the tanh approximation of GELU (as GPT-2). GeluBackward: dx = dout * gelu'(x).
//
// out must hold len(x) elements and may alias x.
func GeluForward(out, x []float32) {
	mustLen("GeluForward", "out", out, len(x))
	parallelFor(len(x), 1, func(lo, hi int) {
		o := out[lo:hi]
		for i, v := range x[lo:hi] {
			o[i] = v / (1 + exp32(-2*geluScale*(v+geluCubic*v*v*v)))
		}
	})
}

// GeluBackward writes dx = dout * gelu'(x) for the tanh approximation of GELU, over len(x)
// elements. dx may alias dout.
func GeluBackward(dx, x, dout []float32) {
	const kernel = "GeluBackward"
	mustLen(kernel, "dx", dx, len(x))
	mustLen(kernel, "dout", dout, len(x))
	parallelFor(len(x), 1, func(lo, hi int) {
		d, g := dx[lo:hi], dout[lo:hi]
		for i, v := range x[lo:hi] {
			// gelu = x·s with s = σ(2u), and s' = 2·s·(1−s)·u'.
			s := 1 / (1 + exp32(-2*geluScale*(v+geluCubic*v*v*v)))
			du := geluScale * (1 + 3*geluCubic*v*v)
			d[i] = g[i] * (s + 2*v*s*(1-s)*du)
		}
	})
}
