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
	MaxMoves         int // keep a level only if its optimal solution is at most this long; 0 means 8
	MaxSteps         int // step budget of the tasks; 0 means DefaultMaxSteps
}

// NewSokobanGenerator returns a generator of Sokoban levels as in the paper: a square board
// with border walls and no interior walls, one box, one goal, and goal, box and player on
// distinct random interior squares, kept only if the optimal solution is short enough.
func NewSokobanGenerator(seed uint64, o SokobanOptions) (*Generator, error) {
	o.MinSide = cmp.Or(o.MinSide, 6)
	o.MaxSide = cmp.Or(o.MaxSide, 8)
	o.MaxMoves = cmp.Or(o.MaxMoves, 8)
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
	MaxMoves             int     // keep a level only if the goal is at most this many moves away; 0 means MaxSteps
	MaxSteps             int     // step budget of the tasks; 0 means DefaultMaxSteps
}

// NewFrozenLakeGenerator returns a generator of FrozenLake levels as in the reference
// implementation: a square lake whose tiles are each frozen with a probability p drawn per
// level, start and goal on distinct random tiles, the tiles drawn again until the goal can be
// reached. The reference bounds that search by the step budget, and so does MaxMoves, so that
// every level can be won in one episode.
func NewFrozenLakeGenerator(seed uint64, o FrozenLakeOptions) (*Generator, error) {
	o.MinSide = cmp.Or(o.MinSide, 2)
	o.MaxSide = cmp.Or(o.MaxSide, 9)
	o.MinFrozen = cmp.Or(o.MinFrozen, 0.6)
	o.MaxFrozen = cmp.Or(o.MaxFrozen, 0.85)
	o.MaxSteps = cmp.Or(o.MaxSteps, DefaultMaxSteps)
	o.MaxMoves = cmp.Or(o.MaxMoves, o.MaxSteps)
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
		for k, i := range distinct(rng, side*side, 2) {
			rows[i/side][i%side] = "SG"[k]
		}
		t := Task{Env: EnvFrozenLake, Layout: toStrings(rows), MaxSteps: o.MaxSteps}
		f, err := ParseFrozenLake(t.Layout, t.MaxSteps)
		if err != nil {
			panic("envs: generated an invalid FrozenLake level: " + err.Error())
		}
		if solution, err := f.Solve(); err == nil && len(solution) <= o.MaxMoves {
			return t, len(solution)
		}
	}
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
