package envs

import (
	"fmt"
	"unicode/utf8"
)

// frozenLakeLevel is the immutable part of a FrozenLake game, shared by its clones.
type frozenLakeLevel struct {
	grid
	squares []square // sqFloor, sqHole or sqGoal
}

// FrozenLake is a FrozenLake episode on a lake that is not slippery. Moving off the grid is
// ineffective. Reaching the goal solves the episode with reward 1; stepping into a hole ends
// it with reward 0.
type FrozenLake struct {
	level  *frozenLakeLevel
	player int
	episode
}

// ParseFrozenLake parses a level in gym's notation (S start, F frozen, H hole, G goal; rows of
// equal length) and starts an episode of maxSteps steps (0 means DefaultMaxSteps). The level
// must have exactly one start and one goal. Errors are *LayoutError values naming the row and
// column at fault where there is one.
func ParseFrozenLake(layout []string, maxSteps int) (*FrozenLake, error) {
	maxSteps, err := checkMaxSteps(maxSteps)
	if err != nil {
		return nil, err
	}
	if len(layout) == 0 {
		return nil, &LayoutError{Msg: "no rows"}
	}
	width := utf8.RuneCountInString(layout[0])
	if width == 0 {
		return nil, &LayoutError{Row: 1, Col: 1, Msg: "empty row"}
	}
	lv := &frozenLakeLevel{
		grid:    grid{width: width, rowLen: make([]int, len(layout))},
		squares: make([]square, width*len(layout)),
	}
	f := &FrozenLake{level: lv, player: -1, episode: episode{maxSteps: maxSteps}}
	goal := -1
	for r, row := range layout {
		if n := utf8.RuneCountInString(row); n != width {
			return nil, &LayoutError{Row: r + 1, Col: min(n, width) + 1, Msg: fmt.Sprintf("row has %d squares, row 1 has %d", n, width)}
		}
		lv.rowLen[r] = width
		c := 0
		for _, ch := range row {
			i := r*width + c
			var first *int // where an earlier start or goal was seen
			switch ch {
			case 'F':
				lv.squares[i] = sqFloor
			case 'H':
				lv.squares[i] = sqHole
			case 'S':
				lv.squares[i] = sqFloor
				first = &f.player
			case 'G':
				lv.squares[i] = sqGoal
				first = &goal
			default:
				return nil, lv.errorAt(i, "unknown character %q", ch)
			}
			if first != nil {
				if *first >= 0 {
					row, col := lv.pos(*first)
					return nil, lv.errorAt(i, "second %c (the first is at row %d, column %d)", ch, row, col)
				}
				*first = i
			}
			c++
		}
	}
	switch {
	case f.player < 0:
		return nil, &LayoutError{Msg: "no start (S)"}
	case goal < 0:
		return nil, &LayoutError{Msg: "no goal (G)"}
	}
	return f, nil
}

// Step implements Game.
func (f *FrozenLake) Step(a Action) StepResult {
	if f.Done() {
		return f.over()
	}
	to, ok := f.level.move(f.player, a)
	if !ok {
		return f.record(a, false, false, false)
	}
	f.player = to
	sq := f.level.squares[to]
	return f.record(a, true, sq == sqGoal, sq == sqHole)
}

// move returns the square a move from i leads to; false if it leaves the grid.
func (lv *frozenLakeLevel) move(i int, a Action) (int, bool) {
	dr, dc := a.offset()
	r, c := i/lv.width+dr, i%lv.width+dc
	if r < 0 || r >= lv.height() || c < 0 || c >= lv.width {
		return 0, false
	}
	return r*lv.width + c, true
}

func (f *FrozenLake) cell(i int) Cell {
	sq := f.level.squares[i]
	switch {
	case i == f.player && sq == sqHole:
		return PlayerInHole
	case i == f.player && sq == sqGoal:
		return PlayerOnGoal
	case i == f.player:
		return Player
	case sq == sqHole:
		return Hole
	case sq == sqGoal:
		return Goal
	}
	return Floor
}

// Cells implements Game.
func (f *FrozenLake) Cells() [][]Cell { return f.level.cells(f.cell) }

// Render implements Game.
func (f *FrozenLake) Render(m SymbolMap) []string { return f.level.render(&m, f.cell) }

// Clone implements Game.
func (f *FrozenLake) Clone() Game {
	c := *f
	return &c
}

// Solve returns a shortest action sequence from the player's square to the goal that avoids
// holes; it ignores the remaining step budget. A player on the goal returns no actions; a
// player in a hole, or a goal cut off by holes, returns ErrUnsolvable.
func (f *FrozenLake) Solve() ([]Action, error) {
	lv := f.level
	switch lv.squares[f.player] {
	case sqGoal:
		return nil, nil
	case sqHole:
		return nil, ErrUnsolvable
	}
	// Squares in breadth-first order, with how each was first reached.
	order := []int{f.player}
	nodes := []solveNode{{parent: -1}}
	seen := make([]bool, len(lv.squares))
	seen[f.player] = true
	for head := 0; head < len(order); head++ {
		for _, a := range Actions {
			to, ok := lv.move(order[head], a)
			if !ok || seen[to] || lv.squares[to] == sqHole {
				continue
			}
			seen[to] = true
			order = append(order, to)
			nodes = append(nodes, solveNode{parent: int32(head), via: a, depth: nodes[head].depth + 1})
			if lv.squares[to] == sqGoal {
				return path(nodes, len(nodes)-1), nil
			}
		}
	}
	return nil, ErrUnsolvable
}
