package erl

import "testing"

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
