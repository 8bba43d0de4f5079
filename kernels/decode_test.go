package kernels

import (
	"fmt"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// TestAttentionStep holds the sampler's one-query attention to its reference and to the
// last valid row of AttentionForward over the same keys and values.
func TestAttentionStep(t *testing.T) { forEachSet(t, testAttentionStep) }

func testAttentionStep(t *testing.T, k kernelSet) {
	// Heads of 4 and 38 run on the scalar loops; heads of 16 (the small model's) and 48 on
	// the vector loops, every key at once.
	for _, shape := range []struct{ C, NH int }{{12, 3}, {76, 2}, {64, 4}, {96, 2}} {
		t.Run(fmt.Sprintf("C=%d,NH=%d", shape.C, shape.NH), func(t *testing.T) { testAttentionStepAt(t, k, shape.C, shape.NH) })
	}
}

func testAttentionStepAt(t *testing.T, k kernelSet, C, NH int) {
	rng := newRand(t)
	const B, T, capacity = 3, 9, 11
	lens := []int32{0, 4, 9}
	qkv := randn(rng, B*T*3*C, 1)
	full, att := make([]float32, B*T*C), make([]float32, B*NH*T*T)
	k.AttentionForward(full, att, qkv, lens, B, T, C, NH)

	// The caches hold each sequence's keys and values; rows past its length hold noise.
	kc, vc := randn(rng, B*capacity*C, 10), randn(rng, B*capacity*C, 10)
	last := make([]float32, B*3*C)
	for b, L := range lens {
		for j := range int(L) {
			row := qkv[(b*T+j)*3*C:]
			copy(kc[(b*capacity+j)*C:][:C], row[C:2*C])
			copy(vc[(b*capacity+j)*C:][:C], row[2*C:3*C])
		}
		if L > 0 {
			copy(last[b*3*C:][:3*C], qkv[(b*T+int(L)-1)*3*C:])
		}
	}
	out := poisoned(B * C)
	k.AttentionStep(out, last, kc, vc, lens, B, capacity, C, NH)

	want := make([]float64, B*C)
	ref.AttentionStep(want, to64(last), to64(kc), to64(vc), lens, B, capacity, C, NH)
	checkClose(t, "reference", out, want, 1e-5)
	for b, L := range lens {
		wantRow := make([]float64, C)
		if L > 0 {
			wantRow = to64(full[(b*T+int(L)-1)*C:][:C])
		}
		checkClose(t, fmt.Sprintf("AttentionForward, sequence %d", b), out[b*C:][:C], wantRow, 1e-5)
	}
}

// TestCopyRows holds the row copies to their reference, for strides and widths that are not
// multiples of anything and a source that starts mid-row (as the keys of packed q|k|v do), and
// checks that rows not written keep their values.
func TestCopyRows(t *testing.T) { forEachSet(t, testCopyRows) }

func testCopyRows(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, c := range []struct{ srcRows, dstRows, C, srcStride, dstStride, offset, n int }{
		{1, 1, 1, 1, 1, 0, 1},
		{7, 13, 5, 15, 5, 5, 6},      // keys of q|k|v rows with C = 5
		{40, 97, 24, 72, 31, 48, 33}, // values, into rows wider than C
	} {
		t.Run(fmt.Sprintf("%d→%d rows of %d", c.srcRows, c.dstRows, c.C), func(t *testing.T) {
			src := randn(rng, c.srcRows*c.srcStride, 1)[c.offset:]
			from := randIndices(rng, c.n, c.srcRows)
			to := make([]int32, c.n)
			for i, d := range rng.Perm(c.dstRows)[:c.n] {
				to[i] = int32(d)
			}
			dst := randn(rng, c.dstRows*c.dstStride, 1)
			want := to64(dst)
			k.CopyRows(dst, c.dstStride, src, c.srcStride, to, from, c.C)
			ref.CopyRows(want, c.dstStride, to64(src), c.srcStride, to, from, c.C)
			checkClose(t, "rows", dst, want, 0)
		})
	}
}
