package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/erlgo/erlgo/envs"
)

// writeLevels writes a level set of the given Sokoban layouts and returns its path.
func writeLevels(t *testing.T, layouts ...[]string) string {
	t.Helper()
	var tasks []envs.Task
	for _, l := range layouts {
		tasks = append(tasks, envs.Task{Env: envs.EnvSokoban, Layout: l})
	}
	path := filepath.Join(t.TempDir(), "levels.jsonl")
	if err := envs.WriteLevels(path, tasks); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlayScripted(t *testing.T) {
	levels := writeLevels(t, []string{"######", "#@$ .#", "######"}, []string{"#####", "#.$@#", "#####"})
	code, out, errb := erlgo("r\nbogus\nRight Right\nn\nLEFT\nn\n", "play", "--levels", levels, "--symbols", "file")
	if code != 0 || errb != "" {
		t.Fatalf("exit %d, stderr %q", code, errb)
	}
	// What each frame shows, in order.
	for _, want := range []string{
		"sokoban level 1 of 2", "  #@$ .#\n", "Step 0 of 8.",
		"  # @$.#\n", "Step 1 of 8. Right: moved.",
		`Unknown command "bogus".`,
		"  #  @*#\n", "Step 2 of 8. Right: moved.", "The puzzle is solved. 0 of 2 actions had no effect",
		"The episode is over: n for the next level, q to quit.",
		"sokoban level 2 of 2", "  #.$@#\n",
		"  #*@ #\n", "Step 1 of 8. Left: moved.", "The puzzle is solved. 0 of 1 action had no effect",
		"That was the last level.",
	} {
		i := strings.Index(out, want)
		if i < 0 {
			t.Fatalf("output lacks %q after what came before; rest of output:\n%s", want, out)
		}
		out = out[i+len(want):]
	}
}

func TestPlayModelSymbols(t *testing.T) {
	levels := writeLevels(t, []string{"#####", "#@$.#", "#####"})
	_, out, _ := erlgo("d\nq\nr\n", "play", "--levels", levels)
	for _, want := range []string{"  EEEEE\n  EABCE\n", "Legend: E wall, C goal, B box, A player.", "Step 1 of 8. Down: no effect."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Right") {
		t.Errorf("commands after q were read:\n%s", out)
	}
	_, out, _ = erlgo("u\nq\n", "play", "--env", "frozenlake", "--seed", "4")
	if !strings.Contains(out, "frozenlake level 1 (seed 4)") || !strings.Contains(out, "P player") {
		t.Errorf("random frozenlake level:\n%s", out)
	}
}

func TestRawKeys(t *testing.T) {
	in := "\x1b[A\x1b[B\x1b[C\x1b[D" + "\x1bOA" + "q\x03\x04" + "\x1bq" + "\x1b[Zn"
	keys := rawKeys(strings.NewReader(in))
	var got []string
	for {
		k, err := keys()
		if err != nil {
			break
		}
		got = append(got, k)
	}
	want := []string{"Up", "Down", "Right", "Left", "Up", "q", "q", "q", "escape", "q", "escape", "n"}
	if !slices.Equal(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
}

// TestPlayInTmux plays in a real terminal: tmux runs erlgo play, the test presses arrow keys
// and reads the screen.
func TestPlayInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a terminal")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	levels := writeLevels(t, []string{"######", "#@$ .#", "######"})
	// A private server, so that the test neither sees nor disturbs the user's sessions.
	socket := "erlgo-test-" + strconv.Itoa(os.Getpid())
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", socket}, args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { tmux("kill-server") })
	cmd := "ERLGO_MAIN=1 " + exe + " play --symbols file --levels " + levels
	if out, err := tmux("new-session", "-d", "-s", "play", "-x", "200", "-y", "30", cmd); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	// screen waits until the screen has lines equal to want, in order.
	screen := func(want ...string) {
		t.Helper()
		var got string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got, _ = tmux("capture-pane", "-p", "-t", "play")
			lines := strings.Split(got, "\n")
			i := 0
			for _, l := range lines {
				if i < len(want) && strings.TrimRight(l, " ") == want[i] {
					i++
				}
			}
			if i == len(want) {
				return
			}
		}
		t.Fatalf("screen never showed %q; last screen:\n%s", want, got)
	}
	screen("  ######", "  #@$ .#", "  ######", "Step 0 of 8.")
	tmux("send-keys", "-t", "play", "Right")
	screen("  # @$.#", "Step 1 of 8. Right: moved.")
	tmux("send-keys", "-t", "play", "Up")
	screen("  # @$.#", "Step 2 of 8. Up: no effect.")
	tmux("send-keys", "-t", "play", "r")
	screen("  #  @*#", "Step 3 of 8. Right: moved.",
		"The puzzle is solved. 1 of 3 actions had no effect. Last action: Right. Reward: 1. Steps: 3.")
	tmux("send-keys", "-t", "play", "q")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := tmux("has-session", "-t", "play"); err != nil {
			break // q ended erlgo, and with it the session
		}
		if time.Now().After(deadline) {
			t.Fatal("erlgo play did not quit on q")
		}
	}
}
