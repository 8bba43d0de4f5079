#include "textflag.h"

// The elementwise kernels' vector loops (see cpu_amd64.go): GELU forward and backward, and
// the exponentials of a softmax row. Each takes n, a multiple of the vector width (8 for
// AVX2, 16 for AVX-512); the Go caller finishes the rest of a slice with the scalar code.
//
// e^x is computed as exp32 computes it (Cephes expf): x = n·ln2 + r with |r| ≤ ln2/2, e^r by a
// degree-6 polynomial, then scaled by 2^n. The constants are in ·vecConsts, one ymm vector
// (8 lanes) each, at these offsets:
#define C_LOG2E  0
#define C_MAGIC  32
#define C_LN2HI  64
#define C_LN2LO  96
#define C_P5     128
#define C_P4     160
#define C_P3     192
#define C_P2     224
#define C_P1     256
#define C_P0     288
#define C_ONE    320
#define C_MINARG 352
#define C_GELUK1 384
#define C_GELUK2 416
#define C_GELUCAP 448
#define C_GELUK3 480
#define C_GELUK4 512
#define C_EXPFLOOR 544

// EXP256 sets P = e^X for 8 lanes, using N, R and T (X is kept). 2^n is added to the
// exponent bits, as in exp32; lanes below C_MINARG are 0 and NaN lanes are X.
#define EXP256(X, N, R, P, T) \
	VMULPS       ·vecConsts+C_LOG2E(SB), X, T; \
	VADDPS       ·vecConsts+C_MAGIC(SB), T, T; \
	VSUBPS       ·vecConsts+C_MAGIC(SB), T, N; \
	VMOVAPS      X, R; \
	VFNMADD231PS ·vecConsts+C_LN2HI(SB), N, R; \
	VFNMADD231PS ·vecConsts+C_LN2LO(SB), N, R; \
	VMOVUPS      ·vecConsts+C_P5(SB), P; \
	VFMADD213PS  ·vecConsts+C_P4(SB), R, P; \
	VFMADD213PS  ·vecConsts+C_P3(SB), R, P; \
	VFMADD213PS  ·vecConsts+C_P2(SB), R, P; \
	VFMADD213PS  ·vecConsts+C_P1(SB), R, P; \
	VFMADD213PS  ·vecConsts+C_P0(SB), R, P; \
	VMULPS       R, R, N; \
	VFMADD213PS  R, N, P; \
	VADDPS       ·vecConsts+C_ONE(SB), P, P; \
	VPSUBD       ·vecConsts+C_MAGIC(SB), T, T; \
	VPSLLD       $23, T, T; \
	VPADDD       T, P, P; \
	VCMPPS       $0x11, ·vecConsts+C_MINARG(SB), X, T; \
	VANDNPS      P, T, P; \
	VCMPPS       $3, X, X, T; \
	VBLENDVPS    T, X, P, P

// GELU's argument of exp: ARG = min(X·(k1 + k2·X²), 80) = min(−2u, 80), using T.
#define GELUARG256(X, ARG) \
	VMULPS      X, X, ARG; \
	VMULPS      ·vecConsts+C_GELUK2(SB), ARG, ARG; \
	VADDPS      ·vecConsts+C_GELUK1(SB), ARG, ARG; \
	VMULPS      X, ARG, ARG; \
	VMINPS      ·vecConsts+C_GELUCAP(SB), ARG, ARG

// func geluForwardAVX2(out, x *float32, n int)
TEXT ·geluForwardAVX2(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JEQ  gfa2done

gfa2loop:
	VMOVUPS (SI), Y0
	GELUARG256(Y0, Y1)
	EXP256(Y1, Y2, Y3, Y4, Y5)
	VADDPS  ·vecConsts+C_ONE(SB), Y4, Y4
	VDIVPS  Y4, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     gfa2loop

gfa2done:
	VZEROUPPER
	RET

// func geluBackwardAVX2(dx, x, dout *float32, n int)
//
// dx = dout·s·(1 + 2·x·(e·s)·u') with e = e^(−2u), s = 1/(1 + e), as GeluBackward computes it.
TEXT ·geluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dout+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JEQ  gba2done

gba2loop:
	VMOVUPS     (SI), Y0
	GELUARG256(Y0, Y1)
	EXP256(Y1, Y2, Y3, Y4, Y5)
	VMOVUPS     ·vecConsts+C_ONE(SB), Y6
	VADDPS      Y6, Y4, Y5
	VDIVPS      Y5, Y6, Y5                 // s
	VMULPS      Y5, Y4, Y4                 // e·s
	VMULPS      Y0, Y0, Y7
	VMULPS      ·vecConsts+C_GELUK4(SB), Y7, Y7
	VADDPS      ·vecConsts+C_GELUK3(SB), Y7, Y7 // 2u'
	VMULPS      Y7, Y4, Y4
	VMULPS      Y0, Y4, Y4                 // 2·x·(e·s)·u'
	VFMADD213PS Y5, Y5, Y4                 // s + s·(…)
	VMULPS      (DX), Y4, Y4
	VMOVUPS     Y4, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         gba2loop

gba2done:
	VZEROUPPER
	RET

// func expShiftAVX2(dst, src *float32, n int, shift float32) float64
//
// Sets dst[i] = e^(src[i] − shift) and returns their sum, accumulated in float64. dst may be
// src.
TEXT ·expShiftAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y8
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	SHRQ         $3, CX
	JEQ          esa2sum

esa2loop:
	VMOVUPS      (SI), Y0
	VSUBPS       Y8, Y0, Y0
	EXP256(Y0, Y2, Y3, Y4, Y5)
	VMOVUPS      Y4, (DI)
	VCVTPS2PD    X4, Y6
	VADDPD       Y6, Y9, Y9
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD    X4, Y6
	VADDPD       Y6, Y10, Y10
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          esa2loop

esa2sum:
	VADDPD       Y10, Y9, Y9
	VEXTRACTF128 $1, Y9, X10
	VADDPD       X10, X9, X9
	VHADDPD      X9, X9, X9
	MOVSD        X9, ret+32(FP)
	VZEROUPPER
	RET

// The AVX-512 loops keep every constant in a register, Z16 to Z31, broadcast from the first
// lane of each.
#define LOADCONSTS512 \
	VBROADCASTSS ·vecConsts+C_LOG2E(SB), Z16; \
	VBROADCASTSS ·vecConsts+C_LN2HI(SB), Z17; \
	VBROADCASTSS ·vecConsts+C_LN2LO(SB), Z18; \
	VBROADCASTSS ·vecConsts+C_P5(SB), Z19; \
	VBROADCASTSS ·vecConsts+C_P4(SB), Z20; \
	VBROADCASTSS ·vecConsts+C_P3(SB), Z21; \
	VBROADCASTSS ·vecConsts+C_P2(SB), Z22; \
	VBROADCASTSS ·vecConsts+C_P1(SB), Z23; \
	VBROADCASTSS ·vecConsts+C_P0(SB), Z24; \
	VBROADCASTSS ·vecConsts+C_ONE(SB), Z25; \
	VBROADCASTSS ·vecConsts+C_GELUK1(SB), Z26; \
	VBROADCASTSS ·vecConsts+C_GELUK2(SB), Z27; \
	VBROADCASTSS ·vecConsts+C_GELUCAP(SB), Z28; \
	VBROADCASTSS ·vecConsts+C_GELUK3(SB), Z29; \
	VBROADCASTSS ·vecConsts+C_GELUK4(SB), Z30; \
	VBROADCASTSS ·vecConsts+C_EXPFLOOR(SB), Z31

// EXP512 sets P = e^X for 16 lanes, using N, R and T (X is clamped below at C_EXPFLOOR, where
// e^x is 0 in float32, so that the reduction stays exact). VSCALEFPS applies 2^n, so that
// lanes below the range underflow to 0 (through subnormals) and NaN stays NaN.
#define EXP512(X, N, R, P, T) \
	VMAXPS       X, Z31, X; \
	VMULPS       Z16, X, N; \
	VRNDSCALEPS  $8, N, N; \
	VMOVAPS      X, R; \
	VFNMADD231PS Z17, N, R; \
	VFNMADD231PS Z18, N, R; \
	VMOVAPS      Z19, P; \
	VFMADD213PS  Z20, R, P; \
	VFMADD213PS  Z21, R, P; \
	VFMADD213PS  Z22, R, P; \
	VFMADD213PS  Z23, R, P; \
	VFMADD213PS  Z24, R, P; \
	VMULPS       R, R, T; \
	VFMADD213PS  R, T, P; \
	VADDPS       Z25, P, P; \
	VSCALEFPS    N, P, P

#define GELUARG512(X, ARG) \
	VMULPS      X, X, ARG; \
	VFMADD213PS Z26, Z27, ARG; \
	VMULPS      X, ARG, ARG; \
	VMINPS      Z28, ARG, ARG

// func geluForwardAVX512(out, x *float32, n int)
TEXT ·geluForwardAVX512(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ  gf512done
	LOADCONSTS512

gf512loop:
	VMOVUPS (SI), Z0
	GELUARG512(Z0, Z1)
	EXP512(Z1, Z2, Z3, Z4, Z5)
	VADDPS  Z25, Z4, Z4
	VDIVPS  Z4, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     gf512loop

gf512done:
	VZEROUPPER
	RET

// func geluBackwardAVX512(dx, x, dout *float32, n int)
TEXT ·geluBackwardAVX512(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ dout+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JEQ  gb512done
	LOADCONSTS512

gb512loop:
	VMOVUPS     (SI), Z0
	GELUARG512(Z0, Z1)
	EXP512(Z1, Z2, Z3, Z4, Z5)
	VADDPS      Z25, Z4, Z5
	VDIVPS      Z5, Z25, Z5                // s
	VMULPS      Z5, Z4, Z4                 // e·s
	VMULPS      Z0, Z0, Z7
	VFMADD213PS Z29, Z30, Z7               // 2u'
	VMULPS      Z7, Z4, Z4
	VMULPS      Z0, Z4, Z4                 // 2·x·(e·s)·u'
	VFMADD213PS Z5, Z5, Z4                 // s + s·(…)
	VMULPS      (DX), Z4, Z4
	VMOVUPS     Z4, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, DX
	DECQ        CX
	JNZ         gb512loop

gb512done:
	VZEROUPPER
	RET

// func expShiftAVX512(dst, src *float32, n int, shift float32) float64
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-40
	MOVQ           dst+0(FP), DI
	MOVQ           src+8(FP), SI
	MOVQ           n+16(FP), CX
	VBROADCASTSS   shift+24(FP), Z8
	VPXORQ         Z9, Z9, Z9
	VPXORQ         Z10, Z10, Z10
	SHRQ           $4, CX
	JEQ            es512sum
	LOADCONSTS512

es512loop:
	VMOVUPS        (SI), Z0
	VSUBPS         Z8, Z0, Z0
	EXP512(Z0, Z2, Z3, Z4, Z5)
	VMOVUPS        Z4, (DI)
	VCVTPS2PD      Y4, Z6
	VADDPD         Z6, Z9, Z9
	VEXTRACTF64X4  $1, Z4, Y4
	VCVTPS2PD      Y4, Z6
	VADDPD         Z6, Z10, Z10
	ADDQ           $64, SI
	ADDQ           $64, DI
	DECQ           CX
	JNZ            es512loop

es512sum:
	VADDPD         Z10, Z9, Z9
	VEXTRACTF64X4  $1, Z9, Y10
	VADDPD         Y10, Y9, Y9
	VEXTRACTF128   $1, Y9, X10
	VADDPD         X10, X9, X9
	VHADDPD        X9, X9, X9
	MOVSD          X9, ret+32(FP)
	VZEROUPPER
	RET
