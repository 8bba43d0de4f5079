package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/erlgo/erlgo/envs"
)

func TestLevels(t *testing.T) {
	want, err := envs.GenerateFrozenLake(40, 3)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errb := erlgo("", "levels", "--env", "frozenlake", "--n", "40", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	got, err := envs.DecodeLevels(strings.NewReader(out), envs.EnvFrozenLake)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, want, equalTasks) {
		t.Errorf("erlgo levels --seed 3 differs from GenerateFrozenLake(40, 3)")
	}

	path := filepath.Join(t.TempDir(), "test.jsonl")
	code, out, errb = erlgo("", "levels", "--n", "300", "--seed", "2", "--min-side", "7", "--out", path)
	if code != 0 || out != "" || !strings.Contains(errb, "wrote 300 sokoban levels to "+path) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	tasks, err := envs.ReadLevels(path, envs.EnvSokoban)
	if err != nil {
		t.Fatal(err)
	}
	sides := map[int]bool{}
	for _, task := range tasks {
		sides[len(task.Layout)] = true
	}
	if len(tasks) != 300 || !sides[7] || !sides[8] || len(sides) != 2 {
		t.Errorf("%d levels of sides %v; want 300 of sides 7 and 8", len(tasks), sides)
	}

	code, out, errb = erlgo("", "levels", "--env", "frozenlake", "--n", "50", "--max-moves", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if tasks, err = envs.DecodeLevels(strings.NewReader(out), envs.EnvFrozenLake); err != nil || len(tasks) != 50 {
		t.Fatalf("%d levels, %v", len(tasks), err)
	}
	for _, task := range tasks {
		f, _ := envs.ParseFrozenLake(task.Layout, task.MaxSteps)
		if sol, err := f.Solve(); err != nil || len(sol) > 2 {
			t.Errorf("--max-moves 2: level %q solved in %v, %v", task.Layout, sol, err)
		}
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, total: 10, unit: "levels", start: time.Now(), interval: time.Hour}
	p.set(5)
	p.set(6) // within the interval: not drawn
	p.set(10)
	p.finish()
	want := "\r[###############               ] 5/10 levels" + "\r[##############################] 10/10 levels\n"
	if buf.String() != want {
		t.Errorf("drew %q, want %q", buf.String(), want)
	}
	quiet := newProgress(&buf, 10, "levels") // not a terminal
	buf.Reset()
	quiet.set(10)
	quiet.finish()
	if buf.Len() != 0 {
		t.Errorf("drew %q on a non-terminal", buf.String())
	}
}

// TestDefaultSides holds defaultSides, which names the generators' default board sides in
// the errors of erlgo levels, to the generators themselves.
func TestDefaultSides(t *testing.T) {
	for env, want := range defaultSides {
		g, err := envs.NewGenerator(env, 1)
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := g.Generate(300)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := 1<<30, 0
		for _, task := range tasks {
			lo, hi = min(lo, len(task.Layout)), max(hi, len(task.Layout))
		}
		if [2]int{lo, hi} != want {
			t.Errorf("%s: generated sides %d to %d, defaultSides says %v", env, lo, hi, want)
		}
	}
}
