package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
)

const levelsDoc = `
Generates distinct random levels of an environment, deterministically from the seed, and
writes them as JSON lines, one level a line:

  {"layout":["######","#@ $.#","######"],"max_steps":8,"env":"sokoban"}

Sokoban levels follow the paper: sides 6 to 8, border walls, one box, one goal, optimal
solution at most 8 moves (its test split has sides 7 and 8: --min-side 7). FrozenLake levels
follow the reference implementation: sides 2 to 9, tiles frozen with a probability drawn in
[0.6, 0.85], kept only if its depth-limited search finds the goal within 6 moves.

--split test (or validation) writes instead the test (or validation) levels that a training run
of --seed generates with the default settings (--n of them, 256 and 128 by default), as
erlgo eval scores a checkpoint on when it is given no --levels.`

// runLevels implements erlgo levels.
func runLevels(sio stdio, args []string) error {
	fs := newFlagSet("levels", "[flags]", levelsDoc)
	env := fs.String("env", envs.EnvSokoban, "environment: "+strings.Join(envs.EnvNames(), " or "))
	n := fs.Int("n", 100, "number of levels")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "-", "output file, or - for standard output")
	minSide := fs.Int("min-side", 0, "smallest board side (0: the environment's default, sokoban 6, frozenlake 2)")
	maxSide := fs.Int("max-side", 0, "largest board side (0: the environment's default, sokoban 8, frozenlake 9)")
	maxMoves := fs.Int("max-moves", 0, "longest optimal solution kept (0: the paper's, 8 for sokoban, 6 for frozenlake); smaller gives easier levels")
	split := fs.String("split", "", "write a training run's `SPLIT` of levels: test or validation")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	if *split != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["min-side"] || set["max-side"] || set["max-moves"] {
			return usagef("--split gives a training run's levels, of the paper's distribution: --min-side, --max-side and --max-moves do not apply")
		}
		if *split != splitTest && *split != splitValidation {
			return usagef("--split %q: want test or validation", *split)
		}
		cfg := erl.DefaultConfig()
		cfg.Env, cfg.Seed = *env, *seed
		count := 0 // the run's
		if set["n"] {
			count = *n
		}
		tasks, _, err := evalLevels(cfg, "", *split, count, 1)
		if err != nil {
			return err
		}
		return writeLevelFile(sio, *out, tasks, fmt.Sprintf("%s %s levels of a training run of seed %d", *env, *split, *seed))
	}
	if *n < 1 {
		return usagef("--n %d: give at least 1 level", *n)
	}
	if err := checkSides(*env, *minSide, *maxSide); err != nil {
		return err
	}
	g, err := levelGenerator(*env, *seed, *minSide, *maxSide, *maxMoves)
	if err != nil {
		return usageError{err}
	}
	bar := newProgress(sio.err, *n, "levels")
	var tasks []envs.Task
	for len(tasks) < *n {
		// Chunks keep the bar moving without a callback in the generator.
		chunk, err := g.Generate(min(256, *n-len(tasks)))
		tasks = append(tasks, chunk...)
		bar.set(len(tasks))
		if err != nil {
			bar.finish()
			return fmt.Errorf("generated %d of %d levels: %w", len(tasks), *n, err)
		}
	}
	bar.finish()
	return writeLevelFile(sio, *out, tasks, *env+" levels")
}

// writeLevelFile writes tasks, what they are in words, to the file out, or standard output for
// "-".
func writeLevelFile(sio stdio, out string, tasks []envs.Task, what string) error {
	if out == "-" {
		return envs.EncodeLevels(sio.out, tasks)
	}
	if err := envs.WriteLevels(out, tasks); err != nil {
		return err
	}
	fmt.Fprintf(sio.err, "wrote %d %s to %s\n", len(tasks), what, out)
	return nil
}

// defaultSides are the smallest and largest board sides of each environment's generator.
var defaultSides = map[string][2]int{envs.EnvSokoban: {6, 8}, envs.EnvFrozenLake: {2, 9}}

// checkSides names the mistake in --min-side and --max-side, where one of them is left at the
// environment's default.
func checkSides(env string, minSide, maxSide int) error {
	def, ok := defaultSides[env]
	switch {
	case !ok || minSide < 0 || maxSide < 0:
		return nil // the generator names these
	case minSide > 0 && maxSide == 0 && minSide > def[1]:
		return usagef("--min-side %d is above %s's default --max-side %d: give a --max-side of at least %d", minSide, env, def[1], minSide)
	case maxSide > 0 && minSide == 0 && maxSide < def[0]:
		return usagef("--max-side %d is below %s's default --min-side %d: give a --min-side of at most %d", maxSide, env, def[0], maxSide)
	case minSide > 0 && maxSide > 0 && minSide > maxSide:
		return usagef("--min-side %d is above --max-side %d", minSide, maxSide)
	}
	return nil
}

func levelGenerator(env string, seed uint64, minSide, maxSide, maxMoves int) (*envs.Generator, error) {
	switch env {
	case envs.EnvSokoban:
		return envs.NewSokobanGenerator(seed, envs.SokobanOptions{MinSide: minSide, MaxSide: maxSide, MaxMoves: maxMoves})
	case envs.EnvFrozenLake:
		return envs.NewFrozenLakeGenerator(seed, envs.FrozenLakeOptions{MinSide: minSide, MaxSide: maxSide, MaxMoves: maxMoves})
	}
	return envs.NewGenerator(env, seed) // for its error naming the environments
}

// progress draws a progress bar, redrawn in place, on a terminal and only once the work has
// taken a while: quick runs and logs stay clean.
type progress struct {
	w        io.Writer // nil when not drawing
	total    int
	unit     string
	start    time.Time
	last     time.Time
	shown    bool
	interval time.Duration // between redraws
	delay    time.Duration // before the first
}

func newProgress(w io.Writer, total int, unit string) *progress {
	p := &progress{total: total, unit: unit, start: time.Now(), interval: 100 * time.Millisecond, delay: 500 * time.Millisecond}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.w = w
	}
	return p
}

func (p *progress) set(done int) {
	now := time.Now()
	if p.w == nil || now.Sub(p.start) < p.delay || now.Sub(p.last) < p.interval && done < p.total {
		return
	}
	p.last, p.shown = now, true
	const width = 30
	filled := width * done / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, p.total, p.unit)
}

// finish ends the bar's line, if it was drawn.
func (p *progress) finish() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
