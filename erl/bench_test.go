package erl

import (
	"math/rand/v2"
	"testing"

	"github.com/erlgo/erlgo/envs"
)

// BenchmarkStep measures one training step of the default configuration: rollouts,
// reflections, second attempts and the update.
func BenchmarkStep(b *testing.B) {
	for _, algo := range []string{AlgoRLVR, AlgoERL} {
		b.Run(algo, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Algo = algo
			cfg.Switches, _ = AlgoSwitches(algo)
			tr, err := NewTrainer(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var envSteps int64
			for b.Loop() {
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
			envSteps = tr.Totals.EnvSteps
			b.ReportMetric(float64(envSteps)/b.Elapsed().Seconds(), "env-steps/s")
		})
	}
}

// BenchmarkPlay measures the rollouts of one default step from a fresh policy: first attempts
// on 8 levels of the paper's distribution, 4 attempts each, every turn a batch through the
// policy.
func BenchmarkPlay(b *testing.B) {
	cfg := DefaultConfig()
	tr, err := NewTrainer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	levels, err := envs.GenerateSokoban(cfg.Batch, 7)
	if err != nil {
		b.Fatal(err)
	}
	var tasks []envs.Task
	for _, l := range levels {
		for range cfg.Group {
			tasks = append(tasks, l)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var turns int
	for b.Loop() {
		attempts, err := Play(tr.Policy, tr.Contexts, tasks, nil, cfg.Rollout, rng)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range attempts {
			turns += len(a.Actions)
		}
	}
	b.ReportMetric(float64(turns)/b.Elapsed().Seconds(), "turns/s")
}
