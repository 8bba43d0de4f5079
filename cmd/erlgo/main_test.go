package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/envs"
)

// TestMain lets the test binary stand in for erlgo, for tests that need a real process (play
// under tmux): run with ERLGO_MAIN=1 it is erlgo.
func TestMain(m *testing.M) {
	if os.Getenv("ERLGO_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// erlgo runs a command line on the given standard input and returns the exit status and what
// was written.
func erlgo(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, stdio{strings.NewReader(stdin), &out, &errb})
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	empty, blank := filepath.Join(t.TempDir(), "empty.jsonl"), filepath.Join(t.TempDir(), "blank.jsonl")
	if err := errors.Join(os.WriteFile(empty, nil, 0o644), os.WriteFile(blank, []byte("\n \n"), 0o644)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		code       int
		out, errex string // expected in stdout, stderr
	}{
		{args: nil, code: 2, errex: "Usage: erlgo <command>"},
		{args: []string{"--help"}, code: 0, out: "  levels     generate a set of distinct random levels"},
		{args: []string{"-h"}, code: 0, out: "  replay     replay action sequences"},
		{args: []string{"train", "--help"}, code: 0, out: "Usage: erlgo train [flags]"},
		{args: []string{"eval", "--help"}, code: 0, out: "-checkpoint FILE"},
		{args: []string{"eval"}, code: 2, errex: "give either --checkpoint FILE or --random"},
		{args: []string{"eval", "--random", "--n", "8", "--samples", "2"}, code: 0, out: "uniformly random policy"},
		{args: []string{"train", "--resume", missing, "--lr", "1"}, code: 2, errex: "--lr does not apply with --resume"},
		{args: []string{"train", "--algo", "ppo"}, code: 2, errex: `unknown algorithm "ppo"`},
		{args: []string{"frob"}, code: 2, errex: `erlgo: unknown command "frob"`},
		{args: []string{"levels", "--help"}, code: 0, out: "Usage: erlgo levels [flags]"},
		{args: []string{"play", "-help"}, code: 0, out: "-symbols string"},
		{args: []string{"replay", "--help"}, code: 0, out: "Usage: erlgo replay < requests.jsonl"},
		{args: []string{"levels", "--bogus"}, code: 2, errex: "erlgo levels: flag provided but not defined: -bogus\nRun 'erlgo levels --help' for usage."},
		{args: []string{"levels", "extra"}, code: 2, errex: `unexpected argument "extra"`},
		{args: []string{"levels", "--env", "maze"}, code: 2, errex: `unknown environment "maze"`},
		{args: []string{"levels", "--n", "-1"}, code: 2, errex: "--n -1: give at least 1 level"},
		{args: []string{"levels", "--min-side", "3"}, code: 2, errex: "side 3 is below 5"},
		{args: []string{"levels", "--n", "1", "--out", filepath.Join(missing, "x.jsonl")}, code: 1, errex: "no such file or directory"},
		{args: []string{"play", "--symbols", "fancy"}, code: 2, errex: `-symbols "fancy"`},
		{args: []string{"play", "--env", "maze"}, code: 2, errex: `unknown environment "maze"`},
		{args: []string{"play", "--levels", missing}, code: 1, errex: "no such file or directory"},
		{args: []string{"replay", "x"}, code: 2, errex: `unexpected argument "x"`},
		{args: []string{"version"}, code: 0, out: "go1."},
		{args: []string{"--version"}, code: 0, out: "github.com/erlgo/erlgo"},
		{args: []string{"version", "--json"}, code: 0, out: `"platform":"`},
		{args: []string{"version"}, code: 0, out: "cpu path"},
		// Every number and every file is checked before any work starts.
		{args: []string{"eval", "--random", "--n", "-3"}, code: 2, errex: "--n -3: give 1 to 1000000 generated levels"},
		{args: []string{"eval", "--checkpoint", missing, "--n", "-3"}, code: 2, errex: "--n -3"},
		{args: []string{"eval", "--random", "--samples", "1000000"}, code: 2, errex: "256 levels × 1000000 samples: an evaluation holds at most 262144 attempts"},
		{args: []string{"train", "--eval-levels", "100000"}, code: 2, errex: "100000 levels × 4 samples"},
		{args: []string{"train", "--test-levels", "100000"}, code: 2, errex: "test split: 100000 levels × 4 samples"},
		{args: []string{"train", "--test-levels", "-1"}, code: 2, errex: "test_levels -1 must lie in [0, 1000000] (0: no test split)"},
		{args: []string{"train", "--val-levels", "3", "--eval-levels", "3"}, code: 2, errex: "--val-levels and --eval-levels are the same setting"},
		{args: []string{"eval", "--random", "--split", "train"}, code: 2, errex: `--split "train": want test or validation`},
		{args: []string{"eval", "--random", "--split", "validation", "--levels", empty}, code: 2, errex: "--levels gives the levels"},
		{args: []string{"levels", "--split", "test", "--max-moves", "3"}, code: 2, errex: "--max-moves do not apply"},
		{args: []string{"eval", "--random", "--levels", empty}, code: 1, errex: empty + " holds no levels"},
		{args: []string{"eval", "--random", "--levels", blank}, code: 1, errex: blank + " holds no levels"},
		{args: []string{"train", "--eval-levels-file", blank}, code: 2, errex: blank + " holds no levels"},
		{args: []string{"play", "--levels", empty}, code: 1, errex: empty + " holds no levels"},
		{args: []string{"train", "--time", "-5m"}, code: 2, errex: "time -5m0s must not be negative"},
		{args: []string{"train", "--lr", "NaN"}, code: 2, errex: "optim.lr NaN must be a finite number"},
		{args: []string{"train", "--hindsight-retry", "-1"}, code: 2, errex: "term weights must not be negative"},
		{args: []string{"train", "--help"}, code: 0, out: "-hindsight-retry W"},
		{args: []string{"train", "--hindsight-reflection", "-0.5"}, code: 2, errex: "term weights must not be negative"},
		{args: []string{"train", "--hindsight-reflection", "1", "--memory-mode", "seed"}, code: 2, errex: "choose one"},
		{args: []string{"train", "--help"}, code: 0, out: "-hindsight-reflection W"},
		{args: []string{"train", "--eval-every", "-1"}, code: 2, errex: "eval_every -1"},
		{args: []string{"train", "--checkpoint-every", "-5"}, code: 2, errex: "checkpoint_every -5"},
		{args: []string{"train", "--batch", "100000"}, code: 2, errex: "at most 65536 fit"},
		{args: []string{"levels", "--n", "0"}, code: 2, errex: "--n 0: give at least 1 level"},
		{args: []string{"levels", "--min-side", "20"}, code: 2, errex: "--min-side 20 is above sokoban's default --max-side 8: give a --max-side of at least 20"},
		{args: []string{"levels", "--max-side", "4"}, code: 2, errex: "--max-side 4 is below sokoban's default --min-side 6"},
		{args: []string{"levels", "--min-side", "8", "--max-side", "7"}, code: 2, errex: "--min-side 8 is above --max-side 7"},
		// The help says what the flags are, the rule of --resume included.
		{args: []string{"train", "--help"}, code: 0, out: "-checkpoint-every N"},
		{args: []string{"train", "--help"}, code: 0, out: "only --steps, --time, --out and\n--overwrite may be given"},
	} {
		code, out, errb := erlgo("", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errb, tc.errex) {
			t.Errorf("erlgo %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out, errb, tc.code, tc.out, tc.errex)
		}
	}
}

func equalTasks(a, b envs.Task) bool {
	return a.Env == b.Env && a.MaxSteps == b.MaxSteps && slices.Equal(a.Layout, b.Layout)
}
