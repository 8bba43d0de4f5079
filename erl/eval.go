package erl

import (
	"math"
	"math/rand/v2"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// Score is a success rate over N attempts with its 95% Wilson interval.
type Score struct {
	Success float64 `json:"success"`
	N       int     `json:"n"`
	Lo      float64 `json:"lo"`
	Hi      float64 `json:"hi"`
}

// NewScore scores solved successes out of n attempts.
func NewScore(solved, n int) Score {
	if n == 0 {
		return Score{}
	}
	const z = 1.959963984540054 // the 97.5% normal quantile
	p, nf := float64(solved)/float64(n), float64(n)
	centre := (p + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return Score{Success: p, N: n, Lo: math.Max(0, centre-half), Hi: math.Min(1, centre+half)}
}

// Evaluation is the first-attempt success on a set of levels: greedy, and sampled as in the
// paper's validation.
type Evaluation struct {
	Greedy  Score `json:"greedy"`
	Sampled Score `json:"sampled"`
}

// Evaluate plays first attempts only (no feedback, no reflection: deployment), once greedily
// and samples times with sample per level.
func Evaluate(m *model.Model, c *Contexts, tasks []envs.Task, sample model.SampleConfig, samples int, seed uint64) (Evaluation, error) {
	var ev Evaluation
	greedy, err := Play(m, c, tasks, nil, model.SampleConfig{Greedy: true}, nil)
	if err != nil {
		return ev, err
	}
	ev.Greedy = NewScore(countSolved(greedy), len(greedy))
	var repeated []envs.Task
	for _, t := range tasks {
		for range samples {
			repeated = append(repeated, t)
		}
	}
	rng := rand.New(rand.NewPCG(seed, evalSeedOffset))
	attempts, err := Play(m, c, repeated, nil, sample, rng)
	if err != nil {
		return ev, err
	}
	ev.Sampled = NewScore(countSolved(attempts), len(attempts))
	return ev, nil
}

// EvaluateRandom scores the uniformly random policy on tasks, samples attempts per task: the
// floor a trained policy is read against.
func EvaluateRandom(tasks []envs.Task, samples int, seed uint64) (Score, error) {
	rng := rand.New(rand.NewPCG(seed, evalSeedOffset))
	solved := 0
	for _, t := range tasks {
		for range samples {
			g, err := t.New()
			if err != nil {
				return Score{}, err
			}
			for !g.Done() {
				g.Step(envs.Actions[rng.IntN(len(envs.Actions))])
			}
			if g.Solved() {
				solved++
			}
		}
	}
	return NewScore(solved, len(tasks)*samples), nil
}

func countSolved(as []*Attempt) int {
	n := 0
	for _, a := range as {
		if a.Solved {
			n++
		}
	}
	return n
}
