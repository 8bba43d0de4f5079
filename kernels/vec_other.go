//go:build !amd64

package kernels

// Without vector loops vectorPart is always 0: these are called only with empty slices, and do nothing.

func vecGeluForward(out, x []float32) { return }

func vecGeluBackward(dx, x, dout []float32) { return }

func vecExpShift(dst, src []float32, shift float32) float64 { return 0 }

func vecSum(x []float32) float64 { return 0 }

func vecMax(x []float32) float32 { return 0 }

func vecDot(x, y []float32) float64 { return 0 }

func vecSumSquaredDeviations(x []float32, mean float32) float64 { return 0 }

func vecNormalize(out, x, weight, bias []float32, mean, rstd float32) { return }

func vecLayerNormGradSums(x, dout, weight []float32, mean, rstd float32) (sg, sgx float64) {
	return 0, 0
}

func vecLayerNormGradRow(dx, x, dout, weight []float32, mean, rstd, mg, mgx float32) { return }

func vecAddFloat64(acc []float64, x []float32) { return }

func vecLayerNormGradColumns(dw, db []float64, x, dout []float32, mean, rstd float32) { return }

func vecSoftmaxGradRow(dp, p []float32, dot float32) { return }

func vecAdd(out, a, b []float32) {}

func vecAxpy(dst, x []float32, alpha float32) {}

func vecScale(x []float32, s float32) {}

func vecRowDots(scores, q, k []float32, ldk int, scale float32) {}

func vecWeightedRows(out, p, v []float32, ldv int) {}
