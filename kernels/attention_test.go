package kernels

import (
	"fmt"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

type attentionCase struct {
	B, T, C, NH int
	lens        []int32
}

func (c attentionCase) String() string {
	return fmt.Sprintf("B=%d,T=%d,C=%d,NH=%d,lens=%v", c.B, c.T, c.C, c.NH, c.lens)
}

var attentionCases = []attentionCase{
	{1, 1, 4, 1, nil},
	{1, 1, 4, 2, []int32{0}},
	{3, 7, 12, 3, []int32{0, 3, 7}},
	{2, 5, 6, 2, nil},
	{2, 40, 16, 2, []int32{40, 33}}, // more than one block of queries
	{2, 70, 32, 4, []int32{65, 1}},
	{1, 96, 48, 3, []int32{64}}, // a length on a block boundary
}

func TestAttention(t *testing.T) { forEachSet(t, testAttention) }

func testAttention(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, c := range attentionCases {
		B, T, C, NH := c.B, c.T, c.C, c.NH
		qkv := randn(rng, B*T*3*C, 1)
		dout := randn(rng, B*T*C, 1)
		out, att := poisoned(B*T*C), poisoned(B*NH*T*T)
		k.AttentionForward(out, att, qkv, c.lens, B, T, C, NH)
		wantOut, wantAtt := make([]float64, B*T*C), make([]float64, B*NH*T*T)
		ref.AttentionForward(wantOut, wantAtt, to64(qkv), c.lens, B, T, C, NH)
		checkClose(t, c.String()+"/out", out, wantOut, 1e-5)
		checkClose(t, c.String()+"/att", att, wantAtt, 1e-5)

		wantD := make([]float64, B*T*3*C)
		ref.AttentionBackward(wantD, to64(dout), to64(qkv), wantAtt, c.lens, B, T, C, NH)
		for _, scratch := range [][]float32{nil, poisoned(B * NH * T * T)} {
			dqkv := poisoned(B * T * 3 * C)
			k.AttentionBackward(dqkv, scratch, dout, qkv, att, c.lens, B, T, C, NH)
			checkClose(t, fmt.Sprintf("%v/dqkv/scratch=%v", c, scratch != nil), dqkv, wantD, 1e-4)
		}
	}
}

func TestAttentionGrad(t *testing.T) { forEachSet(t, testAttentionGrad) }

func testAttentionGrad(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, c := range []attentionCase{{3, 7, 12, 3, []int32{0, 3, 7}}, {1, 35, 8, 2, []int32{34}}} {
		B, T, C, NH := c.B, c.T, c.C, c.NH
		qkv := randn(rng, B*T*3*C, 1)
		dout := randn(rng, B*T*C, 1)
		out, att := make([]float32, B*T*C), make([]float32, B*NH*T*T)
		k.AttentionForward(out, att, qkv, c.lens, B, T, C, NH)
		dqkv := make([]float32, B*T*3*C)
		k.AttentionBackward(dqkv, nil, dout, qkv, att, c.lens, B, T, C, NH)
		x := to64(qkv)
		f := func() []float64 {
			y, p := make([]float64, B*T*C), make([]float64, B*NH*T*T)
			ref.AttentionForward(y, p, x, c.lens, B, T, C, NH)
			return y
		}
		checkGrad(t, c.String(), dqkv, x, f, to64(dout), 1e-4)
	}
}

// TestAttentionMask changes everything at padded positions and checks that nothing the
// valid positions produce changes, in either pass. The loss of padded queries is masked,
// so their dout is zero.
func TestAttentionMask(t *testing.T) { forEachSet(t, testAttentionMask) }

func testAttentionMask(t *testing.T, k kernelSet) {
	rng := newRand(t)
	const B, T, C, NH = 3, 37, 16, 2
	lens := []int32{0, 20, 33}
	run := func(qkv, dout []float32) (out, att, dqkv []float32) {
		out, att, dqkv = poisoned(B*T*C), poisoned(B*NH*T*T), poisoned(B*T*3*C)
		k.AttentionForward(out, att, qkv, lens, B, T, C, NH)
		k.AttentionBackward(dqkv, nil, dout, qkv, att, lens, B, T, C, NH)
		return out, att, dqkv
	}
	qkv := randn(rng, B*T*3*C, 1)
	dout := randn(rng, B*T*C, 1)
	for b, L := range lens {
		clear(dout[(b*T+int(L))*C : (b+1)*T*C])
	}
	out1, att1, d1 := run(qkv, dout)
	for b, L := range lens {
		copy(qkv[(b*T+int(L))*3*C:(b+1)*T*3*C], randn(rng, (T-int(L))*3*C, 10))
	}
	out2, att2, d2 := run(qkv, dout)

	for b, L := range lens {
		for i := range int(L) {
			sameRow(t, fmt.Sprintf("out[%d,%d]", b, i), out1[(b*T+i)*C:][:C], out2[(b*T+i)*C:][:C])
			sameRow(t, fmt.Sprintf("dqkv[%d,%d]", b, i), d1[(b*T+i)*3*C:][:3*C], d2[(b*T+i)*3*C:][:3*C])
			for h := range NH {
				sameRow(t, fmt.Sprintf("att[%d,%d,%d]", b, h, i), att1[((b*NH+h)*T+i)*T:][:T], att2[((b*NH+h)*T+i)*T:][:T])
			}
		}
		for j := int(L); j < T; j++ {
			// Keys nobody sees get no gradient.
			sameRow(t, fmt.Sprintf("dk,dv[%d,%d]", b, j), d2[(b*T+j)*3*C+C:][:2*C], make([]float32, 2*C))
		}
	}
}

func sameRow(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for j := range want {
		if got[j] != want[j] {
			t.Fatalf("%s[%d] = %g, want %g", name, j, got[j], want[j])
		}
	}
}

func TestAttentionPanics(t *testing.T) {
	qkv, att, out := make([]float32, 2*4*3*8), make([]float32, 2*2*4*4), make([]float32, 2*4*8)
	for _, tc := range []struct {
		want string
		f    func()
	}{
		{"C = 8 is not a multiple of NH = 3", func() { AttentionForward(out, att, qkv, nil, 2, 4, 8, 3) }},
		{"lens[1] = 5, outside [0, 5)", func() { AttentionForward(out, att, qkv, []int32{4, 5}, 2, 4, 8, 2) }},
		{"len(att) = 64, need 128", func() { AttentionForward(out, att, qkv, nil, 2, 4, 8, 4) }},
		{"len(scratch) = 3, need 64", func() { AttentionBackward(qkv, make([]float32, 3), out, qkv, att, nil, 2, 4, 8, 2) }},
	} {
		mustPanic(t, tc.want, tc.f)
	}
}
