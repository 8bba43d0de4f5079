package envs

import (
	"math/rand/v2"
	"testing"
)

// benchmarkSteps steps games of the given levels with random actions, starting a fresh
// episode by Clone whenever one ends, as rollouts do, and reports env steps per second.
func benchmarkSteps(b *testing.B, tasks []Task) {
	starts := make([]Game, len(tasks))
	for i, t := range tasks {
		g, err := t.New()
		if err != nil {
			b.Fatal(err)
		}
		starts[i] = g
	}
	rng := rand.New(rand.NewPCG(1, 1))
	acts := make([]Action, 4096)
	for i := range acts {
		acts[i] = Actions[rng.IntN(len(Actions))]
	}
	g := starts[0].Clone()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if g.Done() {
			g = starts[i%len(starts)].Clone()
		}
		g.Step(acts[i%len(acts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

func BenchmarkSokobanStep(b *testing.B) {
	tasks, err := GenerateSokoban(256, 1)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSteps(b, tasks)
}

func BenchmarkFrozenLakeStep(b *testing.B) {
	tasks, err := GenerateFrozenLake(256, 1)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSteps(b, tasks)
}

// BenchmarkGenerateSokoban measures drawing one level of the paper's distribution, its
// optimal-solution check included.
func BenchmarkGenerateSokoban(b *testing.B) {
	g, err := NewSokobanGenerator(1, SokobanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "levels/s")
}
