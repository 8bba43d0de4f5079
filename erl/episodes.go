package erl

import (
	"path/filepath"

	"github.com/erlgo/erlgo/envs"
)

// Episode is one line of a run's episodes.jsonl: one first attempt of a training step as the
// policy played it and, where the gate retried it, the reflection and the second attempt.
// Train logs every attempt of each evaluated step, and of the last step of an interrupted
// run, so that readers (the viewer of package report) can show what the policy did at those
// steps without the model or its vocabulary.
type Episode struct {
	Step int `json:"step"`
	// Task is the index of the level in the step's batch; Attempt the index of the attempt
	// among the task's group.
	Task     int      `json:"task"`
	Attempt  int      `json:"attempt"`
	Env      string   `json:"env"`
	Layout   []string `json:"layout"`
	MaxSteps int      `json:"max_steps"`
	// Moves is the length of the level's optimal solution, where the curriculum chose it.
	Moves int            `json:"moves,omitempty"`
	First EpisodeAttempt `json:"first"`
	// Reflection is the text the policy wrote after the failed first attempt; absent when it
	// was not retried or, in the no-reflection ablation, retried without one.
	Reflection *string `json:"reflection,omitempty"`
	// Second is the retry; absent when the first attempt was not retried.
	Second *EpisodeAttempt `json:"second,omitempty"`
}

// EpisodeAttempt is one attempt at an Episode's level.
type EpisodeAttempt struct {
	Actions []string `json:"actions"`
	// Boards holds the board before each action and, last, the board at the end: one more
	// than the actions. Each board is rows of text in the level file notation
	// (envs.FileSymbols).
	Boards   [][]string `json:"boards"`
	Feedback string     `json:"feedback"`
	Reward   float64    `json:"reward"`
	Solved   bool       `json:"solved"`
}

// newEpisodeAttempt replays a to draw its boards.
func newEpisodeAttempt(a *Attempt) (EpisodeAttempt, error) {
	symbols, err := envs.FileSymbols(a.Task.Env)
	if err != nil {
		return EpisodeAttempt{}, err
	}
	g, err := a.Task.New()
	if err != nil {
		return EpisodeAttempt{}, err
	}
	ea := EpisodeAttempt{Actions: []string{}, Boards: [][]string{g.Render(symbols)},
		Feedback: a.Feedback.Text(), Reward: a.Reward, Solved: a.Solved}
	for _, act := range a.Actions {
		g.Step(act)
		ea.Actions = append(ea.Actions, act.String())
		ea.Boards = append(ea.Boards, g.Render(symbols))
	}
	return ea, nil
}

// episodes returns the Episodes of the latest step, one a first attempt.
func (t *Trainer) episodes() ([]Episode, error) {
	ep := t.Last
	if ep == nil {
		return nil, nil
	}
	retry := make(map[int]int, len(ep.Retried)) // first attempt → its index among the retried
	for k, i := range ep.Retried {
		retry[i] = k
	}
	out := make([]Episode, len(ep.First))
	for i, a := range ep.First {
		first, err := newEpisodeAttempt(a)
		if err != nil {
			return nil, err
		}
		e := Episode{Step: t.StepsDone, Task: i / t.Config.Group, Attempt: i % t.Config.Group,
			Env: a.Task.Env, Layout: a.Task.Layout, MaxSteps: a.Task.MaxSteps, First: first}
		if e.Task < len(ep.Moves) {
			e.Moves = ep.Moves[e.Task]
		}
		if k, ok := retry[i]; ok && k < len(ep.Second) {
			if k < len(ep.Reflections) {
				text := t.Contexts.Describe(ep.Reflections[k])
				e.Reflection = &text
			}
			second, err := newEpisodeAttempt(ep.Second[k])
			if err != nil {
				return nil, err
			}
			e.Second = &second
		}
		out[i] = e
	}
	return out, nil
}

// EpisodeWriter appends Episodes to a run directory's episodes.jsonl (see runLog).
type EpisodeWriter struct{ log *runLog }

// OpenEpisodes opens the episodes.jsonl of the run directory dir for appending, keeping the
// episodes of steps up to resumeStep as openRunLog does.
func OpenEpisodes(dir string, resumeStep int) (*EpisodeWriter, error) {
	l, err := openRunLog(filepath.Join(dir, EpisodesFile), resumeStep)
	if err != nil {
		return nil, err
	}
	return &EpisodeWriter{l}, nil
}

// Write appends the episodes, a line each.
func (w *EpisodeWriter) Write(eps []Episode) error {
	for _, e := range eps {
		if err := w.log.write(e); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes the file to stable storage and closes it.
func (w *EpisodeWriter) Close() error { return w.log.Close() }

// ReadEpisodes reads the Episodes of an episodes.jsonl file, as readJSONL does.
func ReadEpisodes(path string) ([]Episode, error) { return readJSONL[Episode](path) }
