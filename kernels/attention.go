package kernels

import (
	"math"

	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// attnBlock is how many query rows share one pair of products, and how many key columns
// the backward pass treats together. A block of queries only needs the keys up to its last
// row, so smaller blocks skip more of the causally masked upper triangle (at 48 and T = 128,
// 66% of the full T×T work remains, against 50% at best), while larger blocks give each
// product more rows to amortise its calls over. 48 is a whole number of the micro-kernels'
// 6- and 12-row tiles; at B = 64, T = 128, C = 64 (BenchmarkAttention*) it ran 5% (forward)
// and 12% (backward) faster than 32 on the AVX-512 path, minima of three.
const attnBlock = 48

// headBufs holds each worker's transposed keys and values of one head (see headMatrix).
var headBufs bufPool

// A headMatrix is the K or V of one head, T×hd, or its gradient, as the products read or write
// it. On a path with micro-kernels, which read either orientation at full speed, it is in
// place, rows 3C apart in qkv. On the generic path it is transposed into an hd×T buffer, so
// that every inner loop of gonum's Gemm (an axpy or a dot) runs along keys, up to T long,
// rather than along the head dimension, which at 16 to 64 is too short to amortise a call: at
// hd = 16 this makes the products three times faster.
type headMatrix struct {
	data       []float32
	ld         int
	transposed bool
}

// headMatrixOf returns the head matrix whose first L rows are at x, rows ld apart: x itself,
// or its transpose in buf.
func headMatrixOf(x []float32, ld, L, hd, T int, buf []float32) headMatrix {
	if len(active.gemmTiles) > 0 {
		return headMatrix{x, ld, false}
	}
	transpose(buf, T, x, ld, L, hd)
	return headMatrix{buf, T, true}
}

// headGradient returns where the gradient of a head matrix is made: at x (rows ld apart), or
// in buf, to be transposed to x by finish.
func headGradient(x []float32, ld, T int, buf []float32) headMatrix {
	if len(active.gemmTiles) > 0 {
		return headMatrix{x, ld, false}
	}
	return headMatrix{buf, T, true}
}

// transB returns the transB with which gemm reads op(B) = M, or Mᵀ when ofTranspose is set.
func (m headMatrix) transB(ofTranspose bool) bool { return ofTranspose != m.transposed }

// setRows writes rows [j0, j0+nb) of a gradient head matrix: alpha·Yᵀ·X, for Y kk×nb (rows
// ldy apart) and X kk×hd (rows ldx apart).
func (m headMatrix) setRows(j0, nb, kk, hd int, alpha float32, y []float32, ldy int, x []float32, ldx int) {
	if m.transposed {
		gemm(false, true, false, hd, nb, kk, alpha, x, ldx, y, ldy, 0, m.data[j0:], m.ld)
		return
	}
	gemm(false, true, false, nb, hd, kk, alpha, y, ldy, x, ldx, 0, m.data[j0*m.ld:], m.ld)
}

// finish puts a gradient made by setRows, rows [0, L) of T, into x (rows ld apart), and zeroes
// x's rows from L on.
func (m headMatrix) finish(x []float32, ld, L, hd, T int) {
	if m.transposed {
		transpose(x, ld, m.data, m.ld, hd, L)
	}
	for j := L; j < T; j++ {
		clear(x[j*ld : j*ld+hd])
	}
}

// AttentionForward: causal multi-head self-attention. qkv is (B,T,3C) holding q|k|v per position (head h uses columns h*hd:(h+1)*hd of each third, hd = C/NH); out is (B,T,C); att (B,NH,T,T) receives the softmax probabilities, saved for backward. Scale 1/sqrt(hd). Key j is visible to query i iff j <= i and j < lens[b] (lens nil: all T). A query row with no visible key (only possible when lens[b]==0) outputs zeros.
//
// Every element of att is written: probabilities of keys that are not visible are exactly 0.
// Query rows at or past lens[b] still attend to the visible keys; the caller masks their
// loss. The (b, h) pairs run concurrently.
func AttentionForward(out, att, qkv []float32, lens []int32, B, T, C, NH int) {
	hd := shape.AttentionForward(out, att, qkv, lens, B, T, C, NH)
	mustSeqLens("AttentionForward", lens, B, T)
	scale := float32(1 / math.Sqrt(float64(hd)))
	C3 := 3 * C
	parallelFor(B*NH, T*T*hd, func(lo, hi int) {
		buf := headBufs.get(2 * hd * T)
		defer headBufs.put(buf)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/NH, bh%NH
			L := seqLen(lens, b, T)
			q := qkv[b*T*C3+h*hd:]
			k := headMatrixOf(q[C:], C3, L, hd, T, (*buf)[:hd*T])
			v := headMatrixOf(q[2*C:], C3, L, hd, T, (*buf)[hd*T:])
			o := out[b*T*C+h*hd:]
			p := att[bh*T*T : (bh+1)*T*T]
			for i0 := 0; i0 < T; i0 += attnBlock {
				i1 := min(i0+attnBlock, T)
				nk := min(i1, L) // keys that some query of the block sees
				gemm(false, false, k.transB(true), i1-i0, nk, hd, scale, q[i0*C3:], C3, k.data, k.ld, 0, p[i0*T:], T)
				for i := i0; i < i1; i++ {
					softmaxRow(p[i*T:(i+1)*T], min(i+1, L))
				}
				gemm(false, false, v.transB(false), i1-i0, hd, nk, 1, p[i0*T:], T, v.data, v.ld, 0, o[i0*C:], C)
			}
		}
	})
}

// AttentionBackward writes dqkv (B,T,3C) from dout (B,T,C), using qkv and att from the forward pass; scratch must hold at least B*NH*T*T floats (or be nil to allocate).
//
// With P = att and S the scaled scores, the pass computes dV = Pᵀ·dO, dP = dO·Vᵀ,
// dS = P∘(dP − rowsum(P∘dP)), dQ = dS·K·scale and dK = dSᵀ·Q·scale, leaving dS in scratch.
// Rows of dK and dV for keys at or past lens[b] are zero.
func AttentionBackward(dqkv, scratch, dout, qkv, att []float32, lens []int32, B, T, C, NH int) {
	hd := shape.AttentionBackward(dqkv, scratch, dout, qkv, att, lens, B, T, C, NH)
	mustSeqLens("AttentionBackward", lens, B, T)
	if scratch == nil {
		scratch = make([]float32, B*NH*T*T)
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	C3 := 3 * C
	parallelFor(B*NH, 2*T*T*hd, func(lo, hi int) {
		buf := headBufs.get(4 * hd * T)
		defer headBufs.put(buf)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/NH, bh%NH
			L := seqLen(lens, b, T)
			q := qkv[b*T*C3+h*hd:]
			k := headMatrixOf(q[C:], C3, L, hd, T, (*buf)[:hd*T])
			v := headMatrixOf(q[2*C:], C3, L, hd, T, (*buf)[hd*T:2*hd*T])
			dq := dqkv[b*T*C3+h*hd:]
			dk := headGradient(dq[C:], C3, T, (*buf)[2*hd*T:3*hd*T])
			dv := headGradient(dq[2*C:], C3, T, (*buf)[3*hd*T:])
			do := dout[b*T*C+h*hd:]
			p := att[bh*T*T : (bh+1)*T*T]
			ds := scratch[bh*T*T : (bh+1)*T*T]
			for i0 := 0; i0 < T; i0 += attnBlock {
				i1 := min(i0+attnBlock, T)
				nk := min(i1, L)
				gemm(false, false, v.transB(true), i1-i0, nk, hd, 1, do[i0*C:], C, v.data, v.ld, 0, ds[i0*T:], T)
				for i := i0; i < i1; i++ {
					softmaxBackwardRow(ds[i*T:i*T+nk], p[i*T:i*T+nk])
				}
				gemm(false, false, k.transB(false), i1-i0, hd, nk, scale, ds[i0*T:], T, k.data, k.ld, 0, dq[i0*C3:], C3)
			}
			// dV = Pᵀ·dO and dK = dSᵀ·Q, a block of keys [j0, j1) at a time: only queries from
			// j0 on see those keys. The columns of P and dS hold zeros wherever the mask hides
			// a key, so the products need no masking.
			for j0 := 0; j0 < L; j0 += attnBlock {
				j1 := min(j0+attnBlock, L)
				dv.setRows(j0, j1-j0, T-j0, hd, 1, p[j0*T+j0:], T, do[j0*C:], C)
				dk.setRows(j0, j1-j0, T-j0, hd, scale, ds[j0*T+j0:], T, q[j0*C3:], C3)
			}
			dk.finish(dq[C:], C3, L, hd, T)
			dv.finish(dq[2*C:], C3, L, hd, T)
		}
	})
}

// softmaxRow turns the first n scores of row into probabilities and zeroes the rest.
func softmaxRow(row []float32, n int) {
	s := row[:n]
	clear(row[n:])
	if n == 0 {
		return
	}
	mx := maxOf(s)
	v := vectorPart(n)
	sum := vecExpShift(s, s[:v], mx)
	for j := v; j < n; j++ {
		e := exp32(s[j] - mx)
		s[j] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	vecScale(s[:v], inv)
	for j := v; j < n; j++ {
		s[j] *= inv
	}
}

// softmaxBackwardRow turns dp, the gradient with respect to the probabilities p of one row,
// into the gradient with respect to the scores, in place.
func softmaxBackwardRow(dp, p []float32) {
	dp = dp[:len(p)]
	v := vectorPart(len(p))
	dot := vecDot(p[:v], dp)
	for j := v; j < len(p); j++ {
		dot += float64(p[j]) * float64(dp[j])
	}
	d := float32(dot)
	vecSoftmaxGradRow(dp, p[:v], d)
	for j := v; j < len(p); j++ {
		dp[j] = p[j] * (dp[j] - d)
	}
}

// maxOf returns the largest element of the non-empty s. A NaN in s leaves the result
// unspecified (the vector paths' maxima skip it), as every softmax of the row is NaN then.
func maxOf(s []float32) float32 {
	mx, rest := s[0], s[1:]
	if v := vectorPart(len(s)); v > 0 {
		mx, rest = vecMax(s[:v]), s[v:]
	}
	for _, x := range rest {
		if x > mx {
			mx = x
		}
	}
	return mx
}

// seqLen returns the number of valid positions of sequence b.
func seqLen(lens []int32, b, T int) int {
	if lens == nil {
		return T
	}
	return int(lens[b])
}

// mustSeqLens panics unless every sequence length of lens (nil: all T) lies in [0, T].
func mustSeqLens(kernel string, lens []int32, B, T int) {
	if lens != nil {
		mustIndices(kernel, "lens", lens[:B], T+1)
	}
}
