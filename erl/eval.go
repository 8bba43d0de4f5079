package erl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/internal/stats"
	"github.com/erlgo/erlgo/model"
)

// Score is a success rate over the attempts at a set of levels, with its 95% interval from a
// bootstrap over the levels (stats.Success): the attempts at one level are not independent
// draws, so the levels are what is resampled.
type Score struct {
	Success float64 `json:"success"`
	// N is the number of attempts, Levels the number of levels they were at.
	N      int     `json:"n"`
	Levels int     `json:"levels"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

// NewScore scores levels at each of which attempts attempts were made, solved[i] of them
// successful at level i.
func NewScore(solved []int, attempts int) Score {
	e := stats.Success(solved, attempts)
	return Score{Success: e.Value, N: len(solved) * attempts, Levels: len(solved), Lo: e.Lo, Hi: e.Hi}
}

// IntervalMethod says how the intervals of a Score are made.
const IntervalMethod = stats.IntervalMethod + "; at a rate of 0 or 1, Wilson's interval over the levels"

// Evaluation is the first-attempt success on a set of levels: greedy, and sampled as in the
// paper's validation, over all the levels and by the length of their optimal solutions.
type Evaluation struct {
	Greedy  Score `json:"greedy"`
	Sampled Score `json:"sampled"`
	// ByLength holds the scores of the levels of each optimal solution length, shortest
	// first, the lengths that the levels have only.
	ByLength []LengthScore `json:"by_length"`
	// GreedySolved and SampledSolved hold, level by level in the order of the levels, how many
	// of its greedy attempt (0 or 1) and of its sampled attempts succeeded: what the scores of
	// several runs at the same levels are pooled from.
	GreedySolved  []int `json:"greedy_solved,omitempty"`
	SampledSolved []int `json:"sampled_solved,omitempty"`
	// Interval says how the intervals are made (IntervalMethod).
	Interval string `json:"interval"`
}

// LengthScore is the first-attempt success on the levels of one optimal solution length.
type LengthScore struct {
	// Moves is the length of the levels' optimal solutions; 0 for levels that have none within
	// their step budget.
	Moves   int   `json:"moves"`
	Greedy  Score `json:"greedy"`
	Sampled Score `json:"sampled"`
}

// Evaluate plays first attempts only (no feedback, no reflection: deployment), once greedily
// and samples times with sample per level.
func Evaluate(m *model.Model, c *Contexts, tasks []envs.Task, sample model.SampleConfig, samples int, seed uint64) (Evaluation, error) {
	ev := Evaluation{Interval: IntervalMethod}
	moves, err := optimalMoves(tasks)
	if err != nil {
		return ev, err
	}
	greedy, err := Play(m, c, tasks, nil, model.SampleConfig{Greedy: true}, nil)
	if err != nil {
		return ev, err
	}
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
	greedySolved, sampledSolved := solvedPerLevel(greedy, 1), solvedPerLevel(attempts, samples)
	ev.Greedy, ev.Sampled = NewScore(greedySolved, 1), NewScore(sampledSolved, samples)
	ev.GreedySolved, ev.SampledSolved = greedySolved, sampledSolved
	for _, l := range lengthsOf(moves) {
		var g, s []int
		for i, m := range moves {
			if m == l {
				g, s = append(g, greedySolved[i]), append(s, sampledSolved[i])
			}
		}
		ev.ByLength = append(ev.ByLength, LengthScore{Moves: l, Greedy: NewScore(g, 1), Sampled: NewScore(s, samples)})
	}
	return ev, nil
}

// optimalMoves returns the length of each task's optimal solution, 0 where none fits its
// step budget.
func optimalMoves(tasks []envs.Task) ([]int, error) {
	moves := make([]int, len(tasks))
	for i, t := range tasks {
		m, err := t.OptimalMoves()
		switch {
		case errors.Is(err, envs.ErrSearchLimit) || errors.Is(err, envs.ErrUnsolvable):
		case err != nil:
			return nil, fmt.Errorf("erl: level %d: %w", i+1, err)
		default:
			moves[i] = m
		}
	}
	return moves, nil
}

// lengthsOf returns the distinct values of moves, in increasing order.
func lengthsOf(moves []int) []int {
	return slices.Compact(slices.Sorted(slices.Values(moves)))
}

// solvedPerLevel counts the solved attempts of each level, attempts holding per attempts a
// level in a row.
func solvedPerLevel(attempts []*Attempt, per int) []int {
	solved := make([]int, len(attempts)/per)
	for i, a := range attempts {
		if a.Solved {
			solved[i/per]++
		}
	}
	return solved
}

// EvaluateRandom scores the uniformly random policy on tasks, samples attempts per task: the
// floor a trained policy is read against.
func EvaluateRandom(tasks []envs.Task, samples int, seed uint64) (Score, error) {
	rng := rand.New(rand.NewPCG(seed, evalSeedOffset))
	solved := make([]int, len(tasks))
	for i, t := range tasks {
		for range samples {
			g, err := t.New()
			if err != nil {
				return Score{}, err
			}
			for !g.Done() {
				g.Step(envs.Actions[rng.IntN(len(envs.Actions))])
			}
			if g.Solved() {
				solved[i]++
			}
		}
	}
	return NewScore(solved, samples), nil
}
