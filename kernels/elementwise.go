package kernels

import "github.com/erlgo/erlgo/kernels/internal/shape"

// Add: out = a + b elementwise (out may alias a or b). AddBias: adds bias (C) to every row of x (N×C) in place. SumRows: dbias[j] = sum_i dout[i,j] (overwrites).
//
// Add works on len(out) elements.
func Add(out, a, b []float32) {
	shape.Add(out, a, b)
	parallelFor(len(out), 1, func(lo, hi int) {
		o, x, y := out[lo:hi], a[lo:hi], b[lo:hi]
		v := vectorPart(len(x))
		vecAdd(o, x[:v], y)
		for i := v; i < len(x); i++ {
			o[i] = x[i] + y[i]
		}
	})
}

// AddBias adds bias (C) to every row of x (N×C) in place, rows concurrently.
func AddBias(x, bias []float32, N, C int) {
	shape.AddBias(x, bias, N, C)
	bias = bias[:C]
	parallelFor(N, C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			addTo(x[i*C:], bias)
		}
	})
}

// SumRows sets dbias[j] = sum_i dout[i,j] for the N×C matrix dout, the gradient of AddBias.
// The sums accumulate in float64, over blocks of columns concurrently.
func SumRows(dbias, dout []float32, N, C int) {
	shape.SumRows(dbias, dout, N, C)
	forColumnBlocks(C, N, func(c0, c1 int) {
		var acc [colBlock]float64
		vb := vectorPart(c1 - c0)
		for i := range N {
			row := dout[i*C+c0 : i*C+c1]
			vecAddFloat64(acc[:vb], row[:vb])
			for j := vb; j < len(row); j++ {
				acc[j] += float64(row[j])
			}
		}
		for j := range c1 - c0 {
			dbias[c0+j] = float32(acc[j])
		}
	})
}
