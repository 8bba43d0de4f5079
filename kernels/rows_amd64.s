#include "textflag.h"

// The row and column loops of LayerNorm, the bias gradient and the softmaxes (see rowKernels in
// cpu.go), for AVX2 (8 floats a vector) and AVX-512 (16). Each takes n, a multiple of the
// vector width; the Go caller does the rest of a row with scalar code. Sums within a row
// accumulate in float32 across the vector's lanes; column sums over many rows accumulate in
// float64, as the scalar kernels do.

// HSUM256 and HSUM512 add the lanes of Y0 or Z0 into the low lane of X0; HMAX256 and HMAX512
// take their maximum. They use X1 or Y1.
#define HSUM256 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0

#define HSUM512 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0; \
	HSUM256

#define HMAX256 \
	VEXTRACTF128 $1, Y0, X1; \
	VMAXPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VMAXPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VMAXSS       X1, X0, X0

#define HMAX512 \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VMAXPS        Y1, Y0, Y0; \
	HMAX256

// func sumAVX2(x *float32, n int) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	SHRQ   $3, CX
	JEQ    sum2done

sum2loop:
	VADDPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   CX
	JNZ    sum2loop

sum2done:
	HSUM256
	MOVSS  X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumAVX512(x *float32, n int) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0
	SHRQ   $4, CX
	JEQ    sum5done

sum5loop:
	VADDPS (SI), Z0, Z0
	ADDQ   $64, SI
	DECQ   CX
	JNZ    sum5loop

sum5done:
	HSUM512
	MOVSS  X0, ret+16(FP)
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) float32
//
// n must be at least 8. NaN lanes are not propagated, as maxOf's comparisons do not propagate
// them either.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	ADDQ    $32, SI
	SHRQ    $3, CX
	DECQ    CX
	JEQ     max2done

max2loop:
	VMAXPS (SI), Y0, Y0
	ADDQ   $32, SI
	DECQ   CX
	JNZ    max2loop

max2done:
	HMAX256
	MOVSS  X0, ret+16(FP)
	VZEROUPPER
	RET

// func maxAVX512(x *float32, n int) float32
TEXT ·maxAVX512(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Z0
	ADDQ    $64, SI
	SHRQ    $4, CX
	DECQ    CX
	JEQ     max5done

max5loop:
	VMAXPS (SI), Z0, Z0
	ADDQ   $64, SI
	DECQ   CX
	JNZ    max5loop

max5done:
	HMAX512
	MOVSS  X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumSquaredDeviationsAVX2(x *float32, n int, mean float32) float32
//
// Σ (x[i] − mean)².
TEXT ·sumSquaredDeviationsAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mean+16(FP), Y2
	VXORPS       Y0, Y0, Y0
	SHRQ         $3, CX
	JEQ          ssd2done

ssd2loop:
	VMOVUPS     (SI), Y3
	VSUBPS      Y2, Y3, Y3
	VFMADD231PS Y3, Y3, Y0
	ADDQ        $32, SI
	DECQ        CX
	JNZ         ssd2loop

ssd2done:
	HSUM256
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumSquaredDeviationsAVX512(x *float32, n int, mean float32) float32
TEXT ·sumSquaredDeviationsAVX512(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mean+16(FP), Z2
	VPXORD       Z0, Z0, Z0
	SHRQ         $4, CX
	JEQ          ssd5done

ssd5loop:
	VMOVUPS     (SI), Z3
	VSUBPS      Z2, Z3, Z3
	VFMADD231PS Z3, Z3, Z0
	ADDQ        $64, SI
	DECQ        CX
	JNZ         ssd5loop

ssd5done:
	HSUM512
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func normalizeAVX2(out, x, weight, bias *float32, n int, mean, rstd float32)
//
// out[i] = (x[i] − mean)·rstd·weight[i] + bias[i]. out may be x.
TEXT ·normalizeAVX2(SB), NOSPLIT, $0-48
	MOVQ         out+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         weight+16(FP), R8
	MOVQ         bias+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y2
	VBROADCASTSS rstd+44(FP), Y3
	SHRQ         $3, CX
	JEQ          nrm2done

nrm2loop:
	VMOVUPS     (SI), Y0
	VSUBPS      Y2, Y0, Y0
	VMULPS      Y3, Y0, Y0
	VMOVUPS     (R9), Y1
	VFMADD231PS (R8), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, R8
	ADDQ        $32, R9
	DECQ        CX
	JNZ         nrm2loop

nrm2done:
	VZEROUPPER
	RET

// func normalizeAVX512(out, x, weight, bias *float32, n int, mean, rstd float32)
TEXT ·normalizeAVX512(SB), NOSPLIT, $0-48
	MOVQ         out+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         weight+16(FP), R8
	MOVQ         bias+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Z2
	VBROADCASTSS rstd+44(FP), Z3
	SHRQ         $4, CX
	JEQ          nrm5done

nrm5loop:
	VMOVUPS     (SI), Z0
	VSUBPS      Z2, Z0, Z0
	VMULPS      Z3, Z0, Z0
	VMOVUPS     (R9), Z1
	VFMADD231PS (R8), Z0, Z1
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	ADDQ        $64, R9
	DECQ        CX
	JNZ         nrm5loop

nrm5done:
	VZEROUPPER
	RET

// func layerNormGradSumsAVX2(x, dout, weight *float32, n int, mean, rstd float32) (sg, sgx float32)
//
// sg = Σ g[i] and sgx = Σ g[i]·x̂[i], with g = weight∘dout and x̂ = (x − mean)·rstd.
TEXT ·layerNormGradSumsAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         dout+8(FP), DX
	MOVQ         weight+16(FP), R8
	MOVQ         n+24(FP), CX
	VBROADCASTSS mean+32(FP), Y2
	VBROADCASTSS rstd+36(FP), Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	SHRQ         $3, CX
	JEQ          lgs2done

lgs2loop:
	VMOVUPS     (DX), Y6
	VMULPS      (R8), Y6, Y6
	VADDPS      Y6, Y4, Y4
	VMOVUPS     (SI), Y7
	VSUBPS      Y2, Y7, Y7
	VMULPS      Y3, Y7, Y7
	VFMADD231PS Y7, Y6, Y5
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, R8
	DECQ        CX
	JNZ         lgs2loop

lgs2done:
	VMOVAPS Y4, Y0
	HSUM256
	MOVSS   X0, sg+40(FP)
	VMOVAPS Y5, Y0
	HSUM256
	MOVSS   X0, sgx+44(FP)
	VZEROUPPER
	RET

// func layerNormGradSumsAVX512(x, dout, weight *float32, n int, mean, rstd float32) (sg, sgx float32)
TEXT ·layerNormGradSumsAVX512(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         dout+8(FP), DX
	MOVQ         weight+16(FP), R8
	MOVQ         n+24(FP), CX
	VBROADCASTSS mean+32(FP), Z2
	VBROADCASTSS rstd+36(FP), Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	SHRQ         $4, CX
	JEQ          lgs5done

lgs5loop:
	VMOVUPS     (DX), Z6
	VMULPS      (R8), Z6, Z6
	VADDPS      Z6, Z4, Z4
	VMOVUPS     (SI), Z7
	VSUBPS      Z2, Z7, Z7
	VMULPS      Z3, Z7, Z7
	VFMADD231PS Z7, Z6, Z5
	ADDQ        $64, SI
	ADDQ        $64, DX
	ADDQ        $64, R8
	DECQ        CX
	JNZ         lgs5loop

lgs5done:
	VMOVAPS Z4, Z0
	HSUM512
	MOVSS   X0, sg+40(FP)
	VMOVAPS Z5, Z0
	HSUM512
	MOVSS   X0, sgx+44(FP)
	VZEROUPPER
	RET

// func layerNormGradRowAVX2(dx, x, dout, weight *float32, n int, mean, rstd, mg, mgx float32)
//
// dx[i] = rstd·(g[i] − mg − x̂[i]·mgx), with g = weight∘dout and x̂ = (x − mean)·rstd.
TEXT ·layerNormGradRowAVX2(SB), NOSPLIT, $0-56
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         dout+16(FP), DX
	MOVQ         weight+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y2
	VBROADCASTSS rstd+44(FP), Y3
	VBROADCASTSS mg+48(FP), Y4
	VBROADCASTSS mgx+52(FP), Y5
	SHRQ         $3, CX
	JEQ          lgr2done

lgr2loop:
	VMOVUPS      (DX), Y6
	VMULPS       (R8), Y6, Y6
	VSUBPS       Y4, Y6, Y6
	VMOVUPS      (SI), Y7
	VSUBPS       Y2, Y7, Y7
	VMULPS       Y3, Y7, Y7
	VFNMADD231PS Y5, Y7, Y6
	VMULPS       Y3, Y6, Y6
	VMOVUPS      Y6, (DI)
	ADDQ         $32, DI
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, R8
	DECQ         CX
	JNZ          lgr2loop

lgr2done:
	VZEROUPPER
	RET

// func layerNormGradRowAVX512(dx, x, dout, weight *float32, n int, mean, rstd, mg, mgx float32)
TEXT ·layerNormGradRowAVX512(SB), NOSPLIT, $0-56
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         dout+16(FP), DX
	MOVQ         weight+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Z2
	VBROADCASTSS rstd+44(FP), Z3
	VBROADCASTSS mg+48(FP), Z4
	VBROADCASTSS mgx+52(FP), Z5
	SHRQ         $4, CX
	JEQ          lgr5done

lgr5loop:
	VMOVUPS      (DX), Z6
	VMULPS       (R8), Z6, Z6
	VSUBPS       Z4, Z6, Z6
	VMOVUPS      (SI), Z7
	VSUBPS       Z2, Z7, Z7
	VMULPS       Z3, Z7, Z7
	VFNMADD231PS Z5, Z7, Z6
	VMULPS       Z3, Z6, Z6
	VMOVUPS      Z6, (DI)
	ADDQ         $64, DI
	ADDQ         $64, SI
	ADDQ         $64, DX
	ADDQ         $64, R8
	DECQ         CX
	JNZ          lgr5loop

lgr5done:
	VZEROUPPER
	RET

// func addFloat64AVX2(acc *float64, x *float32, n int)
//
// acc[i] += x[i], in float64.
TEXT ·addFloat64AVX2(SB), NOSPLIT, $0-24
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ  af2done

af2loop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VADDPD    (DI), Y0, Y0
	VADDPD    32(DI), Y1, Y1
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       af2loop

af2done:
	VZEROUPPER
	RET

// func addFloat64AVX512(acc *float64, x *float32, n int)
TEXT ·addFloat64AVX512(SB), NOSPLIT, $0-24
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ  af5done

af5loop:
	VCVTPS2PD (SI), Z0
	VCVTPS2PD 32(SI), Z1
	VADDPD    (DI), Z0, Z0
	VADDPD    64(DI), Z1, Z1
	VMOVUPD   Z0, (DI)
	VMOVUPD   Z1, 64(DI)
	ADDQ      $64, SI
	ADDQ      $128, DI
	DECQ      CX
	JNZ       af5loop

af5done:
	VZEROUPPER
	RET

// func layerNormGradColumnsAVX2(dw, db *float64, x, dout *float32, n int, mean, rstd float32)
//
// dw[i] += dout[i]·x̂[i] and db[i] += dout[i], in float64, with x̂ = (x − mean)·rstd.
TEXT ·layerNormGradColumnsAVX2(SB), NOSPLIT, $0-48
	MOVQ         dw+0(FP), DI
	MOVQ         db+8(FP), R9
	MOVQ         x+16(FP), SI
	MOVQ         dout+24(FP), DX
	MOVQ         n+32(FP), CX
	VBROADCASTSS mean+40(FP), Y2
	VBROADCASTSS rstd+44(FP), Y3
	SHRQ         $3, CX
	JEQ          lgc2done

lgc2loop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y2, Y0, Y0
	VMULPS       Y3, Y0, Y0
	VMULPS       (DX), Y0, Y0
	VCVTPS2PD    X0, Y4
	VEXTRACTF128 $1, Y0, X0
	VCVTPS2PD    X0, Y5
	VADDPD       (DI), Y4, Y4
	VADDPD       32(DI), Y5, Y5
	VMOVUPD      Y4, (DI)
	VMOVUPD      Y5, 32(DI)
	VCVTPS2PD    (DX), Y4
	VCVTPS2PD    16(DX), Y5
	VADDPD       (R9), Y4, Y4
	VADDPD       32(R9), Y5, Y5
	VMOVUPD      Y4, (R9)
	VMOVUPD      Y5, 32(R9)
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $64, DI
	ADDQ         $64, R9
	DECQ         CX
	JNZ          lgc2loop

lgc2done:
	VZEROUPPER
	RET

// func layerNormGradColumnsAVX512(dw, db *float64, x, dout *float32, n int, mean, rstd float32)
TEXT ·layerNormGradColumnsAVX512(SB), NOSPLIT, $0-48
	MOVQ          dw+0(FP), DI
	MOVQ          db+8(FP), R9
	MOVQ          x+16(FP), SI
	MOVQ          dout+24(FP), DX
	MOVQ          n+32(FP), CX
	VBROADCASTSS  mean+40(FP), Z2
	VBROADCASTSS  rstd+44(FP), Z3
	SHRQ          $4, CX
	JEQ           lgc5done

lgc5loop:
	VMOVUPS       (SI), Z0
	VSUBPS        Z2, Z0, Z0
	VMULPS        Z3, Z0, Z0
	VMULPS        (DX), Z0, Z0
	VCVTPS2PD     Y0, Z4
	VEXTRACTF64X4 $1, Z0, Y0
	VCVTPS2PD     Y0, Z5
	VADDPD        (DI), Z4, Z4
	VADDPD        64(DI), Z5, Z5
	VMOVUPD       Z4, (DI)
	VMOVUPD       Z5, 64(DI)
	VCVTPS2PD     (DX), Z4
	VCVTPS2PD     32(DX), Z5
	VADDPD        (R9), Z4, Z4
	VADDPD        64(R9), Z5, Z5
	VMOVUPD       Z4, (R9)
	VMOVUPD       Z5, 64(R9)
	ADDQ          $64, SI
	ADDQ          $64, DX
	ADDQ          $128, DI
	ADDQ          $128, R9
	DECQ          CX
	JNZ           lgc5loop

lgc5done:
	VZEROUPPER
	RET

// func dotAVX2(x, y *float32, n int) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DX
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	SHRQ   $3, CX
	JEQ    dot2done

dot2loop:
	VMOVUPS     (SI), Y2
	VFMADD231PS (DX), Y2, Y0
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         dot2loop

dot2done:
	HSUM256
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func dotAVX512(x, y *float32, n int) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DX
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	SHRQ   $4, CX
	JEQ    dot5done

dot5loop:
	VMOVUPS     (SI), Z2
	VFMADD231PS (DX), Z2, Z0
	ADDQ        $64, SI
	ADDQ        $64, DX
	DECQ        CX
	JNZ         dot5loop

dot5done:
	HSUM512
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func softmaxGradRowAVX2(dp, p *float32, n int, dot float32)
//
// dp[i] = p[i]·(dp[i] − dot).
TEXT ·softmaxGradRowAVX2(SB), NOSPLIT, $0-28
	MOVQ         dp+0(FP), DI
	MOVQ         p+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS dot+24(FP), Y2
	SHRQ         $3, CX
	JEQ          sgr2done

sgr2loop:
	VMOVUPS (DI), Y0
	VSUBPS  Y2, Y0, Y0
	VMULPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sgr2loop

sgr2done:
	VZEROUPPER
	RET

// func softmaxGradRowAVX512(dp, p *float32, n int, dot float32)
TEXT ·softmaxGradRowAVX512(SB), NOSPLIT, $0-28
	MOVQ         dp+0(FP), DI
	MOVQ         p+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS dot+24(FP), Z2
	SHRQ         $4, CX
	JEQ          sgr5done

sgr5loop:
	VMOVUPS (DI), Z0
	VSUBPS  Z2, Z0, Z0
	VMULPS  (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     sgr5loop

sgr5done:
	VZEROUPPER
	RET

// func addAVX2(out, a, b *float32, n int)
//
// out[i] = a[i] + b[i]; out may be a or b.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ  add2done

add2loop:
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	DECQ    CX
	JNZ     add2loop

add2done:
	VZEROUPPER
	RET

// func addAVX512(out, a, b *float32, n int)
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JEQ  add5done

add5loop:
	VMOVUPS (SI), Z0
	VADDPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNZ     add5loop

add5done:
	VZEROUPPER
	RET

// func axpyAVX2(dst, x *float32, n int, alpha float32)
//
// dst[i] += alpha·x[i].
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Y1
	SHRQ         $3, CX
	JEQ          axpy2done

axpy2loop:
	VMOVUPS     (DI), Y0
	VFMADD231PS (SI), Y1, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         axpy2loop

axpy2done:
	VZEROUPPER
	RET

// func axpyAVX512(dst, x *float32, n int, alpha float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS alpha+24(FP), Z1
	SHRQ         $4, CX
	JEQ          axpy5done

axpy5loop:
	VMOVUPS     (DI), Z0
	VFMADD231PS (SI), Z1, Z0
	VMOVUPS     Z0, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNZ         axpy5loop

axpy5done:
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
//
// x[i] *= s.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1
	SHRQ         $3, CX
	JEQ          scl2done

scl2loop:
	VMULPS  (DI), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNZ     scl2loop

scl2done:
	VZEROUPPER
	RET

// func scaleAVX512(x *float32, n int, s float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Z1
	SHRQ         $4, CX
	JEQ          scl5done

scl5loop:
	VMULPS  (DI), Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	DECQ    CX
	JNZ     scl5loop

scl5done:
	VZEROUPPER
	RET

// func rowDotsAVX2(scores, q, k *float32, n, hd, ldk int, scale float32)
//
// scores[j] = scale·Σ_d q[d]·k[j·ldk+d] for j < n: the decode step's scores of n keys (rows
// ldk apart) against one query, hd a multiple of 8.
TEXT ·rowDotsAVX2(SB), NOSPLIT, $0-52
	MOVQ   scores+0(FP), DI
	MOVQ   q+8(FP), SI
	MOVQ   k+16(FP), DX
	MOVQ   n+24(FP), CX
	MOVQ   hd+32(FP), R8
	MOVQ   ldk+40(FP), R9
	MOVSS  scale+48(FP), X2
	SHLQ   $2, R9
	SHRQ   $3, R8
	TESTQ  CX, CX
	JEQ    rd2done

rd2key:
	VXORPS Y0, Y0, Y0
	MOVQ   SI, R10
	MOVQ   DX, R11
	MOVQ   R8, R12

rd2dim:
	VMOVUPS     (R10), Y3
	VFMADD231PS (R11), Y3, Y0
	ADDQ        $32, R10
	ADDQ        $32, R11
	DECQ        R12
	JNZ         rd2dim
	HSUM256
	VMULSS      X2, X0, X0
	MOVSS       X0, (DI)
	ADDQ        $4, DI
	ADDQ        R9, DX
	DECQ        CX
	JNZ         rd2key

rd2done:
	VZEROUPPER
	RET

// func rowDotsAVX512(scores, q, k *float32, n, hd, ldk int, scale float32)
//
// As rowDotsAVX2, hd a multiple of 16.
TEXT ·rowDotsAVX512(SB), NOSPLIT, $0-52
	MOVQ   scores+0(FP), DI
	MOVQ   q+8(FP), SI
	MOVQ   k+16(FP), DX
	MOVQ   n+24(FP), CX
	MOVQ   hd+32(FP), R8
	MOVQ   ldk+40(FP), R9
	MOVSS  scale+48(FP), X2
	SHLQ   $2, R9
	SHRQ   $4, R8
	TESTQ  CX, CX
	JEQ    rd5done

rd5key:
	VPXORD Z0, Z0, Z0
	MOVQ   SI, R10
	MOVQ   DX, R11
	MOVQ   R8, R12

rd5dim:
	VMOVUPS     (R10), Z3
	VFMADD231PS (R11), Z3, Z0
	ADDQ        $64, R10
	ADDQ        $64, R11
	DECQ        R12
	JNZ         rd5dim
	HSUM512
	VMULSS      X2, X0, X0
	MOVSS       X0, (DI)
	ADDQ        $4, DI
	ADDQ        R9, DX
	DECQ        CX
	JNZ         rd5key

rd5done:
	VZEROUPPER
	RET

// func weightedRowsAVX2(out, p, v *float32, n, hd, ldv int)
//
// out[d] += Σ_j p[j]·v[j·ldv+d] for d < hd: the decode step's weighted sum of n values (rows
// ldv apart), hd a multiple of 8.
TEXT ·weightedRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ  out+0(FP), DI
	MOVQ  p+8(FP), SI
	MOVQ  v+16(FP), DX
	MOVQ  n+24(FP), CX
	MOVQ  hd+32(FP), R8
	MOVQ  ldv+40(FP), R9
	SHLQ  $2, R9
	SHRQ  $3, R8
	TESTQ CX, CX
	JEQ   wr2done

wr2key:
	VBROADCASTSS (SI), Y1
	MOVQ         DI, R10
	MOVQ         DX, R11
	MOVQ         R8, R12

wr2dim:
	VMOVUPS     (R10), Y0
	VFMADD231PS (R11), Y1, Y0
	VMOVUPS     Y0, (R10)
	ADDQ        $32, R10
	ADDQ        $32, R11
	DECQ        R12
	JNZ         wr2dim
	ADDQ        $4, SI
	ADDQ        R9, DX
	DECQ        CX
	JNZ         wr2key

wr2done:
	VZEROUPPER
	RET

// func weightedRowsAVX512(out, p, v *float32, n, hd, ldv int)
//
// As weightedRowsAVX2, hd a multiple of 16.
TEXT ·weightedRowsAVX512(SB), NOSPLIT, $0-48
	MOVQ  out+0(FP), DI
	MOVQ  p+8(FP), SI
	MOVQ  v+16(FP), DX
	MOVQ  n+24(FP), CX
	MOVQ  hd+32(FP), R8
	MOVQ  ldv+40(FP), R9
	SHLQ  $2, R9
	SHRQ  $4, R8
	TESTQ CX, CX
	JEQ   wr5done

wr5key:
	VBROADCASTSS (SI), Z1
	MOVQ         DI, R10
	MOVQ         DX, R11
	MOVQ         R8, R12

wr5dim:
	VMOVUPS     (R10), Z0
	VFMADD231PS (R11), Z1, Z0
	VMOVUPS     Z0, (R10)
	ADDQ        $64, R10
	ADDQ        $64, R11
	DECQ        R12
	JNZ         wr5dim
	ADDQ        $4, SI
	ADDQ        R9, DX
	DECQ        CX
	JNZ         wr5key

wr5done:
	VZEROUPPER
	RET
