package shape

import (
	"fmt"
	"strings"
	"testing"
)

// TestChecks holds each check to a call whose arguments fit (no panic) and to one whose
// argument does not (a panic naming the kernel and the argument).
func TestChecks(t *testing.T) {
	f := func(n int) []float32 { return make([]float32, n) }
	i := func(n int) []int32 { return make([]int32, n) }
	const N, C, V, B, T, NH = 3, 4, 5, 2, 3, 2
	tests := []struct {
		name      string
		fits, not func()
		want      string
	}{
		{"Add", func() { Add(f(4), f(4), f(5)) }, func() { Add(f(4), f(4), f(3)) }, "kernels: Add: len(b) = 3, need 4"},
		{"AddBias", func() { AddBias(f(N*C), f(C), N, C) }, func() { AddBias(f(N*C), f(C), N, -1) }, "kernels: AddBias: C = -1, must be at least 0"},
		{"SumRows", func() { SumRows(f(C), f(N*C), N, C) }, func() { SumRows(f(C), f(N*C-1), N, C) }, "kernels: SumRows: len(dout) = 11, need 12"},
		{"GeluForward", func() { GeluForward(f(3), f(3)) }, func() { GeluForward(f(2), f(3)) }, "kernels: GeluForward: len(out) = 2, need 3"},
		{"GeluBackward", func() { GeluBackward(f(3), f(3), f(3)) }, func() { GeluBackward(f(3), f(3), f(2)) }, "kernels: GeluBackward: len(dout) = 2, need 3"},
		{"AdamW", func() { AdamW(f(3), f(3), f(3), f(3), 1) }, func() { AdamW(f(3), f(3), f(3), f(3), 0) }, "kernels: AdamW: step t = 0, must be at least 1"},
		{"LayerNormForward", func() { LayerNormForward(f(N*C), nil, nil, f(N*C), f(C), f(C), N, C) },
			func() { LayerNormForward(f(N*C), f(N-1), nil, f(N*C), f(C), f(C), N, C) }, "kernels: LayerNormForward: len(mean) = 2, need 3"},
		{"LayerNormBackward", func() { LayerNormBackward(nil, nil, nil, f(N*C), f(N*C), f(C), f(N), f(N), N, C) },
			func() { LayerNormBackward(nil, nil, nil, f(N*C), f(N*C), f(C), f(N), nil, N, C) }, "kernels: LayerNormBackward: len(rstd) = 0, need 3"},
		{"AttentionForward", func() { AttentionForward(f(B*T*C), f(B*NH*T*T), f(B*T*3*C), nil, B, T, C, NH) },
			func() { AttentionForward(f(B*T*C), f(B*NH*T*T), f(B*T*3*C), nil, B, T, 5, NH) }, "kernels: AttentionForward: C = 5 is not a multiple of NH = 2"},
		{"AttentionBackward", func() { AttentionBackward(f(B*T*3*C), nil, f(B*T*C), f(B*T*3*C), f(B*NH*T*T), i(B), B, T, C, NH) },
			func() { AttentionBackward(f(B*T*3*C), nil, f(B*T*C), f(B*T*3*C), f(B*NH*T*T), i(B-1), B, T, C, NH) }, "kernels: AttentionBackward: len(lens) = 1, need 2"},
		{"AttentionStep", func() { AttentionStep(f(B*C), f(B*3*C), f(B*T*C), f(B*T*C), i(B), B, T, C, NH) },
			func() { AttentionStep(f(B*C), f(B*3*C), f(B*T*C), f(B*T*C-1), i(B), B, T, C, NH) }, "kernels: AttentionStep: len(vc) = 23, need 24"},
		{"CopyRows", func() { CopyRows(C, 3*C, i(2), i(2), C) }, func() { CopyRows(C-1, 3*C, i(2), i(2), C) }, "kernels: CopyRows: dstStride = 3, must be at least 4"},
		{"EmbeddingForward", func() { EmbeddingForward(f(N*C), i(N), i(N), C) }, func() { EmbeddingForward(f(N*C), i(N), i(N-1), C) }, "kernels: EmbeddingForward: len(pos) = 2, need 3"},
		{"EmbeddingBackward", func() { EmbeddingBackward(f(N*C), i(N), i(N), C) }, func() { EmbeddingBackward(f(N*C-1), i(N), i(N), C) }, "kernels: EmbeddingBackward: len(dout) = 11, need 12"},
		{"GatherRows", func() { GatherRows(f(N*C), i(N), C) }, func() { GatherRows(f(N*C), i(N), 0) }, "kernels: GatherRows: C = 0, must be at least 1"},
		{"ScatterRows", func() { ScatterRows(f(N*C), f(2*C), i(2), N, C) }, func() { ScatterRows(f(N*C), f(2*C), i(3), N, C) }, "kernels: ScatterRows: len(dout) = 8, need 12"},
		{"LogSoftmaxGatherForward", func() { LogSoftmaxGatherForward(f(N), nil, f(N*V), i(N), N, V) },
			func() { LogSoftmaxGatherForward(f(N), nil, f(N*V), i(N), N, 0) }, "kernels: LogSoftmaxGatherForward: V = 0, must be at least 1"},
		{"LogSoftmaxGatherBackward", func() { LogSoftmaxGatherBackward(f(N*V), f(N), f(N*V), f(N), i(N), N, V) },
			func() { LogSoftmaxGatherBackward(f(N*V), f(N), f(N*V), f(N), i(N-1), N, V) }, "kernels: LogSoftmaxGatherBackward: len(targets) = 2, need 3"},
		{"Gemm", func() { Gemm("Gemm", true, false, 2, 3, 4, f(8), 2, 0, f(12), 3, 0, f(6), 3, 0, 1) },
			func() { Gemm("Gemm", true, false, 2, 3, 4, f(8), 1, 0, f(12), 3, 0, f(6), 3, 0, 1) }, "kernels: Gemm: lda = 1, need at least 2 for a stored 4×2 matrix"},
		{"GemmStridedBatched", func() { Gemm("GemmStridedBatched", false, false, 2, 3, 4, f(8), 4, 0, f(24), 3, 12, f(12), 3, 6, 2) },
			func() { Gemm("GemmStridedBatched", false, false, 2, 3, 4, f(8), 4, 0, f(23), 3, 12, f(12), 3, 6, 2) },
			"kernels: GemmStridedBatched: len(b) = 23, need 24 for 2 stored 4×3 matrices with row stride 3 and batch stride 12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if msg, ok := panics(tc.fits); ok {
				t.Errorf("arguments that fit panic: %s", msg)
			}
			msg, ok := panics(tc.not)
			if !ok || !strings.Contains(msg, tc.want) {
				t.Errorf("panic %q (panicked: %v), want one containing %q", msg, ok, tc.want)
			}
		})
	}
}

// panics runs f and returns its panic's message, and whether it panicked.
func panics(f func()) (msg string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok = fmt.Sprint(r), true
		}
	}()
	f()
	return "", false
}
