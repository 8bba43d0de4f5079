package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// sgemm is gonum's native BLAS, the generic path's product, named directly rather than through
// blas32's replaceable global, so that a blas32.Use elsewhere in the program cannot change what
// these kernels run. It is row-major, like every slice here, so operands pass through unchanged.
var sgemm = gonum.Implementation{}.Sgemm

// Gemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, op(X) = X or Xᵀ.
// op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are row strides.
//
// A is stored k×m when transA is set and m×k otherwise, and likewise B. With beta = 0, C is
// overwritten without being read, so it may hold anything, NaN included.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	shape.Gemm("Gemm", transA, transB, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, 1)
	gemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmStridedBatched runs batch independent Gemms whose operands start strideA, strideB, strideC elements apart.
//
// A stride of 0 for A or B reuses one matrix for every product. The C matrices must not
// overlap, because the products run concurrently when they are large enough.
func GemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	shape.Gemm("GemmStridedBatched", transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		// The products do not read A or B then, and the checks allowed them to be empty.
		a, strideA, b, strideB = nil, 0, nil, 0
	}
	parallelFor(batch, m*n*k, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gemm(false, transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
		}
	})
}

// On the generic path, a transposed A is copied into row-major form before a product of at
// least transposeAWork multiply-adds into a C of at least transposeAMinN columns. gonum's Aᵀ·B updates each row of
// a 64-row block of C once per row of B, and once C's rows lie 1 KiB or more apart this runs
// slower than A·B: 10 to 15% at m = 256, k = 4096 and n = 256 to 1024 on one thread, and
// half the speed at n = 768 on two. For narrower C, Aᵀ·B is 10 to 35% faster than the copy
// and A·B together, so it stays. The copy costs 1/n of the product.
const (
	transposeAWork = 1 << 20
	transposeAMinN = 256
)

// transposedA holds the copies of transposed A operands.
var transposedA bufPool

// gemm runs one checked product on the active path, spread over goroutines when parallel is
// set and the product is large enough (the attention kernels, which already run a head per
// goroutine, pass false).
func gemm(parallel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		// Neither path reads A or B then (gonum would ask for a longer A than an m×0 matrix
		// needs), so scale C here.
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	if t := pickTile(active.gemmTiles, n); t != nil {
		tiledGemm(t, parallel, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if transA && n >= transposeAMinN && m*n*k >= transposeAWork {
		buf := transposedA.get(m * k)
		defer transposedA.put(buf)
		transpose(*buf, k, a, lda, k, m)
		a, lda, transA = *buf, k, false
	}
	sgemm(blasTranspose(transA), blasTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// scaleMatrix sets C = beta*C; with beta = 0 it writes zeros, so that NaN in C does not survive.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func blasTranspose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
