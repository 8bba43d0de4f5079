package envs

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

// shortestByBruteForce tries every action sequence of up to depth moves and returns the length
// of the shortest that solves g, or -1 if none does.
func shortestByBruteForce(g Game, depth int) int {
	var solves func(g Game, d int) bool
	solves = func(g Game, d int) bool {
		if g.Solved() {
			return true
		}
		if d == 0 || g.Done() {
			return false
		}
		for _, a := range Actions {
			c := g.Clone()
			c.Step(a)
			if solves(c, d-1) {
				return true
			}
		}
		return false
	}
	for d := 0; d <= depth; d++ {
		if solves(g, d) {
			return d
		}
	}
	return -1
}

func TestSokobanSolveMatchesBruteForce(t *testing.T) {
	const depth = 8
	levels := [][]string{
		{"#####", "#@$.#", "#####"},
		{"#######", "#.$@$.#", "#######"},
		{"######", "#@#. #", "# $  #", "######"},
		{"######", "#.   #", "# ## #", "# $@ #", "######"},
		{"#######", "#@    #", "# $$  #", "#  .. #", "#######"},
		{"######", "#    #", "# #$ #", "#  .@#", "######"},
		{"#####", "#$  #", "#  .#", "# @ #", "#####"}, // the box is stuck in a corner
	}
	g6, err := NewSokobanGenerator(3, SokobanOptions{MinSide: 6, MaxSide: 7, MaxMoves: 14})
	if err != nil {
		t.Fatal(err)
	}
	for range 25 {
		task, err := g6.Unique()
		if err != nil {
			t.Fatal(err)
		}
		levels = append(levels, task.Layout)
	}
	var long int // levels whose optimal solution exceeds depth
	for _, layout := range levels {
		s, err := ParseSokoban(layout, depth)
		if err != nil {
			t.Fatal(err)
		}
		want := shortestByBruteForce(s, depth)
		sol, err := s.Solve(SolveLimits{})
		switch {
		case want >= 0 && (err != nil || len(sol) != want):
			t.Errorf("%q: Solve() = %v, %v; brute force finds %d moves", layout, sol, err, want)
		case want < 0 && err == nil && len(sol) <= depth:
			t.Errorf("%q: Solve() = %v, but no sequence of %d moves solves it", layout, sol, depth)
		case want < 0 && err == nil:
			long++
		}
		bounded, berr := s.Solve(SolveLimits{MaxMoves: depth})
		if (want < 0) != (berr != nil) || want >= 0 && len(bounded) != want {
			t.Errorf("%q: Solve(MaxMoves %d) = %v, %v; brute force finds %d", layout, depth, bounded, berr, want)
		}
		if want < 0 && !errors.Is(berr, ErrSearchLimit) && !errors.Is(berr, ErrUnsolvable) {
			t.Errorf("%q: bounded Solve error %v", layout, berr)
		}
		if err != nil {
			continue
		}
		replay := s.Clone()
		for _, a := range sol {
			replay.Step(a)
		}
		if len(sol) <= depth && !replay.Solved() {
			t.Errorf("%q: solution %v does not solve it", layout, sol)
		}
	}
	if long == 0 {
		t.Error("no level needed more than 8 moves: the test does not cover long solutions")
	}
}

func TestSokobanSolveLimits(t *testing.T) {
	corner, err := ParseSokoban([]string{"#####", "#$  #", "#  .#", "# @ #", "#####"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := corner.Solve(SolveLimits{}); !errors.Is(err, ErrUnsolvable) {
		t.Errorf("box in a corner: error %v, want ErrUnsolvable", err)
	}
	far, err := ParseSokoban([]string{"##########", "#@      $.#", "##########"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lim  SolveLimits
		want error
	}{
		{SolveLimits{}, nil},
		{SolveLimits{MaxMoves: 7}, nil},
		{SolveLimits{MaxMoves: 6}, ErrSearchLimit},
		{SolveLimits{MaxStates: 4}, ErrSearchLimit},
	} {
		sol, err := far.Solve(tc.lim)
		if !errors.Is(err, tc.want) || err == nil && len(sol) != 7 {
			t.Errorf("Solve(%+v) = %v, %v; want %v", tc.lim, sol, err, tc.want)
		}
	}
	done := far.Clone().(*Sokoban)
	for range 7 {
		done.Step(Right)
	}
	if sol, err := done.Solve(SolveLimits{}); err != nil || len(sol) != 0 {
		t.Errorf("solved board: Solve() = %v, %v; want no actions", sol, err)
	}
}

// TestOptimalMoves: a generated level's optimal length is the one its generator drew it for,
// in both environments; a level whose solution does not fit its step budget says so.
func TestOptimalMoves(t *testing.T) {
	for _, env := range EnvNames() {
		g, err := NewGenerator(env, 7)
		if err != nil {
			t.Fatal(err)
		}
		longest, _ := MaxMoves(env)
		for moves := 1; moves <= longest; moves++ {
			task, err := g.UniqueOfLength(moves)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := task.OptimalMoves(); got != moves || err != nil {
				t.Errorf("%s level of %d moves: OptimalMoves = %d, %v", env, moves, got, err)
			}
			if moves > 1 {
				task.MaxSteps = moves - 1
				if _, err := task.OptimalMoves(); !errors.Is(err, ErrSearchLimit) {
					t.Errorf("%s level of %d moves with a budget of %d: %v, want ErrSearchLimit", env, moves, moves-1, err)
				}
			}
		}
	}
	hole := Task{Env: EnvFrozenLake, Layout: []string{"SH", "HG"}}
	if _, err := hole.OptimalMoves(); !errors.Is(err, ErrUnsolvable) {
		t.Errorf("a lake whose goal is cut off: %v, want ErrUnsolvable", err)
	}
}

// TestSokobanLevelsByLength counts every level of the paper's Sokoban distribution (sides 6 to
// 8, player, box and goal on distinct interior squares, an optimal solution of at most 8
// moves) by the length of its optimal solution: 18,412 levels in all, of which only 188 take
// one move. Training draws thousands of levels from these, the short ones most often, which
// is why validation and test levels are kept out of training explicitly (bench/RESULTS.md).
func TestSokobanLevelsByLength(t *testing.T) {
	if testing.Short() {
		t.Skip("solves every level of the distribution")
	}
	count := make(map[int]int)
	for side := 6; side <= 8; side++ {
		inner := side - 2
		squares := inner * inner
		for player := range squares {
			for box := range squares {
				for goal := range squares {
					if player == box || player == goal || box == goal {
						continue
					}
					rows := make([][]byte, side)
					for r := range rows {
						rows[r] = []byte(strings.Repeat("#", side))
						for c := 1; r > 0 && r < side-1 && c < side-1; c++ {
							rows[r][c] = ' '
						}
					}
					for sq, ch := range map[int]byte{player: '@', box: '$', goal: '.'} {
						rows[1+sq/inner][1+sq%inner] = ch
					}
					task := Task{Env: EnvSokoban, Layout: toStrings(rows)}
					if moves, err := task.OptimalMoves(); err == nil {
						count[moves]++
					} else if !errors.Is(err, ErrSearchLimit) && !errors.Is(err, ErrUnsolvable) {
						t.Fatal(err)
					}
				}
			}
		}
	}
	want := map[int]int{1: 188, 2: 560, 3: 1156, 4: 1888, 5: 2644, 6: 3744, 7: 4040, 8: 4192}
	if !maps.Equal(count, want) {
		t.Errorf("levels by optimal solution length %v, want %v", count, want)
	}
}
