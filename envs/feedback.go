package envs

import (
	"fmt"
	"strconv"
	"strings"
)

// Outcome is how an episode stands.
type Outcome uint8

// The outcomes of an episode.
const (
	InProgress Outcome = iota // the episode goes on
	Solved                    // the puzzle was solved
	StepLimit                 // the step budget ran out first
	Failed                    // the episode ended unsolved before the step limit: FrozenLake's hole
)

var outcomeNames = [...]string{
	InProgress: "in_progress",
	Solved:     "solved",
	StepLimit:  "step_limit",
	Failed:     "failed",
}

// String returns the outcome's lower-case name, such as "step_limit".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Feedback is what the environment tells the policy about an attempt.
type Feedback struct {
	Outcome             Outcome
	Ineffective         int     // actions that changed nothing
	TrailingIneffective int     // of those, how many came last, in a row
	LastAction          Action  // valid when HasLast
	HasLast             bool    // at least one action was taken
	Reward              float64 // total reward of the attempt
	Steps               int     // actions taken
	MaxSteps            int     // step budget
}

// Text returns the feedback in words, after the reference implementation: the outcome, how
// many actions had no effect, how many of the last ones in a row had no effect, the last
// action, the reward and the number of steps. For example:
//
//	The puzzle is not solved: the step limit of 8 was reached. 3 of 8 actions had no effect;
//	the last 2 in a row had no effect. Last action: Left. Reward: 0. Steps: 8.
//
// The wording is fixed and uses few distinct words, so that a word-level vocabulary covers it.
func (f Feedback) Text() string {
	var b strings.Builder
	switch f.Outcome {
	case Solved:
		b.WriteString("The puzzle is solved.")
	case StepLimit:
		fmt.Fprintf(&b, "The puzzle is not solved: the step limit of %d was reached.", f.MaxSteps)
	case Failed:
		b.WriteString("The puzzle is not solved: the player fell into a hole.")
	default:
		fmt.Fprintf(&b, "The puzzle is not solved yet: %d of %d steps taken.", f.Steps, f.MaxSteps)
	}
	if !f.HasLast {
		b.WriteString(" No actions were taken.")
	} else {
		noun := "actions"
		if f.Steps == 1 {
			noun = "action"
		}
		fmt.Fprintf(&b, " %d of %d %s had no effect", f.Ineffective, f.Steps, noun)
		switch {
		case f.TrailingIneffective == 1:
			b.WriteString("; the last action had no effect")
		case f.TrailingIneffective > 1:
			fmt.Fprintf(&b, "; the last %d in a row had no effect", f.TrailingIneffective)
		}
		fmt.Fprintf(&b, ". Last action: %s.", f.LastAction)
	}
	fmt.Fprintf(&b, " Reward: %s. Steps: %d.", strconv.FormatFloat(f.Reward, 'g', -1, 64), f.Steps)
	return b.String()
}
