package main

import "fmt"

// A size is a set of model dimensions at which the kernels are measured.
type size struct {
	Name   string
	B, T   int // sequences per batch, tokens per sequence
	C, NH  int // model width, attention heads
	Layers int
	V      int // vocabulary
}

// sizes are the policy's two configurations and a larger one whose activations and
// optimizer state no longer fit in the last-level cache.
var sizes = []size{
	{Name: "small", B: 64, T: 128, C: 64, NH: 4, Layers: 2, V: 200},
	{Name: "base", B: 16, T: 256, C: 256, NH: 8, Layers: 6, V: 200},
	{Name: "large", B: 8, T: 512, C: 512, NH: 8, Layers: 12, V: 200},
}

// params is the number of trainable parameters of a GPT-2-style model of size s: per layer
// the qkv, projection and MLP matrices with their biases and two LayerNorms, then the
// embeddings and the final LayerNorm.
func (s size) params() int {
	C := s.C
	perLayer := 12*C*C + 13*C
	return s.Layers*perLayer + (s.V+s.T)*C + 2*C
}

// A workload is one kernel call at one shape, described independently of the device that
// runs it, so that every backend can build its own operands for it.
type workload struct {
	Size   string  `json:"size"`
	Name   string  `json:"name"`
	Kernel string  `json:"kernel"`
	Shape  string  `json:"shape"`
	FLOPs  float64 `json:"flops,omitempty"` // useful arithmetic per call; set for compute-bound kernels
	Bytes  float64 `json:"bytes,omitempty"` // bytes read plus bytes written per call; set for the others

	TransA, TransB bool `json:"-"`
	M, N, K        int  `json:"-"` // Gemm
	s              size
	rows, cols     int // row-wise kernels: rows × cols, or cols elements when rows is 1
}

// computeBound reports whether the workload is measured in FLOP/s against the matrix ceiling
// rather than in bytes/s against the copy ceiling.
func (w workload) computeBound() bool { return w.FLOPs > 0 }

const f32 = 4 // bytes

// workloads returns the kernel calls of one training step of a model of size s, one of each
// kind; the products are those of the qkv projection, the MLP and the output head, as the
// model makes them.
func workloads(s size) []workload {
	N, C := s.B*s.T, s.C
	gemm := func(name string, transA, transB bool, m, n, k int) workload {
		t := map[bool]string{false: "N", true: "T"}
		return workload{Name: "gemm " + name, Kernel: "Gemm", TransA: transA, TransB: transB, M: m, N: n, K: k,
			Shape: fmt.Sprintf("%s%s m=%d n=%d k=%d", t[transA], t[transB], m, n, k), FLOPs: 2 * float64(m) * float64(n) * float64(k)}
	}
	// accesses is how many times each element of a rows×cols operand is read or written.
	rowwise := func(name, kernel string, rows, cols int, accesses float64) workload {
		shape := fmt.Sprintf("%d×%d", rows, cols)
		if rows == 1 {
			shape = fmt.Sprintf("n=%d", cols)
		}
		return workload{Name: name, Kernel: kernel, rows: rows, cols: cols, Shape: shape, Bytes: accesses * f32 * float64(rows) * float64(cols)}
	}
	// Causal attention does 2·hd multiply-adds per visible query-key pair in each of QKᵀ and
	// P·V, summed over heads: 4·C per pair. The backward pass has four products, not two.
	pairs := float64(s.B) * float64(s.T) * float64(s.T+1) / 2
	attn := fmt.Sprintf("B=%d T=%d C=%d NH=%d", s.B, s.T, C, s.NH)
	P := s.params()
	ws := []workload{
		// The model keeps W as out×in: y = x·Wᵀ (NT), dx = dy·W (NN), dW = dyᵀ·x (TN).
		gemm("qkv", false, true, N, 3*C, C),
		gemm("qkv dx", false, false, N, C, 3*C),
		gemm("qkv dw", true, false, 3*C, C, N),
		gemm("mlp up", false, true, N, 4*C, C),
		gemm("mlp down", false, true, N, C, 4*C),
		gemm("mlp down dw", true, false, C, 4*C, N),
		gemm("head", false, true, N, s.V, C), // tied to the token embedding
		{Name: "attention", Kernel: "AttentionForward", Shape: attn, FLOPs: 4 * float64(C) * pairs},
		{Name: "attention bwd", Kernel: "AttentionBackward", Shape: attn, FLOPs: 8 * float64(C) * pairs},
		// One sampling step reads every sequence's full key and value caches.
		{Name: "attention step", Kernel: "AttentionStep", Shape: attn, Bytes: f32 * 2 * float64(N) * float64(C)},
		rowwise("copy rows", "CopyRows", N, C, 2),                        // the prompts' keys into the cache
		rowwise("embedding", "EmbeddingForward", N, C, 3),                // two rows in, one out
		rowwise("embedding bwd", "EmbeddingBackward", N, C, 5),           // dout in, two rows updated
		rowwise("layernorm", "LayerNormForward", N, C, 2),                // x in, out
		rowwise("layernorm bwd", "LayerNormBackward", N, C, 3),           // dout and x in, dx out
		rowwise("gelu", "GeluForward", N, 4*C, 2),                        // x in, out
		rowwise("gelu bwd", "GeluBackward", N, 4*C, 3),                   // x and dout in, dx out
		rowwise("logsoftmax", "LogSoftmaxGatherForward", N, s.V, 1),      // logits in
		rowwise("logsoftmax bwd", "LogSoftmaxGatherBackward", N, s.V, 2), // logits in, dlogits out
		rowwise("gather rows", "GatherRows", N/2, C, 2),                  // rows in, out
		rowwise("scatter rows", "ScatterRows", N/2, C, 5),                // dx of N rows zeroed, dout in, rows updated
		rowwise("residual add", "Add", 1, N*C, 3),                        // a and b in, out
		rowwise("add bias", "AddBias", N, 3*C, 2),                        // x updated
		rowwise("sum rows", "SumRows", N, 3*C, 1),                        // dout in
		rowwise("adamw", "AdamW", 1, P, 7),                               // param, grad, m, v in; param, m, v out
		rowwise("sum squares", "SumSquares", 1, P, 1),                    // x in
		rowwise("scale", "Scale", 1, P, 2),                               // x updated
	}
	if s.Name == "large" {
		ws = append(ws, gemm("square", false, false, 512, 512, 512))
	}
	for i := range ws {
		ws[i].Size, ws[i].s = s.Name, s
	}
	return ws
}
