package envs

import (
	"errors"
	"slices"
	"testing"
)

func TestFrozenLakeRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		layout    []string
		maxSteps  int
		moves     string
		effective string
		final     []string // in file notation
		cells     []Cell   // the final board's first row
		outcome   Outcome
		reward    float64
	}{
		{
			name:      "edges",
			layout:    []string{"SF", "FF", "GF"},
			moves:     "ulrrdll",
			effective: "0010110",
			final:     []string{"FF", "SF", "GF"},
			cells:     []Cell{Floor, Floor},
		},
		{
			name:      "goal",
			layout:    []string{"SF", "FG"},
			moves:     "rd",
			effective: "11",
			final:     []string{"FF", "F√"},
			cells:     []Cell{Floor, Floor},
			outcome:   Solved,
			reward:    1,
		},
		{
			name:      "hole",
			layout:    []string{"SH", "FG"},
			moves:     "r",
			effective: "1",
			final:     []string{"FX", "FG"},
			cells:     []Cell{Floor, PlayerInHole},
			outcome:   Failed,
		},
		{
			name:      "step limit",
			layout:    []string{"SFH", "FFF", "HFG"},
			maxSteps:  3,
			moves:     "rdl",
			effective: "111",
			final:     []string{"FFH", "SFF", "HFG"},
			cells:     []Cell{Floor, Floor, Hole},
			outcome:   StepLimit,
		},
		{
			name:      "goal on the last step",
			layout:    []string{"SFH", "FFF", "HFG"},
			maxSteps:  4,
			moves:     "rddr",
			effective: "1111",
			final:     []string{"FFH", "FFF", "HF√"},
			cells:     []Cell{Floor, Floor, Hole},
			outcome:   Solved,
			reward:    1,
		},
		{
			name:      "rectangular lake",
			layout:    []string{"SFFG"},
			moves:     "durr",
			effective: "0011",
			final:     []string{"FFSG"},
			cells:     []Cell{Floor, Floor, Player, Goal},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ParseFrozenLake(tc.layout, tc.maxSteps)
			if err != nil {
				t.Fatal(err)
			}
			var reward float64
			var eff []byte
			for _, a := range moves(t, tc.moves) {
				r := g.Step(a)
				reward += r.Reward
				eff = append(eff, "01"[btoi(r.Effective)])
			}
			if string(eff) != tc.effective {
				t.Errorf("effective %s, want %s", eff, tc.effective)
			}
			if got := g.Render(FrozenLakeFileSymbols); !slices.Equal(got, tc.final) {
				t.Errorf("final board %q, want %q", got, tc.final)
			}
			if got := g.Cells()[0]; !slices.Equal(got, tc.cells) {
				t.Errorf("first row %v, want %v", got, tc.cells)
			}
			if o := g.Feedback().Outcome; o != tc.outcome || reward != tc.reward {
				t.Errorf("outcome %v, reward %v; want %v, %v", o, reward, tc.outcome, tc.reward)
			}
		})
	}
}

func TestParseFrozenLakeErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		layout   []string
		row, col int
		msg      string
	}{
		{"no rows", nil, 0, 0, "no rows"},
		{"empty row", []string{""}, 1, 1, "empty row"},
		{"unknown character", []string{"SF", "F#"}, 2, 2, "unknown character '#'"},
		{"short row", []string{"SFF", "FG", "FFF"}, 2, 3, "row has 2 squares, row 1 has 3"},
		{"long row", []string{"SF", "FGF"}, 2, 3, "row has 3 squares, row 1 has 2"},
		{"two starts", []string{"SF", "SG"}, 2, 1, "second S (the first is at row 1, column 1)"},
		{"two goals", []string{"SG", "FG"}, 2, 2, "second G"},
		{"no start", []string{"FF", "FG"}, 0, 0, "no start"},
		{"no goal", []string{"SF", "FF"}, 0, 0, "no goal"},
		{"player symbol", []string{"PF", "FG"}, 1, 1, "unknown character 'P'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFrozenLake(tc.layout, 0)
			checkLayoutError(t, err, tc.row, tc.col, tc.msg)
		})
	}
}

func TestFrozenLakeSolve(t *testing.T) {
	for _, tc := range []struct {
		layout []string
		want   int // shortest path length; -1 for none
	}{
		{[]string{"SG"}, 1},
		{[]string{"SH", "FG"}, 2},
		{[]string{"SH", "HG"}, -1},
		{[]string{"SFFF", "HHHF", "FFFF", "GHHH"}, 9},
		{[]string{"FFS", "FHH", "FFG"}, 6},
	} {
		f, err := ParseFrozenLake(tc.layout, 20)
		if err != nil {
			t.Fatal(err)
		}
		sol, err := f.Solve()
		if tc.want < 0 {
			if !errors.Is(err, ErrUnsolvable) {
				t.Errorf("%q: Solve() = %v, %v; want ErrUnsolvable", tc.layout, sol, err)
			}
			continue
		}
		if err != nil || len(sol) != tc.want {
			t.Errorf("%q: Solve() = %v, %v; want %d moves", tc.layout, sol, err, tc.want)
			continue
		}
		play(f, sol)
		if !f.Solved() {
			t.Errorf("%q: solution %v does not solve it", tc.layout, sol)
		}
	}
}
