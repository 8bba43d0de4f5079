//go:build gpu

package cuda

// gorgonia.org/cu/blas has no strided-batched product and no control of the math mode, so the
// package calls cuBLAS itself, through the handful of functions below.

// #cgo LDFLAGS: -lcublas
// #include <cublas_v2.h>
import "C"

import (
	"fmt"
	"unsafe"

	"gorgonia.org/cu"
)

// blasHandle is cuBLAS's state for one stream.
type blasHandle struct{ h C.cublasHandle_t }

// A blasError is a failed cuBLAS call's status.
type blasError C.cublasStatus_t

func (e blasError) Error() string {
	return fmt.Sprintf("%s (%d)", C.GoString(C.cublasGetStatusName(C.cublasStatus_t(e))), int(e))
}

func blasResult(s C.cublasStatus_t) error {
	if s != C.CUBLAS_STATUS_SUCCESS {
		return blasError(s)
	}
	return nil
}

func blasCheck(call string, s C.cublasStatus_t) { check(call, blasResult(s)) }

// newBlas makes cuBLAS's handle for stream, with TF32 tensor-core products when tf32 is set
// and IEEE float32 arithmetic otherwise.
func newBlas(stream cu.Stream, tf32 bool) blasHandle {
	var b blasHandle
	blasCheck("cublasCreate", C.cublasCreate_v2(&b.h))
	// cu.Stream holds a CUstream, the same pointer as cuBLAS's cudaStream_t, and nothing else.
	s := *(*C.cudaStream_t)(unsafe.Pointer(&stream))
	blasCheck("cublasSetStream", C.cublasSetStream_v2(b.h, s))
	mode := C.cublasMath_t(C.CUBLAS_DEFAULT_MATH)
	if tf32 {
		mode = C.CUBLAS_TF32_TENSOR_OP_MATH
	}
	blasCheck("cublasSetMathMode", C.cublasSetMathMode(b.h, mode))
	return b
}

func blasOp(trans bool) C.cublasOperation_t {
	if trans {
		return C.CUBLAS_OP_T
	}
	return C.CUBLAS_OP_N
}

// sgemm and sgemmStridedBatched compute row-major products, as package kernels does. cuBLAS
// is column-major, and a row-major matrix read as column-major is its transpose, so
// C = op(A)·op(B) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ: B first, with n and m swapped.
func (b blasHandle) sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) error {
	al, be := C.float(alpha), C.float(beta)
	return blasResult(C.cublasSgemm_v2(b.h, blasOp(transB), blasOp(transA), C.int(n), C.int(m), C.int(k),
		&al, devFloats(bm), C.int(ldb), devFloats(a), C.int(lda), &be, devFloats(c), C.int(ldc)))
}

func (b blasHandle) sgemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, bm []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC, batch int) error {
	al, be := C.float(alpha), C.float(beta)
	return blasResult(C.cublasSgemmStridedBatched(b.h, blasOp(transB), blasOp(transA), C.int(n), C.int(m), C.int(k),
		&al, devFloats(bm), C.int(ldb), C.longlong(strideB), devFloats(a), C.int(lda), C.longlong(strideA),
		&be, devFloats(c), C.int(ldc), C.longlong(strideC), C.int(batch)))
}

// devFloats is a device slice's address as cuBLAS takes it.
func devFloats(x []float32) *C.float { return (*C.float)(devicePointer(addr(x))) }
