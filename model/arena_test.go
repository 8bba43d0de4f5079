package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// TestProgramsShareOneArena: programs of several shapes and kinds lay their buffers out in one
// arena, which grows to the largest program's layout and no further, and each run gives the
// results a fresh model gives, whichever programs ran before it in the same memory.
func TestProgramsShareOneArena(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	shapes := [][]int{{3, 4}, {20, 17, 9, 24, 5, 12, 2, 8, 9, 10}, {6}, {24, 24, 24}, {3, 4}}
	var batches []*Batch
	for _, lens := range shapes {
		b := randomBatch(tinyConfig, lens, rng)
		for i := range b.Scored {
			b.Scored[i].PGWeight, b.Scored[i].Advantage = 0.1, float32(rng.NormFloat64())
		}
		batches = append(batches, b)
	}
	shared := newTestModel(t, tinyConfig, tensor.Float32, 3)
	for i, b := range batches {
		// Logits, log-probabilities and gradients are programs of different kinds and sizes,
		// all in the one arena.
		logits, err := shared.Logits(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shared.LogProbs(b); err != nil {
			t.Fatal(err)
		}
		terms, err := shared.Gradients(b, DefaultObjective(), nil)
		if err != nil {
			t.Fatal(err)
		}
		fresh := newTestModel(t, tinyConfig, tensor.Float32, 3)
		wantLogits, err := fresh.Logits(b)
		if err != nil {
			t.Fatal(err)
		}
		wantTerms, err := fresh.Gradients(b, DefaultObjective(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for s := range logits {
			if !slices.Equal(logits[s], wantLogits[s]) {
				t.Fatalf("batch %d: the logits of scored token %d differ from a fresh model's", i, s)
			}
		}
		if terms != wantTerms {
			t.Errorf("batch %d: terms %+v, a fresh model's %+v", i, terms, wantTerms)
		}
		for p, prm := range shared.Params {
			if !slices.Equal(floatsOf(prm.Grad), floatsOf(fresh.Params[p].Grad)) {
				t.Errorf("batch %d: the gradient of %s differs from a fresh model's", i, prm.Name)
			}
		}
	}
	a := shared.scratch.(*arena[float32])
	largest, sum := 0, 0
	for _, lay := range shared.layouts {
		largest, sum = max(largest, lay.size), sum+lay.size
	}
	if len(a.data) != largest {
		t.Errorf("the arena holds %d elements; want %d, the largest program's layout", len(a.data), largest)
	}
	if len(shared.layouts) < 6 || sum < 2*largest {
		t.Errorf("%d program shapes laying out %d elements in all, the largest %d: the test should run programs that would need more memory apart than together", len(shared.layouts), sum, largest)
	}
	t.Logf("%d program shapes, %d elements laid out, in an arena of %d", len(shared.layouts), sum, len(a.data))
}

// TestShareBuffers: a reference policy that lays its buffers out in the policy's arena gives
// Gradients the same KL term and gradients as one with memory of its own, and the two hold
// one arena; sharing is refused once a model has run.
func TestShareBuffers(t *testing.T) {
	obj := DefaultObjective()
	obj.KLCoef = 0.1
	batch := pgBatch(tinyConfig, 4)
	gradients := func(share bool) (Terms, *Model, *Model) {
		policy := newTestModel(t, tinyConfig, tensor.Float32, 3)
		ref := newTestModel(t, tinyConfig, tensor.Float32, 4)
		if share {
			if err := ref.ShareBuffers(policy); err != nil {
				t.Fatal(err)
			}
		}
		var terms Terms
		for range 2 { // the second step runs in the memory the first laid out
			var err error
			if terms, err = policy.Gradients(batch, obj, ref); err != nil {
				t.Fatal(err)
			}
		}
		return terms, policy, ref
	}
	wantTerms, want, _ := gradients(false)
	terms, policy, ref := gradients(true)
	if terms != wantTerms || terms.KL == 0 {
		t.Errorf("terms %+v with shared buffers, %+v without", terms, wantTerms)
	}
	for i, p := range policy.Params {
		if !slices.Equal(floatsOf(p.Grad), floatsOf(want.Params[i].Grad)) {
			t.Errorf("the gradient of %s differs with shared buffers", p.Name)
		}
	}
	if policy.scratch != ref.scratch {
		t.Error("the policy and its reference hold different arenas")
	}
	if err := ref.ShareBuffers(policy); err == nil {
		t.Error("ShareBuffers after the model ran: no error")
	}
	other, err := New(tinyConfig, tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.ShareBuffers(policy); err == nil {
		t.Error("ShareBuffers between float64 and float32 models: no error")
	}
}
