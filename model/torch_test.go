package model

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/internal/atomicfile"
)

// The PyTorch peer (bench/torch/peer.py) is the model written again with PyTorch's ops. The
// tests here hold the two together on the same checkpoint and batch, and the benchmarks hand
// it their own model and batch (-peer.out), so that its timings are of the same work.

var peerOut = flag.String("peer.out", "", "write the benchmarks' checkpoint and inputs to `dir`, for bench/torch/peer.py")

// peerInputs is the inputs file of peer.py: a batch and the settings the peer runs it with.
type peerInputs struct {
	Batch     *Batch       `json:"batch"`
	Objective Objective    `json:"objective"`
	Optim     OptimConfig  `json:"optim"`
	MaxNew    int          `json:"max_new,omitempty"`
	Sample    SampleConfig `json:"sample"`
	// Uniforms[t][i] is the uniform number that draws prompt i's t-th token, as Generate draws
	// them from its rng: one per prompt per token, in order.
	Uniforms [][]float64 `json:"uniforms,omitempty"`
}

// writePeerInputs writes m as dir/checkpoint.safetensors and in as dir/inputs.json.
func writePeerInputs(dir string, m *Model, in peerInputs) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := SaveCheckpoint(filepath.Join(dir, "checkpoint.safetensors"), m, nil, nil); err != nil {
		return err
	}
	return atomicfile.WriteJSON(filepath.Join(dir, "inputs.json"), in)
}

// exportBenchInputs writes the benchmarks' model and batch to -peer.out, when it is set, for
// `peer.py step` and `peer.py sample` (bench/torch/compare.sh runs them side by side).
func exportBenchInputs(b *testing.B, m *Model, batch *Batch) {
	if *peerOut == "" {
		return
	}
	in := peerInputs{Batch: batch, Objective: DefaultObjective(), Optim: DefaultOptim(), MaxNew: benchGenerate.MaxNew, Sample: benchGenerate.Sample}
	if err := writePeerInputs(*peerOut, m, in); err != nil {
		b.Fatal(err)
	}
}

// TestTorchPeerConstants holds the peer's stand-ins for what a checkpoint and the benchmarks'
// inputs would tell it (bench/torch/erltorch.py) to the Go side's values. It reads the source
// and needs no Python.
func TestTorchPeerConstants(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "bench", "torch", "erltorch.py"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := NewConfig(Small)
	if err != nil {
		t.Fatal(err)
	}
	base, err := NewConfig(Base)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PRESETS": fmt.Sprintf(`{"small": (%d, %d, %d), "base": (%d, %d, %d)}`,
			small.DModel, small.Layers, small.Heads, base.DModel, base.Layers, base.Heads),
		"STANDARD_VOCAB": fmt.Sprint(StandardVocab().Size()),
		"CONTEXT_LEN":    fmt.Sprint(small.ContextLen),
		"BENCH_SEQS":     fmt.Sprint(benchSeqs),
		"BENCH_SEQ_LEN":  fmt.Sprint(benchSeqLen),
	}
	for name, value := range want {
		m := regexp.MustCompile(`(?m)^` + name + ` = (.*)$`).FindSubmatch(src)
		if m == nil {
			t.Errorf("erltorch.py: no line %s = ...", name)
		} else if got := string(m[1]); got != value {
			t.Errorf("erltorch.py: %s = %s, want %s", name, got, value)
		}
	}
}

var (
	torchOnce   sync.Once
	torchPy     string
	torchProbed error
)

// torchPython returns a Python that imports torch and numpy: $ERLGO_TORCH_PYTHON, else
// Debian's /usr/bin/python3 (which sees Debian's python3-torch where a pyenv python3 earlier
// on PATH does not), else python3. Without one the test is skipped, or fails where
// $ERLGO_REQUIRE_TORCH is set (CI sets it, having installed torch).
func torchPython(t *testing.T) string {
	t.Helper()
	torchOnce.Do(func() {
		candidates := []string{"/usr/bin/python3", "python3"}
		if py := os.Getenv("ERLGO_TORCH_PYTHON"); py != "" {
			candidates = []string{py}
		}
		var tried bytes.Buffer
		for _, py := range candidates {
			out, err := exec.Command(py, "-c", "import torch, numpy").CombinedOutput()
			if err == nil {
				torchPy = py
				return
			}
			fmt.Fprintf(&tried, "\n  %s: %v %s", py, err, bytes.TrimSpace(out))
		}
		torchProbed = fmt.Errorf("no Python that imports torch and numpy:%s", tried.String())
	})
	if torchPy != "" {
		return torchPy
	}
	if os.Getenv("ERLGO_TORCH_PYTHON") != "" || os.Getenv("ERLGO_REQUIRE_TORCH") != "" {
		t.Fatal(torchProbed)
	}
	t.Skipf("%v\nInstall PyTorch to run it: apt-get install --no-install-recommends python3-torch libopenblas0-openmp (Debian), "+
		"or set ERLGO_TORCH_PYTHON to a python3 that imports torch (see bench/torch/README.md)", torchProbed)
	return ""
}

// runPeer runs `peer.py cmd --checkpoint ckpt --inputs inputs` and decodes its JSON output into out.
func runPeer(t *testing.T, cmd, ckpt, inputs string, out any) {
	t.Helper()
	py := torchPython(t)
	result := filepath.Join(t.TempDir(), cmd+".json")
	c := exec.Command(py, filepath.Join("..", "bench", "torch", "peer.py"), cmd, "--threads", "1", "--checkpoint", ckpt, "--inputs", inputs, "--out", result)
	if msg, err := c.CombinedOutput(); err != nil {
		t.Fatalf("peer.py %s: %v\n%s", cmd, err, msg)
	}
	raw, err := os.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("peer.py %s: %v", cmd, err)
	}
}

// maxAbsDiff returns the largest |a[i] − b[i]| and the largest |a[i]|; lengths must agree.
func maxAbsDiff(t *testing.T, what string, a, b []float64) (diff, scale float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values here, %d from the peer", what, len(a), len(b))
	}
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if !(d <= diff) { // NaN propagates
			diff = d
		}
		scale = math.Max(scale, math.Abs(a[i]))
	}
	return diff, scale
}

// peerCase builds the parity test's model and batch: sequences of unequal lengths (padding),
// scored tokens with and without allowed sets, ratios inside and outside the clip range, both
// terms of the objective, and an optimizer whose clipping and weight decay both act.
func peerCase(t *testing.T, dt tensor.Dtype) (*Model, peerInputs) {
	cfg := Config{Vocab: 29, DModel: 16, Layers: 2, Heads: 4, ContextLen: 48}
	m := newTestModel(t, cfg, dt, 21)
	m.MicroBatch = 2 // the graph runs the batch in micro-batches; the peer in one
	rng := rand.New(rand.NewPCG(22, 22))
	b := randomBatch(cfg, []int{9, 14, 4, 14, 11}, rng)
	for i := range b.Scored {
		if i%3 == 0 {
			sc := &b.Scored[i]
			tok := b.Seqs[sc.Seq].Tokens[sc.Index]
			sc.Allowed = []int32{(tok + 5) % int32(cfg.Vocab), tok, (tok + 11) % int32(cfg.Vocab)}
		}
	}
	logp, err := m.LogProbs(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Scored {
		sc := &b.Scored[i]
		sc.OldLogp = logp[i] + []float32{0, 0.6, -0.6, 0.05}[i%4]
		sc.RefLogp = logp[i] - 0.4
		sc.Advantage = []float32{1, -1.5, 0.5, -0.25, 2}[i%5]
		if i%4 == 3 {
			sc.DistillWeight = 0.3
		} else {
			sc.PGWeight = 0.07
		}
	}
	obj := Objective{ClipLow: 0.2, ClipHigh: 0.28, KLCoef: 0.1, DistillCoef: 1, DistillISClip: 1.5}
	opt := DefaultOptim()
	opt.LR, opt.Warmup, opt.ClipNorm, opt.WeightDecay = 1e-2, 0, 0.5, 0.1
	// A first AdamW step moves a weight by lr·g/(|g| + eps): where g is rounding noise about
	// a true 0 (the keys' bias, to which softmax is blind), a difference δ in it moves the
	// weight by up to lr·δ/eps. An eps of 1e-6 keeps that below 1e-11 for float64's δ ~ 1e-15.
	opt.Eps = 1e-6
	return m, peerInputs{Batch: b, Objective: obj, Optim: opt}
}

// TestTorchPeerParity holds PyTorch's forward pass, log-probabilities, objective, gradients
// and AdamW update to erlgo's on the same checkpoint and batch, in float64 (the references,
// where the two must agree to rounding) and float32 (the kernels).
func TestTorchPeerParity(t *testing.T) {
	// Tolerances, relative to the largest magnitude of each quantity: float64 rounding over
	// sums of a few hundred terms is ~1e-14; float32 rounding (2^-24 ≈ 6e-8) through two
	// layers, each summing up to 4·d_model products in a different order, was measured at a
	// few 1e-7 of the largest logit; the bounds leave an order of magnitude.
	tolerances := map[tensor.Dtype]float64{tensor.Float64: 1e-10, tensor.Float32: 1e-5}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			torchPython(t)
			t.Parallel()
			tol := tolerances[dt]
			m, in := peerCase(t, dt)
			dir := t.TempDir()
			if err := writePeerInputs(dir, m, in); err != nil {
				t.Fatal(err)
			}
			ckpt, inputs := filepath.Join(dir, "checkpoint.safetensors"), filepath.Join(dir, "inputs.json")
			checkTo := func(tol float64, what string, ours, theirs []float64) {
				t.Helper()
				diff, scale := maxAbsDiff(t, what, ours, theirs)
				t.Logf("%-22s max abs diff %.3g (largest magnitude %.3g)", what, diff, scale)
				if !(diff <= tol*math.Max(scale, 1e-3)) {
					t.Errorf("%s: max abs diff %.3g exceeds %.0e of the largest magnitude %.3g", what, diff, tol, scale)
				}
			}
			check := func(what string, ours, theirs []float64) { t.Helper(); checkTo(tol, what, ours, theirs) }
			// Logits and LogProbs return float32 whatever the model's type: rounded to it,
			// a value moves by up to 2^-24 of itself.
			checkFloat32 := func(what string, ours, theirs []float64) {
				t.Helper()
				checkTo(math.Max(tol, 0x1p-24), what, ours, theirs)
			}

			logits, err := m.Logits(in.Batch)
			if err != nil {
				t.Fatal(err)
			}
			logp, err := m.LogProbs(in.Batch)
			if err != nil {
				t.Fatal(err)
			}
			var peer struct {
				Logits [][]float64 `json:"logits"`
				Logp   []float64   `json:"logp"`
			}
			runPeer(t, "logits", ckpt, inputs, &peer)
			var ours, theirs []float64
			for i, row := range logits {
				for _, v := range row {
					ours = append(ours, float64(v))
				}
				if i < len(peer.Logits) {
					theirs = append(theirs, peer.Logits[i]...)
				}
			}
			checkFloat32("logits", ours, theirs)
			checkFloat32("log-probabilities", float64s(logp), peer.Logp)

			opt, err := NewAdamW(in.Optim, m.Params)
			if err != nil {
				t.Fatal(err)
			}
			terms, err := m.Gradients(in.Batch, in.Objective, nil)
			if err != nil {
				t.Fatal(err)
			}
			grads := map[string][]float64{}
			for _, p := range m.Params {
				grads[p.Name] = floatsOf(p.Grad)
			}
			norm, lr, err := opt.Update(m.Params)
			if err != nil {
				t.Fatal(err)
			}
			if norm <= in.Optim.ClipNorm {
				t.Fatalf("the gradient norm %g does not exceed clip_norm %g: the test would not exercise clipping", norm, in.Optim.ClipNorm)
			}
			var step struct {
				Terms    map[string]float64   `json:"terms"`
				Grads    map[string][]float64 `json:"grads"`
				GradNorm float64              `json:"grad_norm"`
				LR       float64              `json:"lr"`
				Params   map[string][]float64 `json:"params"`
			}
			runPeer(t, "grads", ckpt, inputs, &step)
			check("objective terms", []float64{terms.Loss, terms.PG, terms.KL, terms.Distill, terms.ClipFrac, terms.KLMean, terms.RatioMean, terms.PGWeight, terms.DistillWeight},
				[]float64{step.Terms["loss"], step.Terms["pg"], step.Terms["kl"], step.Terms["distill"], step.Terms["clip_frac"],
					step.Terms["kl_mean"], step.Terms["ratio_mean"], step.Terms["pg_weight"], step.Terms["distill_weight"]})
			if terms.ClipFrac == 0 || terms.Distill == 0 || terms.KL == 0 {
				t.Fatalf("terms %+v: the batch must clip some ratios and have both terms", terms)
			}
			check("gradient norm", []float64{norm}, []float64{step.GradNorm})
			if lr != step.LR {
				t.Errorf("learning rate %g here, %g from the peer", lr, step.LR)
			}
			for _, p := range m.Params {
				check("gradient "+p.Name, grads[p.Name], step.Grads[p.Name])
			}
			if dt != tensor.Float64 {
				// At the first step AdamW moves each weight by about lr·sign(g): a gradient
				// within float32 rounding of 0 may take either sign, so only float64 updates
				// are compared.
				return
			}
			for _, p := range m.Params {
				check("updated "+p.Name, floatsOf(p.Value), step.Params[p.Name])
			}
		})
	}
}

// TestTorchPeerTrainedCheckpoint holds the peer's logits to erlgo's on a checkpoint that
// training wrote (the committed ERL result), read by each side from the same file.
func TestTorchPeerTrainedCheckpoint(t *testing.T) {
	torchPython(t)
	ckpt := filepath.Join("..", "bench", "results", "sokoban-cpu-20min", "erl", "best.safetensors")
	loaded, err := LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	m := loaded.Model
	b := randomBatch(m.Config, []int{40, 96, 67, 12}, rand.New(rand.NewPCG(41, 41)))
	for i := range b.Scored {
		if i%2 == 0 {
			tok := b.Seqs[b.Scored[i].Seq].Tokens[b.Scored[i].Index]
			b.Scored[i].Allowed = []int32{tok, (tok + 1) % int32(m.Config.Vocab), (tok + 2) % int32(m.Config.Vocab)}
		}
	}
	inputs := filepath.Join(t.TempDir(), "inputs.json")
	if err := atomicfile.WriteJSON(inputs, peerInputs{Batch: b}); err != nil {
		t.Fatal(err)
	}
	logits, err := m.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	logp, err := m.LogProbs(b)
	if err != nil {
		t.Fatal(err)
	}
	var peer struct {
		Logits [][]float64 `json:"logits"`
		Logp   []float64   `json:"logp"`
	}
	runPeer(t, "logits", ckpt, inputs, &peer)
	var ours, theirs []float64
	for i, row := range logits {
		ours = append(ours, float64s(row)...)
		if i < len(peer.Logits) {
			theirs = append(theirs, peer.Logits[i]...)
		}
	}
	// As TestTorchPeerParity's float32 bound: float32 rounding in two orders of summation.
	for _, c := range []struct {
		what         string
		ours, theirs []float64
	}{{"logits", ours, theirs}, {"log-probabilities", float64s(logp), peer.Logp}} {
		diff, scale := maxAbsDiff(t, c.what, c.ours, c.theirs)
		t.Logf("%s: max abs diff %.3g (largest magnitude %.3g)", c.what, diff, scale)
		if !(diff <= 1e-5*math.Max(scale, 1e-3)) {
			t.Errorf("%s: max abs diff %.3g exceeds 1e-5 of the largest magnitude %.3g", c.what, diff, scale)
		}
	}
}

func float64s(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// TestTorchPeerDecode holds the peer's KV-cache decoding to Generate's: greedy, over prompts
// of equal lengths (the peer's unmasked path, which the benchmarks take), and sampled with a
// temperature, top-k and top-p from the same uniform numbers, over prompts of unequal lengths.
func TestTorchPeerDecode(t *testing.T) {
	cfg := Config{Vocab: 29, DModel: 16, Layers: 2, Heads: 4, ContextLen: 96}
	for _, c := range []struct {
		name   string
		lens   []int
		sample SampleConfig
	}{
		{"greedy", []int{10, 10, 10, 10}, SampleConfig{Greedy: true}},
		{"sampled", []int{10, 3, 15, 7, 12, 1}, SampleConfig{Temperature: 0.8, TopK: 6, TopP: 0.9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			torchPython(t)
			t.Parallel()
			m := newTestModel(t, cfg, tensor.Float32, 31)
			m.MicroBatch = 4
			prompts := randomBatch(cfg, c.lens, rand.New(rand.NewPCG(32, 32)))
			prompts.Scored = nil
			const seed, maxNew = 33, 7
			opt := GenerateOptions{MaxNew: maxNew, Stop: -1, Sample: c.sample}
			gens, err := m.Generate(prompts.Seqs, opt, rand.New(rand.NewPCG(seed, seed)))
			if err != nil {
				t.Fatal(err)
			}
			in := peerInputs{Batch: prompts, MaxNew: maxNew, Sample: c.sample}
			if !c.sample.Greedy { // Generate draws one number per prompt per token, in order
				rng := rand.New(rand.NewPCG(seed, seed))
				for range maxNew {
					u := make([]float64, len(c.lens))
					for i := range u {
						u[i] = rng.Float64()
					}
					in.Uniforms = append(in.Uniforms, u)
				}
			}
			dir := t.TempDir()
			if err := writePeerInputs(dir, m, in); err != nil {
				t.Fatal(err)
			}
			var peer struct {
				Tokens [][]int32   `json:"tokens"`
				Logp   [][]float64 `json:"logp"`
			}
			runPeer(t, "decode", filepath.Join(dir, "checkpoint.safetensors"), filepath.Join(dir, "inputs.json"), &peer)
			if len(peer.Tokens) != len(gens) {
				t.Fatalf("%d generations here, %d from the peer", len(gens), len(peer.Tokens))
			}
			var ours, theirs []float64
			distinct := map[int32]bool{}
			for i, g := range gens {
				if fmt.Sprint(g.Tokens) != fmt.Sprint(peer.Tokens[i]) {
					t.Errorf("prompt %d: tokens %v here, %v from the peer", i, g.Tokens, peer.Tokens[i])
				}
				for _, tok := range g.Tokens {
					distinct[tok] = true
				}
				ours = append(ours, float64s(g.Logp)...)
				theirs = append(theirs, peer.Logp[i]...)
			}
			if len(distinct) < 3 {
				t.Fatalf("only %d distinct tokens were drawn: the test would not tell samplers apart", len(distinct))
			}
			diff, scale := maxAbsDiff(t, "log-probabilities", ours, theirs)
			t.Logf("log-probabilities of the drawn tokens: max abs diff %.3g (largest magnitude %.3g)", diff, scale)
			if !(diff <= 1e-5*math.Max(scale, 1)) {
				t.Errorf("log-probabilities: max abs diff %.3g", diff)
			}
		})
	}
}
