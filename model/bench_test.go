package model

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/kernels"
)

// The benchmarks run the small model at the shapes of training: batches of action-turn
// contexts of about 96 tokens, one scored token each, and reflections of 24 tokens.
const (
	benchSeqs   = 64
	benchSeqLen = 96
)

func benchModel(b *testing.B) *Model {
	b.Helper()
	cfg, err := NewConfig(Small)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg, tensor.Float32, 1)
	if err != nil {
		b.Fatal(err)
	}
	m.MicroBatch = benchSeqs
	return m
}

func benchBatch(cfg Config) *Batch {
	rng := rand.New(rand.NewPCG(1, 1))
	lens := make([]int, benchSeqs)
	for i := range lens {
		lens[i] = benchSeqLen
	}
	b := randomBatch(cfg, lens, rng)
	for i := range b.Scored {
		b.Scored[i].PGWeight = 1 / float32(len(b.Scored))
		b.Scored[i].Advantage = float32(rng.NormFloat64())
	}
	return b
}

// trainStepFlops counts the floating-point operations of one forward and backward pass over
// B sequences of T tokens with M scored tokens: every matrix product (3× its forward cost for
// forward + both gradients) and attention's two batched products per head.
func trainStepFlops(c Config, B, T, M int) float64 {
	n, d := float64(B*T), float64(c.DModel)
	perLayer := 2 * n * d * (3*d + d + 4*d + 4*d)      // qkv, attention projection, MLP in and out
	attention := 2 * 2 * float64(B) * float64(T*T) * d // QKᵀ and P·V over all heads
	head := 2 * float64(M) * d * float64(c.Vocab)
	return 3 * (float64(c.Layers)*(perLayer+attention) + head)
}

// BenchmarkTrainStep measures a training step (forward, objective, backward) of the small
// model: tokens/s and effective GFLOP/s, to compare with BenchmarkSgemmTrainShapes.
func BenchmarkTrainStep(b *testing.B) {
	m := benchModel(b)
	batch := benchBatch(m.Config)
	// Score every position, as distillation of reflections does; the action turns score one.
	flops := trainStepFlops(m.Config, benchSeqs, benchSeqLen, len(batch.Scored))
	exportBenchInputs(b, m, batch)
	if _, err := m.Gradients(batch, DefaultObjective(), nil); err != nil { // build the program
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Gradients(batch, DefaultObjective(), nil); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(benchSeqs*benchSeqLen/sec, "tokens/s")
	b.ReportMetric(flops/sec/1e9, "GFLOP/s")
}

// BenchmarkSgemmTrainShapes runs gonum's sgemm over the matrix products of one training step
// of BenchmarkTrainStep (forward, dX and dW of every Linear), the ceiling its GFLOP/s is read
// against.
func BenchmarkSgemmTrainShapes(b *testing.B) {
	c, _ := NewConfig(Small)
	n, d := benchSeqs*benchSeqLen, c.DModel
	type shape struct{ m, k, n int }
	var shapes []shape
	for _, out := range []struct{ in, out int }{{d, 3 * d}, {d, d}, {d, 4 * d}, {4 * d, d}} {
		shapes = append(shapes, shape{n, out.in, out.out}, shape{n, out.out, out.in}, shape{out.out, n, out.in})
	}
	// Random operands: gonum's sgemm skips zeros of A, so zeroed inputs would flatter it.
	rng := rand.New(rand.NewPCG(3, 3))
	random := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	bufs := make([][3][]float32, len(shapes))
	var flops float64
	for i, s := range shapes {
		bufs[i] = [3][]float32{random(s.m * s.k), random(s.k * s.n), make([]float32, s.m*s.n)}
		flops += 2 * float64(s.m*s.k*s.n) * float64(c.Layers)
	}
	b.ResetTimer()
	for b.Loop() {
		for range c.Layers {
			for i, s := range shapes {
				kernels.Gemm(false, false, s.m, s.n, s.k, 1, bufs[i][0], s.k, bufs[i][1], s.n, 0, bufs[i][2], s.n)
			}
		}
	}
	b.ReportMetric(flops/(b.Elapsed().Seconds()/float64(b.N))/1e9, "GFLOP/s")
}

// benchGenerate is how BenchmarkSample samples: 24 tokens after each prompt at temperature 1.
var benchGenerate = GenerateOptions{MaxNew: 24, Stop: -1, Sample: SampleConfig{Temperature: 1}}

// BenchmarkSample measures sampling with the KV cache: 64 reflection prompts of 96 tokens
// extended by 24 tokens each.
func BenchmarkSample(b *testing.B) {
	m := benchModel(b)
	batch := benchBatch(m.Config)
	exportBenchInputs(b, m, batch)
	rng := rand.New(rand.NewPCG(2, 2))
	opt := benchGenerate
	// Build the prompts' program outside the timing, as BenchmarkTrainStep does: in a run of
	// 10 iterations its 0.2 s would add a tenth of itself to each.
	if _, err := m.Generate(batch.Seqs, opt, rng); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Generate(batch.Seqs, opt, rng); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(benchSeqs*opt.MaxNew)/sec, "sampled-tokens/s")
}
