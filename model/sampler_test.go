package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestPick(t *testing.T) {
	// Softmax of these logits: token 0 ≈ 0.64, 1 ≈ 0.24, 2 ≈ 0.09, 3 ≈ 0.03.
	logits := []float32{3, 2, 1, 0}
	draw := func(sc SampleConfig, allowed []int32) map[int32]int {
		rng := rand.New(rand.NewPCG(1, 2))
		counts := map[int32]int{}
		for range 20000 {
			counts[sc.Pick(logits, allowed, rng)]++
		}
		return counts
	}
	for _, c := range []struct {
		name    string
		sc      SampleConfig
		allowed []int32
		want    []int32 // tokens that may be drawn
	}{
		{"greedy", SampleConfig{Greedy: true}, nil, []int32{0}},
		{"greedy among allowed", SampleConfig{Greedy: true}, []int32{3, 1}, []int32{1}},
		{"top-k 2", SampleConfig{Temperature: 1, TopK: 2}, nil, []int32{0, 1}},
		{"top-p 0.8", SampleConfig{Temperature: 1, TopP: 0.8}, nil, []int32{0, 1}},
		{"top-p 0.5", SampleConfig{Temperature: 1, TopP: 0.5}, nil, []int32{0}},
		{"allowed only", SampleConfig{Temperature: 1}, []int32{2, 3}, []int32{2, 3}},
		{"all", SampleConfig{Temperature: 1}, nil, []int32{0, 1, 2, 3}},
	} {
		counts := draw(c.sc, c.allowed)
		for tok := range counts {
			if !slices.Contains(c.want, tok) {
				t.Errorf("%s: drew token %d, want only %v", c.name, tok, c.want)
			}
		}
		for _, tok := range c.want {
			if counts[tok] == 0 {
				t.Errorf("%s: never drew token %d", c.name, tok)
			}
		}
	}
	// Plain sampling follows the softmax; temperature 0.5 sharpens it to e^(2·logit).
	for _, c := range []struct {
		temp float64
		want float64 // probability of token 0
	}{{1, math.E * math.E * math.E / (math.Exp(3) + math.Exp(2) + math.Exp(1) + 1)}, {0.5, math.Exp(6) / (math.Exp(6) + math.Exp(4) + math.Exp(2) + 1)}} {
		got := float64(draw(SampleConfig{Temperature: c.temp}, nil)[0]) / 20000
		if math.Abs(got-c.want) > 0.015 {
			t.Errorf("temperature %g: token 0 drawn %.3f of the time, want %.3f", c.temp, got, c.want)
		}
	}
}

func TestGenerateRespectsConstraints(t *testing.T) {
	cfg := Config{Vocab: 13, DModel: 16, Layers: 1, Heads: 2, ContextLen: 48}
	m := newTestModel(t, cfg, tensor.Float32, 21)
	rng := rand.New(rand.NewPCG(5, 5))
	prompts := randomBatch(cfg, []int{3, 7, 5}, rng).Seqs
	const stop = 12
	allowed := []int32{4, 7, 9, stop}
	gens, err := m.Generate(prompts, GenerateOptions{MaxNew: 10, Stop: stop, Sample: SampleConfig{Temperature: 1},
		Allowed: func(int, []int32) []int32 { return allowed }}, rng)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range gens {
		if len(g.Tokens) == 0 || len(g.Tokens) > 10 || len(g.Tokens) != len(g.Logp) {
			t.Fatalf("prompt %d: %d tokens, %d log-probabilities", i, len(g.Tokens), len(g.Logp))
		}
		for k, tok := range g.Tokens {
			if !slices.Contains(allowed, tok) {
				t.Errorf("prompt %d: token %d is not allowed", i, tok)
			}
			if tok == stop && k != len(g.Tokens)-1 {
				t.Errorf("prompt %d: generation went on after the stop token", i)
			}
			if g.Logp[k] > 0 || math.IsNaN(float64(g.Logp[k])) {
				t.Errorf("prompt %d: log-probability %g", i, g.Logp[k])
			}
		}
	}
	// The recorded log-probabilities are those the graph assigns to the same tokens, over the
	// same allowed set.
	b := &Batch{}
	var want []float32
	for i, g := range gens {
		seq := Sequence{Tokens: slices.Clone(prompts[i].Tokens), Pos: slices.Clone(prompts[i].Pos)}
		for _, tok := range g.Tokens {
			seq.Tokens = append(seq.Tokens, tok)
			seq.Pos = append(seq.Pos, seq.Pos[len(seq.Pos)-1]+1)
		}
		b.Seqs = append(b.Seqs, seq)
		for k := range g.Tokens {
			b.Scored = append(b.Scored, Scored{Seq: i, Index: len(prompts[i].Tokens) + k, Allowed: allowed})
			want = append(want, g.Logp[k])
		}
	}
	got, err := m.LogProbs(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !(math.Abs(float64(got[i]-want[i])) <= 1e-4) { // NaN fails too
			t.Fatalf("token %d: sampler log-probability %g, graph %g", i, want[i], got[i])
		}
	}
}

func TestLRSchedule(t *testing.T) {
	c := OptimConfig{LR: 1, Warmup: 4, Schedule: "cosine", TotalSteps: 14, MinLRFrac: 0.1}
	for _, tc := range []struct {
		step int
		want float64
	}{{1, 0.25}, {4, 1}, {9, 0.55}, {14, 0.1}, {20, 0.1}} {
		if got := c.LRAt(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("cosine step %d: lr %g, want %g", tc.step, got, tc.want)
		}
	}
	c.Schedule = "constant"
	if got := c.LRAt(100); got != 1 {
		t.Errorf("constant: lr %g at step 100", got)
	}
}

func TestClippingAndNonFiniteGradients(t *testing.T) {
	m := newTestModel(t, tinyConfig, tensor.Float32, 4)
	oc := DefaultOptim()
	oc.ClipNorm = 1e-3
	opt, err := NewAdamW(oc, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params {
		g := p.Grad.Data().([]float32)
		for i := range g {
			g[i] = 1
		}
	}
	norm, _, err := opt.Update(m.Params)
	if err != nil || math.Abs(norm-math.Sqrt(float64(tinyConfig.NumParams()))) > 1e-3*norm {
		t.Fatalf("norm %g, err %v; want sqrt of the parameter count", norm, err)
	}
	if g := m.Params[0].Grad.Data().([]float32)[0]; math.Abs(float64(g)-1e-3/norm) > 1e-9 {
		t.Fatalf("clipped gradient %g, want %g", g, 1e-3/norm)
	}
	before := slices.Clone(m.Params[0].Value.Data().([]float32))
	m.Params[0].Grad.Data().([]float32)[0] = float32(math.Inf(1))
	if _, _, err := opt.Update(m.Params); err == nil {
		t.Fatal("an infinite gradient was applied")
	}
	if !slices.Equal(before, m.Params[0].Value.Data().([]float32)) {
		t.Fatal("a refused update changed the weights")
	}
}

// TestGenerateRefusesNonFiniteLogits: a NaN weight makes every logit NaN, which no token can be
// drawn from; generation must say so rather than return a token.
func TestGenerateRefusesNonFiniteLogits(t *testing.T) {
	m := newTestModel(t, tinyConfig, tensor.Float32, 5)
	w := floatsOf(m.Param("ln_f.bias").Value)
	w[0] = math.NaN()
	setFloats(m.Param("ln_f.bias").Value, w)
	prompts := randomBatch(tinyConfig, []int{3, 4}, rand.New(rand.NewPCG(1, 1))).Seqs
	_, err := m.Generate(prompts, GenerateOptions{MaxNew: 3, Stop: -1, Sample: SampleConfig{Temperature: 1}}, rand.New(rand.NewPCG(1, 2)))
	if err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("Generate with a NaN weight: error %v, want one that says the logits are not finite", err)
	}
}
