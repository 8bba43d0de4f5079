//go:build gpu || cudaemu

package cuda

import "fmt"

// The checks of package kernels, on the lengths and dimensions the host can see: a device
// slice's length is the host's to read, its values (indices among them) are not. The kernels
// leave an output alone where an index falls outside its table.

func mustLen[E float32 | int32](kernel, name string, s []E, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("cuda: %s: len(%s) = %d, need %d", kernel, name, len(s), n))
	}
}

func mustLenOpt(kernel, name string, s []float32, n int) {
	if s != nil {
		mustLen(kernel, name, s, n)
	}
}

func mustDim(kernel, name string, v, lo int) {
	if v < lo {
		panic(fmt.Sprintf("cuda: %s: %s = %d, must be at least %d", kernel, name, v, lo))
	}
}

func mustAtMost(kernel, what string, v, hi int) {
	if v > hi {
		panic(fmt.Sprintf("cuda: %s: %s = %d, at most %d on the GPU", kernel, what, v, hi))
	}
}

// checkGemm validates a batch of products; Gemm is the batch of one with zero strides.
func checkGemm(kernel string, transA, transB bool, m, n, k int, a []float32, lda, strideA int, b []float32, ldb, strideB int, c []float32, ldc, strideC, batch int) {
	mustDim(kernel, "m", m, 0)
	mustDim(kernel, "n", n, 0)
	mustDim(kernel, "k", k, 0)
	mustDim(kernel, "batch", batch, 0)
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkOperand(kernel, "a", a, rowsA, colsA, lda, strideA, batch)
	checkOperand(kernel, "b", b, rowsB, colsB, ldb, strideB, batch)
	checkOperand(kernel, "c", c, m, n, ldc, strideC, batch)
}

func checkOperand(kernel, name string, s []float32, rows, cols, ld, stride, batch int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("cuda: %s: ld%s = %d, need at least %d for a stored %d×%d matrix", kernel, name, ld, max(1, cols), rows, cols))
	}
	if stride < 0 {
		panic(fmt.Sprintf("cuda: %s: stride%s = %d, must be at least 0", kernel, name, stride))
	}
	if rows == 0 || cols == 0 || batch == 0 {
		return
	}
	mustLen(kernel, name, s, (batch-1)*stride+(rows-1)*ld+cols)
}

// checkAttention validates the shared arguments of the attention kernels and returns the
// head dimension.
func checkAttention(kernel string, qkv, att []float32, lens []int32, B, T, C, NH int) int {
	mustDim(kernel, "B", B, 0)
	mustDim(kernel, "T", T, 0)
	mustDim(kernel, "NH", NH, 1)
	mustDim(kernel, "C", C, NH)
	if C%NH != 0 {
		panic(fmt.Sprintf("cuda: %s: C = %d is not a multiple of NH = %d", kernel, C, NH))
	}
	mustLen(kernel, "qkv", qkv, B*T*3*C)
	mustLen(kernel, "att", att, B*NH*T*T)
	if lens != nil {
		mustLen(kernel, "lens", lens, B)
	}
	mustAtMost(kernel, "the head dimension", C/NH, maxHeadDim)
	mustAtMost(kernel, "T", T, maxScores)
	return C / NH
}
