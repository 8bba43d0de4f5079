package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestPolicyGradientLearnsABandit closes the loop the trainer runs: sample under constraints,
// score by reward, GRPO advantages, the clipped objective, AdamW. The context names which of
// four allowed answers is rewarded; the policy must learn to give it.
func TestPolicyGradientLearnsABandit(t *testing.T) {
	cfg := Config{Vocab: 10, DModel: 32, Layers: 1, Heads: 2, ContextLen: 8}
	m, err := New(cfg, tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	oc := DefaultOptim()
	oc.LR, oc.Warmup = 1e-2, 0
	opt, err := NewAdamW(oc, m.Params)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []int32{4, 5, 6, 7}
	rng := rand.New(rand.NewPCG(3, 3))
	const contexts, group = 16, 4
	accuracy := func() float64 {
		var prompts []Sequence
		for c := range 4 {
			prompts = append(prompts, Sequence{Tokens: []int32{8, int32(c)}, Pos: []int32{0, 1}})
		}
		gens, err := m.Generate(prompts, GenerateOptions{MaxNew: 1, Stop: -1, Sample: SampleConfig{Greedy: true},
			Allowed: func(int, []int32) []int32 { return allowed }}, rng)
		if err != nil {
			t.Fatal(err)
		}
		right := 0
		for c, g := range gens {
			if g.Tokens[0] == int32(4+c) {
				right++
			}
		}
		return float64(right) / 4
	}
	for range 60 {
		var prompts []Sequence
		for range contexts {
			c := int32(rng.IntN(4))
			for range group {
				prompts = append(prompts, Sequence{Tokens: []int32{8, c}, Pos: []int32{0, 1}})
			}
		}
		gens, err := m.Generate(prompts, GenerateOptions{MaxNew: 1, Stop: -1, Sample: SampleConfig{Temperature: 1},
			Allowed: func(int, []int32) []int32 { return allowed }}, rng)
		if err != nil {
			t.Fatal(err)
		}
		b := &Batch{}
		for g0 := 0; g0 < len(prompts); g0 += group {
			var rewards [group]float64
			var mean float64
			for k := range group {
				if gens[g0+k].Tokens[0] == 4+prompts[g0+k].Tokens[1] {
					rewards[k] = 1
				}
				mean += rewards[k] / group
			}
			var std float64
			for _, r := range rewards {
				std += (r - mean) * (r - mean) / group
			}
			std = math.Sqrt(std)
			for k := range group {
				i := g0 + k
				b.Seqs = append(b.Seqs, Sequence{Tokens: append(append([]int32{}, prompts[i].Tokens...), gens[i].Tokens[0]), Pos: []int32{0, 1, 2}})
				var adv float32
				if std > 0 {
					adv = float32((rewards[k] - mean) / std)
				}
				b.Scored = append(b.Scored, Scored{Seq: len(b.Seqs) - 1, Index: 2, OldLogp: gens[i].Logp[0], RefLogp: gens[i].Logp[0],
					Advantage: adv, PGWeight: 1 / float32(len(prompts)), Allowed: allowed})
			}
		}
		if _, err := m.Gradients(b, DefaultObjective(), nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := opt.Update(m.Params); err != nil {
			t.Fatal(err)
		}
	}
	if acc := accuracy(); acc < 1 {
		t.Fatalf("after 60 updates the policy answers %.0f%% of the contexts right, want all", 100*acc)
	}
}
