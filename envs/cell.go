package envs

import (
	"fmt"
	"strings"
)

// Cell is the kind of one board square, independent of how it is drawn. Both environments
// share one set, so that a model sees the same token for the same idea (player, goal) in
// either.
type Cell uint8

// The cell kinds. Sokoban boards use Wall to PlayerOnGoal; FrozenLake boards use Floor
// (frozen ice, the start included), Hole, Goal, Player, PlayerInHole and PlayerOnGoal.
const (
	Floor Cell = iota
	Wall
	Goal
	Box
	BoxOnGoal
	Player
	PlayerOnGoal
	Hole
	PlayerInHole
	numCells
)

// Cells lists every cell kind, in a fixed order that a vocabulary may use.
var Cells = [...]Cell{Floor, Wall, Goal, Box, BoxOnGoal, Player, PlayerOnGoal, Hole, PlayerInHole}

var cellNames = [...]string{
	Floor:        "floor",
	Wall:         "wall",
	Goal:         "goal",
	Box:          "box",
	BoxOnGoal:    "box_on_goal",
	Player:       "player",
	PlayerOnGoal: "player_on_goal",
	Hole:         "hole",
	PlayerInHole: "player_in_hole",
}

// String returns the cell's stable lower-case name, such as "box_on_goal"; models use these
// names as tokens.
func (c Cell) String() string {
	if c < numCells {
		return cellNames[c]
	}
	return fmt.Sprintf("Cell(%d)", uint8(c))
}

// SymbolMap gives the text drawn for each cell kind. A kind with no symbol is drawn as "?".
type SymbolMap [numCells]string

// The symbol maps of the two environments: what the policy sees, and the level file notation.
var (
	// SokobanSymbols are the remapped Sokoban symbols of the paper, chosen so that no prior
	// knowledge of Sokoban notation helps.
	SokobanSymbols = SymbolMap{
		Player: "A", PlayerOnGoal: "a", Box: "B", BoxOnGoal: "b", Goal: "C", Floor: "D", Wall: "E",
	}
	// XSBSymbols is the usual Sokoban file notation.
	XSBSymbols = SymbolMap{
		Player: "@", PlayerOnGoal: "+", Box: "$", BoxOnGoal: "*", Goal: ".", Floor: " ", Wall: "#",
	}
	// FrozenLakeSymbols are the reference implementation's FrozenLake symbols.
	FrozenLakeSymbols = SymbolMap{
		Player: "P", Floor: "_", Hole: "O", Goal: "G", PlayerInHole: "X", PlayerOnGoal: "√",
	}
	// FrozenLakeFileSymbols is gym's FrozenLake file notation (S F H G), the player drawn as S
	// wherever it stands, so that a board in play is itself a level. The two end states have no
	// gym letter; they borrow FrozenLakeSymbols' X and √, and ParseFrozenLake rejects them.
	FrozenLakeFileSymbols = SymbolMap{
		Player: "S", Floor: "F", Hole: "H", Goal: "G", PlayerInHole: "X", PlayerOnGoal: "√",
	}
)

func (m *SymbolMap) symbol(c Cell) string {
	if s := m[c]; s != "" {
		return s
	}
	return "?"
}

// grid is the shape of a board: rows of possibly different lengths (XSB files omit trailing
// spaces) laid out in a rectangle of the longest row's width, so that a square's index is
// row*width + column and a move is a fixed index offset.
type grid struct {
	width  int
	rowLen []int
}

func (g *grid) height() int { return len(g.rowLen) }

// pos returns the 1-based row and column of square i, as errors name them.
func (g *grid) pos(i int) (row, col int) { return i/g.width + 1, i%g.width + 1 }

// errorAt returns a LayoutError at square i.
func (g *grid) errorAt(i int, format string, args ...any) *LayoutError {
	row, col := g.pos(i)
	return &LayoutError{Row: row, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// cells returns the board as rows of the original lengths, using at for the square at index i.
func (g *grid) cells(at func(i int) Cell) [][]Cell {
	n := 0
	for _, l := range g.rowLen {
		n += l
	}
	flat := make([]Cell, n)
	rows := make([][]Cell, len(g.rowLen))
	for r, l := range g.rowLen {
		row := flat[:l:l]
		flat = flat[l:]
		for c := range row {
			row[c] = at(r*g.width + c)
		}
		rows[r] = row
	}
	return rows
}

// render draws the board with m, as rows of the original lengths.
func (g *grid) render(m *SymbolMap, at func(i int) Cell) []string {
	rows := make([]string, len(g.rowLen))
	var b strings.Builder
	for r, l := range g.rowLen {
		b.Reset()
		for c := 0; c < l; c++ {
			b.WriteString(m.symbol(at(r*g.width + c)))
		}
		rows[r] = b.String()
	}
	return rows
}
