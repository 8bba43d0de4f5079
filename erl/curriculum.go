package erl

import "math/rand/v2"

// Adaptive curriculum settings. A length whose levels first attempts always solve, or never
// do, keeps adaptiveFloor of weight against the 1/4 of one solved half the time, so that its
// estimate stays current as the policy changes; each group of attempts moves the estimate of
// its level's length adaptiveRate of the way to the group's success rate, so that it follows
// the last ten or so groups of that length.
const (
	adaptiveFloor = 0.02
	adaptiveRate  = 0.1
)

// LengthCurriculum is the state of the adaptive curriculum: for each length of optimal
// solution, a running estimate of how often first attempts solve training levels of that
// length. Lengths are drawn with weight p·(1−p) + adaptiveFloor: most often where the policy
// succeeds about half the time, where a GRPO group is most likely to hold both outcomes and
// so to carry a learning signal. A fresh policy thus trains mostly on levels of one or two
// moves, and on longer ones as it learns the shorter.
type LengthCurriculum struct {
	// Success[L-1] estimates the first-attempt success rate on levels of L moves.
	Success []float64 `json:"success"`
}

// newLengthCurriculum returns the state that knows nothing yet: every length at one half, so
// the first draws are even over lengths 1 to maxMoves.
func newLengthCurriculum(maxMoves int) LengthCurriculum {
	success := make([]float64, maxMoves)
	for i := range success {
		success[i] = 0.5
	}
	return LengthCurriculum{Success: success}
}

// Weights returns the probability of drawing each length, Weights()[L-1] for L moves.
func (c *LengthCurriculum) Weights() []float64 {
	w := make([]float64, len(c.Success))
	var sum float64
	for i, p := range c.Success {
		w[i] = p*(1-p) + adaptiveFloor
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// draw returns a length of optimal solution, from 1, with the probabilities of Weights.
func (c *LengthCurriculum) draw(rng *rand.Rand) int {
	w := c.Weights()
	r := rng.Float64()
	for i, p := range w {
		if r -= p; r < 0 {
			return i + 1
		}
	}
	return len(w)
}

// observe moves the estimate for levels of the given length toward the success rate of a
// group of first attempts on one of them.
func (c *LengthCurriculum) observe(moves int, success float64) {
	p := &c.Success[moves-1]
	*p += adaptiveRate * (success - *p)
}
