//go:build gpu || cudaemu

package cuda

import (
	"math"
	"unsafe"

	"github.com/erlgo/erlgo/kernels"
	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// The Device's kernels: package kernels' functions, with their signatures and documented
// behaviour, on slices of the Device's memory. Each checks what the host can check, then
// queues its work. The limits of the kernels' shared memory:
const (
	maxHeadDim = 128  // the attention kernels' head dimension (C/NH)
	maxScores  = 4096 // the attention kernels' T, and AttentionStep's capacity
	maxVocab   = 2048 // Sample's V
)

// threads is the block size of the kernels that take any.
const threads = 256

// Gemm is kernels.Gemm on cuBLAS.
func (d *Device) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	shape.Gemm("Gemm", transA, transB, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, 1)
	if d.onHost("gemm", kernels.Gemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) || m == 0 || n == 0 {
		return
	}
	d.enter()
	defer d.leave()
	if k == 0 || alpha == 0 {
		d.scaleMatrix(c, m, n, ldc, beta)
		return
	}
	check("cublasSgemm", d.drv.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
	d.waitIfSyncEach("cublasSgemm")
}

// GemmStridedBatched is kernels.GemmStridedBatched on cuBLAS.
func (d *Device) GemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	shape.Gemm("GemmStridedBatched", transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch)
	if d.onHost("gemm", kernels.GemmStridedBatched, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch) ||
		m == 0 || n == 0 || batch == 0 {
		return
	}
	d.enter()
	defer d.leave()
	if k == 0 || alpha == 0 {
		for i := range batch {
			d.scaleMatrix(c[i*strideC:], m, n, ldc, beta)
		}
		return
	}
	check("cublasSgemmStridedBatched", d.drv.gemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch))
	d.waitIfSyncEach("cublasSgemmStridedBatched")
}

// scaleMatrix sets the m×n matrix c to beta·c, or to zeros when beta is 0.
func (d *Device) scaleMatrix(c []float32, m, n, ldc int, beta float32) {
	d.launch("pointwise_scale_matrix", dim{d.blocksFor(m*n, threads), 1, 1}, dim{threads, 1, 1}, 0, c, int32(m), int32(n), int32(ldc), beta)
}

// pointwise launches a grid-stride kernel over n elements.
func (d *Device) pointwise(name string, n int, args ...any) {
	d.enter()
	defer d.leave()
	d.launch(name, dim{d.blocksFor(n, threads), 1, 1}, dim{threads, 1, 1}, 0, args...)
}

// Add is kernels.Add.
func (d *Device) Add(out, a, b []float32) {
	shape.Add(out, a, b)
	n := len(out)
	if d.onHost("add", kernels.Add, out, a, b) || n == 0 {
		return
	}
	d.pointwise("pointwise_add", n, out, a, b, int64(n))
}

// Scale is kernels.Scale.
func (d *Device) Scale(x []float32, s float32) {
	if d.onHost("scale", kernels.Scale, x, s) || len(x) == 0 {
		return
	}
	d.pointwise("pointwise_scale", len(x), x, s, int64(len(x)))
}

// AddBias is kernels.AddBias.
func (d *Device) AddBias(x, bias []float32, N, C int) {
	shape.AddBias(x, bias, N, C)
	if d.onHost("bias", kernels.AddBias, x, bias, N, C) || N*C == 0 {
		return
	}
	d.pointwise("pointwise_add_bias", N*C, x, bias, int64(N*C), int32(C))
}

// SumRows is kernels.SumRows.
func (d *Device) SumRows(dbias, dout []float32, N, C int) {
	shape.SumRows(dbias, dout, N, C)
	if d.onHost("bias", kernels.SumRows, dbias, dout, N, C) || C == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.launch("rows_sum", dim{(C + 31) / 32, 1, 1}, dim{32, 32, 1}, 0, dbias, dout, int32(N), int32(C))
}

// GeluForward is kernels.GeluForward.
func (d *Device) GeluForward(out, x []float32) {
	shape.GeluForward(out, x)
	if d.onHost("gelu", kernels.GeluForward, out, x) || len(x) == 0 {
		return
	}
	d.pointwise("pointwise_gelu_forward", len(x), out, x, int64(len(x)))
}

// GeluBackward is kernels.GeluBackward.
func (d *Device) GeluBackward(dx, x, dout []float32) {
	shape.GeluBackward(dx, x, dout)
	if d.onHost("gelu", kernels.GeluBackward, dx, x, dout) || len(x) == 0 {
		return
	}
	d.pointwise("pointwise_gelu_backward", len(x), dx, x, dout, int64(len(x)))
}

// AdamW is kernels.AdamW.
func (d *Device) AdamW(param, grad, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, t int) {
	shape.AdamW(param, grad, m, v, t)
	n := len(param)
	if d.onHost("adamw", kernels.AdamW, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, t) || n == 0 {
		return
	}
	c1 := float32(1 / (1 - math.Pow(float64(beta1), float64(t))))
	c2 := float32(1 / (1 - math.Pow(float64(beta2), float64(t))))
	d.pointwise("optim_adamw", n, param, grad, m, v, int64(n), lr, beta1, beta2, eps, weightDecay, c1, c2)
}

// SumSquares is kernels.SumSquares; it waits for the sum.
func (d *Device) SumSquares(x []float32) float64 { return d.SumSquaresAll([][]float32{x}) }

// sumSquaresBlocks is how many blocks share each slice of SumSquaresAll.
const sumSquaresBlocks = 64

// SumSquaresAll returns the sum of the squares of every element of every slice of xs,
// accumulated in double, in an order that does not vary from run to run: the square of a
// global gradient norm, in one round trip. It waits for the sum.
func (d *Device) SumSquaresAll(xs [][]float32) float64 {
	if d.HostOp("sumsquares") {
		var s float64
		for _, x := range xs {
			h := make([]float32, len(x))
			d.Download(h, x)
			s += kernels.SumSquares(h)
		}
		return s
	}
	if len(xs) == 0 {
		return 0
	}
	table := make([]int64, 2*len(xs))
	for i, x := range xs {
		table[2*i], table[2*i+1] = int64(addr(x)), int64(len(x))
	}
	d.enter()
	defer d.leave()
	tab := d.workspace("sumsquares.table", int64(len(table))*8)
	check("cuMemcpyHtoDAsync", d.drv.htod(tab.ptr, unsafe.Pointer(&table[0]), int64(len(table))*8))
	partial := d.workspace("sumsquares.partial", int64(len(xs))*sumSquaresBlocks*8)
	out := d.workspace("sumsquares.out", 8)
	d.launch("optim_sum_squares", dim{sumSquaresBlocks, len(xs), 1}, dim{threads, 1, 1}, 0, partial, tab)
	d.launch("optim_sum_partials", dim{1, 1, 1}, dim{1024, 1, 1}, 0, out, partial, int32(len(xs)*sumSquaresBlocks))
	var s float64
	check("cuMemcpyDtoHAsync", d.drv.dtoh(unsafe.Pointer(&s), out.ptr, 8))
	return s
}

// LayerNormForward is kernels.LayerNormForward.
func (d *Device) LayerNormForward(out, mean, rstd, x, weight, bias []float32, N, C int) {
	shape.LayerNormForward(out, mean, rstd, x, weight, bias, N, C)
	if d.onHost("layernorm", kernels.LayerNormForward, out, mean, rstd, x, weight, bias, N, C) || N == 0 {
		return
	}
	d.enter()
	defer d.leave()
	const warps = 4 // one a row
	d.launch("layernorm_forward", dim{d.blocksFor(N, warps), 1, 1}, dim{32 * warps, 1, 1}, 0, out, mean, rstd, x, weight, bias, int32(N), int32(C))
}

// LayerNormBackward is kernels.LayerNormBackward.
func (d *Device) LayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd []float32, N, C int) {
	shape.LayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd, N, C)
	if d.onHost("layernorm", kernels.LayerNormBackward, dx, dweight, dbias, dout, x, weight, mean, rstd, N, C) {
		return
	}
	d.enter()
	defer d.leave()
	if dx != nil && N > 0 {
		const warps = 4
		d.launch("layernorm_backward_dx", dim{d.blocksFor(N, warps), 1, 1}, dim{32 * warps, 1, 1}, 0, dx, dout, x, weight, mean, rstd, int32(N), int32(C))
	}
	if dweight != nil || dbias != nil {
		d.launch("layernorm_backward_params", dim{(C + 31) / 32, 1, 1}, dim{32, 32, 1}, 0, dweight, dbias, dout, x, mean, rstd, int32(N), int32(C))
	}
}

// attentionThreads is the block size of the attention kernels that work on a row of scores.
const attentionThreads = 128

// attentionScale is the host's 1/√hd, in float32.
func attentionScale(hd int) float32 { return float32(1 / math.Sqrt(float64(hd))) }

// AttentionForward is kernels.AttentionForward; the head dimension is at most 128, and T at
// most 4096.
func (d *Device) AttentionForward(out, att, qkv []float32, lens []int32, B, T, C, NH int) {
	hd := shape.AttentionForward(out, att, qkv, lens, B, T, C, NH)
	mustAttentionFits("AttentionForward", hd, T)
	if d.onHost("attention", kernels.AttentionForward, out, att, qkv, lens, B, T, C, NH) || B*T == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.launch("attention_forward", dim{T, B * NH, 1}, dim{attentionThreads, 1, 1}, 4*T,
		out, att, qkv, lens, int32(T), int32(C), int32(NH), attentionScale(hd))
}

// AttentionBackward is kernels.AttentionBackward; with scratch nil it uses the Device's own.
func (d *Device) AttentionBackward(dqkv, scratch, dout, qkv, att []float32, lens []int32, B, T, C, NH int) {
	hd := shape.AttentionBackward(dqkv, scratch, dout, qkv, att, lens, B, T, C, NH)
	mustAttentionFits("AttentionBackward", hd, T)
	if d.onHost("attention", kernels.AttentionBackward, dqkv, scratch, dout, qkv, att, lens, B, T, C, NH) || B*T == 0 {
		return
	}
	d.enter()
	defer d.leave()
	var ds any = scratch
	if scratch == nil {
		ds = d.workspace("attention.scratch", int64(B*NH*T*T)*4)
	}
	scale := attentionScale(hd)
	d.launch("attention_backward_query", dim{T, B * NH, 1}, dim{attentionThreads, 1, 1}, 4*T,
		dqkv, ds, dout, qkv, att, lens, int32(T), int32(C), int32(NH), scale)
	d.launch("attention_backward_key", dim{T, B * NH, 1}, dim{(hd + 31) / 32 * 32, 1, 1}, 0,
		dqkv, ds, dout, qkv, att, lens, int32(T), int32(C), int32(NH), scale)
}

// AttentionStep is kernels.AttentionStep; capacity is at most 4096.
func (d *Device) AttentionStep(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int) {
	hd := shape.AttentionStep(out, qkv, kc, vc, lens, B, capacity, C, NH)
	mustAtMost("AttentionStep", "the head dimension", hd, maxHeadDim)
	mustAtMost("AttentionStep", "capacity", capacity, maxScores)
	if d.onHost("attention", kernels.AttentionStep, out, qkv, kc, vc, lens, B, capacity, C, NH) || B == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.launch("attention_step", dim{B * NH, 1, 1}, dim{attentionThreads, 1, 1}, 4*capacity,
		out, qkv, kc, vc, lens, int32(capacity), int32(C), int32(NH), attentionScale(hd))
}

// rowsOf is how many whole rows of C elements, starting stride apart, x holds.
func rowsOf(x []float32, stride, C int) int {
	if len(x) < C {
		return 0
	}
	return (len(x)-C)/stride + 1
}

// CopyRows is kernels.CopyRows.
func (d *Device) CopyRows(dst []float32, dstStride int, src []float32, srcStride int, dstRows, srcRows []int32, C int) {
	shape.CopyRows(dstStride, srcStride, dstRows, srcRows, C)
	n := len(srcRows)
	if d.onHost("rows", kernels.CopyRows, dst, dstStride, src, srcStride, dstRows, srcRows, C) || n == 0 {
		return
	}
	d.pointwise("rows_copy", n*C, dst, int32(dstStride), src, int32(srcStride), dstRows, srcRows, int32(n), int32(C),
		int32(rowsOf(dst, dstStride, C)), int32(rowsOf(src, srcStride, C)))
}

// EmbeddingForward is kernels.EmbeddingForward.
func (d *Device) EmbeddingForward(out, wte, wpe []float32, tokens, pos []int32, C int) {
	shape.EmbeddingForward(out, tokens, pos, C)
	N := len(tokens)
	if d.onHost("embedding", kernels.EmbeddingForward, out, wte, wpe, tokens, pos, C) || N == 0 {
		return
	}
	d.pointwise("rows_embedding_forward", N*C, out, wte, wpe, tokens, pos, int32(N), int32(C), int32(len(wte)/C), int32(len(wpe)/C))
}

// EmbeddingBackward is kernels.EmbeddingBackward, with the host's order of additions, so the
// same bits.
func (d *Device) EmbeddingBackward(dwte, dwpe, dout []float32, tokens, pos []int32, C int) {
	shape.EmbeddingBackward(dout, tokens, pos, C)
	N := len(tokens)
	if d.onHost("embedding", kernels.EmbeddingBackward, dwte, dwpe, dout, tokens, pos, C) || N == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.scatterAdd(dwte, dout, tokens, N, len(dwte)/C, C, true)
	d.scatterAdd(dwpe, dout, pos, N, len(dwpe)/C, C, true)
}

// scatterAdd launches rows_scatter_add, one block for each of up to a few thousand rows.
func (d *Device) scatterAdd(dst, src []float32, idx []int32, n, rows, C int, accumulate bool) {
	if rows == 0 {
		return
	}
	d.launch("rows_scatter_add", dim{min(rows, 32*d.sms), 1, 1}, dim{threads, 1, 1}, 0, dst, src, idx, int32(n), int32(rows), int32(C), accumulate)
}

// GatherRows is kernels.GatherRows.
func (d *Device) GatherRows(out, x []float32, idx []int32, C int) {
	shape.GatherRows(out, idx, C)
	if d.onHost("rows", kernels.GatherRows, out, x, idx, C) || len(idx) == 0 {
		return
	}
	d.pointwise("rows_gather", len(idx)*C, out, x, idx, int32(len(idx)), int32(C), int32(len(x)/C))
}

// ScatterRows is kernels.ScatterRows, with the host's order of additions, so the same bits.
func (d *Device) ScatterRows(dx, dout []float32, idx []int32, rows, C int) {
	shape.ScatterRows(dx, dout, idx, rows, C)
	if d.onHost("rows", kernels.ScatterRows, dx, dout, idx, rows, C) {
		return
	}
	d.enter()
	defer d.leave()
	d.scatterAdd(dx, dout, idx, len(idx), rows, C, false)
}

// LogSoftmaxGatherForward is kernels.LogSoftmaxGatherForward; a target at or beyond V, which
// the host refuses, masks its row here.
func (d *Device) LogSoftmaxGatherForward(logp, lse, logits []float32, targets []int32, N, V int) {
	shape.LogSoftmaxGatherForward(logp, lse, logits, targets, N, V)
	if d.onHost("logsoftmax", kernels.LogSoftmaxGatherForward, logp, lse, logits, targets, N, V) || N == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.launch("logsoftmax_gather_forward", dim{min(N, 32*d.sms), 1, 1}, dim{threads, 1, 1}, 0, logp, lse, logits, targets, int32(N), int32(V))
}

// LogSoftmaxGatherBackward is kernels.LogSoftmaxGatherBackward.
func (d *Device) LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse []float32, targets []int32, N, V int) {
	shape.LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse, targets, N, V)
	if d.onHost("logsoftmax", kernels.LogSoftmaxGatherBackward, dlogits, dlogp, logits, lse, targets, N, V) || N == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.launch("logsoftmax_gather_backward", dim{min(N, 32*d.sms), 1, 1}, dim{threads, 1, 1}, 0, dlogits, dlogp, logits, lse, targets, int32(N), int32(V))
}

// Objective holds the training objective's settings, model.Objective's.
type Objective struct {
	ClipLow, ClipHigh, KLCoef, DistillCoef, DistillISClip float64
}

// ObjectiveSums are the objective's weighted sums over the scored tokens: the parts of
// model.Terms that are sums (its Loss is PG + KL + Distill).
type ObjectiveSums struct {
	PG, KL, Distill, ClipFrac, KLMean, RatioMean, PGWeight, DistillWeight float64
}

// ObjectiveTerms evaluates the objective over the tokens whose columns are given, each
// len(logp) long, and waits for its sums: model.objectiveTerms on the device.
func (d *Device) ObjectiveTerms(o Objective, logp, old, ref, adv, wPG, wDistill []float32) ObjectiveSums {
	var s ObjectiveSums
	d.enter()
	defer d.leave()
	out := d.objective(o, nil, logp, old, ref, adv, wPG, wDistill)
	check("cuMemcpyDtoHAsync", d.drv.dtoh(unsafe.Pointer(&s), out.ptr, int64(unsafe.Sizeof(s))))
	return s
}

// ObjectiveGradient writes dloss/dlogp of each token into dlogp, and reads nothing back.
func (d *Device) ObjectiveGradient(o Objective, dlogp, logp, old, ref, adv, wPG, wDistill []float32) {
	shape.Len("ObjectiveGradient", "dlogp", dlogp, len(logp))
	d.enter()
	defer d.leave()
	d.objective(o, dlogp, logp, old, ref, adv, wPG, wDistill)
}

func (d *Device) objective(o Objective, dlogp, logp, old, ref, adv, wPG, wDistill []float32) block {
	n := len(logp)
	for name, col := range map[string][]float32{"old": old, "ref": ref, "adv": adv, "wPG": wPG, "wDistill": wDistill} {
		shape.Len("Objective", name, col, n)
	}
	out := d.workspace("objective.sums", int64(unsafe.Sizeof(ObjectiveSums{})))
	d.launch("objective_terms", dim{1, 1, 1}, dim{threads, 1, 1}, 0, out, dlogp, logp, old, ref, adv, wPG, wDistill,
		int32(n), o.ClipLow, o.ClipHigh, o.KLCoef, o.DistillCoef, o.DistillISClip)
	return out
}

// Sample draws a token from each of B rows of logits (V columns, at most 2048) among the
// row's allowed tokens, ids[offsets[b]:offsets[b+1]] (every token when that range is empty),
// with the uniform number u[b], greedy or at temperature with top-k and top-p, and writes it
// and its log-probability at temperature 1 over the allowed tokens: model's sampleRows on the
// device, with the same order of sums, so the same draws.
func (d *Device) Sample(tokens []int32, logp, logits []float32, ids, offsets []int32, u []float32, B, V int, greedy bool, temperature float64, topK int, topP float64) {
	const kernel = "Sample"
	shape.Dim(kernel, "V", V, 1)
	mustAtMost(kernel, "V", V, maxVocab)
	shape.Len(kernel, "tokens", tokens, B)
	shape.Len(kernel, "logp", logp, B)
	shape.Len(kernel, "logits", logits, B*V)
	shape.Len(kernel, "offsets", offsets, B+1)
	shape.Len(kernel, "u", u, B)
	if B == 0 {
		return
	}
	d.enter()
	defer d.leave()
	d.launch("sampler_draw", dim{B, 1, 1}, dim{threads, 1, 1}, 16*V, tokens, logp, logits, ids, offsets, u,
		int32(V), greedy, temperature, int32(topK), topP)
}
