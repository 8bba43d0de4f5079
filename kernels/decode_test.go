package kernels

import (
	"fmt"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// TestAttentionStep holds the sampler's one-query attention to its reference and to the
// last valid row of AttentionForward over the same keys and values.
func TestAttentionStep(t *testing.T) {
	rng := newRand(t)
	const B, T, C, NH, capacity = 3, 9, 12, 3, 11
	lens := []int32{0, 4, 9}
	qkv := randn(rng, B*T*3*C, 1)
	full, att := make([]float32, B*T*C), make([]float32, B*NH*T*T)
	AttentionForward(full, att, qkv, lens, B, T, C, NH)

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
	AttentionStep(out, last, kc, vc, lens, B, capacity, C, NH)

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

// TestAppendKV holds the cache writes to their reference, for row widths that are not
// multiples of anything, and checks that rows not written keep their values.
func TestAppendKV(t *testing.T) {
	rng := newRand(t)
	for _, c := range []struct{ rows, cacheRows, C, n int }{{1, 1, 1, 1}, {7, 13, 5, 6}, {40, 97, 24, 33}} {
		t.Run(fmt.Sprintf("%dx%d→%d", c.rows, c.C, c.cacheRows), func(t *testing.T) {
			qkv := randn(rng, c.rows*3*c.C, 1)
			src := randIndices(rng, c.n, c.rows)
			dst := rng.Perm(c.cacheRows)[:c.n]
			dst32 := make([]int32, c.n)
			for i, d := range dst {
				dst32[i] = int32(d)
			}
			kc, vc := randn(rng, c.cacheRows*c.C, 1), randn(rng, c.cacheRows*c.C, 1)
			wantK, wantV := to64(kc), to64(vc)
			AppendKV(kc, vc, qkv, src, dst32, c.C)
			ref.AppendKV(wantK, wantV, to64(qkv), src, dst32, c.C)
			checkClose(t, "keys", kc, wantK, 0)
			checkClose(t, "values", vc, wantV, 0)
		})
	}
}
