package report

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
)

// fixtureLevel is a Sokoban level solved by Right, Right: the player walks to the box and
// pushes it onto the goal.
var fixtureLevel = envs.Task{Env: envs.EnvSokoban, MaxSteps: 3, Layout: []string{
	"#######",
	"#     #",
	"# @ $.#",
	"#     #",
	"#######",
}}

// played plays actions on the fixture level as an episode's attempt.
func played(t *testing.T, actions ...envs.Action) *erl.EpisodeAttempt {
	t.Helper()
	g, err := fixtureLevel.New()
	if err != nil {
		t.Fatal(err)
	}
	sym, _ := envs.FileSymbols(envs.EnvSokoban)
	a := &erl.EpisodeAttempt{Boards: [][]string{g.Render(sym)}}
	for _, act := range actions {
		g.Step(act)
		a.Actions = append(a.Actions, act.String())
		a.Boards = append(a.Boards, g.Render(sym))
	}
	fb := g.Feedback()
	a.Feedback, a.Reward, a.Solved = fb.Text(), fb.Reward, g.Solved()
	return a
}

// writeFixtureRun writes a finished run of 30 steps into a new directory: its metrics, and
// three episodes: one failed, then solved after a reflection (step 10), one solved on the
// first attempt (step 10), one failed twice (step 20). Its report is written by Refresh.
func writeFixtureRun(t *testing.T) erl.RunDir {
	t.Helper()
	dir := erl.RunDir(t.TempDir())
	recs := append([]erl.Record{{Step: 0, EvalGreedy: ptr(0), EvalSampled: ptr(0.05), RSSMB: 90}}, testRecords(30)...)
	for i := range recs {
		recs[i].RSSMB = 100 + float64(i)
	}
	mw, err := erl.OpenMetrics(string(dir), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := mw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	reflection := "push the box right </script> & onto the goal"
	episode := func(step, task int, first, second *erl.EpisodeAttempt, refl *string) erl.Episode {
		return erl.Episode{Step: step, Task: task, Env: fixtureLevel.Env, Layout: fixtureLevel.Layout,
			MaxSteps: fixtureLevel.MaxSteps, Moves: 2, First: *first, Second: second, Reflection: refl}
	}
	R, L, U, D := envs.Right, envs.Left, envs.Up, envs.Down
	ew, err := erl.OpenEpisodes(string(dir), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ew.Write([]erl.Episode{
		episode(10, 0, played(t, L, L, U), played(t, R, R), &reflection),
		episode(10, 1, played(t, R, R), nil, nil),
		episode(20, 0, played(t, U, U, U), played(t, D, D, D), new(string)),
	}); err != nil {
		t.Fatal(err)
	}
	if err := ew.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Refresh(dir, erl.RunState{Status: erl.StatusFinished, Step: 30, Steps: 30}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestView checks the page's data without a browser: the run's records are in it, and text
// from the run cannot end its script.
func TestView(t *testing.T) {
	dir := writeFixtureRun(t)
	recs, err := erl.ReadMetrics(dir.Metrics())
	if err != nil {
		t.Fatal(err)
	}
	eps, err := erl.ReadEpisodes(dir.Episodes())
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := View(&page, dir, recs, eps, Summary{Status: erl.StatusFinished}); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if strings.Count(html, "</script>") != 2 || strings.Contains(html, "push the box right </") {
		t.Error("the reflection's </script> is not escaped in the page")
	}
	for _, want := range []string{`"loss_pg":`, `"box_on_goal"`, `"policy":"b"`, `"boards":[[`, "<title>" + filepath.Base(string(dir))} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// TestViewInBrowser opens the viewer's page of a run in headless Chromium and uses it as a
// person would: the curves are drawn, the filters narrow the list of episodes, and an episode
// is played back move by move, its board redrawn at each.
func TestViewInBrowser(t *testing.T) {
	b := startBrowser(t, 1300, 1000)
	dir := writeFixtureRun(t)
	b.open(fileURL(t, filepath.Join(string(dir), ViewFile)))

	if got := b.text("#headline"); !strings.HasPrefix(got, "finished 30 steps") {
		t.Errorf("headline %q", got)
	}
	// Four charts: success, loss, reflection lift (the run measured it), memory.
	for _, c := range []struct {
		selector string
		want     int
	}{
		{"#charts .chart", 4},
		{"#chart-success path.series", 4},
		{"#chart-success circle.mark", 2 * 11}, // greedy and sampled at steps 0, 3, ..., 30
		{"#chart-loss path.series", 4},
		{"#chart-lift path.series", 3}, // the lift, the guided and the plain retries' success
		{"#chart-lift path.band", 1},   // the lift's interval
		{"#chart-rss path.series", 1},
		{"#episode-list tr", 3},
	} {
		if got := b.count(c.selector); got != c.want {
			t.Errorf("%d of %s, want %d", got, c.selector, c.want)
		}
	}

	// Filter by outcome: the one solved after reflection, shown at once.
	b.click(`#outcome-filter button[data-value="solved-second"]`)
	if n := b.count("#episode-list tr"); n != 1 {
		t.Fatalf("%d episodes solved after reflection listed, want 1", n)
	}
	if got := b.text("#detail-outcome"); got != "solved after reflection" {
		t.Errorf("the detail shows %q", got)
	}
	if got := b.text("#reflection"); got != "push the box right </script> & onto the goal" {
		t.Errorf("reflection %q", got)
	}
	// The first attempt, a move at a time by its buttons.
	if got := b.text("#first .move-caption"); got != "start (3 moves)" {
		t.Errorf("first attempt at %q, want its start", got)
	}
	b.click("#first .moves button:nth-child(3)")
	if got := b.text("#first .move-caption"); got != "after move 3 of 3: Up" {
		t.Errorf("after clicking move 3: %q", got)
	}
	// The second attempt, by next: the player walks right, then pushes the box onto the goal.
	b.click("#second .next")
	if got := b.text("#second .move-caption"); got != "after move 1 of 2: Right" {
		t.Errorf("after next: %q", got)
	}
	if n := b.count("#second .board .cell.box_on_goal"); n != 0 {
		t.Errorf("the box is on the goal after one move")
	}
	b.click("#second .next")
	var state struct {
		Caption     string
		BoxOnGoal   int
		NextEnabled bool
		PlayerAt    int
	}
	b.eval(`(() => {
		const cells = [...document.querySelectorAll("#second .board .cell")];
		return {caption: document.querySelector("#second .move-caption").textContent,
			boxOnGoal: document.querySelectorAll("#second .board .cell.box_on_goal").length,
			nextEnabled: !document.querySelector("#second .next").disabled,
			playerAt: cells.findIndex(c => c.classList.contains("player"))};
	})()`, &state)
	// The board is 7 wide: the player ends on row 2, column 4 (index 2·7+4), beside the box.
	if state.Caption != "after move 2 of 2: Right" || state.BoxOnGoal != 1 || state.NextEnabled || state.PlayerAt != 18 {
		t.Errorf("at the end of the second attempt: %+v; want the box on the goal, the player at 18, next disabled", state)
	}
	b.screenshot(filepath.Join(screenshotDir(t), "view-episode.png"))

	// Filter by step, then pick an episode from the list.
	b.click(`#outcome-filter button[data-value="all"]`)
	b.click(`#step-filter button[data-value="20"]`)
	if n := b.count("#episode-list tr"); n != 1 || b.text("#detail-outcome") != "failed both attempts" {
		t.Errorf("step 20: %d episodes, detail %q; want the one that failed twice", n, b.text("#detail-outcome"))
	}
	if got := b.text("#reflection"); got != "(an empty reflection)" {
		t.Errorf("an empty reflection is shown as %q", got)
	}
	b.click(`#step-filter button[data-value="10"]`)
	b.click(`#episode-list tr[data-index="1"]`)
	if got := b.text("#detail-title"); got != "Step 10, task 2, attempt 1: solved on the first attempt" || b.count("#second") != 0 {
		t.Errorf("the chosen episode shows %q, with %d second attempts", got, b.count("#second"))
	}
	shot := filepath.Join(screenshotDir(t), "view.png")
	b.screenshot(shot)
	checkScreenshot(t, shot, 1200, 1000)
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page's script threw: %v", ex)
	}
}

// TestViewOfTrainedRunInBrowser opens the page a real, short training run wrote and checks
// that it shows every episode the run logged, without a script error.
func TestViewOfTrainedRunInBrowser(t *testing.T) {
	b := startBrowser(t, 1300, 1000)
	tr, err := erl.NewTrainer(tinyConfig(erl.AlgoERL, 4))
	if err != nil {
		t.Fatal(err)
	}
	dir := erl.RunDir(t.TempDir())
	if _, err := erl.Train(context.Background(), tr, dir, erl.TrainOptions{Report: Refresh}); err != nil {
		t.Fatal(err)
	}
	eps, err := erl.ReadEpisodes(dir.Episodes())
	if err != nil {
		t.Fatal(err)
	}
	b.open(fileURL(t, filepath.Join(string(dir), ViewFile)))
	if n := b.count("#episode-list tr"); n != len(eps) || n == 0 {
		t.Errorf("%d episodes listed, want the run's %d", n, len(eps))
	}
	if n := b.count("#first .board .cell"); n == 0 {
		t.Error("no board drawn for the first episode")
	}
	b.click("#first .next")
	if got := b.text("#first .move-caption"); !strings.HasPrefix(got, "after move 1 of ") {
		t.Errorf("after next: %q", got)
	}
	shot := filepath.Join(screenshotDir(t), "view-trained.png")
	b.screenshot(shot)
	checkScreenshot(t, shot, 1200, 1000)
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("the page's script threw: %v", ex)
	}
}
