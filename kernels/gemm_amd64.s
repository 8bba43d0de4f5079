#include "textflag.h"

// The matrix product's micro-kernels (see gemmTile in tile.go). Each computes one tile of
// C = alpha·A·B + beta·C over kc steps of k: A's element (r, p) is at
// a + r·rowStride + p·kStride bytes, so that one kernel reads a row-major A, a transposed A
// and a packed edge panel alike, and B is packed, nr floats a step. The tile's accumulators
// stay in registers for the whole sum; C is read (when beta ≠ 0) and written once at the end.
// With beta = 0 (or −0), C is not read, so it may hold NaN.

// AVX2_ROW adds the broadcast of A's element at addr times the step's two B vectors into one
// row's two accumulators.
#define AVX2_ROW(addr, acc0, acc1) \
	VBROADCASTSS addr, Y2; \
	VFMADD231PS  Y0, Y2, acc0; \
	VFMADD231PS  Y1, Y2, acc1

// AVX2_STORE writes alpha·acc into one row of C (at DX) and steps DX to the next row.
#define AVX2_STORE(acc0, acc1) \
	VMULPS  Y0, acc0, acc0; \
	VMOVUPS acc0, (DX); \
	VMULPS  Y0, acc1, acc1; \
	VMOVUPS acc1, 32(DX); \
	ADDQ    R8, DX

// AVX2_UPDATE writes alpha·acc + beta·C into one row of C and steps DX to the next row.
#define AVX2_UPDATE(acc0, acc1) \
	VMULPS      (DX), Y1, Y2; \
	VFMADD231PS acc0, Y0, Y2; \
	VMOVUPS     Y2, (DX); \
	VMULPS      32(DX), Y1, Y3; \
	VFMADD231PS acc1, Y0, Y3; \
	VMOVUPS     Y3, 32(DX); \
	ADDQ        R8, DX

// func gemmTile6x16AVX2(kc int, a *float32, rowStride, kStride int, b, c *float32, ldc int, alpha, beta float32)
//
// A 6×16 tile: twelve ymm accumulators (Y4–Y15), two B vectors and a broadcast a step.
// Rows 0–2 are addressed from SI and rows 3–5 from R11 = SI + 3·rowStride.
TEXT ·gemmTile6x16AVX2(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rowStride+16(FP), R9
	MOVQ kStride+24(FP), R10
	MOVQ b+32(FP), DI
	LEAQ (SI)(R9*2), R11
	ADDQ R9, R11
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	TESTQ CX, CX
	JEQ   avx2store

avx2loop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	AVX2_ROW((SI), Y4, Y5)
	AVX2_ROW((SI)(R9*1), Y6, Y7)
	AVX2_ROW((SI)(R9*2), Y8, Y9)
	AVX2_ROW((R11), Y10, Y11)
	AVX2_ROW((R11)(R9*1), Y12, Y13)
	AVX2_ROW((R11)(R9*2), Y14, Y15)
	ADDQ R10, SI
	ADDQ R10, R11
	ADDQ $64, DI
	DECQ CX
	JNZ  avx2loop

avx2store:
	MOVQ         c+40(FP), DX
	MOVQ         ldc+48(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS alpha+56(FP), Y0
	MOVL         beta+60(FP), AX
	ANDL         $0x7fffffff, AX
	JNZ          avx2update
	AVX2_STORE(Y4, Y5)
	AVX2_STORE(Y6, Y7)
	AVX2_STORE(Y8, Y9)
	AVX2_STORE(Y10, Y11)
	AVX2_STORE(Y12, Y13)
	AVX2_STORE(Y14, Y15)
	VZEROUPPER
	RET

avx2update:
	VBROADCASTSS beta+60(FP), Y1
	AVX2_UPDATE(Y4, Y5)
	AVX2_UPDATE(Y6, Y7)
	AVX2_UPDATE(Y8, Y9)
	AVX2_UPDATE(Y10, Y11)
	AVX2_UPDATE(Y12, Y13)
	AVX2_UPDATE(Y14, Y15)
	VZEROUPPER
	RET

// The AVX-512 forms of the three macros above, on zmm registers.
#define AVX512_ROW(addr, acc0, acc1) \
	VBROADCASTSS addr, Z2; \
	VFMADD231PS  Z0, Z2, acc0; \
	VFMADD231PS  Z1, Z2, acc1

#define AVX512_STORE(acc0, acc1) \
	VMULPS  Z0, acc0, acc0; \
	VMOVUPS acc0, (DX); \
	VMULPS  Z0, acc1, acc1; \
	VMOVUPS acc1, 64(DX); \
	ADDQ    R8, DX

#define AVX512_UPDATE(acc0, acc1) \
	VMULPS      (DX), Z1, Z2; \
	VFMADD231PS acc0, Z0, Z2; \
	VMOVUPS     Z2, (DX); \
	VMULPS      64(DX), Z1, Z3; \
	VFMADD231PS acc1, Z0, Z3; \
	VMOVUPS     Z3, 64(DX); \
	ADDQ        R8, DX

// func gemmTile12x32AVX512(kc int, a *float32, rowStride, kStride int, b, c *float32, ldc int, alpha, beta float32)
//
// A 12×32 tile: twenty-four zmm accumulators (Z8–Z31), two B vectors and a broadcast a step.
// Rows are addressed three to a base register: SI, R11, R12 and R13, 3·rowStride apart.
TEXT ·gemmTile12x32AVX512(SB), NOSPLIT, $0-64
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rowStride+16(FP), R9
	MOVQ kStride+24(FP), R10
	MOVQ b+32(FP), DI
	LEAQ (R9)(R9*2), AX
	LEAQ (SI)(AX*1), R11
	LEAQ (R11)(AX*1), R12
	LEAQ (R12)(AX*1), R13
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	TESTQ  CX, CX
	JEQ    avx512store

avx512loop:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	AVX512_ROW((SI), Z8, Z9)
	AVX512_ROW((SI)(R9*1), Z10, Z11)
	AVX512_ROW((SI)(R9*2), Z12, Z13)
	AVX512_ROW((R11), Z14, Z15)
	AVX512_ROW((R11)(R9*1), Z16, Z17)
	AVX512_ROW((R11)(R9*2), Z18, Z19)
	AVX512_ROW((R12), Z20, Z21)
	AVX512_ROW((R12)(R9*1), Z22, Z23)
	AVX512_ROW((R12)(R9*2), Z24, Z25)
	AVX512_ROW((R13), Z26, Z27)
	AVX512_ROW((R13)(R9*1), Z28, Z29)
	AVX512_ROW((R13)(R9*2), Z30, Z31)
	ADDQ R10, SI
	ADDQ R10, R11
	ADDQ R10, R12
	ADDQ R10, R13
	ADDQ $128, DI
	DECQ CX
	JNZ  avx512loop

avx512store:
	MOVQ         c+40(FP), DX
	MOVQ         ldc+48(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS alpha+56(FP), Z0
	MOVL         beta+60(FP), AX
	ANDL         $0x7fffffff, AX
	JNZ          avx512update
	AVX512_STORE(Z8, Z9)
	AVX512_STORE(Z10, Z11)
	AVX512_STORE(Z12, Z13)
	AVX512_STORE(Z14, Z15)
	AVX512_STORE(Z16, Z17)
	AVX512_STORE(Z18, Z19)
	AVX512_STORE(Z20, Z21)
	AVX512_STORE(Z22, Z23)
	AVX512_STORE(Z24, Z25)
	AVX512_STORE(Z26, Z27)
	AVX512_STORE(Z28, Z29)
	AVX512_STORE(Z30, Z31)
	VZEROUPPER
	RET

avx512update:
	VBROADCASTSS beta+60(FP), Z1
	AVX512_UPDATE(Z8, Z9)
	AVX512_UPDATE(Z10, Z11)
	AVX512_UPDATE(Z12, Z13)
	AVX512_UPDATE(Z14, Z15)
	AVX512_UPDATE(Z16, Z17)
	AVX512_UPDATE(Z18, Z19)
	AVX512_UPDATE(Z20, Z21)
	AVX512_UPDATE(Z22, Z23)
	AVX512_UPDATE(Z24, Z25)
	AVX512_UPDATE(Z26, Z27)
	AVX512_UPDATE(Z28, Z29)
	AVX512_UPDATE(Z30, Z31)
	VZEROUPPER
	RET
