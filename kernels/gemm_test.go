package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// gemmCase is one product shape; pad is added to every row stride, so that the kernel must
// skip the elements between rows.
type gemmCase struct {
	m, n, k     int
	pad         int
	alpha, beta float32
}

var gemmCases = []gemmCase{
	{1, 1, 1, 0, 1, 0},
	{7, 5, 3, 0, 1, 0},
	{13, 17, 29, 3, 0.7, 0},
	{13, 17, 29, 1, -1.5, 1},
	{5, 9, 11, 2, 1, -0.5},
	{64, 3, 65, 0, 1, 0},
	{130, 70, 50, 5, 1, 0.25},  // enough 64×64 blocks for gonum to go concurrent
	{20, 260, 210, 2, 0.5, -1}, // past transposeAWork and transposeAMinN: a transposed A is copied first
	{37, 530, 300, 3, 1, 0},    // more than one block of k and of n (tileKC, tileNC), edge panels of both
	{100, 13, 600, 1, 1, 0.5},  // a narrow C (the 16-wide tile) and a long k
	{12, 32, 256, 0, 1, 0},     // exactly one tile and one block: no edges
	{61, 47, 2, 0, 2, 1},
	{20, 30, 4001, 1, 1, 0.5}, // few rows and columns over a long k: split along k, partial products summed
	{6, 4, 0, 1, 1, 0},        // k = 0: C = beta*C
	{6, 4, 0, 1, 1, 2},
	{6, 4, 5, 0, 0, 0.5}, // alpha = 0
	{0, 4, 5, 0, 1, 0},
}

// gemmLayout returns the stored shapes and row strides of A, B and C for the case.
func gemmLayout(transA, transB bool, c gemmCase) (rowsA, lda, rowsB, ldb, ldc int) {
	rowsA, lda = c.m, c.k+c.pad
	if transA {
		rowsA, lda = c.k, c.m+c.pad
	}
	rowsB, ldb = c.k, c.n+c.pad
	if transB {
		rowsB, ldb = c.n, c.k+c.pad
	}
	return rowsA, max(lda, 1), rowsB, max(ldb, 1), max(c.n+c.pad, 1)
}

// gemmC returns the initial C: NaN when beta is 0, since C must then not be read, and random
// otherwise; the padding between rows is NaN either way and must stay so.
func gemmC(rng *rand.Rand, rows, ld, n int, beta float32) []float32 {
	c := poisoned(rows * ld)
	if beta != 0 {
		for i := range rows {
			for j := range n {
				c[i*ld+j] = float32(rng.NormFloat64())
			}
		}
	}
	return c
}

func gemmTol(k int) float64 { return 1e-6 * math.Sqrt(float64(max(k, 1))) }

func TestGemm(t *testing.T) { forEachSet(t, testGemm) }

func testGemm(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, c := range gemmCases {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			name := fmt.Sprintf("%+v/transA=%v,transB=%v", c, tr[0], tr[1])
			rowsA, lda, rowsB, ldb, ldc := gemmLayout(tr[0], tr[1], c)
			a := randn(rng, rowsA*lda, 1)
			b := randn(rng, rowsB*ldb, 1)
			got := gemmC(rng, c.m, ldc, c.n, c.beta)
			want := to64(got)
			ref.Gemm(tr[0], tr[1], c.m, c.n, c.k, float64(c.alpha), to64(a), lda, to64(b), ldb, float64(c.beta), want, ldc)
			k.Gemm(tr[0], tr[1], c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got, ldc)
			checkClose(t, name, got, want, gemmTol(c.k))
		}
	}
}

func TestGemmStridedBatched(t *testing.T) { forEachSet(t, testGemmStridedBatched) }

func testGemmStridedBatched(t *testing.T, k kernelSet) {
	rng := newRand(t)
	const batch = 3
	for _, c := range []gemmCase{{7, 5, 3, 1, 1, 0}, {20, 30, 40, 0, 0.5, 1}, {6, 4, 0, 0, 1, 0}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, shareB := range []bool{false, true} {
				name := fmt.Sprintf("%+v/transA=%v,transB=%v/shareB=%v", c, tr[0], tr[1], shareB)
				rowsA, lda, rowsB, ldb, ldc := gemmLayout(tr[0], tr[1], c)
				// Gaps between the matrices of a batch must be skipped too.
				strideA, strideB, strideC := rowsA*lda+2, rowsB*ldb+1, c.m*ldc+3
				if shareB {
					strideB = 0
				}
				a := randn(rng, batch*strideA, 1)
				b := randn(rng, batch*max(strideB, rowsB*ldb), 1)
				got := poisoned(batch * strideC)
				for i := range batch {
					copy(got[i*strideC:], gemmC(rng, c.m, ldc, c.n, c.beta))
				}
				want := to64(got)
				a64, b64 := to64(a), to64(b)
				for i := range batch {
					ref.Gemm(tr[0], tr[1], c.m, c.n, c.k, float64(c.alpha), a64[i*strideA:], lda, b64[i*strideB:], ldb, float64(c.beta), want[i*strideC:], ldc)
				}
				k.GemmStridedBatched(tr[0], tr[1], c.m, c.n, c.k, c.alpha, a, lda, strideA, b, ldb, strideB, c.beta, got, ldc, strideC, batch)
				checkClose(t, name, got, want, gemmTol(c.k))
			}
		}
	}
}

func TestGemmPanics(t *testing.T) {
	a, b, c := make([]float32, 12), make([]float32, 12), make([]float32, 12)
	for _, tc := range []struct {
		want string
		f    func()
	}{
		{"m = -1", func() { Gemm(false, false, -1, 3, 4, 1, a, 4, b, 3, 0, c, 3) }},
		{"lda = 3, need at least 4", func() { Gemm(false, false, 3, 3, 4, 1, a, 3, b, 3, 0, c, 3) }},
		{"lda = 2, need at least 3", func() { Gemm(true, false, 3, 3, 4, 1, a, 2, b, 3, 0, c, 3) }},
		{"len(b) = 12, need 15", func() { Gemm(false, false, 3, 3, 4, 1, a, 4, b, 4, 0, c, 3) }},
		{"len(c) = 12, need 13", func() { Gemm(false, true, 3, 3, 4, 1, a, 4, b, 4, 0, c, 5) }},
		{"len(a) = 12, need 14", func() { GemmStridedBatched(false, false, 1, 1, 2, 1, a, 2, 6, b, 1, 0, 0, c, 1, 1, 3) }},
		{"strideb = -1, must be at least 0", func() { GemmStridedBatched(false, false, 1, 1, 1, 1, a, 1, 1, b, 1, -1, 0, c, 1, 1, 2) }},
	} {
		mustPanic(t, tc.want, tc.f)
	}
}
