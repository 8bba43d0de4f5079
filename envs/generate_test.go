package envs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestGenerateSokoban(t *testing.T) {
	const n = 400
	tasks, err := GenerateSokoban(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != n {
		t.Fatalf("%d levels, want %d", len(tasks), n)
	}
	sides := map[int]int{}
	seen := map[string]bool{}
	for _, task := range tasks {
		side := len(task.Layout)
		sides[side]++
		if seen[task.key()] {
			t.Errorf("duplicate level %q", task.Layout)
		}
		seen[task.key()] = true
		if task.Env != EnvSokoban || task.MaxSteps != DefaultMaxSteps {
			t.Errorf("level %q: env %q, max steps %d", task.Layout, task.Env, task.MaxSteps)
		}
		var counts [256]int
		for r, row := range task.Layout {
			if len(row) != side {
				t.Errorf("level %q is not square", task.Layout)
			}
			for c := range row {
				border := r == 0 || r == side-1 || c == 0 || c == side-1
				if border != (row[c] == '#') {
					t.Errorf("level %q: walls are not exactly the border", task.Layout)
				}
				counts[row[c]]++
			}
		}
		if counts['@'] != 1 || counts['$'] != 1 || counts['.'] != 1 || counts['+']+counts['*'] != 0 {
			t.Errorf("level %q: want one player, box and goal on distinct squares", task.Layout)
		}
		s, err := ParseSokoban(task.Layout, task.MaxSteps)
		if err != nil {
			t.Fatal(err)
		}
		sol, err := s.Solve(SolveLimits{})
		if err != nil || len(sol) > 8 {
			t.Errorf("level %q: optimal solution %v, %v; want at most 8 moves", task.Layout, sol, err)
		}
	}
	for side := 6; side <= 8; side++ {
		if sides[side] < n/10 {
			t.Errorf("only %d of %d levels have side %d", sides[side], n, side)
		}
	}
	if len(sides) != 3 {
		t.Errorf("sides %v, want 6 to 8", sides)
	}
}

func TestGenerateFrozenLake(t *testing.T) {
	const n = 400
	tasks, err := GenerateFrozenLake(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	sides := map[int]int{}
	seen := map[string]bool{}
	var frozen, tiles int // over the larger lakes, where S and G weigh little
	for _, task := range tasks {
		side := len(task.Layout)
		sides[side]++
		if seen[task.key()] {
			t.Errorf("duplicate level %q", task.Layout)
		}
		seen[task.key()] = true
		f, err := ParseFrozenLake(task.Layout, task.MaxSteps)
		if err != nil {
			t.Fatalf("level %q: %v", task.Layout, err)
		}
		if len(task.Layout[0]) != side {
			t.Errorf("level %q is not square", task.Layout)
		}
		sol, err := f.Solve()
		if err != nil || len(sol) > task.MaxSteps {
			t.Errorf("level %q: shortest path %v, %v; want at most %d moves", task.Layout, sol, err, task.MaxSteps)
		}
		if side >= 6 {
			all := strings.Join(task.Layout, "")
			frozen += strings.Count(all, "F")
			tiles += len(all) - 2
		}
	}
	for side := 2; side <= 9; side++ {
		if sides[side] == 0 {
			t.Errorf("no level of side %d: sides %v", side, sides)
		}
	}
	if len(sides) != 8 {
		t.Errorf("sides %v, want 2 to 9", sides)
	}
	// Levels are kept only when the goal is near enough, which favours frozen lakes a little.
	if p := float64(frozen) / float64(tiles); p < 0.6 || p > 0.9 {
		t.Errorf("frozen fraction %.3f, want about 0.6 to 0.85", p)
	}
	solid, err := NewFrozenLakeGenerator(1, FrozenLakeOptions{MinFrozen: 1, MaxFrozen: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		task, _ := solid.Next()
		if strings.Contains(strings.Join(task.Layout, ""), "H") {
			t.Errorf("frozen probability 1 made a hole: %q", task.Layout)
		}
	}
}

func TestGeneratorDeterminism(t *testing.T) {
	for _, env := range EnvNames() {
		draw := func(seed uint64) []Task {
			g, err := NewGenerator(env, seed)
			if err != nil {
				t.Fatal(err)
			}
			tasks, err := g.Generate(30)
			if err != nil {
				t.Fatal(err)
			}
			return tasks
		}
		a, b, c := draw(5), draw(5), draw(6)
		if !slices.EqualFunc(a, b, equalTasks) {
			t.Errorf("%s: the same seed gave different levels", env)
		}
		if slices.EqualFunc(a, c, equalTasks) {
			t.Errorf("%s: seeds 5 and 6 gave the same levels", env)
		}
	}
}

func equalTasks(a, b Task) bool {
	return a.Env == b.Env && a.MaxSteps == b.MaxSteps && slices.Equal(a.Layout, b.Layout)
}

func TestGeneratorExclude(t *testing.T) {
	// Sides of 5 with one-move solutions allow exactly 12 levels: player, box and goal in a
	// row or column of the 3 by 3 interior, in either direction.
	opts := SokobanOptions{MinSide: 5, MaxSide: 5, MaxMoves: 1}
	g, err := NewSokobanGenerator(1, opts)
	if err != nil {
		t.Fatal(err)
	}
	all, err := g.Generate(12)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Unique(); !errors.Is(err, ErrExhausted) {
		t.Errorf("a 13th level from a space of 12: error %v, want ErrExhausted", err)
	}
	h, _ := NewSokobanGenerator(2, opts)
	h.Exclude(all[:11]...)
	for range 20 {
		task, err := h.Next()
		if err != nil || !equalTasks(task, all[11]) {
			t.Fatalf("with 11 of 12 levels excluded, Next() = %q, %v; want %q", task.Layout, err, all[11].Layout)
		}
	}
}

// TestUniqueOfLength checks that levels drawn by length have optimal solutions of exactly that
// length (by each environment's solver), are distinct, and avoid excluded levels.
func TestUniqueOfLength(t *testing.T) {
	optimal := map[string]func(Task) (int, error){
		EnvSokoban: func(task Task) (int, error) {
			s, err := ParseSokoban(task.Layout, task.MaxSteps)
			if err != nil {
				return 0, err
			}
			solution, err := s.Solve(SolveLimits{})
			return len(solution), err
		},
		EnvFrozenLake: func(task Task) (int, error) {
			f, err := ParseFrozenLake(task.Layout, task.MaxSteps)
			if err != nil {
				return 0, err
			}
			solution, err := f.Solve()
			return len(solution), err
		},
	}
	for _, env := range EnvNames() {
		g, err := NewGenerator(env, 3)
		if err != nil {
			t.Fatal(err)
		}
		excluded, err := g.Generate(50)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := NewGenerator(env, 3) // the same stream: it would draw the excluded levels first
		h.Exclude(excluded...)
		seen := map[string]bool{}
		for _, x := range excluded {
			seen[x.key()] = true
		}
		for moves := 1; moves <= DefaultMaxSteps; moves++ {
			for range 5 {
				task, err := h.UniqueOfLength(moves)
				if err != nil {
					t.Fatalf("%s: UniqueOfLength(%d): %v", env, moves, err)
				}
				if seen[task.key()] {
					t.Errorf("%s: UniqueOfLength(%d) returned an excluded or repeated level %q", env, moves, task.Layout)
				}
				seen[task.key()] = true
				if got, err := optimal[env](task); err != nil || got != moves {
					t.Errorf("%s: UniqueOfLength(%d) returned %q, solved in %d moves (%v)", env, moves, task.Layout, got, err)
				}
			}
		}
	}
	g, _ := NewSokobanGenerator(1, SokobanOptions{MaxMoves: 3})
	if _, err := g.UniqueOfLength(4); !errors.Is(err, ErrExhausted) {
		t.Errorf("a 4-move level from levels of at most 3 moves: error %v, want ErrExhausted", err)
	}
}

func TestGeneratorOptionErrors(t *testing.T) {
	for _, o := range []SokobanOptions{{MinSide: 4}, {MinSide: 8, MaxSide: 7}, {MaxMoves: -1}} {
		if _, err := NewSokobanGenerator(1, o); err == nil {
			t.Errorf("NewSokobanGenerator(%+v) succeeded", o)
		}
	}
	for _, o := range []FrozenLakeOptions{{MinSide: 1}, {MinSide: 5, MaxSide: 4}, {MinFrozen: 0.9, MaxFrozen: 0.8}, {MaxFrozen: 1.5}, {MaxSteps: -2}} {
		if _, err := NewFrozenLakeGenerator(1, o); err == nil {
			t.Errorf("NewFrozenLakeGenerator(%+v) succeeded", o)
		}
	}
	if _, err := NewGenerator("maze", 1); err == nil {
		t.Error(`NewGenerator("maze") succeeded`)
	}
}
