package kernels

// The vector loops of vec_amd64.s and rows_amd64.s, for AVX2 (8 floats a vector) and AVX-512
// (16), and the functions through which the kernels call those of the active path. Each takes
// slices whose length is a multiple of the path's vector width, the leading vectorPart(n)
// elements of a kernel's rows; the kernel does the rest in its scalar loop, so that it has one
// form for every path. Sums along a row accumulate in float32 across the vector's lanes; sums
// down columns, over many rows, in float64, as the scalar loops do.
//
// The calls are direct, through a switch on the path's vectorISA, rather than through function
// values: the compiler then sees that the pointers passed do not escape, so that the kernels'
// stack buffers stay on the stack.

const (
	vectorAVX2 vectorISA = iota + 1
	vectorAVX512
)

// vecConsts holds the constants of vec_amd64.s, each in the 8 lanes of a ymm vector, in the
// order of its C_ offsets.
var vecConsts = eightLanes(log2e, roundMagic, ln2Hi, ln2Lo, expP5, expP4, expP3, expP2, expP1, expP0, 1, minArg,
	-2*geluScale, -2*geluScale*geluCubic, geluExpCap, 2*geluScale, 2*geluScale*3*geluCubic, expFloor)

// expFloor is where the AVX-512 exponential clamps its argument: e^x rounds to 0 in float32
// below −103.97 (half the smallest subnormal), so nothing is lost, and the reduction by ln 2
// stays exact for any input.
const expFloor = -104

func eightLanes(values ...float32) (lanes [18 * 8]float32) {
	for i, v := range values {
		for l := range 8 {
			lanes[8*i+l] = v
		}
	}
	return lanes
}

// vecGeluForward sets out[i] = GELU(x[i]) for i < len(x).
func vecGeluForward(out, x []float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		geluForwardAVX512(&out[0], &x[0], len(x))
		return
	}
	geluForwardAVX2(&out[0], &x[0], len(x))
}

// vecGeluBackward sets dx[i] = dout[i]·GELU'(x[i]) for i < len(x).
func vecGeluBackward(dx, x, dout []float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		geluBackwardAVX512(&dx[0], &x[0], &dout[0], len(x))
		return
	}
	geluBackwardAVX2(&dx[0], &x[0], &dout[0], len(x))
}

// vecExpShift sets dst[i] = e^(src[i] − shift) for i < len(src) (dst may be src) and returns their sum.
func vecExpShift(dst, src []float32, shift float32) float64 {
	if len(src) == 0 {
		return 0
	}
	if active.vectorISA == vectorAVX512 {
		return expShiftAVX512(&dst[0], &src[0], len(src), shift)
	}
	return expShiftAVX2(&dst[0], &src[0], len(src), shift)
}

// vecSum returns Σ x[i].
func vecSum(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	if active.vectorISA == vectorAVX512 {
		return float64(sumAVX512(&x[0], len(x)))
	}
	return float64(sumAVX2(&x[0], len(x)))
}

// vecMax returns the largest element of x, which must not be empty.
func vecMax(x []float32) float32 {
	if active.vectorISA == vectorAVX512 {
		return maxAVX512(&x[0], len(x))
	}
	return maxAVX2(&x[0], len(x))
}

// vecDot returns Σ x[i]·y[i] for i < len(x).
func vecDot(x, y []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	if active.vectorISA == vectorAVX512 {
		return float64(dotAVX512(&x[0], &y[0], len(x)))
	}
	return float64(dotAVX2(&x[0], &y[0], len(x)))
}

// vecSumSquaredDeviations returns Σ (x[i] − mean)².
func vecSumSquaredDeviations(x []float32, mean float32) float64 {
	if len(x) == 0 {
		return 0
	}
	if active.vectorISA == vectorAVX512 {
		return float64(sumSquaredDeviationsAVX512(&x[0], len(x), mean))
	}
	return float64(sumSquaredDeviationsAVX2(&x[0], len(x), mean))
}

// vecNormalize sets out[i] = (x[i] − mean)·rstd·weight[i] + bias[i] for i < len(x); out may be x.
func vecNormalize(out, x, weight, bias []float32, mean, rstd float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		normalizeAVX512(&out[0], &x[0], &weight[0], &bias[0], len(x), mean, rstd)
		return
	}
	normalizeAVX2(&out[0], &x[0], &weight[0], &bias[0], len(x), mean, rstd)
}

// vecLayerNormGradSums returns Σ g[i] and Σ g[i]·x̂[i] for i < len(x), with g = weight∘dout and x̂ = (x − mean)·rstd.
func vecLayerNormGradSums(x, dout, weight []float32, mean, rstd float32) (sg, sgx float64) {
	if len(x) == 0 {
		return 0, 0
	}
	var g, gx float32
	if active.vectorISA == vectorAVX512 {
		g, gx = layerNormGradSumsAVX512(&x[0], &dout[0], &weight[0], len(x), mean, rstd)
	} else {
		g, gx = layerNormGradSumsAVX2(&x[0], &dout[0], &weight[0], len(x), mean, rstd)
	}
	return float64(g), float64(gx)
}

// vecLayerNormGradRow sets dx[i] = rstd·(g[i] − mg − x̂[i]·mgx) for i < len(x), with g and x̂ as in vecLayerNormGradSums.
func vecLayerNormGradRow(dx, x, dout, weight []float32, mean, rstd, mg, mgx float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		layerNormGradRowAVX512(&dx[0], &x[0], &dout[0], &weight[0], len(x), mean, rstd, mg, mgx)
		return
	}
	layerNormGradRowAVX2(&dx[0], &x[0], &dout[0], &weight[0], len(x), mean, rstd, mg, mgx)
}

// vecAddFloat64 adds x[i] into acc[i] for i < len(x).
func vecAddFloat64(acc []float64, x []float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		addFloat64AVX512(&acc[0], &x[0], len(x))
		return
	}
	addFloat64AVX2(&acc[0], &x[0], len(x))
}

// vecLayerNormGradColumns adds dout[i]·x̂[i] into dw[i] and dout[i] into db[i] for i < len(x), with x̂ = (x − mean)·rstd.
func vecLayerNormGradColumns(dw, db []float64, x, dout []float32, mean, rstd float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		layerNormGradColumnsAVX512(&dw[0], &db[0], &x[0], &dout[0], len(x), mean, rstd)
		return
	}
	layerNormGradColumnsAVX2(&dw[0], &db[0], &x[0], &dout[0], len(x), mean, rstd)
}

// vecSoftmaxGradRow sets dp[i] = p[i]·(dp[i] − dot) for i < len(p).
func vecSoftmaxGradRow(dp, p []float32, dot float32) {
	if len(p) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		softmaxGradRowAVX512(&dp[0], &p[0], len(p), dot)
		return
	}
	softmaxGradRowAVX2(&dp[0], &p[0], len(p), dot)
}

// vecAdd sets out[i] = a[i] + b[i] for i < len(a); out may be a or b.
func vecAdd(out, a, b []float32) {
	if len(a) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		addAVX512(&out[0], &a[0], &b[0], len(a))
		return
	}
	addAVX2(&out[0], &a[0], &b[0], len(a))
}

// vecAxpy adds alpha·x[i] into dst[i] for i < len(x).
func vecAxpy(dst, x []float32, alpha float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		axpyAVX512(&dst[0], &x[0], len(x), alpha)
		return
	}
	axpyAVX2(&dst[0], &x[0], len(x), alpha)
}

// vecScale multiplies x[i] by s for i < len(x).
func vecScale(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	if active.vectorISA == vectorAVX512 {
		scaleAVX512(&x[0], len(x), s)
		return
	}
	scaleAVX2(&x[0], len(x), s)
}

// vecRowDots sets scores[j] = scale·Σ_d q[d]·k[j·ldk+d] for j < len(scores) and d < len(q),
// where len(q) is a multiple of the vector width.
func vecRowDots(scores, q, k []float32, ldk int, scale float32) {
	if len(scores) == 0 {
		return
	}
	_ = k[(len(scores)-1)*ldk+len(q)-1]
	if active.vectorISA == vectorAVX512 {
		rowDotsAVX512(&scores[0], &q[0], &k[0], len(scores), len(q), ldk, scale)
		return
	}
	rowDotsAVX2(&scores[0], &q[0], &k[0], len(scores), len(q), ldk, scale)
}

// vecWeightedRows adds Σ_j p[j]·v[j·ldv+d] into out[d] for j < len(p) and d < len(out), where
// len(out) is a multiple of the vector width.
func vecWeightedRows(out, p, v []float32, ldv int) {
	if len(p) == 0 {
		return
	}
	_ = v[(len(p)-1)*ldv+len(out)-1]
	if active.vectorISA == vectorAVX512 {
		weightedRowsAVX512(&out[0], &p[0], &v[0], len(p), len(out), ldv)
		return
	}
	weightedRowsAVX2(&out[0], &p[0], &v[0], len(p), len(out), ldv)
}

// The loops themselves; see the functions above for what each computes.

//go:noescape
func geluForwardAVX2(out, x *float32, n int)

//go:noescape
func geluBackwardAVX2(dx, x, dout *float32, n int)

//go:noescape
func expShiftAVX2(dst, src *float32, n int, shift float32) float64

//go:noescape
func sumAVX2(x *float32, n int) float32

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func dotAVX2(x, y *float32, n int) float32

//go:noescape
func sumSquaredDeviationsAVX2(x *float32, n int, mean float32) float32

//go:noescape
func normalizeAVX2(out, x, weight, bias *float32, n int, mean, rstd float32)

//go:noescape
func layerNormGradSumsAVX2(x, dout, weight *float32, n int, mean, rstd float32) (sg, sgx float32)

//go:noescape
func layerNormGradRowAVX2(dx, x, dout, weight *float32, n int, mean, rstd, mg, mgx float32)

//go:noescape
func addFloat64AVX2(acc *float64, x *float32, n int)

//go:noescape
func layerNormGradColumnsAVX2(dw, db *float64, x, dout *float32, n int, mean, rstd float32)

//go:noescape
func softmaxGradRowAVX2(dp, p *float32, n int, dot float32)

//go:noescape
func geluForwardAVX512(out, x *float32, n int)

//go:noescape
func geluBackwardAVX512(dx, x, dout *float32, n int)

//go:noescape
func expShiftAVX512(dst, src *float32, n int, shift float32) float64

//go:noescape
func sumAVX512(x *float32, n int) float32

//go:noescape
func maxAVX512(x *float32, n int) float32

//go:noescape
func dotAVX512(x, y *float32, n int) float32

//go:noescape
func sumSquaredDeviationsAVX512(x *float32, n int, mean float32) float32

//go:noescape
func normalizeAVX512(out, x, weight, bias *float32, n int, mean, rstd float32)

//go:noescape
func layerNormGradSumsAVX512(x, dout, weight *float32, n int, mean, rstd float32) (sg, sgx float32)

//go:noescape
func layerNormGradRowAVX512(dx, x, dout, weight *float32, n int, mean, rstd, mg, mgx float32)

//go:noescape
func addFloat64AVX512(acc *float64, x *float32, n int)

//go:noescape
func layerNormGradColumnsAVX512(dw, db *float64, x, dout *float32, n int, mean, rstd float32)

//go:noescape
func softmaxGradRowAVX512(dp, p *float32, n int, dot float32)

//go:noescape
func addAVX2(out, a, b *float32, n int)

//go:noescape
func axpyAVX2(dst, x *float32, n int, alpha float32)

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

//go:noescape
func addAVX512(out, a, b *float32, n int)

//go:noescape
func axpyAVX512(dst, x *float32, n int, alpha float32)

//go:noescape
func scaleAVX512(x *float32, n int, s float32)

//go:noescape
func rowDotsAVX2(scores, q, k *float32, n, hd, ldk int, scale float32)

//go:noescape
func weightedRowsAVX2(out, p, v *float32, n, hd, ldv int)

//go:noescape
func rowDotsAVX512(scores, q, k *float32, n, hd, ldk int, scale float32)

//go:noescape
func weightedRowsAVX512(out, p, v *float32, n, hd, ldv int)
