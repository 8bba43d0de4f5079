package erl

import (
	"fmt"
	"math/rand/v2"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// Attempt is one episode the policy played, with what it saw and chose at every turn.
type Attempt struct {
	Task envs.Task
	// Start is the board the attempt began from.
	Start [][]envs.Cell
	// Guide is what the attempt was given besides the board.
	Guide Guidance
	// Turns holds the context of each turn; Tokens the action token chosen there and Logp its
	// log-probability under the policy that sampled it.
	Turns   []model.Sequence
	Tokens  []int32
	Logp    []float32
	Actions []envs.Action
	// Boards holds the board before each turn, for rendering episodes.
	Boards   [][][]envs.Cell
	Reward   float64
	Solved   bool
	Feedback envs.Feedback
}

// Play runs one attempt per task in lock step: at every turn the contexts of the attempts still
// going are run through the policy as one batch, one action token each, and the games advance.
// guides gives each attempt its guidance (nil: first attempts).
func Play(m *model.Model, c *Contexts, tasks []envs.Task, guides []Guidance, sample model.SampleConfig, rng *rand.Rand) ([]*Attempt, error) {
	games := make([]envs.Game, len(tasks))
	attempts := make([]*Attempt, len(tasks))
	for i, t := range tasks {
		g, err := t.New()
		if err != nil {
			return nil, fmt.Errorf("erl: task %d: %w", i, err)
		}
		games[i] = g
		attempts[i] = &Attempt{Task: t, Start: g.Cells()}
		if guides != nil {
			attempts[i].Guide = guides[i]
		}
	}
	allowed := func(int, []int32) []int32 { return c.ActionTokens }
	for {
		var live []int
		var prompts []model.Sequence
		for i, g := range games {
			if g.Done() {
				continue
			}
			a := attempts[i]
			board := g.Cells()
			ctx, err := c.Turn(a.Task.Env, board, a.Actions, a.Guide)
			if err != nil {
				return nil, err
			}
			live = append(live, i)
			prompts = append(prompts, ctx)
			a.Turns = append(a.Turns, ctx)
			a.Boards = append(a.Boards, board)
		}
		if len(live) == 0 {
			break
		}
		gens, err := m.Generate(prompts, model.GenerateOptions{MaxNew: 1, Stop: -1, Allowed: allowed, Sample: sample}, rng)
		if err != nil {
			return nil, err
		}
		for k, i := range live {
			tok := gens[k].Tokens[0]
			action, err := c.TokenAction(tok)
			if err != nil {
				return nil, err
			}
			a := attempts[i]
			a.Tokens = append(a.Tokens, tok)
			a.Logp = append(a.Logp, gens[k].Logp[0])
			a.Actions = append(a.Actions, action)
			games[i].Step(action)
		}
	}
	for i, g := range games {
		a := attempts[i]
		a.Feedback = g.Feedback()
		a.Reward = a.Feedback.Reward
		a.Solved = g.Solved()
	}
	return attempts, nil
}

// TurnsUnder rebuilds the contexts that an attempt given guidance g would have seen while taking
// a's actions: a's turns with its guidance replaced by g. Under the zero Guidance they are the
// first-attempt contexts that selective distillation trains on; under a retry's guidance, the
// guided contexts that a hindsight retry trains on (TermWeights.HindsightRetry).
func TurnsUnder(c *Contexts, a *Attempt, g Guidance) ([]model.Sequence, error) {
	turns := make([]model.Sequence, len(a.Actions))
	for t := range a.Actions {
		ctx, err := c.Turn(a.Task.Env, a.Boards[t], a.Actions[:t], g)
		if err != nil {
			return nil, err
		}
		turns[t] = ctx
	}
	return turns, nil
}
