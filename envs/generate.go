package envs

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// maxRepeats is how many already-seen levels in a row a Generator draws before it concludes
// that the options leave too few levels.
const maxRepeats = 10000

// ErrExhausted means a Generator kept drawing levels it had already seen or excluded: its
// options allow too few distinct levels for the request.
var ErrExhausted = errors.New("envs: the generator found no unseen level in 10000 draws; its options allow too few levels")

// Generator draws random levels of one environment, deterministically from a seed. It keeps a
// set of seen levels, which Next and Unique never return: those given to Exclude and those
// Unique returned. A Generator is not safe for concurrent use.
type Generator struct {
	rng *rand.Rand
	// draw returns a random level and the length of its optimal solution.
	draw func(*rand.Rand) (Task, int)
	seen map[string]struct{}
}

func newGenerator(seed, stream uint64, draw func(*rand.Rand) (Task, int)) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, stream)), draw: draw, seen: make(map[string]struct{})}
}

// Next returns a random level that is not in the seen set. Successive levels are independent
// draws, so a level may come more than once: use it for an endless training stream.
func (g *Generator) Next() (Task, error) {
	return g.next(func(int) bool { return true })
}

// next returns a random level, not in the seen set, whose optimal solution length keep accepts.
func (g *Generator) next(keep func(moves int) bool) (Task, error) {
	for range maxRepeats {
		t, moves := g.draw(g.rng)
		if _, seen := g.seen[t.key()]; !seen && keep(moves) {
			return t, nil
		}
	}
	return Task{}, ErrExhausted
}

// Unique is Next, and adds the level to the seen set, so that it never comes again.
func (g *Generator) Unique() (Task, error) {
	return g.unique(func(int) bool { return true })
}

// UniqueOfLength is Unique restricted to levels whose optimal solution takes exactly moves
// actions: of the levels the options allow, one drawn at random among those of that length.
// Curricula use it to choose how hard a level is.
func (g *Generator) UniqueOfLength(moves int) (Task, error) {
	return g.unique(func(m int) bool { return m == moves })
}

// unique is next, and adds the level to the seen set.
func (g *Generator) unique(keep func(moves int) bool) (Task, error) {
	t, err := g.next(keep)
	if err == nil {
		g.seen[t.key()] = struct{}{}
	}
	return t, err
}

// Exclude adds levels to the seen set, for example an evaluation set that training levels
// must not repeat. Only the environment and layout count, not the step budget.
func (g *Generator) Exclude(tasks ...Task) {
	for _, t := range tasks {
		g.seen[t.key()] = struct{}{}
	}
}

// Generate returns n distinct levels, by Unique.
func (g *Generator) Generate(n int) ([]Task, error) {
	tasks := make([]Task, 0, n)
	for range n {
		t, err := g.Unique()
		if err != nil {
			return tasks, fmt.Errorf("after %d levels: %w", len(tasks), err)
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// GenerateSokoban returns n distinct Sokoban levels of the paper's distribution.
func GenerateSokoban(n int, seed uint64) ([]Task, error) {
	g, _ := NewSokobanGenerator(seed, SokobanOptions{}) // the defaults are valid
	return g.Generate(n)
}

// GenerateFrozenLake returns n distinct FrozenLake levels of the paper's distribution.
func GenerateFrozenLake(n int, seed uint64) ([]Task, error) {
	g, _ := NewFrozenLakeGenerator(seed, FrozenLakeOptions{}) // the defaults are valid
	return g.Generate(n)
}

// Stream identifiers of the generators' random sources, so that the two environments draw
// unrelated levels from the same seed.
const (
	sokobanStream    = 0x50c0ba
	frozenLakeStream = 0xf20e1a
)

// SokobanOptions shapes generated Sokoban levels. The zero value is the paper's distribution.
type SokobanOptions struct {
	MinSide, MaxSide int // side of the square board, border walls included, drawn uniformly; 0 means 6 and 8
	MaxMoves         int // keep a level only if its optimal solution is at most this long; 0 means 8, the paper's
	MaxSteps         int // step budget of the tasks; 0 means DefaultMaxSteps
}

// sokobanMaxMoves is the default SokobanOptions.MaxMoves.
const sokobanMaxMoves = 8

// NewSokobanGenerator returns a generator of Sokoban levels as in the paper: a square board
// with border walls and no interior walls, one box, one goal, and goal, box and player on
// distinct random interior squares, kept only if the optimal solution is short enough.
func NewSokobanGenerator(seed uint64, o SokobanOptions) (*Generator, error) {
	o.MinSide = cmp.Or(o.MinSide, 6)
	o.MaxSide = cmp.Or(o.MaxSide, 8)
	o.MaxMoves = cmp.Or(o.MaxMoves, sokobanMaxMoves)
	o.MaxSteps = cmp.Or(o.MaxSteps, DefaultMaxSteps)
	switch {
	case o.MinSide < 5: // a smaller interior has no room for a push
		return nil, fmt.Errorf("envs: Sokoban side %d is below 5", o.MinSide)
	case o.MaxSide < o.MinSide:
		return nil, fmt.Errorf("envs: Sokoban sides %d to %d are out of order", o.MinSide, o.MaxSide)
	case o.MaxMoves < 0 || o.MaxSteps < 0:
		return nil, fmt.Errorf("envs: negative MaxMoves %d or MaxSteps %d", o.MaxMoves, o.MaxSteps)
	}
	return newGenerator(seed, sokobanStream, o.draw), nil
}

func (o SokobanOptions) draw(rng *rand.Rand) (Task, int) {
	for {
		side := o.MinSide + rng.IntN(o.MaxSide-o.MinSide+1)
		inner := side - 2
		rows := make([][]byte, side)
		for r := range rows {
			rows[r] = make([]byte, side)
			for c := range rows[r] {
				if r == 0 || r == side-1 || c == 0 || c == side-1 {
					rows[r][c] = '#'
				} else {
					rows[r][c] = ' '
				}
			}
		}
		for k, i := range distinct(rng, inner*inner, 3) {
			rows[1+i/inner][1+i%inner] = ".$@"[k]
		}
		t := Task{Env: EnvSokoban, Layout: toStrings(rows), MaxSteps: o.MaxSteps}
		s, err := ParseSokoban(t.Layout, t.MaxSteps)
		if err != nil {
			panic("envs: generated an invalid Sokoban level: " + err.Error())
		}
		if solution, err := s.Solve(SolveLimits{MaxMoves: o.MaxMoves}); err == nil {
			return t, len(solution)
		}
	}
}

// FrozenLakeOptions shapes generated FrozenLake levels. The zero value is the paper's
// distribution.
type FrozenLakeOptions struct {
	MinSide, MaxSide     int     // side of the square lake, drawn uniformly; 0 means 2 and 9
	MinFrozen, MaxFrozen float64 // range of the per-level probability that a tile is frozen; 0 means 0.6 and 0.85
	MaxMoves             int     // keep a level only if the validity search finds the goal within this many moves; 0 means 6, the reference's
	MaxSteps             int     // step budget of the tasks; 0 means DefaultMaxSteps
}

// frozenLakeMaxMoves is the default FrozenLakeOptions.MaxMoves, the reference's. Its
// validity check, is_valid in rllm/environments/frozenlake/frozenlake.py of
// github.com/rllm-org/rllm (the FrozenLake environment that the paper's code,
// github.com/microsoft/experiential_rl, builds on), expands only tiles its search reached in
// at most MAX_STEPS moves and succeeds when one of them has the goal as a neighbour: it finds
// goals up to MAX_STEPS+1 moves away, a path of exactly MAX_STEPS+1 included. MAX_STEPS is a
// module-wide variable that the environment's constructor sets from its max_steps argument,
// 5 when none is given; reset, which draws the map that is played, runs the constructor
// again without one. The episode's budget of 8 steps, which the paper's runs pass to the
// constructor, thus bounds only a map that reset replaces, and the search's bound is 5.
const frozenLakeMaxMoves = 6

// NewFrozenLakeGenerator returns a generator of FrozenLake levels as in the reference
// implementation: side uniform in 2 to 9 and frozen probability p uniform in [0.6, 0.85] per
// level, as its dataset script draws them (examples/frozenlake/prepare_frozenlake_data.py of
// github.com/rllm-org/rllm), then the map as its generate_random_map draws it (in the file
// named at frozenLakeMaxMoves): each tile frozen with probability p, start and goal on two
// distinct tiles drawn uniformly (the start is not kept to a corner as in gym's maps), and
// all of it drawn again until the validity check passes. That check, a depth-first search
// bounded by MaxMoves-1, is reproduced exactly, order included (referenceFindsGoal), because
// the order decides some lakes: having reached a tile first by a detour too long to expand
// it from, the search never expands it from a shorter path, and so it rejects some lakes
// whose goal is MaxMoves moves away or less. Every level has an optimal solution of at most
// MaxMoves moves, 6 by default, within the default budget of 8 steps; MaxMoves 8 gives
// levels up to that budget.
func NewFrozenLakeGenerator(seed uint64, o FrozenLakeOptions) (*Generator, error) {
	o.MinSide = cmp.Or(o.MinSide, 2)
	o.MaxSide = cmp.Or(o.MaxSide, 9)
	o.MinFrozen = cmp.Or(o.MinFrozen, 0.6)
	o.MaxFrozen = cmp.Or(o.MaxFrozen, 0.85)
	o.MaxMoves = cmp.Or(o.MaxMoves, frozenLakeMaxMoves)
	o.MaxSteps = cmp.Or(o.MaxSteps, DefaultMaxSteps)
	switch {
	case o.MinSide < 2:
		return nil, fmt.Errorf("envs: FrozenLake side %d is below 2", o.MinSide)
	case o.MaxSide < o.MinSide:
		return nil, fmt.Errorf("envs: FrozenLake sides %d to %d are out of order", o.MinSide, o.MaxSide)
	case !(0 < o.MinFrozen && o.MinFrozen <= o.MaxFrozen && o.MaxFrozen <= 1):
		return nil, fmt.Errorf("envs: frozen probabilities %v to %v are not an interval in (0, 1]", o.MinFrozen, o.MaxFrozen)
	case o.MaxMoves < 0 || o.MaxSteps < 0:
		return nil, fmt.Errorf("envs: negative MaxMoves %d or MaxSteps %d", o.MaxMoves, o.MaxSteps)
	}
	return newGenerator(seed, frozenLakeStream, o.draw), nil
}

func (o FrozenLakeOptions) draw(rng *rand.Rand) (Task, int) {
	side := o.MinSide + rng.IntN(o.MaxSide-o.MinSide+1)
	p := o.MinFrozen + (o.MaxFrozen-o.MinFrozen)*rng.Float64()
	rows := make([][]byte, side)
	for r := range rows {
		rows[r] = make([]byte, side)
	}
	for {
		for _, row := range rows {
			for c := range row {
				if rng.Float64() < p {
					row[c] = 'F'
				} else {
					row[c] = 'H'
				}
			}
		}
		ends := distinct(rng, side*side, 2)
		for k, i := range ends {
			rows[i/side][i%side] = "SG"[k]
		}
		if !referenceFindsGoal(rows, ends[0], o.MaxMoves-1) {
			continue
		}
		t := Task{Env: EnvFrozenLake, Layout: toStrings(rows), MaxSteps: o.MaxSteps}
		f, err := ParseFrozenLake(t.Layout, t.MaxSteps)
		if err != nil {
			panic("envs: generated an invalid FrozenLake level: " + err.Error())
		}
		solution, err := f.Solve()
		if err != nil {
			panic("envs: the validity search found a goal that the solver cannot reach")
		}
		return t, len(solution)
	}
}

// referenceFindsGoal is the reference's validity check (is_valid, see frozenLakeMaxMoves)
// on a square lake whose start is tile start, with depth for its MAX_STEPS: a depth-first
// search from the start, on a stack, over tiles that are not holes. A popped tile is
// expanded if its search path is at most depth moves long and it has not been expanded
// before: its neighbours are pushed in the order down, right, up, left, and the search
// succeeds as soon as one of them is the goal.
func referenceFindsGoal(rows [][]byte, start, depth int) bool {
	side := len(rows)
	type node struct{ tile, moves int }
	stack := []node{{start, 0}}
	expanded := make([]bool, side*side)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.moves > depth || expanded[n.tile] {
			continue
		}
		expanded[n.tile] = true
		r, c := n.tile/side, n.tile%side
		for _, d := range [4][2]int{{1, 0}, {0, 1}, {-1, 0}, {0, -1}} {
			nr, nc := r+d[0], c+d[1]
			if nr < 0 || nr >= side || nc < 0 || nc >= side {
				continue
			}
			switch rows[nr][nc] {
			case 'G':
				return true
			case 'H':
			default:
				stack = append(stack, node{nr*side + nc, n.moves + 1})
			}
		}
	}
	return false
}

// distinct returns k distinct random integers in [0, n), k <= n.
func distinct(rng *rand.Rand, n, k int) []int {
	out := make([]int, 0, k)
	for len(out) < k {
		i := rng.IntN(n)
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

func toStrings(rows [][]byte) []string {
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = string(r)
	}
	return s
}
