package envs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// moves turns a string of action initials such as "rrul" into actions.
func moves(t testing.TB, s string) []Action {
	t.Helper()
	acts := make([]Action, len(s))
	for i := range s {
		a, err := ParseAction(s[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		acts[i] = a
	}
	return acts
}

// play takes the actions in turn and returns which were effective, as a string of 1s and 0s.
func play(g Game, acts []Action) string {
	var b strings.Builder
	for _, a := range acts {
		if g.Step(a).Effective {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

func TestParseAction(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Action
	}{
		{"Up", Up}, {"up", Up}, {"UP", Up}, {"u", Up}, {"U", Up},
		{"Down", Down}, {"d", Down},
		{"left", Left}, {"L", Left},
		{"Right", Right}, {"r", Right},
	} {
		got, err := ParseAction(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseAction(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "upp", "north", "ud", " up"} {
		if _, err := ParseAction(bad); err == nil {
			t.Errorf("ParseAction(%q) succeeded", bad)
		}
	}
	for _, a := range Actions {
		if got, err := ParseAction(a.String()); err != nil || got != a {
			t.Errorf("ParseAction(%v.String()) = %v, %v", a, got, err)
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{"floor", "wall", "goal", "box", "box_on_goal", "player", "player_on_goal", "hole", "player_in_hole"}
	var got []string
	for _, c := range Cells {
		got = append(got, c.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("cell names %q, want %q", got, want)
	}
	if got := Action(9).String(); got != "Action(9)" {
		t.Errorf("invalid action prints %q", got)
	}
	if got := StepLimit.String(); got != "step_limit" {
		t.Errorf("StepLimit prints %q", got)
	}
}

func TestTaskNew(t *testing.T) {
	for _, tc := range []struct {
		task    Task
		wantErr string
		steps   int
	}{
		{task: Task{Env: EnvSokoban, Layout: []string{"#####", "#@$.#", "#####"}}, steps: DefaultMaxSteps},
		{task: Task{Env: EnvFrozenLake, Layout: []string{"SG"}, MaxSteps: 3}, steps: 3},
		{task: Task{Env: "maze", Layout: []string{"SG"}}, wantErr: `unknown environment "maze"`},
		{task: Task{Env: EnvFrozenLake, Layout: []string{"SG"}, MaxSteps: -1}, wantErr: "negative step budget"},
		{task: Task{Env: EnvSokoban, Layout: []string{"SG"}}, wantErr: "unknown character 'S'"},
	} {
		g, err := tc.task.New()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v.New() error %v, want %q", tc.task, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v.New(): %v", tc.task, err)
			continue
		}
		if g.MaxSteps() != tc.steps {
			t.Errorf("%v.New().MaxSteps() = %d, want %d", tc.task, g.MaxSteps(), tc.steps)
		}
	}
}

func TestSymbols(t *testing.T) {
	for _, tc := range []struct {
		env           string
		layout        []string
		display, file []string
	}{
		{EnvSokoban, []string{"######", "#@$. #", "#*.$ #", "######"},
			[]string{"EEEEEE", "EABCDE", "EbCBDE", "EEEEEE"},
			[]string{"######", "#@$. #", "#*.$ #", "######"}},
		{EnvFrozenLake, []string{"SFH", "FFG"},
			[]string{"P_O", "__G"},
			[]string{"SFH", "FFG"}},
	} {
		g, err := Task{Env: tc.env, Layout: tc.layout}.New()
		if err != nil {
			t.Fatal(err)
		}
		display, _ := DefaultSymbols(tc.env)
		file, _ := FileSymbols(tc.env)
		if got := g.Render(display); !slices.Equal(got, tc.display) {
			t.Errorf("%s display %q, want %q", tc.env, got, tc.display)
		}
		if got := g.Render(file); !slices.Equal(got, tc.file) {
			t.Errorf("%s file notation %q, want %q", tc.env, got, tc.file)
		}
	}
	if _, err := FileSymbols("maze"); err == nil {
		t.Error("FileSymbols of an unknown environment succeeded")
	}
	g, _ := Task{Env: EnvFrozenLake, Layout: []string{"SG"}}.New()
	if got := g.Render(SymbolMap{Player: "p"}); !slices.Equal(got, []string{"p?"}) {
		t.Errorf("a cell without a symbol renders as %q, want ?", got)
	}
}

func TestFeedbackText(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Feedback
		want string
	}{
		{"step limit", Feedback{Outcome: StepLimit, Ineffective: 3, TrailingIneffective: 2, LastAction: Left, HasLast: true, Steps: 8, MaxSteps: 8},
			"The puzzle is not solved: the step limit of 8 was reached. 3 of 8 actions had no effect; the last 2 in a row had no effect. Last action: Left. Reward: 0. Steps: 8."},
		{"solved", Feedback{Outcome: Solved, LastAction: Right, HasLast: true, Reward: 1, Steps: 3, MaxSteps: 8},
			"The puzzle is solved. 0 of 3 actions had no effect. Last action: Right. Reward: 1. Steps: 3."},
		{"one action", Feedback{Outcome: Solved, LastAction: Up, HasLast: true, Reward: 1, Steps: 1, MaxSteps: 8},
			"The puzzle is solved. 0 of 1 action had no effect. Last action: Up. Reward: 1. Steps: 1."},
		{"hole", Feedback{Outcome: Failed, Ineffective: 1, LastAction: Down, HasLast: true, Steps: 2, MaxSteps: 8},
			"The puzzle is not solved: the player fell into a hole. 1 of 2 actions had no effect. Last action: Down. Reward: 0. Steps: 2."},
		{"in progress", Feedback{Ineffective: 1, TrailingIneffective: 1, LastAction: Up, HasLast: true, Steps: 3, MaxSteps: 8},
			"The puzzle is not solved yet: 3 of 8 steps taken. 1 of 3 actions had no effect; the last action had no effect. Last action: Up. Reward: 0. Steps: 3."},
		{"no actions", Feedback{MaxSteps: 8},
			"The puzzle is not solved yet: 0 of 8 steps taken. No actions were taken. Reward: 0. Steps: 0."},
	} {
		if got := tc.f.Text(); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestFeedbackFromGames checks that the games count what Feedback reports.
func TestFeedbackFromGames(t *testing.T) {
	for _, tc := range []struct {
		task  Task
		moves string
		want  Feedback
	}{
		{Task{Env: EnvSokoban, Layout: []string{"#####", "#@$.#", "#####"}, MaxSteps: 4}, "uldd",
			Feedback{Outcome: StepLimit, Ineffective: 4, TrailingIneffective: 4, LastAction: Down, HasLast: true, Steps: 4, MaxSteps: 4}},
		{Task{Env: EnvSokoban, Layout: []string{"######", "#@ $.#", "######"}}, "urr",
			Feedback{Outcome: Solved, Ineffective: 1, LastAction: Right, HasLast: true, Reward: 1, Steps: 3, MaxSteps: 8}},
		{Task{Env: EnvFrozenLake, Layout: []string{"SH", "FG"}}, "ulr",
			Feedback{Outcome: Failed, Ineffective: 2, LastAction: Right, HasLast: true, Steps: 3, MaxSteps: 8}},
		{Task{Env: EnvFrozenLake, Layout: []string{"SF", "FG"}}, "rru",
			Feedback{Ineffective: 2, TrailingIneffective: 2, LastAction: Up, HasLast: true, Steps: 3, MaxSteps: 8}},
		{Task{Env: EnvFrozenLake, Layout: []string{"SF", "FG"}}, "",
			Feedback{MaxSteps: 8}},
	} {
		g, err := tc.task.New()
		if err != nil {
			t.Fatal(err)
		}
		play(g, moves(t, tc.moves))
		if got := g.Feedback(); got != tc.want {
			t.Errorf("%v after %q: feedback %+v, want %+v", tc.task.Layout, tc.moves, got, tc.want)
		}
	}
}

func TestLayoutErrorText(t *testing.T) {
	_, err := ParseSokoban([]string{"#####", "#@$x#", "#####"}, 0)
	var le *LayoutError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LayoutError", err)
	}
	if want := `envs: bad level: row 2, column 4: unknown character 'x'`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
