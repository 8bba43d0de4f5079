package envs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSokobanRules(t *testing.T) {
	for _, tc := range []struct {
		name      string
		layout    []string
		maxSteps  int
		moves     string
		effective string // per step taken
		final     []string
		outcome   Outcome
		reward    float64
	}{
		{
			name:      "walk into walls",
			layout:    []string{"#####", "#@$.#", "#####"},
			moves:     "udl",
			effective: "000",
			final:     []string{"#####", "#@$.#", "#####"},
		},
		{
			name:      "walk on floor",
			layout:    []string{"######", "#@   #", "#  $.#", "######"},
			moves:     "rrld",
			effective: "1111",
			final:     []string{"######", "#    #", "# @$.#", "######"},
		},
		{
			name:      "push box into wall",
			layout:    []string{"######", "#. @$#", "######"},
			moves:     "r",
			effective: "0",
			final:     []string{"######", "#. @$#", "######"},
		},
		{
			name:      "push box into box",
			layout:    []string{"#######", "#@$$..#", "#######"},
			moves:     "r",
			effective: "0",
			final:     []string{"#######", "#@$$..#", "#######"},
		},
		{
			name:      "push box onto goal solves",
			layout:    []string{"#####", "#@$.#", "#####"},
			moves:     "r",
			effective: "1",
			final:     []string{"#####", "# @*#", "#####"},
			outcome:   Solved,
			reward:    1,
		},
		{
			name:      "walk over a goal",
			layout:    []string{"######", "#@.  #", "# $  #", "######"},
			moves:     "rr",
			effective: "11",
			final:     []string{"######", "# .@ #", "# $  #", "######"},
		},
		{
			name:      "stand on a goal",
			layout:    []string{"######", "#@.  #", "# $  #", "######"},
			moves:     "r",
			effective: "1",
			final:     []string{"######", "# +  #", "# $  #", "######"},
		},
		{
			name:      "push a box off its goal",
			layout:    []string{"#######", "#@* $.#", "#######"},
			moves:     "rr",
			effective: "10",
			final:     []string{"#######", "# +$$.#", "#######"},
		},
		{
			name:      "one of two boxes on a goal",
			layout:    []string{"#######", "#.$@$.#", "#######"},
			moves:     "r",
			effective: "1",
			final:     []string{"#######", "#.$ @*#", "#######"},
		},
		{
			name:      "two boxes on goals",
			layout:    []string{"#######", "#.$@$.#", "#######"},
			moves:     "rll",
			effective: "111",
			final:     []string{"#######", "#*@  *#", "#######"},
			outcome:   Solved,
			reward:    1,
		},
		{
			name:      "interior walls",
			layout:    []string{"######", "#@#. #", "# $  #", "######"},
			moves:     "rdrru",
			effective: "01111",
			final:     []string{"######", "# #+ #", "#   $#", "######"},
		},
		{
			name:      "step limit",
			layout:    []string{"######", "#@ $.#", "######"},
			maxSteps:  2,
			moves:     "ur",
			effective: "01",
			final:     []string{"######", "# @$.#", "######"},
			outcome:   StepLimit,
		},
		{
			name:      "solved on the last step",
			layout:    []string{"######", "#@ $.#", "######"},
			maxSteps:  2,
			moves:     "rr",
			effective: "11",
			final:     []string{"######", "#  @*#", "######"},
			outcome:   Solved,
			reward:    1,
		},
		{
			name:      "ragged rows and floor outside the walls",
			layout:    []string{"  ####", "  #@$.#", "  #####", "   "},
			moves:     "r",
			effective: "1",
			final:     []string{"  ####", "  # @*#", "  #####", "   "},
			outcome:   Solved,
			reward:    1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ParseSokoban(tc.layout, tc.maxSteps)
			if err != nil {
				t.Fatal(err)
			}
			acts := moves(t, tc.moves)
			var reward float64
			var eff []byte
			for i, a := range acts {
				r := g.Step(a)
				reward += r.Reward
				eff = append(eff, "01"[btoi(r.Effective)])
				if r.Done != (i == len(acts)-1 && tc.outcome != InProgress) {
					t.Errorf("step %d: Done = %v", i+1, r.Done)
				}
				if r.Solved != (r.Done && tc.outcome == Solved) {
					t.Errorf("step %d: Solved = %v", i+1, r.Solved)
				}
			}
			if string(eff) != tc.effective {
				t.Errorf("effective %s, want %s", eff, tc.effective)
			}
			if got := g.Render(XSBSymbols); !slices.Equal(got, tc.final) {
				t.Errorf("final board\n%q\nwant\n%q", got, tc.final)
			}
			fb := g.Feedback()
			if fb.Outcome != tc.outcome || reward != tc.reward || fb.Reward != tc.reward {
				t.Errorf("outcome %v, step rewards %v, feedback reward %v; want %v, %v", fb.Outcome, reward, fb.Reward, tc.outcome, tc.reward)
			}
			if g.Steps() != len(acts) || g.Done() != (tc.outcome != InProgress) || g.Solved() != (tc.outcome == Solved) {
				t.Errorf("Steps %d, Done %v, Solved %v", g.Steps(), g.Done(), g.Solved())
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestStepAfterEnd checks that a finished episode ignores further actions, in both games.
func TestStepAfterEnd(t *testing.T) {
	for _, tc := range []struct {
		task  Task
		moves string
	}{
		{Task{Env: EnvSokoban, Layout: []string{"#####", "#@$.#", "#####"}}, "r"},
		{Task{Env: EnvSokoban, Layout: []string{"######", "#@ $.#", "######"}, MaxSteps: 1}, "r"},
		{Task{Env: EnvFrozenLake, Layout: []string{"SG"}}, "r"},
		{Task{Env: EnvFrozenLake, Layout: []string{"SH", "FG"}}, "r"},
		{Task{Env: EnvFrozenLake, Layout: []string{"SF", "FG"}, MaxSteps: 1}, "u"},
	} {
		g, err := tc.task.New()
		if err != nil {
			t.Fatal(err)
		}
		play(g, moves(t, tc.moves))
		if !g.Done() {
			t.Fatalf("%q after %q is not done", tc.task.Layout, tc.moves)
		}
		board, fb := g.Render(XSBSymbols), g.Feedback()
		for _, a := range Actions {
			r := g.Step(a)
			want := StepResult{Done: true, Solved: g.Solved()}
			if r != want {
				t.Errorf("%q: step after the end returned %+v, want %+v", tc.task.Layout, r, want)
			}
		}
		if got := g.Render(XSBSymbols); !slices.Equal(got, board) {
			t.Errorf("%q: board changed after the end: %q to %q", tc.task.Layout, board, got)
		}
		if got := g.Feedback(); got != fb {
			t.Errorf("%q: feedback changed after the end: %+v to %+v", tc.task.Layout, fb, got)
		}
	}
}

func TestParseSokobanErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		layout   []string
		row, col int
		msg      string
	}{
		{"no rows", nil, 0, 0, "no rows"},
		{"unknown character", []string{"#####", "#@$x#", "#####"}, 2, 4, "unknown character 'x'"},
		{"unknown character after a wide one", []string{"#####", "#@$.é", "#####"}, 2, 5, "unknown character 'é'"},
		{"two players", []string{"######", "#@$.@#", "######"}, 2, 5, "second player (the first is at row 2, column 2)"},
		{"player on goal twice", []string{"#####", "#+$+#", "#. $#", "#####"}, 2, 4, "second player"},
		{"no player", []string{"#####", "# $.#", "#####"}, 0, 0, "no player"},
		{"more boxes", []string{"######", "#@$.$#", "######"}, 2, 5, "2 boxes but 1 goals"},
		{"more goals", []string{"######", "#@.$.#", "######"}, 2, 5, "1 boxes but 2 goals"},
		{"no boxes", []string{"####", "#@ #", "####"}, 0, 0, "no boxes"},
		{"already solved", []string{"#####", "#@*##", "#####"}, 0, 0, "every box is already on a goal"},
		{"open side", []string{"#####", "#@$. ", "#####"}, 2, 5, "walk off the map"},
		{"short row", []string{"#####", "#@$.", "#####"}, 2, 4, "walk off the map"},
		{"gap in the top wall", []string{"## ##", "#@$.#", "#####"}, 1, 3, "walk off the map"},
		{"missing bottom row", []string{"#####", "#@$.#"}, 2, 2, "walk off the map"},
		{"a box can be pushed out", []string{"#####", "#@$.#", "##$.#", "## ##"}, 4, 3, "walk off the map"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSokoban(tc.layout, 0)
			checkLayoutError(t, err, tc.row, tc.col, tc.msg)
		})
	}
}

func TestSokobanCellsAndClone(t *testing.T) {
	g, err := ParseSokoban([]string{"######", "#@$. #", "#*.$ #", "######"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	W, F, G, B, BG, P := Wall, Floor, Goal, Box, BoxOnGoal, Player
	want := [][]Cell{
		{W, W, W, W, W, W},
		{W, P, B, G, F, W},
		{W, BG, G, B, F, W},
		{W, W, W, W, W, W},
	}
	if got := g.Cells(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Cells() = %v, want %v", got, want)
	}
	c := g.Clone()
	c.Step(Right)
	if got := g.Render(XSBSymbols)[1]; got != "#@$. #" {
		t.Errorf("stepping a clone changed the original: %q", got)
	}
	if got := c.Render(XSBSymbols)[1]; got != "# @* #" {
		t.Errorf("clone after a push: %q", got)
	}
	if g.Steps() != 0 || c.Steps() != 1 {
		t.Errorf("steps: original %d, clone %d", g.Steps(), c.Steps())
	}
}

// checkLayoutError fails unless err is a *LayoutError at row, col whose message holds msg.
func checkLayoutError(t *testing.T, err error, row, col int, msg string) {
	t.Helper()
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("error %v, want a *LayoutError", err)
	}
	if le.Row != row || le.Col != col || !strings.Contains(le.Msg, msg) {
		t.Errorf("error at row %d, column %d: %q; want row %d, column %d: %q", le.Row, le.Col, le.Msg, row, col, msg)
	}
}
