// Command imitate measures how fast a policy of a given size can learn Sokoban when it is told
// the answer: it trains the first-attempt context on the optimal solver's actions (supervised
// imitation, the distillation term alone) and reports held-out first-attempt success as it goes.
// Reinforcement learning sees far less signal per sample than this, so the curve is an upper
// bound on how fast ERL or RLVR can learn at that size on the same machine.
//
//	go run ./bench/imitate [--size small] [--time 5m] [--batch 128] [--lr 3e-3]
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/model"
)

func main() {
	size := flag.String("size", string(model.Small), "model size: small or base")
	limit := flag.Duration("time", 5*time.Minute, "training time")
	batch := flag.Int("batch", 128, "solver turns per update")
	lr := flag.Float64("lr", 3e-3, "learning rate")
	levels := flag.Int("levels", 4000, "training levels (their optimal solutions are the data)")
	evalEvery := flag.Int("eval-every", 100, "evaluate every N updates")
	flag.Parse()
	if err := run(model.Size(*size), *limit, *batch, *lr, *levels, *evalEvery); err != nil {
		fmt.Fprintln(os.Stderr, "imitate:", err)
		os.Exit(1)
	}
}

func run(size model.Size, limit time.Duration, batch int, lr float64, levels, evalEvery int) error {
	cfg := erl.DefaultConfig()
	mc, err := model.NewConfig(size)
	if err != nil {
		return err
	}
	m, err := model.New(mc, tensor.Float32, cfg.Seed)
	if err != nil {
		return err
	}
	m.MicroBatch = cfg.MicroBatch
	oc := cfg.Optim
	oc.LR = lr
	opt, err := model.NewAdamW(oc, m.Params)
	if err != nil {
		return err
	}
	held, _, err := erl.Splits(cfg) // the validation levels of a run of this seed
	if err != nil {
		return err
	}
	c := erl.NewContexts(cfg.Vocab())
	turns, err := solverTurns(c, cfg, held, levels)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	fmt.Printf("%s model, %d solver turns from %d levels, batch %d, lr %g\n", size, len(turns), levels, batch, lr)
	fmt.Printf("%8s %8s %8s %8s %8s\n", "update", "time_s", "nll", "greedy", "sampled")
	start := time.Now()
	var evaluating time.Duration // evaluation does not count as training time
	for step := 1; ; step++ {
		last := time.Since(start)-evaluating >= limit
		b := &model.Batch{}
		for range batch {
			t := turns[rng.IntN(len(turns))]
			b.Seqs = append(b.Seqs, t)
			b.Scored = append(b.Scored, model.Scored{Seq: len(b.Seqs) - 1, Index: len(t.Tokens) - 1,
				DistillWeight: 1 / float32(batch), Allowed: c.ActionTokens})
		}
		terms, err := m.Gradients(b, model.Objective{DistillCoef: 1}, nil)
		if err != nil {
			return err
		}
		if _, _, err := opt.Update(m.Params); err != nil {
			return err
		}
		if step%evalEvery == 0 || last {
			trained := time.Since(start) - evaluating
			evalStart := time.Now()
			ev, err := erl.Evaluate(m, c, held, cfg.EvalSample, cfg.EvalSamples, cfg.Seed)
			if err != nil {
				return err
			}
			evaluating += time.Since(evalStart)
			fmt.Printf("%8d %8.0f %8.3f %8.3f %8.3f\n", step, trained.Seconds(), terms.Distill, ev.Greedy.Success, ev.Sampled.Success)
		}
		if last {
			return nil
		}
	}
}

// solverTurns plays the optimal solution of training levels (never held-out ones) and returns
// each turn's first-attempt context followed by the solver's action.
func solverTurns(c *erl.Contexts, cfg erl.Config, held []envs.Task, levels int) ([]model.Sequence, error) {
	g, err := envs.NewSokobanGenerator(cfg.Seed+1, envs.SokobanOptions{})
	if err != nil {
		return nil, err
	}
	g.Exclude(held...)
	tasks, err := g.Generate(levels)
	if err != nil {
		return nil, err
	}
	var turns []model.Sequence
	for _, task := range tasks {
		game, err := envs.ParseSokoban(task.Layout, task.MaxSteps)
		if err != nil {
			return nil, err
		}
		solution, err := game.Solve(envs.SolveLimits{})
		if err != nil {
			return nil, err
		}
		a := &erl.Attempt{Task: task}
		for _, act := range solution {
			a.Actions = append(a.Actions, act)
			a.Boards = append(a.Boards, game.Cells())
			game.Step(act)
		}
		ctxs, err := erl.TurnsUnder(c, a, erl.Guidance{})
		if err != nil {
			return nil, err
		}
		for i, ctx := range ctxs {
			turns = append(turns, model.Sequence{
				Tokens: append(ctx.Tokens, c.ActionToken(solution[i])),
				Pos:    append(ctx.Pos, ctx.Pos[len(ctx.Pos)-1]+1),
			})
		}
	}
	return turns, nil
}
