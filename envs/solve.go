package envs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// DefaultMaxStates is the number of states a solver visits before giving up when
// SolveLimits.MaxStates is 0.
const DefaultMaxStates = 1 << 20

// SolveLimits bounds a solver's search.
type SolveLimits struct {
	MaxStates int // states to visit before giving up; 0 means DefaultMaxStates
	MaxMoves  int // longest solution wanted; 0 means no bound
}

var (
	// ErrUnsolvable means the search covered every reachable state and none is solved.
	ErrUnsolvable = errors.New("envs: the level has no solution")
	// ErrSearchLimit means the search stopped at a SolveLimits bound before finding a
	// solution; a longer one may exist.
	ErrSearchLimit = errors.New("envs: no solution within the search limits")
)

// solveNode is one state of a breadth-first search, with how it was first reached.
type solveNode struct {
	parent int32
	via    Action
	depth  int32
}

// Solve returns a shortest action sequence that solves the board from its current state,
// counting every move, pushes included; it ignores the remaining step budget. It searches
// breadth first over (player, boxes) states. A board already solved returns no actions.
func (s *Sokoban) Solve(lim SolveLimits) ([]Action, error) {
	if s.misplaced == 0 {
		return nil, nil
	}
	maxStates := lim.MaxStates
	if maxStates <= 0 {
		maxStates = DefaultMaxStates
	}
	lv := s.level
	// A state is the player's square then the boxes' squares in increasing order, so that
	// states with the same boxes compare equal; states lie end to end in one slice.
	stride := 1
	for _, b := range s.box {
		if b {
			stride++
		}
	}
	states := make([]int32, 0, 64*stride)
	states = append(states, int32(s.player))
	for i, b := range s.box {
		if b {
			states = append(states, int32(i))
		}
	}
	nodes := []solveNode{{parent: -1}}
	key := make([]byte, 4*stride)
	encode := func(st []int32) []byte {
		for j, v := range st {
			binary.LittleEndian.PutUint32(key[4*j:], uint32(v))
		}
		return key
	}
	seen := map[string]int32{string(encode(states)): 0}
	occupied := make([]bool, len(lv.squares)) // boxes of the state being expanded
	next := make([]int32, stride)
	truncated := false
	for head := 0; head < len(nodes); head++ {
		if lim.MaxMoves > 0 && int(nodes[head].depth) >= lim.MaxMoves {
			truncated = true
			continue
		}
		cur := states[head*stride : (head+1)*stride]
		for _, b := range cur[1:] {
			occupied[b] = true
		}
		for _, a := range Actions {
			d := int32(lv.delta(a))
			to := cur[0] + d
			if lv.squares[to] == sqWall {
				continue
			}
			copy(next, cur)
			next[0] = to
			if occupied[to] {
				beyond := to + d
				if lv.squares[beyond] == sqWall || occupied[beyond] {
					continue
				}
				boxes := next[1:]
				boxes[slices.Index(boxes, to)] = beyond
				slices.Sort(boxes)
			}
			k := encode(next)
			if _, ok := seen[string(k)]; ok {
				continue
			}
			if len(nodes) >= maxStates {
				return nil, ErrSearchLimit
			}
			seen[string(k)] = int32(len(nodes))
			nodes = append(nodes, solveNode{parent: int32(head), via: a, depth: nodes[head].depth + 1})
			states = append(states, next...)
			if lv.allOnGoals(next[1:]) {
				return path(nodes, len(nodes)-1), nil
			}
		}
		for _, b := range cur[1:] {
			occupied[b] = false
		}
	}
	if truncated {
		return nil, ErrSearchLimit
	}
	return nil, ErrUnsolvable
}

func (lv *sokobanLevel) allOnGoals(boxes []int32) bool {
	for _, b := range boxes {
		if lv.squares[b] != sqGoal {
			return false
		}
	}
	return true
}

// path returns the actions that lead from the root of a search to node i.
func path(nodes []solveNode, i int) []Action {
	acts := make([]Action, nodes[i].depth)
	for ; i > 0; i = int(nodes[i].parent) {
		acts[nodes[i].depth-1] = nodes[i].via
	}
	return acts
}

// OptimalMoves returns the length of a shortest solution of the task's level within its step
// budget, every move counted, pushes included: what an evaluation tabulates success by. A
// level with no solution within its budget returns ErrSearchLimit, or ErrUnsolvable where it
// has none at all.
func (t Task) OptimalMoves() (int, error) {
	g, err := t.New()
	if err != nil {
		return 0, err
	}
	var solution []Action
	switch g := g.(type) {
	case *Sokoban:
		solution, err = g.Solve(SolveLimits{MaxMoves: g.MaxSteps()})
	case *FrozenLake:
		if solution, err = g.Solve(); err == nil && len(solution) > g.MaxSteps() {
			err = ErrSearchLimit
		}
	default:
		return 0, fmt.Errorf("envs: no solver for %s levels", t.Env)
	}
	if err != nil {
		return 0, err
	}
	return len(solution), nil
}
