package kernels

import (
	"math"

	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// layerNormEps is added to the variance before the square root, as in GPT-2.
const layerNormEps = 1e-5

// LayerNormForward normalises each of the N rows of x (C columns) with eps 1e-5, scales by weight, adds bias; saves mean and rstd (length N) for the backward pass.
//
// rstd is 1/sqrt(variance + eps), with the biased variance. mean and rstd are optional:
// inference passes nil for both. Rows are processed concurrently.
func LayerNormForward(out, mean, rstd, x, weight, bias []float32, N, C int) {
	shape.LayerNormForward(out, mean, rstd, x, weight, bias, N, C)
	weight, bias = weight[:C], bias[:C]
	vc := vectorPart(C)
	parallelFor(N, C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*C : (i+1)*C]
			oi := out[i*C : (i+1)*C]
			sum := vecSum(xi[:vc])
			for _, v := range xi[vc:] {
				sum += float64(v)
			}
			m := sum / float64(C)
			// Two passes, because the one-pass E[x²]−E[x]² loses the variance of rows whose
			// mean is large beside their spread.
			ss := vecSumSquaredDeviations(xi[:vc], float32(m))
			for _, v := range xi[vc:] {
				d := float64(v) - m
				ss += d * d
			}
			rs := 1 / math.Sqrt(ss/float64(C)+layerNormEps)
			vecNormalize(oi, xi[:vc], weight, bias, float32(m), float32(rs))
			for j := vc; j < C; j++ {
				oi[j] = float32((float64(xi[j])-m)*rs)*weight[j] + bias[j]
			}
			if mean != nil {
				mean[i] = float32(m)
			}
			if rstd != nil {
				rstd[i] = float32(rs)
			}
		}
	})
}

// LayerNormBackward writes dx (N×C), dweight and dbias (C) from dout; any of the three may be nil.
//
// mean and rstd are those saved by LayerNormForward. dx is computed over rows, and dweight
// and dbias over blocks of columns, each concurrently; the column sums accumulate in float64.
func LayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd []float32, N, C int) {
	shape.LayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd, N, C)
	vc := vectorPart(C)
	if dx != nil {
		weight := weight[:C]
		parallelFor(N, 2*C, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xi := x[i*C : (i+1)*C]
				gi := dout[i*C : (i+1)*C]
				di := dx[i*C : (i+1)*C]
				m, r := mean[i], rstd[i]
				// dx = rstd·(g − mean(g) − x̂·mean(g∘x̂)) with g = weight∘dout, x̂ the normalised x.
				sg, sgx := vecLayerNormGradSums(xi[:vc], gi, weight, m, r)
				for j := vc; j < C; j++ {
					g := weight[j] * gi[j]
					sg += float64(g)
					sgx += float64(g * (xi[j] - m) * r)
				}
				mg, mgx := float32(sg/float64(C)), float32(sgx/float64(C))
				vecLayerNormGradRow(di, xi[:vc], gi, weight, m, r, mg, mgx)
				for j := vc; j < C; j++ {
					di[j] = r * (weight[j]*gi[j] - mg - (xi[j]-m)*r*mgx)
				}
			}
		})
	}
	if dweight == nil && dbias == nil {
		return
	}
	forColumnBlocks(C, 2*N, func(c0, c1 int) {
		var dw, db [colBlock]float64
		vb := vectorPart(c1 - c0)
		for i := range N {
			xi := x[i*C+c0 : i*C+c1]
			gi := dout[i*C+c0 : i*C+c1]
			m, r := mean[i], rstd[i]
			vecLayerNormGradColumns(dw[:vb], db[:vb], xi[:vb], gi, m, r)
			for j := vb; j < len(gi); j++ {
				dw[j] += float64(gi[j] * (xi[j] - m) * r)
				db[j] += float64(gi[j])
			}
		}
		for j := range c1 - c0 {
			if dweight != nil {
				dweight[c0+j] = float32(dw[j])
			}
			if dbias != nil {
				dbias[c0+j] = float32(db[j])
			}
		}
	})
}
