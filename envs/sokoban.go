package envs

import (
	"unicode/utf8"
)

// square is the static content of a board square: what stays when boxes and player move.
type square uint8

const (
	sqVoid  square = iota // beyond the end of a short row: off the map
	sqFloor               // floor (Sokoban's, including any outside the walls) or frozen ice
	sqWall
	sqGoal
	sqHole
)

// sokobanLevel is the immutable part of a Sokoban game, shared by its clones.
type sokobanLevel struct {
	grid
	squares []square
}

// Sokoban is a Sokoban episode. Moving into a wall, or pushing a box into a wall or another
// box, is ineffective: nothing moves and the step is spent. The episode is solved, with
// reward 1, when every box is on a goal.
type Sokoban struct {
	level     *sokobanLevel
	box       []bool // by square index
	player    int
	misplaced int // boxes not on a goal
	episode
}

// ParseSokoban parses a level in XSB notation (# wall, @ player, + player on goal, $ box,
// * box on goal, . goal, space floor) and starts an episode of maxSteps steps (0 means
// DefaultMaxSteps). Rows may differ in length. The level must have exactly one player, as many
// goals as boxes and at least one box not on a goal, and walls must keep the player (and so
// every box it can push) on the map. Errors are *LayoutError values naming the row and
// column at fault where there is one.
func ParseSokoban(layout []string, maxSteps int) (*Sokoban, error) {
	maxSteps, err := checkMaxSteps(maxSteps)
	if err != nil {
		return nil, err
	}
	if len(layout) == 0 {
		return nil, &LayoutError{Msg: "no rows"}
	}
	lv := &sokobanLevel{grid: grid{rowLen: make([]int, len(layout))}}
	for r, row := range layout {
		lv.rowLen[r] = utf8.RuneCountInString(row)
		lv.width = max(lv.width, lv.rowLen[r])
	}
	lv.squares = make([]square, lv.width*len(layout))
	s := &Sokoban{level: lv, box: make([]bool, len(lv.squares)), player: -1, episode: episode{maxSteps: maxSteps}}
	var boxes, goals, lastBox, lastGoal int
	for r, row := range layout {
		c := 0
		for _, ch := range row {
			i := r*lv.width + c
			sq, hasBox, isPlayer, ok := xsbSquare(ch)
			if !ok {
				return nil, lv.errorAt(i, "unknown character %q", ch)
			}
			lv.squares[i] = sq
			if isPlayer {
				if s.player >= 0 {
					row, col := lv.pos(s.player)
					return nil, lv.errorAt(i, "second player (the first is at row %d, column %d)", row, col)
				}
				s.player = i
			}
			if hasBox {
				s.box[i] = true
				boxes++
				lastBox = i
				if sq != sqGoal {
					s.misplaced++
				}
			}
			if sq == sqGoal {
				goals++
				lastGoal = i
			}
			c++
		}
	}
	switch {
	case s.player < 0:
		return nil, &LayoutError{Msg: "no player"}
	case boxes > goals:
		return nil, lv.errorAt(lastBox, "%d boxes but %d goals", boxes, goals)
	case goals > boxes:
		return nil, lv.errorAt(lastGoal, "%d boxes but %d goals", boxes, goals)
	case boxes == 0:
		return nil, &LayoutError{Msg: "no boxes"}
	case s.misplaced == 0:
		return nil, &LayoutError{Msg: "every box is already on a goal"}
	}
	if i := lv.exit(s.player); i >= 0 {
		return nil, lv.errorAt(i, "the player can walk off the map here: the walls do not enclose it")
	}
	return s, nil
}

// xsbSquare decodes one XSB character.
func xsbSquare(ch rune) (sq square, box, player, ok bool) {
	switch ch {
	case '#':
		return sqWall, false, false, true
	case ' ':
		return sqFloor, false, false, true
	case '.':
		return sqGoal, false, false, true
	case '$':
		return sqFloor, true, false, true
	case '*':
		return sqGoal, true, false, true
	case '@':
		return sqFloor, false, true, true
	case '+':
		return sqGoal, false, true, true
	}
	return 0, false, false, false
}

// exit returns the first square, in breadth-first order from square start, from which a
// walk through anything but walls leaves the map; -1 if the walls enclose start. Boxes do
// not stop the walk: the player can push them along the same way. An enclosed player never
// reaches an edge, which is what lets Step and the solver move by index offsets unchecked.
func (lv *sokobanLevel) exit(start int) int {
	seen := make([]bool, len(lv.squares))
	seen[start] = true
	queue := []int{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		r, c := i/lv.width, i%lv.width
		for _, a := range Actions {
			dr, dc := a.offset()
			r2, c2 := r+dr, c+dc
			if r2 < 0 || r2 >= lv.height() || c2 < 0 || c2 >= lv.width {
				return i
			}
			j := r2*lv.width + c2
			switch {
			case lv.squares[j] == sqVoid:
				return i
			case lv.squares[j] != sqWall && !seen[j]:
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	return -1
}

// delta returns the index offset of a move.
func (lv *sokobanLevel) delta(a Action) int {
	dr, dc := a.offset()
	return dr*lv.width + dc
}

// Step implements Game.
func (s *Sokoban) Step(a Action) StepResult {
	if s.Done() {
		return s.over()
	}
	d := s.level.delta(a)
	to := s.player + d
	effective := false
	switch {
	case s.level.squares[to] == sqWall:
	case s.box[to]:
		beyond := to + d
		if s.level.squares[beyond] != sqWall && !s.box[beyond] {
			s.moveBox(to, beyond)
			s.player = to
			effective = true
		}
	default:
		s.player = to
		effective = true
	}
	return s.record(a, effective, s.misplaced == 0, false)
}

func (s *Sokoban) moveBox(from, to int) {
	s.box[from], s.box[to] = false, true
	if s.level.squares[from] == sqGoal {
		s.misplaced++
	}
	if s.level.squares[to] == sqGoal {
		s.misplaced--
	}
}

func (s *Sokoban) cell(i int) Cell {
	goal := s.level.squares[i] == sqGoal
	switch {
	case s.level.squares[i] == sqWall:
		return Wall
	case i == s.player && goal:
		return PlayerOnGoal
	case i == s.player:
		return Player
	case s.box[i] && goal:
		return BoxOnGoal
	case s.box[i]:
		return Box
	case goal:
		return Goal
	}
	return Floor
}

// Cells implements Game. Rows keep the lengths of the layout's rows.
func (s *Sokoban) Cells() [][]Cell { return s.level.cells(s.cell) }

// Render implements Game. Rows keep the lengths of the layout's rows, so Render(XSBSymbols)
// of a fresh game returns its layout.
func (s *Sokoban) Render(m SymbolMap) []string { return s.level.render(&m, s.cell) }

// Clone implements Game.
func (s *Sokoban) Clone() Game {
	c := *s
	c.box = append([]bool(nil), s.box...)
	return &c
}
