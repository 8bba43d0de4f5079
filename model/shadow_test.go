package model

import (
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/internal/shadow"
)

// newShadow returns a float32 backend whose memory the host cannot read, as a device's (package
// shadow): a test double for the GPU that runs package kernels. Code outside the backend that
// reads a tensor's data directly reads poison, and what it writes there is reported. Ops run on
// the TapeMachine's goroutine, not the test's, so misuse is reported with Errorf. It counts
// the host's reads of its memory in readBacks.
func newShadow(t *testing.T) (sh *shadow.Memory, be *backend[float32], readBacks *int) {
	sh = &shadow.Memory{Report: func(msg string) { t.Error(msg) }}
	readBacks = new(int)
	h := cpuKernels
	f, ix := sh.Floats, sh.Indices
	be = &backend[float32]{
		dtype:         tensor.Float32,
		alloc:         sh.Alloc,
		allocIndex:    sh.AllocIndex,
		upload:        func(dst, src []float32) { copy(f(dst), src) },
		uploadIndex:   func(dst, src []int32) { copy(ix(dst), src) },
		download:      func(dst, src []float32) { *readBacks++; copy(dst, f(src)) },
		downloadIndex: func(dst, src []int32) { *readBacks++; copy(dst, ix(src)) },
		zero:          func(x []float32) { clear(f(x)) },
		copy:          func(dst, src []float32) { copy(f(dst), f(src)) },
		gemm: func(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			h.gemm(ta, tb, m, n, k, alpha, f(a), lda, f(b), ldb, beta, f(c), ldc)
		},
		addBias: func(x, bias []float32, N, C int) { h.addBias(f(x), f(bias), N, C) },
		sumRows: func(dbias, dout []float32, N, C int) { h.sumRows(f(dbias), f(dout), N, C) },
		layerNormForward: func(out, mean, rstd, x, weight, bias []float32, N, C int) {
			h.layerNormForward(f(out), f(mean), f(rstd), f(x), f(weight), f(bias), N, C)
		},
		layerNormBackward: func(dx, dweight, dbias, dout, x, weight, mean, rstd []float32, N, C int) {
			h.layerNormBackward(f(dx), f(dweight), f(dbias), f(dout), f(x), f(weight), f(mean), f(rstd), N, C)
		},
		attentionForward: func(out, att, qkv []float32, lens []int32, B, T, C, NH int) {
			h.attentionForward(f(out), f(att), f(qkv), ix(lens), B, T, C, NH)
		},
		attentionBackward: func(dqkv, scratch, dout, qkv, att []float32, lens []int32, B, T, C, NH int) {
			h.attentionBackward(f(dqkv), f(scratch), f(dout), f(qkv), f(att), ix(lens), B, T, C, NH)
		},
		geluForward:  func(out, x []float32) { h.geluForward(f(out), f(x)) },
		geluBackward: func(dx, x, dout []float32) { h.geluBackward(f(dx), f(x), f(dout)) },
		add:          func(out, a, b []float32) { h.add(f(out), f(a), f(b)) },
		gatherRows:   func(out, x []float32, idx []int32, C int) { h.gatherRows(f(out), f(x), ix(idx), C) },
		scatterRows: func(dx, dout []float32, idx []int32, rows, C int) {
			h.scatterRows(f(dx), f(dout), ix(idx), rows, C)
		},
		logSoftmaxGatherForward: func(logp, lse, logits []float32, targets []int32, N, V int) {
			h.logSoftmaxGatherForward(f(logp), f(lse), f(logits), ix(targets), N, V)
		},
		logSoftmaxGatherBackward: func(dlogits, dlogp, logits, lse []float32, targets []int32, N, V int) {
			h.logSoftmaxGatherBackward(f(dlogits), f(dlogp), f(logits), f(lse), ix(targets), N, V)
		},
		embeddingForward: func(out, wte, wpe []float32, tokens, pos []int32, C int) {
			h.embeddingForward(f(out), f(wte), f(wpe), ix(tokens), ix(pos), C)
		},
		attentionStep: func(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int) {
			h.attentionStep(f(out), f(qkv), f(kc), f(vc), ix(lens), B, capacity, C, NH)
		},
		copyRows: func(dst []float32, dstStride int, src []float32, srcStride int, dstRows, srcRows []int32, C int) {
			h.copyRows(f(dst), dstStride, f(src), srcStride, ix(dstRows), ix(srcRows), C)
		},
		sample: func(tokens []int32, logp, logits []float32, ids, offsets []int32, u []float32, B, V int, sc SampleConfig) {
			h.sample(ix(tokens), f(logp), f(logits), ix(ids), ix(offsets), f(u), B, V, sc)
		},
		scale: func(x []float32, s float32) { h.scale(f(x), s) },
		sumSquares: func(xs [][]float32) float64 {
			*readBacks++
			shadows := make([][]float32, len(xs))
			for i, x := range xs {
				shadows[i] = f(x)
			}
			return h.sumSquares(shadows)
		},
		adamW: func(param, grad, m, v []float32, lr, beta1, beta2, eps, wd float32, t int) {
			h.adamW(f(param), f(grad), f(m), f(v), lr, beta1, beta2, eps, wd, t)
		},
		objective: func(o Objective, s tokenStats[float32], dlogp []float32) Terms {
			if dlogp == nil {
				*readBacks++ // the Terms; with dlogp they are not read
			}
			return h.objective(o, tokenStats[float32]{f(s.logp), f(s.old), f(s.ref), f(s.adv), f(s.wPG), f(s.wDistill)}, f(dlogp))
		},
	}
	// A function the shadow does not wrap would be nil, or run on its poison.
	v := reflect.ValueOf(be).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Func && f.IsNil() {
			t.Fatalf("the shadow backend has no %s", v.Type().Field(i).Name)
		}
	}
	return sh, be, readBacks
}

// onShadow returns a copy of m on a shadow backend of its own.
func onShadow(t *testing.T, m *Model) *Model {
	_, be, _ := newShadow(t)
	return copyOn(t, be, m)
}

// copyOn returns a copy of m on be.
func copyOn(t *testing.T, be *backend[float32], m *Model) *Model {
	dup, err := newOn(engine[float32]{be: be}, m.Config, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := dup.CopyWeightsFrom(m); err != nil {
		t.Fatal(err)
	}
	return dup
}

// TestDeviceMemoryParity runs training steps on a backend whose memory the host cannot read
// and on the host's, from the same weights and batches: losses, gradients, updated weights,
// moments and logits must be the same bits, a checkpoint written from the shadow backend must
// hold the same weights, a step reads back only what it logs (each micro-batch's terms and the
// gradient norm; the KL term's reference log-probabilities stay on the backend), and after the
// first step nothing is allocated on the backend, as a device's memory pool requires.
func TestDeviceMemoryParity(t *testing.T) {
	sh, be, readBacks := newShadow(t)
	onHost := newTestModel(t, tinyConfig, tensor.Float32, 3)
	onDevice := copyOn(t, be, onHost)
	refHost := newTestModel(t, tinyConfig, tensor.Float32, 4)
	refDevice := copyOn(t, be, refHost)
	obj := DefaultObjective()
	obj.KLCoef = 0.05
	optHost, err := NewAdamW(DefaultOptim(), onHost.Params)
	if err != nil {
		t.Fatal(err)
	}
	optDevice, err := NewAdamW(DefaultOptim(), onDevice.Params)
	if err != nil {
		t.Fatal(err)
	}
	batch := pgBatch(tinyConfig, 5)
	for i := range batch.Scored {
		if i%3 == 0 { // some distillation tokens, and some choices among allowed tokens
			batch.Scored[i].PGWeight, batch.Scored[i].DistillWeight = 0, 0.1
		}
		if i%4 == 1 {
			tok := batch.Seqs[batch.Scored[i].Seq].Tokens[batch.Scored[i].Index]
			batch.Scored[i].Allowed = []int32{tok, (tok + 1) % int32(tinyConfig.Vocab)}
		}
	}
	same := func(what string, host, device *tensor.Dense) {
		t.Helper()
		if h, d := floatsOf(host), floatsOf(device); !slices.Equal(h, d) {
			t.Errorf("%s differs between host and shadow memory: %v… against %v…", what, h[:3], d[:3])
		}
	}
	allocsAfterFirst := 0
	for step := range 3 {
		termsHost, err := onHost.Gradients(batch, obj, refHost)
		if err != nil {
			t.Fatal(err)
		}
		*readBacks = 0
		termsDevice, err := onDevice.Gradients(batch, obj, refDevice)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(onDevice.microBatches(batch)); *readBacks != want {
			t.Errorf("step %d: the gradients read %d values back from the backend; want the terms of each of %d micro-batches", step, *readBacks, want)
		}
		if termsHost != termsDevice {
			t.Errorf("step %d: terms %+v on the host, %+v on shadow memory", step, termsHost, termsDevice)
		}
		for i, p := range onHost.Params {
			same("the gradient of "+p.Name, p.Grad, onDevice.Params[i].Grad)
		}
		normHost, _, err := optHost.Update(onHost.Params)
		if err != nil {
			t.Fatal(err)
		}
		*readBacks = 0
		normDevice, _, err := optDevice.Update(onDevice.Params)
		if err != nil {
			t.Fatal(err)
		}
		if *readBacks != 1 {
			t.Errorf("step %d: the update read %d values back from the backend; want one, the gradient norm", step, *readBacks)
		}
		if normHost != normDevice {
			t.Errorf("step %d: gradient norm %v on the host, %v on shadow memory", step, normHost, normDevice)
		}
		if step == 0 {
			allocsAfterFirst = sh.Allocs
		}
	}
	if sh.Allocs != allocsAfterFirst {
		t.Errorf("steps after the first allocated %d tensors on the backend; want none", sh.Allocs-allocsAfterFirst)
	}
	for i, p := range onHost.Params {
		same(p.Name, p.Value, onDevice.Params[i].Value)
		same("the first moment of "+p.Name, optHost.M[i], optDevice.M[i])
		same("the second moment of "+p.Name, optHost.V[i], optDevice.V[i])
	}
	logitsHost, err := onHost.Logits(batch)
	if err != nil {
		t.Fatal(err)
	}
	logitsDevice, err := onDevice.Logits(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range logitsHost {
		if !slices.Equal(logitsHost[i], logitsDevice[i]) {
			t.Fatalf("the logits of scored token %d differ between host and shadow memory", i)
		}
	}

	path := filepath.Join(t.TempDir(), "shadow.safetensors")
	if err := SaveCheckpoint(path, onDevice, optDevice, nil); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range onHost.Params {
		same("the checkpointed "+p.Name, p.Value, ck.Model.Params[i].Value)
	}
}

// TestGenerateOnDeviceMemory: from the same weights, prompts and random numbers, generation on
// a backend whose memory the host cannot read draws the same tokens with the same
// log-probabilities as on the host, greedy and sampled, with allowed sets that change from
// step to step.
func TestGenerateOnDeviceMemory(t *testing.T) {
	cfg := Config{Vocab: 13, DModel: 16, Layers: 2, Heads: 2, ContextLen: 48}
	onHost := newTestModel(t, cfg, tensor.Float32, 8)
	onDevice := onShadow(t, onHost)
	prompts := randomBatch(cfg, []int{3, 7, 5, 7, 2}, rand.New(rand.NewPCG(2, 3))).Seqs
	prompts[3] = prompts[1] // equal prompts share a prefill
	allowed := func(i int, generated []int32) []int32 {
		if (i+len(generated))%3 == 0 {
			return nil // every token
		}
		return []int32{int32(len(generated) % 5), 7, 9, 12}
	}
	for _, sc := range []SampleConfig{{Greedy: true}, {Temperature: 1}, {Temperature: 0.7, TopK: 3, TopP: 0.8}} {
		opt := GenerateOptions{MaxNew: 8, Stop: 12, Allowed: allowed, Sample: sc}
		host, err := onHost.Generate(prompts, opt, rand.New(rand.NewPCG(4, 4)))
		if err != nil {
			t.Fatal(err)
		}
		device, err := onDevice.Generate(prompts, opt, rand.New(rand.NewPCG(4, 4)))
		if err != nil {
			t.Fatal(err)
		}
		for i := range host {
			if !slices.Equal(host[i].Tokens, device[i].Tokens) || !slices.Equal(host[i].Logp, device[i].Logp) {
				t.Errorf("%+v, prompt %d: host %v %v, shadow memory %v %v", sc, i, host[i].Tokens, host[i].Logp, device[i].Tokens, device[i].Logp)
			}
		}
	}
}
