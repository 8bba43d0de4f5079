// Package shape checks the dimensions and slice lengths of the kernels' arguments: what a
// caller can get wrong that the host can see, whether the slices are in its memory or a
// device's. The CPU kernels (package kernels) and the CUDA Device (package kernels/cuda) make
// the same checks through it, so that a mistake panics with the same message on either. The
// values a slice holds (indices, sequence lengths) are the CPU kernels' own to check: a
// device's are in its memory.
//
// Each function is named after the kernel whose arguments it checks, takes them in the
// kernel's order, and panics with a message that names the kernel and the argument.
package shape

import "fmt"

// Len panics unless s holds at least n elements.
func Len[E float32 | int32](kernel, name string, s []E, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, need %d", kernel, name, len(s), n))
	}
}

// LenOpt is Len for an optional slice, which may be nil.
func LenOpt(kernel, name string, s []float32, n int) {
	if s != nil {
		Len(kernel, name, s, n)
	}
}

// Dim panics unless the dimension v is at least lo.
func Dim(kernel, name string, v, lo int) {
	if v < lo {
		panic(fmt.Sprintf("kernels: %s: %s = %d, must be at least %d", kernel, name, v, lo))
	}
}

// Add checks Add's arguments: a and b hold len(out) elements.
func Add(out, a, b []float32) {
	Len("Add", "a", a, len(out))
	Len("Add", "b", b, len(out))
}

// AddBias checks AddBias's arguments.
func AddBias(x, bias []float32, N, C int) {
	const kernel = "AddBias"
	Dim(kernel, "N", N, 0)
	Dim(kernel, "C", C, 0)
	Len(kernel, "x", x, N*C)
	Len(kernel, "bias", bias, C)
}

// SumRows checks SumRows's arguments.
func SumRows(dbias, dout []float32, N, C int) {
	const kernel = "SumRows"
	Dim(kernel, "N", N, 0)
	Dim(kernel, "C", C, 0)
	Len(kernel, "dbias", dbias, C)
	Len(kernel, "dout", dout, N*C)
}

// GeluForward checks GeluForward's arguments.
func GeluForward(out, x []float32) {
	Len("GeluForward", "out", out, len(x))
}

// GeluBackward checks GeluBackward's arguments.
func GeluBackward(dx, x, dout []float32) {
	Len("GeluBackward", "dx", dx, len(x))
	Len("GeluBackward", "dout", dout, len(x))
}

// AdamW checks AdamW's arguments: every slice as long as param, and the step t from 1.
func AdamW(param, grad, m, v []float32, t int) {
	const kernel = "AdamW"
	Dim(kernel, "step t", t, 1)
	n := len(param)
	Len(kernel, "grad", grad, n)
	Len(kernel, "m", m, n)
	Len(kernel, "v", v, n)
}

// LayerNormForward checks LayerNormForward's arguments.
func LayerNormForward(out, mean, rstd, x, weight, bias []float32, N, C int) {
	const kernel = "LayerNormForward"
	Dim(kernel, "N", N, 0)
	Dim(kernel, "C", C, 1)
	Len(kernel, "out", out, N*C)
	LenOpt(kernel, "mean", mean, N)
	LenOpt(kernel, "rstd", rstd, N)
	Len(kernel, "x", x, N*C)
	Len(kernel, "weight", weight, C)
	Len(kernel, "bias", bias, C)
}

// LayerNormBackward checks LayerNormBackward's arguments.
func LayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd []float32, N, C int) {
	const kernel = "LayerNormBackward"
	Dim(kernel, "N", N, 0)
	Dim(kernel, "C", C, 1)
	LenOpt(kernel, "dx", dx, N*C)
	LenOpt(kernel, "dweight", dweight, C)
	LenOpt(kernel, "dbias", dbias, C)
	Len(kernel, "dout", dout, N*C)
	Len(kernel, "x", x, N*C)
	Len(kernel, "weight", weight, C)
	Len(kernel, "mean", mean, N)
	Len(kernel, "rstd", rstd, N)
}

// attention checks the arguments the attention kernels share and returns the head dimension.
func attention(kernel string, qkv, att []float32, lens []int32, B, T, C, NH int) int {
	Dim(kernel, "B", B, 0)
	Dim(kernel, "T", T, 0)
	Dim(kernel, "NH", NH, 1)
	Dim(kernel, "C", C, NH)
	if C%NH != 0 {
		panic(fmt.Sprintf("kernels: %s: C = %d is not a multiple of NH = %d", kernel, C, NH))
	}
	Len(kernel, "qkv", qkv, B*T*3*C)
	Len(kernel, "att", att, B*NH*T*T)
	if lens != nil {
		Len(kernel, "lens", lens, B)
	}
	return C / NH
}

// AttentionForward checks AttentionForward's arguments and returns the head dimension.
func AttentionForward(out, att, qkv []float32, lens []int32, B, T, C, NH int) int {
	const kernel = "AttentionForward"
	hd := attention(kernel, qkv, att, lens, B, T, C, NH)
	Len(kernel, "out", out, B*T*C)
	return hd
}

// AttentionBackward checks AttentionBackward's arguments (scratch is optional) and returns the
// head dimension.
func AttentionBackward(dqkv, scratch, dout, qkv, att []float32, lens []int32, B, T, C, NH int) int {
	const kernel = "AttentionBackward"
	hd := attention(kernel, qkv, att, lens, B, T, C, NH)
	Len(kernel, "dqkv", dqkv, B*T*3*C)
	Len(kernel, "dout", dout, B*T*C)
	LenOpt(kernel, "scratch", scratch, B*NH*T*T)
	return hd
}

// AttentionStep checks AttentionStep's arguments and returns the head dimension.
func AttentionStep(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int) int {
	const kernel = "AttentionStep"
	Dim(kernel, "NH", NH, 1)
	Dim(kernel, "C", C, NH)
	Len(kernel, "out", out, B*C)
	Len(kernel, "qkv", qkv, B*3*C)
	Len(kernel, "kc", kc, B*capacity*C)
	Len(kernel, "vc", vc, B*capacity*C)
	Len(kernel, "lens", lens, B)
	return C / NH
}

// CopyRows checks CopyRows's arguments.
func CopyRows(dstStride, srcStride int, dstRows, srcRows []int32, C int) {
	const kernel = "CopyRows"
	Dim(kernel, "C", C, 1)
	Dim(kernel, "dstStride", dstStride, C)
	Dim(kernel, "srcStride", srcStride, C)
	Len(kernel, "dstRows", dstRows, len(srcRows))
}

// EmbeddingForward checks EmbeddingForward's arguments.
func EmbeddingForward(out []float32, tokens, pos []int32, C int) {
	embedding("EmbeddingForward", "out", out, tokens, pos, C)
}

// EmbeddingBackward checks EmbeddingBackward's arguments.
func EmbeddingBackward(dout []float32, tokens, pos []int32, C int) {
	embedding("EmbeddingBackward", "dout", dout, tokens, pos, C)
}

// embedding checks the arguments of both embedding passes; rows is out or dout.
func embedding(kernel, rowsName string, rows []float32, tokens, pos []int32, C int) {
	Dim(kernel, "C", C, 1)
	N := len(tokens)
	Len(kernel, "pos", pos, N)
	Len(kernel, rowsName, rows, N*C)
}

// GatherRows checks GatherRows's arguments.
func GatherRows(out []float32, idx []int32, C int) {
	const kernel = "GatherRows"
	Dim(kernel, "C", C, 1)
	Len(kernel, "out", out, len(idx)*C)
}

// ScatterRows checks ScatterRows's arguments.
func ScatterRows(dx, dout []float32, idx []int32, rows, C int) {
	const kernel = "ScatterRows"
	Dim(kernel, "rows", rows, 0)
	Dim(kernel, "C", C, 1)
	Len(kernel, "dx", dx, rows*C)
	Len(kernel, "dout", dout, len(idx)*C)
}

// LogSoftmaxGatherForward checks LogSoftmaxGatherForward's arguments.
func LogSoftmaxGatherForward(logp, lse, logits []float32, targets []int32, N, V int) {
	const kernel = "LogSoftmaxGatherForward"
	logSoftmaxGather(kernel, logits, targets, N, V)
	Len(kernel, "logp", logp, N)
	LenOpt(kernel, "lse", lse, N)
}

// LogSoftmaxGatherBackward checks LogSoftmaxGatherBackward's arguments.
func LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse []float32, targets []int32, N, V int) {
	const kernel = "LogSoftmaxGatherBackward"
	logSoftmaxGather(kernel, logits, targets, N, V)
	Len(kernel, "dlogits", dlogits, N*V)
	Len(kernel, "dlogp", dlogp, N)
	Len(kernel, "lse", lse, N)
}

// logSoftmaxGather checks the arguments the two passes share.
func logSoftmaxGather(kernel string, logits []float32, targets []int32, N, V int) {
	Dim(kernel, "N", N, 0)
	Dim(kernel, "V", V, 1)
	Len(kernel, "logits", logits, N*V)
	Len(kernel, "targets", targets, N)
}

// Gemm checks a batch of products against its dimensions and slices: the arguments of
// GemmStridedBatched, and of Gemm as the batch of one with zero strides (kernel names which).
func Gemm(kernel string, transA, transB bool, m, n, k int, a []float32, lda, strideA int, b []float32, ldb, strideB int, c []float32, ldc, strideC, batch int) {
	Dim(kernel, "m", m, 0)
	Dim(kernel, "n", n, 0)
	Dim(kernel, "k", k, 0)
	Dim(kernel, "batch", batch, 0)
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	operand(kernel, "a", a, rowsA, colsA, lda, strideA, batch)
	operand(kernel, "b", b, rowsB, colsB, ldb, strideB, batch)
	operand(kernel, "c", c, m, n, ldc, strideC, batch)
}

// operand checks batch stored rows×cols matrices with row stride ld, stride elements apart.
func operand(kernel, name string, s []float32, rows, cols, ld, stride, batch int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernels: %s: ld%s = %d, need at least %d for a stored %d×%d matrix", kernel, name, ld, max(1, cols), rows, cols))
	}
	if stride < 0 {
		panic(fmt.Sprintf("kernels: %s: stride%s = %d, must be at least 0", kernel, name, stride))
	}
	if rows == 0 || cols == 0 || batch == 0 {
		return
	}
	if need := (batch-1)*stride + (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, need %d for %d stored %d×%d matrices with row stride %d and batch stride %d",
			kernel, name, len(s), need, batch, rows, cols, ld, stride))
	}
}
