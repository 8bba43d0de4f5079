package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/erlgo/erlgo/envs"
)

const replayDoc = `
Reads requests as JSON lines on standard input, one a line,

  {"env": "sokoban", "layout": ["#####", "#@$.#", "#####"], "max_steps": 8, "actions": ["Up", "Right"]}

(env defaults to sokoban, max_steps to 8; actions are Up, Down, Left, Right or u, d, l, r), plays
each from the start, and writes one JSON object a line on standard output:

  {"solved": true, "done": true, "outcome": "solved", "reward": 1, "steps": 2,
   "effective": [false, true], "final": ["#####", "# @*#", "#####"], "feedback": "..."}

Actions after the episode ends are not taken, so effective has one entry per action taken.
final is the board in file notation (XSB for Sokoban, S F H G for FrozenLake, the player drawn
as S, or X in a hole, √ on the goal), rows as long as the layout's. A bad request gets
{"error": "line N: ..."} and the stream goes on.`

type replayRequest struct {
	Env      string   `json:"env"`
	Layout   []string `json:"layout"`
	MaxSteps int      `json:"max_steps"`
	Actions  []string `json:"actions"`
}

type replayResult struct {
	Solved    bool     `json:"solved"`
	Done      bool     `json:"done"`
	Outcome   string   `json:"outcome"`
	Reward    float64  `json:"reward"`
	Steps     int      `json:"steps"`
	Effective []bool   `json:"effective"`
	Final     []string `json:"final"`
	Feedback  string   `json:"feedback"`
}

type replayError struct {
	Error string `json:"error"`
}

// runReplay implements erlgo replay.
func runReplay(sio stdio, args []string) error {
	fs := newFlagSet("replay", "< requests.jsonl", replayDoc)
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	in := bufio.NewReader(sio.in)
	out := bufio.NewWriter(sio.out)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		line, rerr := in.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		if rerr != nil && len(line) == 0 {
			return nil
		}
		var resp any
		if res, err := replay(line); err != nil {
			resp = replayError{fmt.Sprintf("line %d: %v", n, err)}
		} else {
			resp = res
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
		// A caller may send the next request only after reading this answer.
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

func replay(line []byte) (*replayResult, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, errors.New("empty request")
	}
	var req replayRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return nil, err
	}
	if req.Env == "" {
		req.Env = envs.EnvSokoban
	}
	acts := make([]envs.Action, len(req.Actions))
	for i, s := range req.Actions {
		a, err := envs.ParseAction(s)
		if err != nil {
			return nil, fmt.Errorf("action %d: %w", i+1, err)
		}
		acts[i] = a
	}
	g, err := envs.Task{Env: req.Env, Layout: req.Layout, MaxSteps: req.MaxSteps}.New()
	if err != nil {
		return nil, err
	}
	file, err := envs.FileSymbols(req.Env)
	if err != nil {
		return nil, err
	}
	res := &replayResult{Effective: make([]bool, 0, len(acts))}
	for _, a := range acts {
		if g.Done() {
			break
		}
		res.Effective = append(res.Effective, g.Step(a).Effective)
	}
	fb := g.Feedback()
	res.Solved, res.Done, res.Outcome = g.Solved(), g.Done(), fb.Outcome.String()
	res.Reward, res.Steps = fb.Reward, g.Steps()
	res.Final, res.Feedback = g.Render(file), fb.Text()
	return res, nil
}
