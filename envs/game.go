package envs

import (
	"fmt"
	"slices"
	"strings"
)

// The environment names used in Task.Env and in level files.
const (
	EnvSokoban    = "sokoban"
	EnvFrozenLake = "frozenlake"
)

// DefaultMaxSteps is the step budget of an episode when a task does not give one, as in the
// paper.
const DefaultMaxSteps = 8

// Game is one episode of a multi-turn text environment. Implementations are not safe for
// concurrent use; Clone one per goroutine.
type Game interface {
	// Step takes one action. A Step after the episode is done changes nothing, reports
	// Effective false and does not count as a step.
	Step(a Action) StepResult
	// Cells returns the current board, one slice a row, in a new allocation.
	Cells() [][]Cell
	// Render draws the current board as text rows with m.
	Render(m SymbolMap) []string
	// Steps returns the number of actions taken, effective or not.
	Steps() int
	// Done reports whether the episode is over: solved, failed or out of steps.
	Done() bool
	// Solved reports whether the episode ended in success.
	Solved() bool
	// MaxSteps returns the step budget of the episode.
	MaxSteps() int
	// Feedback summarises the episode so far.
	Feedback() Feedback
	// Clone returns an independent copy of the episode in its current state. It is cheap:
	// the static level is shared.
	Clone() Game
}

// StepResult is what one step did.
type StepResult struct {
	Reward    float64 // reward earned by this step
	Done      bool    // the episode is over
	Solved    bool    // the episode is over and was won
	Effective bool    // the step changed the board
}

// Task is a level to play: which environment, its layout in file notation, and the step
// budget.
type Task struct {
	Env      string   // EnvSokoban or EnvFrozenLake
	Layout   []string // rows in file notation: XSB for Sokoban, S F H G for FrozenLake
	MaxSteps int      // step budget; 0 means DefaultMaxSteps
}

// New parses the task's layout and starts an episode.
func (t Task) New() (Game, error) {
	spec, err := lookupEnv(t.Env)
	if err != nil {
		return nil, err
	}
	return spec.parse(t.Layout, t.MaxSteps)
}

// key identifies the task's level, for finding duplicates.
func (t Task) key() string {
	return t.Env + "\n" + strings.Join(t.Layout, "\n")
}

type envSpec struct {
	parse   func(layout []string, maxSteps int) (Game, error)
	symbols SymbolMap // what the policy sees
	file    SymbolMap // level file notation
	gen     func(seed uint64) *Generator
	// maxMoves is the longest optimal solution among gen's levels.
	maxMoves int
}

var envSpecs = map[string]envSpec{
	EnvSokoban: {
		parse: func(layout []string, maxSteps int) (Game, error) {
			return ParseSokoban(layout, maxSteps)
		},
		symbols: SokobanSymbols,
		file:    XSBSymbols,
		gen: func(seed uint64) *Generator {
			g, _ := NewSokobanGenerator(seed, SokobanOptions{}) // the defaults are valid
			return g
		},
		maxMoves: sokobanMaxMoves,
	},
	EnvFrozenLake: {
		parse: func(layout []string, maxSteps int) (Game, error) {
			return ParseFrozenLake(layout, maxSteps)
		},
		symbols: FrozenLakeSymbols,
		file:    FrozenLakeFileSymbols,
		gen: func(seed uint64) *Generator {
			g, _ := NewFrozenLakeGenerator(seed, FrozenLakeOptions{}) // the defaults are valid
			return g
		},
		maxMoves: frozenLakeMaxMoves,
	},
}

// EnvNames returns the names of the environments, sorted.
func EnvNames() []string {
	names := make([]string, 0, len(envSpecs))
	for name := range envSpecs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func lookupEnv(env string) (envSpec, error) {
	spec, ok := envSpecs[env]
	if !ok {
		return envSpec{}, fmt.Errorf("envs: unknown environment %q (want one of %s)", env, strings.Join(EnvNames(), ", "))
	}
	return spec, nil
}

// DefaultSymbols returns the symbols the policy sees for env's boards.
func DefaultSymbols(env string) (SymbolMap, error) {
	spec, err := lookupEnv(env)
	return spec.symbols, err
}

// FileSymbols returns the level file notation of env: XSB for Sokoban, S F H G for
// FrozenLake.
func FileSymbols(env string) (SymbolMap, error) {
	spec, err := lookupEnv(env)
	return spec.file, err
}

// NewGenerator returns env's level generator with its default (the paper's) options.
func NewGenerator(env string, seed uint64) (*Generator, error) {
	spec, err := lookupEnv(env)
	if err != nil {
		return nil, err
	}
	return spec.gen(seed), nil
}

// MaxMoves returns the longest optimal solution among the levels of env's generator
// (NewGenerator): 8 moves for Sokoban, 6 for FrozenLake. Generator.UniqueOfLength finds
// levels of any length from 1 to it.
func MaxMoves(env string) (int, error) {
	spec, err := lookupEnv(env)
	return spec.maxMoves, err
}

// LayoutError reports a level that cannot be played.
type LayoutError struct {
	Row, Col int // 1-based position of the offending square; 0, 0 for the level as a whole
	Msg      string
}

func (e *LayoutError) Error() string {
	if e.Row == 0 {
		return "envs: bad level: " + e.Msg
	}
	return fmt.Sprintf("envs: bad level: row %d, column %d: %s", e.Row, e.Col, e.Msg)
}

func checkMaxSteps(maxSteps int) (int, error) {
	switch {
	case maxSteps < 0:
		return 0, fmt.Errorf("envs: negative step budget %d", maxSteps)
	case maxSteps == 0:
		return DefaultMaxSteps, nil
	}
	return maxSteps, nil
}

// episode is the bookkeeping both games share: the step budget, the counts that feed
// Feedback, and how the episode ended.
type episode struct {
	maxSteps    int
	steps       int
	ineffective int
	trailing    int // ineffective steps at the end, in a row
	last        Action
	outcome     Outcome
	reward      float64
}

func (e *episode) Steps() int    { return e.steps }
func (e *episode) Done() bool    { return e.outcome != InProgress }
func (e *episode) Solved() bool  { return e.outcome == Solved }
func (e *episode) MaxSteps() int { return e.maxSteps }

func (e *episode) Feedback() Feedback {
	return Feedback{
		Outcome:             e.outcome,
		Ineffective:         e.ineffective,
		TrailingIneffective: e.trailing,
		LastAction:          e.last,
		HasLast:             e.steps > 0,
		Reward:              e.reward,
		Steps:               e.steps,
		MaxSteps:            e.maxSteps,
	}
}

// over is the result of a Step after the episode ended.
func (e *episode) over() StepResult {
	return StepResult{Done: true, Solved: e.Solved()}
}

// record counts a step that was taken and decides how the episode stands after it. solved
// takes precedence over the step limit: winning on the last step is a win.
func (e *episode) record(a Action, effective, solved, failed bool) StepResult {
	e.steps++
	e.last = a
	if effective {
		e.trailing = 0
	} else {
		e.ineffective++
		e.trailing++
	}
	var reward float64
	switch {
	case solved:
		e.outcome = Solved
		reward = 1
	case failed:
		e.outcome = Failed
	case e.steps >= e.maxSteps:
		e.outcome = StepLimit
	}
	e.reward += reward
	return StepResult{Reward: reward, Done: e.Done(), Solved: solved, Effective: effective}
}
