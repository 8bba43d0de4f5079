//go:build gpu || cudaemu

package model

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/kernels/cuda"
)

// The device tests run on the CUDA backend too: on the GPU with -tags gpu, on the CPU
// emulator of the kernels with -tags cudaemu.
func init() {
	testDevices = append(testDevices, testDevice{name: "cuda", backend: func(t *testing.T) *backend[float32] {
		be, err := cudaBackend()
		if err != nil {
			t.Fatal(err)
		}
		return be
	}})
}

// TestTrainingStepParity: from the same checkpoint and batch, one training step on the CUDA
// backend and on the host give a loss within 1e-4 (relative) and updated parameters within
// 1e-3 of each other, at the base model's size on a GPU (the small one on the emulator), with
// every term of the objective in play.
func TestTrainingStepParity(t *testing.T) {
	dev, err := cuda.Open()
	if err != nil {
		t.Fatal(err)
	}
	size, seqs := Base, 32
	if dev.Arch() == "emulated" {
		size, seqs = Small, 6
	}
	cfg, err := NewConfig(size)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, tensor.Float32, 11)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := NewAdamW(DefaultOptim(), m.Params)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "start.safetensors")
	if err := SaveCheckpoint(path, m, opt, nil); err != nil {
		t.Fatal(err)
	}
	load := func(device string) *Checkpoint {
		ck, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := ck.To(device); err != nil {
			t.Fatal(err)
		}
		return ck
	}
	onHost, onGPU := load("cpu"), load("cuda")

	rng := rand.New(rand.NewPCG(12, 13))
	lens := make([]int, seqs)
	for i := range lens {
		lens[i] = 40 + rng.IntN(60) // the lengths of the policy's contexts
	}
	batch := randomBatch(cfg, lens, rng)
	for i := range batch.Scored {
		sc := &batch.Scored[i]
		sc.OldLogp, sc.RefLogp = float32(-5+rng.NormFloat64()), float32(-5+rng.NormFloat64())
		sc.Advantage = float32(rng.NormFloat64())
		if i%4 == 0 {
			sc.DistillWeight = 0.01
		} else {
			sc.PGWeight = 0.01
		}
		if i%3 == 0 {
			tok := batch.Seqs[sc.Seq].Tokens[sc.Index]
			sc.Allowed = []int32{tok, (tok + 5) % int32(cfg.Vocab), (tok + 9) % int32(cfg.Vocab)}
		}
	}
	obj := DefaultObjective()
	obj.KLCoef = 0.05
	step := func(ck *Checkpoint) (Terms, float64) {
		terms, err := ck.Model.Gradients(batch, obj, nil)
		if err != nil {
			t.Fatal(err)
		}
		norm, _, err := ck.Optim.Update(ck.Model.Params)
		if err != nil {
			t.Fatal(err)
		}
		return terms, norm
	}
	termsHost, normHost := step(onHost)
	termsGPU, normGPU := step(onGPU)
	if e := math.Abs(termsGPU.Loss-termsHost.Loss) / math.Abs(termsHost.Loss); !(e <= 1e-4) {
		t.Errorf("loss %.9g on the GPU, %.9g on the host: relative error %.2g", termsGPU.Loss, termsHost.Loss, e)
	}
	t.Logf("loss %.9g on the GPU, %.9g on the host; gradient norm %.9g and %.9g", termsGPU.Loss, termsHost.Loss, normGPU, normHost)
	worst, at := 0.0, ""
	for i, p := range onHost.Model.Params {
		host, gpu := floatsOf(p.Value), floatsOf(onGPU.Model.Params[i].Value)
		for j := range host {
			if d := math.Abs(gpu[j] - host[j]); !(d <= worst) {
				worst, at = d, p.Name
			}
		}
	}
	if !(worst <= 1e-3) {
		t.Errorf("an updated parameter of %s is %.2g away from the host's; want at most 1e-3", at, worst)
	}
	t.Logf("largest difference of an updated parameter: %.2g (%s)", worst, at)
}

// TestDroppedProgramsFreeDeviceMemory: the memory of the programs a model drops (beyond
// maxPrograms) and of finished decoders goes back to the device's pool, so that a long run
// reuses it rather than holding more and more: going twice through more shapes than a model
// keeps programs for holds no more memory than going once.
func TestDroppedProgramsFreeDeviceMemory(t *testing.T) {
	dev, err := cuda.Open()
	if err != nil {
		t.Fatal(err)
	}
	be, err := cudaBackend()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Vocab: 11, DModel: 8, Layers: 1, Heads: 2, ContextLen: 32}
	m := copyOn(t, be, newTestModel(t, cfg, tensor.Float32, 5))
	rng := rand.New(rand.NewPCG(6, 6))
	// Batches of 8 or 16 sequences of 16 or 32 tokens, with 20 to 200 scored tokens, each
	// through the logits' program and the log-probabilities': 30 programs.
	var batches []*Batch
	for _, seqs := range []int{8, 16} {
		for _, seqLen := range []int{16, 32} {
			for _, scored := range []int{20, 50, 100, 200} {
				lens := make([]int, seqs)
				for i := range lens {
					lens[i] = seqLen
				}
				if b := randomBatch(cfg, lens, rng); scored <= len(b.Scored) {
					b.Scored = b.Scored[:scored]
					batches = append(batches, b)
				}
			}
		}
	}
	if 2*len(batches) <= maxPrograms {
		t.Fatalf("%d programs do not exceed the %d a model keeps", 2*len(batches), maxPrograms)
	}
	prompts := randomBatch(cfg, []int{3, 5}, rng).Seqs
	cycle := func() int64 {
		t.Helper()
		for i, b := range batches {
			if _, err := m.Logits(b); err != nil {
				t.Fatal(err)
			}
			if _, err := m.LogProbs(b); err != nil {
				t.Fatal(err)
			}
			if i%5 == 0 {
				if _, err := m.Generate(prompts, GenerateOptions{MaxNew: 4, Stop: -1, Sample: SampleConfig{Greedy: true}}, rng); err != nil {
					t.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.GC()
		time.Sleep(100 * time.Millisecond) // cleanups run on a goroutine of their own
		return dev.Stats().InUse
	}
	once := cycle()
	twice := cycle()
	runtime.KeepAlive(m)
	t.Logf("device memory in use after %d programs: %d bytes; after %d more: %d", 2*len(batches), once, 2*len(batches), twice)
	if twice > once+once/4 {
		t.Errorf("the device holds %d bytes after going twice through %d programs, against %d after once: the memory of dropped programs does not come back", twice, 2*len(batches), once)
	}
}

// BenchmarkTrainStepCUDA is BenchmarkTrainStep on the CUDA backend at the base model's size,
// the GPU's default: "gradients" times Gradients (forward, objective, backward, the terms read
// back), as BenchmarkTrainStep does, and "step" the whole update (and the gradient norm,
// clipping and AdamW), as PyTorch's peer times them (bench/torch/peer.py step --size base).
func BenchmarkTrainStepCUDA(b *testing.B) {
	cfg, err := NewConfig(Base)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewOn("cuda", cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	m.MicroBatch = benchSeqs
	opt, err := NewAdamW(DefaultOptim(), m.Params)
	if err != nil {
		b.Fatal(err)
	}
	batch := benchBatch(cfg)
	flops := trainStepFlops(cfg, benchSeqs, benchSeqLen, len(batch.Scored))
	for _, update := range []bool{false, true} {
		name := map[bool]string{false: "gradients", true: "step"}[update]
		b.Run(name, func(b *testing.B) {
			step := func() {
				if _, err := m.Gradients(batch, DefaultObjective(), nil); err != nil {
					b.Fatal(err)
				}
				if update {
					if _, _, err := opt.Update(m.Params); err != nil {
						b.Fatal(err)
					}
				}
			}
			step() // builds the program and fills the memory pool
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(benchSeqs*benchSeqLen/sec, "tokens/s")
			b.ReportMetric(flops/sec/1e9, "GFLOP/s")
		})
	}
}
