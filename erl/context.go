package erl

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/model"
)

// Position ids. A board cell gets a position id from its offset to the player: the player's own
// cell is the centre of a (2·MaxBoardSide−1)² grid of ids, the cell one column to its right the
// next id, the cell one row below it the id one grid row further. Every other token is numbered
// on from TextStart in order. A policy trained from scratch learns from these ids where things
// stand relative to itself, which is what a move depends on: the same situation (box to the right,
// goal beyond it) looks the same wherever on the board it happens. With ids fixed to the board's
// rows and columns instead, supervised imitation of the optimal solver (bench/imitate) left
// held-out success at the random policy's 3% for 400 updates; with player-relative ids it was
// 19% after 100 (bench/RESULTS.md). Positions carry the rows, so no token marks a row's end.
const (
	// MaxBoardSide is the most rows, and the most columns, a board the policy sees may have.
	MaxBoardSide = 10
	// boardSpan is the number of row (and of column) offsets a cell may have from the player.
	boardSpan = 2*MaxBoardSide - 1
	// TextStart is the first position id of the tokens that are not board cells.
	TextStart = boardSpan * boardSpan
)

// guidanceStart is the first position id of a guidance that stands past the turn's own text
// (GuidanceAligned): past the ids of a first-attempt turn's text, <bos> OBS HIST, up to
// DefaultMaxSteps actions, and ACT.
const guidanceStart = TextStart + 3 + envs.DefaultMaxSteps + 1

// boardPos is the position id of the cell dr rows below and dc columns right of the player.
func boardPos(dr, dc int) int32 {
	return int32((dr+MaxBoardSide-1)*boardSpan + dc + MaxBoardSide - 1)
}

// Guidance is what a second attempt is given besides the board: the reflection on the first
// attempt (ERL), or the first attempt itself and its feedback (the no-reflection ablation).
// The zero Guidance is a first attempt's: nothing.
type Guidance struct {
	// Reflection is the reflection's words, without its end token.
	Reflection []int32
	// Attempt, when not nil, is the raw first attempt shown instead of a reflection.
	Attempt *Attempt
}

// Contexts builds the token sequences of every role: the policy is one network that sees
// different contexts, as the language model in the paper.
//
//	action turn (first attempt):   <bos> OBS board HIST a1 … ACT → next action
//	action turn (second attempt):  <bos> REFLECT d … OBS board HIST a1 … ACT → next action
//	  no-reflection ablation:      <bos> ATTEMPT a1 … FEEDBACK f … OBS board HIST a1 … ACT
//	  either, AlignGuidance set:   the same tokens; all but the guidance at a first attempt's ids
//	reflection:                    <bos> [MEMORY m …] ATTEMPT a1 … FEEDBACK f … OBS board REFLECT → d … <eos>
//	  memory as its start (seed):  <bos> ATTEMPT a1 … FEEDBACK f … OBS board REFLECT m … → d … <eos>
//	world model (pretraining):     an action turn, its action, then OBS → next board [FEEDBACK → f …]
//
// A distilled second attempt is trained under its first-attempt contexts: no reflection, no
// memory, exactly what the policy sees at deployment.
type Contexts struct {
	vocab *model.Vocab
	cells map[string][]int32 // per environment: token of each envs.Cell, -1 where it has none
	id    struct{ bos, eos, obs, memory, reflect, attempt, feedback, hist, act, none int32 }
	// actions maps envs.Action to its token; ActionTokens are those tokens in envs.Actions order.
	actions      [len(envs.Actions)]int32
	ActionTokens []int32
	// ReflectionTokens are the tokens a reflection may use, its end token included.
	ReflectionTokens []int32
	// CellTokens are, per environment, the tokens its boards are drawn in; FeedbackVocab
	// those feedback is written in after the FEEDBACK marker: what a world-model prediction
	// chooses among.
	CellTokens    map[string][]int32
	FeedbackVocab []int32
	// AlignGuidance gives a second attempt's turn the position ids of a first attempt's and
	// its guidance ids of its own (GuidanceAligned); unset, the guidance is numbered from
	// <bos> on and the turn after it (GuidanceFirst).
	AlignGuidance bool
}

// NewContexts builds the context builders over a vocabulary of model.Vocabs: reflections may
// use the plan words where it has them (model.PlansVocab).
func NewContexts(v *model.Vocab) *Contexts {
	c := &Contexts{vocab: v, cells: map[string][]int32{}, CellTokens: map[string][]int32{}}
	c.id.bos, c.id.eos, c.id.obs = v.MustID("<bos>"), v.MustID("<eos>"), v.MustID("OBS")
	c.id.memory, c.id.reflect, c.id.attempt = v.MustID("MEMORY"), v.MustID("REFLECT"), v.MustID("ATTEMPT")
	c.id.feedback, c.id.hist, c.id.act, c.id.none = v.MustID("FEEDBACK"), v.MustID("HIST"), v.MustID("ACT"), v.MustID("none")
	for _, env := range envs.EnvNames() {
		symbols, err := envs.DefaultSymbols(env)
		if err != nil {
			panic(err) // EnvNames lists only known environments
		}
		ids := make([]int32, len(envs.Cells))
		for i, cell := range envs.Cells {
			ids[i] = -1
			if s := symbols[cell]; s != "" {
				ids[i] = v.MustID(s)
				if !slices.Contains(c.CellTokens[env], ids[i]) {
					c.CellTokens[env] = append(c.CellTokens[env], ids[i])
				}
			}
		}
		c.cells[env] = ids
	}
	for _, a := range envs.Actions {
		c.actions[a] = v.MustID(a.String())
		c.ActionTokens = append(c.ActionTokens, c.actions[a])
	}
	groups := [][]string{model.ReflectionWords, model.ActionWords, model.Digits}
	if v.Version() == model.PlansVocabVersion {
		groups = append(groups, model.PlanWords)
	}
	for _, group := range groups {
		c.ReflectionTokens = append(c.ReflectionTokens, v.IDs(group...)...)
	}
	c.ReflectionTokens = append(c.ReflectionTokens, c.id.eos)
	for _, group := range [][]string{model.FeedbackWords, model.ActionWords, model.Digits} {
		c.FeedbackVocab = append(c.FeedbackVocab, v.IDs(group...)...)
	}
	return c
}

// Vocab is the vocabulary the contexts are written in.
func (c *Contexts) Vocab() *model.Vocab { return c.vocab }

// EOS is the token that ends a reflection.
func (c *Contexts) EOS() int32 { return c.id.eos }

// ActionToken is the token of an action.
func (c *Contexts) ActionToken(a envs.Action) int32 { return c.actions[a] }

// TokenAction is the action of an action token.
func (c *Contexts) TokenAction(tok int32) (envs.Action, error) {
	for a, t := range c.actions {
		if t == tok {
			return envs.Action(a), nil
		}
	}
	return 0, fmt.Errorf("erl: token %d is not an action", tok)
}

// seq accumulates a context.
type seq struct {
	model.Sequence
	next int32 // next text position id
}

func newSeq() *seq { return &seq{next: TextStart} }

func (s *seq) text(ids ...int32) {
	for _, id := range ids {
		s.Tokens = append(s.Tokens, id)
		s.Pos = append(s.Pos, s.next)
		s.next++
	}
}

func (c *Contexts) board(s *seq, env string, cells [][]envs.Cell) error {
	ids, ok := c.cells[env]
	if !ok {
		return fmt.Errorf("erl: unknown environment %q", env)
	}
	if len(cells) > MaxBoardSide {
		return fmt.Errorf("erl: the board has %d rows; the policy sees at most %d", len(cells), MaxBoardSide)
	}
	pr, pc := -1, -1
	for r, row := range cells {
		if len(row) > MaxBoardSide {
			return fmt.Errorf("erl: board row %d has %d cells; the policy sees at most %d", r+1, len(row), MaxBoardSide)
		}
		for col, cell := range row {
			if cell == envs.Player || cell == envs.PlayerOnGoal || cell == envs.PlayerInHole {
				pr, pc = r, col
			}
		}
	}
	if pr < 0 {
		return fmt.Errorf("erl: the %s board has no player", env)
	}
	s.text(c.id.obs)
	for r, row := range cells {
		for col, cell := range row {
			id := ids[cell]
			if id < 0 {
				return fmt.Errorf("erl: %s boards have no %v cell", env, cell)
			}
			s.Tokens = append(s.Tokens, id)
			s.Pos = append(s.Pos, boardPos(r-pr, col-pc))
		}
	}
	return nil
}

func (c *Contexts) actionTokens(actions []envs.Action) []int32 {
	ids := make([]int32, len(actions))
	for i, a := range actions {
		ids[i] = c.actions[a]
	}
	return ids
}

func (c *Contexts) number(n int) []int32 {
	var ids []int32
	for _, d := range strconv.Itoa(n) {
		ids = append(ids, c.vocab.MustID(string(d)))
	}
	return ids
}

// FeedbackTokens writes an attempt's feedback as words:
// FEEDBACK outcome ineffective N in_a_row N last ACTION reward R steps N.
func (c *Contexts) FeedbackTokens(f envs.Feedback) []int32 {
	v := c.vocab
	ids := []int32{c.id.feedback, v.MustID(f.Outcome.String())}
	ids = append(ids, v.MustID("ineffective"))
	ids = append(ids, c.number(f.Ineffective)...)
	ids = append(ids, v.MustID("in_a_row"))
	ids = append(ids, c.number(f.TrailingIneffective)...)
	ids = append(ids, v.MustID("last"))
	if f.HasLast {
		ids = append(ids, c.actions[f.LastAction])
	} else {
		ids = append(ids, c.id.none)
	}
	ids = append(ids, v.MustID("reward"))
	ids = append(ids, c.number(int(f.Reward))...)
	ids = append(ids, v.MustID("steps"))
	return append(ids, c.number(f.Steps)...)
}

// Turn is the context in which the policy picks its next action: the guidance (none on a first
// attempt), the current board, and the actions of this attempt so far.
func (c *Contexts) Turn(env string, board [][]envs.Cell, history []envs.Action, g Guidance) (model.Sequence, error) {
	s := newSeq()
	s.text(c.id.bos)
	turnNext := s.next
	if c.AlignGuidance {
		s.next = guidanceStart
	}
	switch {
	case g.Attempt != nil:
		s.text(c.id.attempt)
		s.text(c.actionTokens(g.Attempt.Actions)...)
		s.text(c.FeedbackTokens(g.Attempt.Feedback)...)
	case g.Reflection != nil:
		s.text(c.id.reflect)
		s.text(g.Reflection...)
	}
	if c.AlignGuidance {
		s.next = turnNext
	}
	if err := c.board(s, env, board); err != nil {
		return model.Sequence{}, err
	}
	s.text(c.id.hist)
	s.text(c.actionTokens(history)...)
	s.text(c.id.act)
	return s.Sequence, nil
}

// Reflection is the context in which the policy writes a reflection on a failed attempt: the
// remembered reflections (nil when memory is off or given as a draft), the attempt's actions
// and feedback, the task's board and, after REFLECT, draft: the words the new reflection
// starts from (a stored reflection, in memory_mode seed; nil: none). The policy's words
// follow it.
func (c *Contexts) Reflection(a *Attempt, memory [][]int32, draft []int32) (model.Sequence, error) {
	s := newSeq()
	s.text(c.id.bos)
	for _, m := range memory {
		s.text(c.id.memory)
		s.text(m...)
	}
	s.text(c.id.attempt)
	s.text(c.actionTokens(a.Actions)...)
	s.text(c.FeedbackTokens(a.Feedback)...)
	if err := c.board(s, a.Task.Env, a.Start); err != nil {
		return model.Sequence{}, err
	}
	s.text(c.id.reflect)
	s.text(draft...)
	return s.Sequence, nil
}

// Span is the half-open range [From, To) of a sequence's token indices.
type Span struct{ From, To int }

// Transition is a world-model sequence for pretraining: the context of an action turn (a
// first attempt's, as Turn builds it), the action taken there, and what the environment
// showed next: OBS and the board after the action and, where the attempt ended with it
// (feedback not nil), FEEDBACK and the attempt's feedback. next spans the board's cell
// tokens and fb the feedback's words after the marker (empty without feedback): the tokens
// to predict, each among CellTokens or FeedbackVocab. The next board's positions follow its
// own player, as every board's do.
func (c *Contexts) Transition(env string, board [][]envs.Cell, history []envs.Action, action envs.Action, after [][]envs.Cell, feedback *envs.Feedback) (_ model.Sequence, next, fb Span, _ error) {
	turn, err := c.Turn(env, board, history, Guidance{})
	if err != nil {
		return model.Sequence{}, Span{}, Span{}, err
	}
	s := &seq{Sequence: turn, next: turn.Pos[len(turn.Pos)-1] + 1}
	s.text(c.actions[action])
	if err := c.board(s, env, after); err != nil {
		return model.Sequence{}, Span{}, Span{}, err
	}
	next = Span{len(turn.Tokens) + 2, len(s.Tokens)} // after the action and OBS
	fb = Span{len(s.Tokens), len(s.Tokens)}
	if feedback != nil {
		s.text(c.FeedbackTokens(*feedback)...)
		fb = Span{fb.From + 1, len(s.Tokens)} // after FEEDBACK
	}
	return s.Sequence, next, fb, nil
}

// Describe renders a sequence as words, for episode logs and tests.
func (c *Contexts) Describe(tokens []int32) string {
	text, err := c.vocab.Decode(tokens)
	if err != nil {
		return err.Error()
	}
	return text
}
