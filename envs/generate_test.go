package envs

import (
	"errors"
	"math"
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
		if err != nil || len(sol) > 6 {
			t.Errorf("level %q: shortest path %v, %v; want at most 6 moves, the reference's bound", task.Layout, sol, err)
		}
		if task.MaxSteps != DefaultMaxSteps {
			t.Errorf("level %q: max steps %d, want %d", task.Layout, task.MaxSteps, DefaultMaxSteps)
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

// TestFrozenLakeReferenceSearch checks the port of the reference's validity check on lakes
// whose verdict its Python code (is_valid, see frozenLakeMaxMoves) gave.
func TestFrozenLakeReferenceSearch(t *testing.T) {
	// lane returns an all-frozen lake with the start and goal at the ends of its top row,
	// side-1 moves apart.
	lane := func(side int) []string {
		rows := []string{"S" + strings.Repeat("F", side-2) + "G"}
		for range side - 1 {
			rows = append(rows, strings.Repeat("F", side))
		}
		return rows
	}
	for _, tc := range []struct {
		layout []string
		depth  int
		want   bool
	}{
		{[]string{"SG", "FF"}, 5, true},
		{[]string{"SF", "FG"}, 5, true},
		{[]string{"SH", "HG"}, 5, false}, // no path
		{lane(7), 5, true},               // 6 moves
		{lane(8), 5, false},              // 7 moves
		{lane(8), 7, true},
		{lane(9), 7, true},  // 8 moves
		{lane(9), 6, false}, // 8 moves
		// Goals 4 and 5 moves away that the search misses: it reaches the tiles beside the
		// hole first by a detour, too deep to expand them, and never again by a shorter path.
		{[]string{"FFFF", "SFFF", "HFFF", "GFFF"}, 5, false},
		{[]string{"HSFF", "HFFF", "FHFF", "FGFF"}, 5, false},
	} {
		rows := make([][]byte, len(tc.layout))
		start := -1
		for r, row := range tc.layout {
			rows[r] = []byte(row)
			if c := strings.IndexByte(row, 'S'); c >= 0 {
				start = r*len(row) + c
			}
		}
		if got := referenceFindsGoal(rows, start, tc.depth); got != tc.want {
			t.Errorf("%q, depth %d: %v, want %v", tc.layout, tc.depth, got, tc.want)
		}
	}
}

// The reference's FrozenLake distribution, measured with its Python code (generate_random_map,
// see frozenLakeMaxMoves; numpy 2.2.6) on 50000 maps whose seeds, sides and frozen
// probabilities were drawn as its dataset script draws them (rllm-org/rllm,
// examples/frozenlake/prepare_frozenlake_data.py: seed uniform in [0, 10⁶), side uniform in
// 2 to 9, p uniform in [0.6, 0.85]): the share of each length of optimal solution, 1 to 6
// moves, and the mean probability that uniformly random actions solve a map in 8 steps.
// The paper's 100 test maps (reproduced from the reference's test seeds, issue 15) have 25,
// 15, 22, 22, 6 and 10 of lengths 1 to 6, and random actions solve 19% of them.
var (
	referenceLengthShares = []float64{0.2482, 0.2442, 0.1763, 0.1561, 0.0930, 0.0822}
	referenceRandomSolved = 0.2109
	testMapLengthCounts   = []int{25, 15, 22, 22, 6, 10}
)

const referenceMaps = 50000

// TestFrozenLakeDistribution checks that generated FrozenLake levels follow the reference's
// distribution: over independent draws (Next, which like the reference's dataset repeats a
// level now and then), the share of every length of optimal solution and the random policy's
// success lie within four standard errors of the difference from the reference's, no level
// needs more than 6 moves, and the paper's 100 test maps are a plausible sample (chi-square).
func TestFrozenLakeDistribution(t *testing.T) {
	const n = 4000
	g, err := NewGenerator(EnvFrozenLake, 7)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, len(referenceLengthShares)+1) // by length, 0 unused
	var solved, solved2 float64
	for range n {
		task, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFrozenLake(task.Layout, task.MaxSteps)
		if err != nil {
			t.Fatal(err)
		}
		sol, err := f.Solve()
		if err != nil || len(sol) == 0 || len(sol) >= len(counts) {
			t.Fatalf("level %q: optimal solution %v, %v; want 1 to %d moves", task.Layout, sol, err, len(counts)-1)
		}
		counts[len(sol)]++
		p := randomSuccess(f)
		solved += p
		solved2 += p * p
	}
	chi2 := 0.0
	for L, ref := range referenceLengthShares {
		got := float64(counts[L+1]) / n
		if tol := 4 * math.Sqrt(ref*(1-ref)*(1.0/n+1.0/referenceMaps)); math.Abs(got-ref) > tol {
			t.Errorf("%d-move levels: share %.4f, the reference's %.4f (tolerance %.4f)", L+1, got, ref, tol)
		}
		expected := 100 * got
		chi2 += math.Pow(float64(testMapLengthCounts[L])-expected, 2) / expected
	}
	// 20.5 is the 99.9% point of the chi-square distribution with 5 degrees of freedom.
	if chi2 > 20.5 {
		t.Errorf("the paper's test maps %v are implausible under lengths %v: chi-square %.1f", testMapLengthCounts, counts[1:], chi2)
	}
	mean := solved / n
	sd := math.Sqrt(solved2/n - mean*mean)
	if tol := 4 * sd * math.Sqrt(1.0/n+1.0/referenceMaps); math.Abs(mean-referenceRandomSolved) > tol {
		t.Errorf("random policy solves %.4f, the reference's maps %.4f (tolerance %.4f)", mean, referenceRandomSolved, tol)
	}
	t.Logf("lengths 1 to 6: %v of %d; chi-square against the test maps %.1f; random policy %.4f", counts[1:], n, chi2, mean)
}

// randomSuccess returns the probability that uniformly random actions solve f within its
// step budget.
func randomSuccess(f *FrozenLake) float64 {
	lv := f.level
	at := make([]float64, len(lv.squares)) // probability of standing on each square, not yet done
	at[f.player] = 1
	won := 0.0
	for range f.maxSteps {
		next := make([]float64, len(at))
		for i, p := range at {
			if p == 0 {
				continue
			}
			for _, a := range Actions {
				to, ok := lv.move(i, a)
				if !ok {
					to = i
				}
				switch lv.squares[to] {
				case sqGoal:
					won += p / float64(len(Actions))
				case sqFloor:
					next[to] += p / float64(len(Actions))
				}
			}
		}
		at = next
	}
	return won
}

// TestFrozenLakeMaxMoves checks the search bound as an option: every level's goal lies within
// it, and at 8, the agent's budget, levels of 7 and 8 moves come too.
func TestFrozenLakeMaxMoves(t *testing.T) {
	for _, maxMoves := range []int{1, 3, 8} {
		g, err := NewFrozenLakeGenerator(2, FrozenLakeOptions{MaxMoves: maxMoves})
		if err != nil {
			t.Fatal(err)
		}
		longest := 0
		for range 1000 {
			task, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			f, _ := ParseFrozenLake(task.Layout, task.MaxSteps)
			sol, err := f.Solve()
			if err != nil || len(sol) > maxMoves {
				t.Fatalf("MaxMoves %d: level %q solved in %v, %v", maxMoves, task.Layout, sol, err)
			}
			longest = max(longest, len(sol))
		}
		if longest != maxMoves {
			t.Errorf("MaxMoves %d: the longest of 1000 levels needs %d moves", maxMoves, longest)
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
		maxMoves, err := MaxMoves(env)
		if err != nil {
			t.Fatal(err)
		}
		for moves := 1; moves <= maxMoves; moves++ {
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
	for _, env := range EnvNames() {
		g, _ := NewGenerator(env, 1)
		maxMoves, _ := MaxMoves(env)
		if _, err := g.UniqueOfLength(maxMoves + 1); !errors.Is(err, ErrExhausted) {
			t.Errorf("%s: a level of %d moves, beyond MaxMoves: error %v, want ErrExhausted", env, maxMoves+1, err)
		}
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
