package erl

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// TestEvaluationPerLevel: an evaluation's counts level by level add up to its scores, so that
// runs scored at the same levels can be pooled from them.
func TestEvaluationPerLevel(t *testing.T) {
	mc, err := model.NewConfig(model.Small)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(mc, tensor.Float32, 3)
	if err != nil {
		t.Fatal(err)
	}
	g, err := envs.NewFrozenLakeGenerator(11, envs.FrozenLakeOptions{MaxMoves: 2}) // easy: some succeed
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := g.Generate(24)
	if err != nil {
		t.Fatal(err)
	}
	const samples = 3
	ev, err := Evaluate(m, NewContexts(model.StandardVocab()), tasks, DefaultConfig().EvalSample, samples, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.GreedySolved) != len(tasks) || len(ev.SampledSolved) != len(tasks) {
		t.Fatalf("%d and %d counts for %d levels", len(ev.GreedySolved), len(ev.SampledSolved), len(tasks))
	}
	greedy, sampled := 0, 0
	for i := range tasks {
		if ev.GreedySolved[i] < 0 || ev.GreedySolved[i] > 1 || ev.SampledSolved[i] < 0 || ev.SampledSolved[i] > samples {
			t.Errorf("level %d: %d greedy and %d sampled successes, of 1 and %d", i, ev.GreedySolved[i], ev.SampledSolved[i], samples)
		}
		greedy, sampled = greedy+ev.GreedySolved[i], sampled+ev.SampledSolved[i]
	}
	if sampled == 0 {
		t.Fatal("no sampled attempt succeeded: the test levels are too hard to check the counts by")
	}
	if want := NewScore(ev.GreedySolved, 1); ev.Greedy != want {
		t.Errorf("greedy %+v, the counts' score %+v", ev.Greedy, want)
	}
	if want := NewScore(ev.SampledSolved, samples); ev.Sampled != want || float64(sampled)/float64(samples*len(tasks)) != ev.Sampled.Success {
		t.Errorf("sampled %+v, the counts' score %+v (%d successes)", ev.Sampled, want, sampled)
	}
}
