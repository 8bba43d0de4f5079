package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/internal/shadow"
)

// newShadow returns a float32 backend whose memory the host cannot read, as a device's (package
// shadow): a test double for the GPU that runs package kernels. Code outside the backend that
// reads a tensor's data directly reads poison, and what it writes there is reported. Ops run on
// the TapeMachine's goroutine, not the test's, so misuse is reported with Errorf.
func newShadow(t *testing.T) *backend[float32] {
	sh := &shadow.Memory{Report: func(msg string) { t.Error(msg) }}
	h := cpuKernels
	f, ix := sh.Floats, sh.Indices
	be := &backend[float32]{
		dtype:         tensor.Float32,
		alloc:         sh.Alloc,
		allocIndex:    sh.AllocIndex,
		upload:        func(dst, src []float32) { copy(f(dst), src) },
		uploadIndex:   func(dst, src []int32) { copy(ix(dst), src) },
		download:      func(dst, src []float32) { copy(dst, f(src)) },
		downloadIndex: func(dst, src []int32) { copy(dst, ix(src)) },
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
			return h.objective(o, tokenStats[float32]{f(s.logp), f(s.old), f(s.ref), f(s.adv), f(s.wPG), f(s.wDistill)}, f(dlogp))
		},
	}
	// A function the shadow does not wrap would be nil, or run on its poison.
	v := reflect.ValueOf(be).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Func && f.IsNil() && !strings.HasPrefix(v.Type().Field(i).Name, "free") {
			t.Fatalf("the shadow backend has no %s", v.Type().Field(i).Name)
		}
	}
	return be
}

// A testDevice is a backend whose memory the host may not read, on which the device tests
// (TestDeviceMemoryParity, TestKVCacheParity, TestGenerateOnDeviceMemory) run beside the host:
// the shadow here, and the GPU in a build with -tags gpu (cuda_test.go).
type testDevice struct {
	name    string
	backend func(t *testing.T) *backend[float32]
	// exact is set when the device's arithmetic is the host's, so that its results must be
	// the host's bits; otherwise they must lie within float32 rounding of them.
	exact bool
}

var testDevices = []testDevice{{name: "shadow", backend: newShadow, exact: true}}

// forEachDevice runs test once per test device, as a subtest named after it.
func forEachDevice(t *testing.T, test func(t *testing.T, dev testDevice)) {
	for _, dev := range testDevices {
		t.Run(dev.name, func(t *testing.T) { test(t, dev) })
	}
}

// counts are what counted observes of a backend.
type counts struct {
	// readBacks counts the host's reads of the backend's memory, allocs its allocations.
	readBacks, allocs int
}

// counted returns be with its read-backs and allocations counted: a download, a sum of squares,
// and the objective's terms each read back once (with dlogp, the objective reads nothing).
func counted(be *backend[float32]) (*backend[float32], *counts) {
	c, w := &counts{}, *be
	w.download = func(dst, src []float32) { c.readBacks++; be.download(dst, src) }
	w.downloadIndex = func(dst, src []int32) { c.readBacks++; be.downloadIndex(dst, src) }
	w.sumSquares = func(xs [][]float32) float64 { c.readBacks++; return be.sumSquares(xs) }
	w.objective = func(o Objective, s tokenStats[float32], dlogp []float32) Terms {
		if dlogp == nil {
			c.readBacks++
		}
		return be.objective(o, s, dlogp)
	}
	w.alloc = func(n int) []float32 { c.allocs++; return be.alloc(n) }
	w.allocIndex = func(n int) []int32 { c.allocs++; return be.allocIndex(n) }
	return &w, c
}

// sameOrClose fails t unless got is want, bit for bit on an exact device, or within rtol of
// it relative to the larger of |want[i]| and want's root mean square otherwise.
func sameOrClose(t *testing.T, dev testDevice, what string, want, got []float64, rtol float64) {
	t.Helper()
	if dev.exact {
		if !slices.Equal(want, got) {
			t.Errorf("%s differs between the host and %s: %v… against %v…", what, dev.name, want[:min(3, len(want))], got[:min(3, len(got))])
		}
		return
	}
	var ss float64
	for _, w := range want {
		ss += w * w
	}
	scale := math.Sqrt(ss / float64(max(1, len(want))))
	worst, at := 0.0, 0
	for i, w := range want {
		if e := math.Abs(got[i]-w) / math.Max(math.Max(math.Abs(w), scale), 1e-30); !(e <= worst) {
			worst, at = e, i
		}
	}
	if !(worst <= rtol) {
		t.Errorf("%s: element %d is %g on %s, %g on the host (relative error %.2g, allowed %.2g)", what, at, got[at], dev.name, want[at], worst, rtol)
	}
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

// TestDeviceMemoryParity runs training steps on each test device and on the host, from the
// same weights and batches: losses, gradients, updated weights, moments and logits must be the
// host's (the same bits on the shadow, within float32 rounding on a GPU), a checkpoint written
// from the device must hold the device's weights, a step reads back only what it logs (each
// micro-batch's terms and the gradient norm; the KL term's reference log-probabilities stay
// on the device), and after the first step nothing is allocated on the device, as a device's
// memory pool requires.
func TestDeviceMemoryParity(t *testing.T) { forEachDevice(t, testDeviceMemoryParity) }

func testDeviceMemoryParity(t *testing.T, dev testDevice) {
	be, n := counted(dev.backend(t))
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
		sameOrClose(t, dev, what, floatsOf(host), floatsOf(device), 1e-3)
	}
	allocsAfterFirst := 0
	for step := range 3 {
		termsHost, err := onHost.Gradients(batch, obj, refHost)
		if err != nil {
			t.Fatal(err)
		}
		n.readBacks = 0
		termsDevice, err := onDevice.Gradients(batch, obj, refDevice)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(onDevice.microBatches(batch)); n.readBacks != want {
			t.Errorf("step %d: the gradients read %d values back from the backend; want the terms of each of %d micro-batches", step, n.readBacks, want)
		}
		if dev.exact && termsHost != termsDevice {
			t.Errorf("step %d: terms %+v on the host, %+v on %s", step, termsHost, termsDevice, dev.name)
		}
		sameOrClose(t, dev, fmt.Sprintf("step %d: the loss", step), []float64{termsHost.Loss}, []float64{termsDevice.Loss}, 1e-4)
		for i, p := range onHost.Params {
			same("the gradient of "+p.Name, p.Grad, onDevice.Params[i].Grad)
		}
		normHost, _, err := optHost.Update(onHost.Params)
		if err != nil {
			t.Fatal(err)
		}
		n.readBacks = 0
		normDevice, _, err := optDevice.Update(onDevice.Params)
		if err != nil {
			t.Fatal(err)
		}
		if n.readBacks != 1 {
			t.Errorf("step %d: the update read %d values back from the backend; want one, the gradient norm", step, n.readBacks)
		}
		sameOrClose(t, dev, fmt.Sprintf("step %d: the gradient norm", step), []float64{normHost}, []float64{normDevice}, 1e-4)
		if step == 0 {
			allocsAfterFirst = n.allocs
		}
	}
	if n.allocs != allocsAfterFirst {
		t.Errorf("steps after the first allocated %d tensors on the backend; want none", n.allocs-allocsAfterFirst)
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
		sameOrClose(t, dev, fmt.Sprintf("the logits of scored token %d", i), to64(logitsHost[i]), to64(logitsDevice[i]), 1e-3)
	}

	path := filepath.Join(t.TempDir(), "device.safetensors")
	if err := SaveCheckpoint(path, onDevice, optDevice, nil); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range onDevice.Params {
		if !slices.Equal(floatsOf(p.Value), floatsOf(ck.Model.Params[i].Value)) {
			t.Errorf("the checkpointed %s is not the weights on %s", p.Name, dev.name)
		}
	}
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// TestGenerateOnDeviceMemory: from the same weights, prompts and random numbers, generation on
// each test device draws the same tokens as on the host, with the same log-probabilities
// (within float32 rounding on a GPU), greedy and sampled, with allowed sets that change from
// step to step.
func TestGenerateOnDeviceMemory(t *testing.T) { forEachDevice(t, testGenerateOnDeviceMemory) }

func testGenerateOnDeviceMemory(t *testing.T, dev testDevice) {
	cfg := Config{Vocab: 13, DModel: 16, Layers: 2, Heads: 2, ContextLen: 48}
	onHost := newTestModel(t, cfg, tensor.Float32, 8)
	onDevice := copyOn(t, dev.backend(t), onHost)
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
			if !slices.Equal(host[i].Tokens, device[i].Tokens) {
				t.Errorf("%+v, prompt %d: tokens %v on the host, %v on %s", sc, i, host[i].Tokens, device[i].Tokens, dev.name)
				continue
			}
			sameOrClose(t, dev, fmt.Sprintf("%+v, prompt %d: the log-probabilities", sc, i), to64(host[i].Logp), to64(device[i].Logp), 1e-4)
		}
	}
}
