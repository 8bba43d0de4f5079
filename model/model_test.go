package model

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// tinyConfig is small enough for finite differences over every parameter kind.
var tinyConfig = Config{Vocab: 11, DModel: 8, Layers: 2, Heads: 2, ContextLen: 24}

// newTestModel builds a model whose weights are all perturbed away from their initial values,
// so that LayerNorm gains, biases and every other kind of parameter matter to the output.
func newTestModel(t *testing.T, cfg Config, dt tensor.Dtype, seed uint64) *Model {
	t.Helper()
	m, err := New(cfg, dt, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params {
		v := floatsOf(p.Value)
		for i := range v {
			v[i] += 0.3 * rng.NormFloat64()
		}
		setFloats(p.Value, v)
	}
	return m
}

// randomBatch draws sequences of the given lengths with position ids that jump as board
// positions do, and scores every token after the first.
func randomBatch(cfg Config, lens []int, rng *rand.Rand) *Batch {
	b := &Batch{}
	for s, n := range lens {
		seq := Sequence{}
		for i := range n {
			seq.Tokens = append(seq.Tokens, int32(rng.IntN(cfg.Vocab)))
			seq.Pos = append(seq.Pos, int32((3*i+s)%cfg.ContextLen))
		}
		b.Seqs = append(b.Seqs, seq)
		for i := 1; i < n; i++ {
			b.Scored = append(b.Scored, Scored{Seq: s, Index: i})
		}
	}
	return b
}

func TestGradientCheck(t *testing.T) {
	m := newTestModel(t, tinyConfig, tensor.Float64, 1)
	m.MicroBatch = 2 // the batch runs as two micro-batches, so their gradients must add up
	rng := rand.New(rand.NewPCG(2, 2))
	b := randomBatch(m.Config, []int{5, 7, 3}, rng)
	// Half the tokens are chosen among an allowed set that holds them, as in constrained decoding.
	for i := range b.Scored {
		if i%2 == 0 {
			sc := &b.Scored[i]
			target := b.Seqs[sc.Seq].Tokens[sc.Index]
			sc.Allowed = []int32{target, (target + 3) % int32(m.Config.Vocab), (target + 7) % int32(m.Config.Vocab)}
		}
	}
	logp, err := m.LogProbs(b)
	if err != nil {
		t.Fatal(err)
	}
	// Every term, with ratios well inside and well outside the clip range, so that no finite
	// difference straddles a kink of the clipped surrogate.
	for i := range b.Scored {
		sc := &b.Scored[i]
		shift := []float32{0, 0.5, -0.5}[i%3]
		sc.OldLogp = logp[i] + shift
		sc.RefLogp = logp[i] - 0.3
		sc.Advantage = []float32{1, -1, 0.5, -2}[i%4]
		if i%5 == 4 {
			sc.DistillWeight = 0.2
		} else {
			sc.PGWeight = 0.1
		}
	}
	obj := Objective{ClipLow: 0.2, ClipHigh: 0.28, KLCoef: 0.1, DistillCoef: 1}
	if _, err := m.Gradients(b, obj, nil); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float64, len(m.Params))
	for i, p := range m.Params {
		analytic[i] = floatsOf(p.Grad)
	}
	loss := func() float64 {
		terms, err := m.Gradients(b, obj, nil)
		if err != nil {
			t.Fatal(err)
		}
		return terms.Loss
	}
	const h = 1e-5
	for i, p := range m.Params {
		values := p.Value.Data().([]float64)
		for k := 0; k < 4; k++ {
			j := rng.IntN(len(values))
			orig := values[j]
			values[j] = orig + h
			up := loss()
			values[j] = orig - h
			down := loss()
			values[j] = orig
			numeric := (up - down) / (2 * h)
			got := analytic[i][j]
			if diff := math.Abs(numeric - got); diff > 1e-6+1e-4*math.Abs(numeric) {
				t.Errorf("%s[%d]: graph gradient %.9g, finite difference %.9g", p.Name, j, got, numeric)
			}
		}
	}
}

// TestKVCacheParity holds the decoder's logits to the graph's, on the host and on each test
// device.
func TestKVCacheParity(t *testing.T) {
	cfg := Config{Vocab: 13, DModel: 16, Layers: 2, Heads: 4, ContextLen: 64}
	onHost := newTestModel(t, cfg, tensor.Float32, 3)
	t.Run("host", func(t *testing.T) { checkKVCacheParity(t, onHost) })
	forEachDevice(t, func(t *testing.T, dev testDevice) { checkKVCacheParity(t, copyOn(t, dev.backend(t), onHost)) })
}

func checkKVCacheParity(t *testing.T, m *Model) {
	cfg := m.Config
	m.MicroBatch = 3 // the prompts' prefill spans micro-batches
	rng := rand.New(rand.NewPCG(4, 4))
	lens := []int{4, 9, 1, 6, 12, 9, 4}
	const steps = 6
	full := randomBatch(cfg, lens, rng)
	// Sequences 5 and 6 start as 1 and 0 do and then go their own way: equal prompts share
	// one prefill, and each must still get its own cache.
	for _, dup := range [][2]int{{5, 1}, {6, 0}} {
		src := full.Seqs[dup[1]]
		full.Seqs[dup[0]] = Sequence{Tokens: slices.Clone(src.Tokens), Pos: slices.Clone(src.Pos)}
	}
	prompts := make([]Sequence, len(lens))
	for s, seq := range full.Seqs {
		for range steps { // continuations at consecutive positions, as the sampler writes them
			last := seq.Pos[len(seq.Pos)-1]
			seq.Tokens = append(seq.Tokens, int32(rng.IntN(cfg.Vocab)))
			seq.Pos = append(seq.Pos, last+1)
		}
		full.Seqs[s] = seq
		prompts[s] = Sequence{Tokens: seq.Tokens[:lens[s]], Pos: seq.Pos[:lens[s]]}
	}
	dec, err := m.NewDecoder(prompts, steps)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for step := 0; step <= steps; step++ {
		logits := dec.Logits()
		want := &Batch{Seqs: full.Seqs}
		for s := range lens {
			want.Scored = append(want.Scored, Scored{Seq: s, Index: lens[s] + step})
		}
		if step == steps { // the logits after the last token predict nothing in full
			break
		}
		graph, err := m.Logits(want)
		if err != nil {
			t.Fatal(err)
		}
		for s := range lens {
			for v := range graph[s] {
				if d := math.Abs(float64(graph[s][v] - logits[s][v])); !(d <= 1e-4) { // NaN fails too
					t.Fatalf("step %d, sequence %d, token %d: cache %g, graph %g", step, s, v, logits[s][v], graph[s][v])
				}
			}
		}
		next := make([]int32, len(lens))
		for s := range lens {
			next[s] = full.Seqs[s].Tokens[lens[s]+step]
		}
		if err := dec.Step(next); err != nil {
			t.Fatal(err)
		}
	}
}

// oneUpdate runs one optimizer step on a fixed batch.
func oneUpdate(t *testing.T, m *Model, opt *AdamW, b *Batch) {
	t.Helper()
	if _, err := m.Gradients(b, DefaultObjective(), nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := opt.Update(m.Params); err != nil {
		t.Fatal(err)
	}
}

func pgBatch(cfg Config, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 9))
	b := randomBatch(cfg, []int{6, 3, 8}, rng)
	for i := range b.Scored {
		b.Scored[i].PGWeight = 0.05
		b.Scored[i].Advantage = float32(rng.NormFloat64())
		b.Scored[i].OldLogp = -2
		b.Scored[i].RefLogp = -2
	}
	return b
}

func TestCheckpointRoundTrip(t *testing.T) {
	cfg := StandardConfigForTest()
	m := newTestModel(t, cfg, tensor.Float32, 5)
	opt, err := NewAdamW(DefaultOptim(), m.Params)
	if err != nil {
		t.Fatal(err)
	}
	b := pgBatch(cfg, 1)
	oneUpdate(t, m, opt, b)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := SaveCheckpoint(path, m, opt, map[string]string{"run.step": "1"}); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Extra["run.step"] != "1" || ck.Optim == nil || ck.Optim.Step != opt.Step {
		t.Fatalf("metadata and optimizer step did not survive: %v, %+v", ck.Extra, ck.Optim)
	}
	probe := pgBatch(cfg, 2)
	want, err := m.Logits(probe)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ck.Model.Logits(probe)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		for j := range want[i] {
			if want[i][j] != got[i][j] {
				t.Fatalf("logits differ after loading: %g vs %g", want[i][j], got[i][j])
			}
		}
	}
	oneUpdate(t, m, opt, b)
	oneUpdate(t, ck.Model, ck.Optim, b)
	for i, p := range m.Params {
		a, c := p.Value.Data().([]float32), ck.Model.Params[i].Value.Data().([]float32)
		for j := range a {
			if a[j] != c[j] {
				t.Fatalf("%s[%d] differs after the next update: %g vs %g", p.Name, j, a[j], c[j])
			}
		}
	}
}

// StandardConfigForTest is a small model over the standard vocabulary, as checkpoints require.
func StandardConfigForTest() Config {
	return Config{Vocab: StandardVocab().Size(), DModel: 16, Layers: 1, Heads: 2, ContextLen: 32}
}

func TestCheckpointErrors(t *testing.T) {
	cfg := StandardConfigForTest()
	m := newTestModel(t, cfg, tensor.Float32, 6)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := SaveCheckpoint(good, m, nil, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// A file whose tensors disagree with its config, and one from another vocabulary.
	other := cfg
	other.DModel = 8
	m2, err := New(other, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	tensors := map[string]*stTensor{}
	for _, p := range m2.Params {
		tensors[p.Name] = &stTensor{DType: "F32", Shape: []int(p.Value.Shape()), data: float32Bytes(floatsOf(p.Value))}
	}
	cfgJSON, _ := json.Marshal(cfg)
	meta := map[string]string{metaConfig: string(cfgJSON), metaVocabVersion: VocabVersion, metaVocabHash: StandardVocab().Hash()}
	wrongShape := filepath.Join(dir, "shape.safetensors")
	if err := writeSafetensors(wrongShape, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(wrongShape); err == nil || !strings.Contains(err.Error(), "has shape") {
		t.Errorf("shapes that disagree with the config: %v", err)
	}
	meta[metaVocabHash] = "0123456789abcdef"
	wrongVocab := filepath.Join(dir, "vocab.safetensors")
	if err := writeSafetensors(wrongVocab, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(wrongVocab); err == nil || !strings.Contains(err.Error(), "vocabulary hash") {
		t.Errorf("another vocabulary: %v", err)
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short", raw[:5]},
		{"truncated", raw[:len(raw)-7]},
		{"header cut", raw[:40]},
		{"garbage header", append([]byte{8, 0, 0, 0, 0, 0, 0, 0}, []byte("notjson!")...)},
		{"huge header", append([]byte{255, 255, 255, 255, 0, 0, 0, 0}, raw[8:]...)},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: want an error naming the file, got %v", c.name, err)
		}
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file loaded")
	}
	if ck, err := LoadCheckpoint(good); err != nil || ck.Optim != nil {
		t.Fatalf("good checkpoint: %v (optim %v)", err, ck)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

func TestOverfit(t *testing.T) {
	cfg := Config{Vocab: 9, DModel: 32, Layers: 2, Heads: 4, ContextLen: 16}
	m, err := New(cfg, tensor.Float32, 11)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 12))
	b := randomBatch(cfg, []int{8, 6, 10}, rng)
	for i := range b.Scored {
		b.Scored[i].DistillWeight = 1 / float32(len(b.Scored))
	}
	oc := DefaultOptim()
	oc.LR, oc.Warmup, oc.WeightDecay = 1e-2, 0, 0
	opt, err := NewAdamW(oc, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	obj := Objective{DistillCoef: 1}
	var terms Terms
	for range 300 {
		if terms, err = m.Gradients(b, obj, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := opt.Update(m.Params); err != nil {
			t.Fatal(err)
		}
	}
	if terms.Loss > 0.05 {
		t.Fatalf("after 300 steps the mean negative log-likelihood is %g, want < 0.05", terms.Loss)
	}
}

func TestObjectiveValues(t *testing.T) {
	obj := Objective{ClipLow: 0.2, ClipHigh: 0.28, KLCoef: 0.5, DistillCoef: 2}
	// Token 0: ratio e^0.1 ≈ 1.105 inside the clip range, advantage 1.
	// Token 1: ratio e^0.5 ≈ 1.649 above 1.28 with advantage 2: the clipped term 1.28·2 is the min.
	// Token 2: ratio e^-0.5 ≈ 0.607 below 0.8 with advantage -1: min(-0.607, -0.8) = -0.8, clipped.
	// Token 3: distillation, NLL of logp −1.5.
	s := tokenStats[float64]{
		logp:     []float64{-1, -1, -1, -1.5},
		old:      []float64{-1.1, -1.5, -0.5, 0},
		ref:      []float64{-1.2, -1, -0.7, 0},
		adv:      []float64{1, 2, -1, 0},
		wPG:      []float64{0.25, 0.25, 0.5, 0},
		wDistill: []float64{0, 0, 0, 0.1},
	}
	d := make([]float64, 4)
	got := objectiveTerms(obj, s, d)
	r0 := math.Exp(0.1)
	wantPG := 0.25*(-r0*1) + 0.25*(-1.28*2) + 0.5*(0.8)
	k3 := func(x float64) float64 { return math.Exp(x) - x - 1 } // x = ref − logp
	wantKL := 0.5 * (0.25*k3(-0.2) + 0.25*k3(0) + 0.5*k3(0.3))
	wantDistill := 0.1 * 2 * 1.5
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"pg", got.PG, wantPG},
		{"kl", got.KL, wantKL},
		{"distill", got.Distill, wantDistill},
		{"loss", got.Loss, wantPG + wantKL + wantDistill},
		{"clip fraction", got.ClipFrac, 0.25 + 0.5},
		{"dlogp[0]", d[0], 0.25*(-r0) + 0.5*0.25*(1-math.Exp(-0.2))},
		{"dlogp[1]", d[1], 0.5 * 0.25 * (1 - 1)},
		{"dlogp[2]", d[2], 0.5 * 0.5 * (1 - math.Exp(0.3))},
		{"dlogp[3]", d[3], -0.1 * 2},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", c.name, c.got, c.want)
		}
	}
}

func TestPaddingIsInvisible(t *testing.T) {
	cfg := Config{Vocab: 13, DModel: 16, Layers: 2, Heads: 2, ContextLen: 40}
	m := newTestModel(t, cfg, tensor.Float32, 8)
	rng := rand.New(rand.NewPCG(3, 3))
	b := randomBatch(cfg, []int{5, 20}, rng)
	alone := &Batch{Seqs: b.Seqs[:1]}
	for _, sc := range b.Scored {
		if sc.Seq == 0 {
			alone.Scored = append(alone.Scored, sc)
		}
	}
	a, err := m.Logits(alone) // padded to 16 tokens
	if err != nil {
		t.Fatal(err)
	}
	together, err := m.Logits(b) // padded to 32 tokens, beside a longer sequence
	if err != nil {
		t.Fatal(err)
	}
	// Tokens after a scored position are invisible to it, whether padding or not.
	longer := &Batch{Seqs: []Sequence{{Tokens: append(append([]int32{}, b.Seqs[0].Tokens...), 3, 4, 5), Pos: append(append([]int32{}, b.Seqs[0].Pos...), 30, 31, 32)}}, Scored: alone.Scored}
	extended, err := m.Logits(longer)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		for v := range a[i] {
			if d := math.Abs(float64(a[i][v] - together[i][v])); d > 1e-5 {
				t.Fatalf("row %d token %d: alone %g, batched %g", i, v, a[i][v], together[i][v])
			}
			if d := math.Abs(float64(a[i][v] - extended[i][v])); d > 1e-5 {
				t.Fatalf("row %d token %d: %g, with later tokens %g", i, v, a[i][v], extended[i][v])
			}
		}
	}
}

// TestReferenceLogProbs: the KL term's reference log-probabilities computed beside the step
// (Gradients with a reference model) give the same terms and gradients, bit for bit, as the
// same values read back by LogProbs and passed in the batch; and LogProbs is the log-softmax,
// over each token's allowed set, of the logits.
func TestReferenceLogProbs(t *testing.T) {
	policy := newTestModel(t, tinyConfig, tensor.Float32, 11)
	reference := newTestModel(t, tinyConfig, tensor.Float32, 12)
	policy.MicroBatch = 2 // the reference runs each micro-batch beside the policy's
	b := pgBatch(tinyConfig, 13)
	for i := range b.Scored {
		if i%3 == 1 {
			tok := b.Seqs[b.Scored[i].Seq].Tokens[b.Scored[i].Index]
			b.Scored[i].Allowed = []int32{tok, (tok + 3) % int32(tinyConfig.Vocab)}
		}
	}
	obj := DefaultObjective()
	obj.KLCoef = 0.5

	refLogp, err := reference.LogProbs(b)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := reference.Logits(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, sc := range b.Scored {
		want := logSoftmaxAt(logits[i], b.Seqs[sc.Seq].Tokens[sc.Index], sc.Allowed)
		if d := math.Abs(float64(refLogp[i] - want)); !(d <= 1e-5) {
			t.Errorf("scored token %d: LogProbs %g, log-softmax of the logits %g", i, refLogp[i], want)
		}
	}

	passed := &Batch{Seqs: b.Seqs, Scored: slices.Clone(b.Scored)}
	for i := range passed.Scored {
		passed.Scored[i].RefLogp = refLogp[i]
	}
	want, err := policy.Gradients(passed, obj, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantGrads := make([][]float64, len(policy.Params))
	for i, p := range policy.Params {
		wantGrads[i] = floatsOf(p.Grad)
	}
	got, err := policy.Gradients(b, obj, reference)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want.KL == 0 {
		t.Errorf("terms with the reference beside the step %+v, with its log-probabilities passed in %+v", got, want)
	}
	for i, p := range policy.Params {
		if !slices.Equal(floatsOf(p.Grad), wantGrads[i]) {
			t.Errorf("the gradient of %s differs", p.Name)
		}
	}

	other := newTestModel(t, Config{Vocab: tinyConfig.Vocab, DModel: 16, Layers: 1, Heads: 2, ContextLen: 24}, tensor.Float32, 1)
	if _, err := policy.Gradients(b, obj, other); err == nil || !strings.Contains(err.Error(), "reference") {
		t.Errorf("a reference of another config: error %v", err)
	}
}
