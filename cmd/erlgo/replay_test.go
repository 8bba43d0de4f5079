package main

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{
			name: "solved, later actions not taken",
			in:   `{"layout": ["#####", "#@$.#", "#####"], "actions": ["u", "Right", "Left"]}`,
			want: `{"solved":true,"done":true,"outcome":"solved","reward":1,"steps":2,"effective":[false,true],"final":["#####","# @*#","#####"],"feedback":"The puzzle is solved. 1 of 2 actions had no effect. Last action: Right. Reward: 1. Steps: 2."}`,
		},
		{
			name: "step limit",
			in:   `{"env": "sokoban", "layout": ["######", "#@ $.#", "######"], "max_steps": 2, "actions": ["Down", "Right", "Right"]}`,
			want: `{"solved":false,"done":true,"outcome":"step_limit","reward":0,"steps":2,"effective":[false,true],"final":["######","# @$.#","######"],"feedback":"The puzzle is not solved: the step limit of 2 was reached. 1 of 2 actions had no effect. Last action: Right. Reward: 0. Steps: 2."}`,
		},
		{
			name: "in progress, ragged rows kept",
			in:   `{"layout": ["  ####", "  #@ #", " ##$ #", " #. ##", " ####"], "actions": ["R", "l", "l"]}`,
			want: `{"solved":false,"done":false,"outcome":"in_progress","reward":0,"steps":3,"effective":[true,true,false],"final":["  ####","  #@ #"," ##$ #"," #. ##"," ####"],"feedback":"The puzzle is not solved yet: 3 of 8 steps taken. 1 of 3 actions had no effect; the last action had no effect. Last action: Left. Reward: 0. Steps: 3."}`,
		},
		{
			name: "no actions",
			in:   `{"layout": ["#####", "#@$.#", "#####"], "actions": []}`,
			want: `{"solved":false,"done":false,"outcome":"in_progress","reward":0,"steps":0,"effective":[],"final":["#####","#@$.#","#####"],"feedback":"The puzzle is not solved yet: 0 of 8 steps taken. No actions were taken. Reward: 0. Steps: 0."}`,
		},
		{
			name: "frozenlake hole",
			in:   `{"env": "frozenlake", "layout": ["SH", "FG"], "actions": ["Right", "Down"]}`,
			want: `{"solved":false,"done":true,"outcome":"failed","reward":0,"steps":1,"effective":[true],"final":["FX","FG"],"feedback":"The puzzle is not solved: the player fell into a hole. 0 of 1 action had no effect. Last action: Right. Reward: 0. Steps: 1."}`,
		},
		{
			name: "frozenlake goal",
			in:   `{"env": "frozenlake", "layout": ["SFF", "HHG"], "actions": ["Up", "r", "r", "d"]}`,
			want: `{"solved":true,"done":true,"outcome":"solved","reward":1,"steps":4,"effective":[false,true,true,true],"final":["FFF","HH√"],"feedback":"The puzzle is solved. 1 of 4 actions had no effect. Last action: Down. Reward: 1. Steps: 4."}`,
		},
		{
			name: "bad json",
			in:   `{"layout": ["#####"`,
			want: `{"error":"line 1: unexpected end of JSON input"}`,
		},
		{
			name: "bad layout",
			in:   `{"layout": ["#####", "#@$$#", "#####"], "actions": []}`,
			want: `{"error":"line 1: envs: bad level: row 2, column 4: 2 boxes but 0 goals"}`,
		},
		{
			name: "unknown action",
			in:   `{"layout": ["#####", "#@$.#", "#####"], "actions": ["Up", "Jump"]}`,
			want: `{"error":"line 1: action 2: envs: unknown action \"Jump\" (want Up, Down, Left, Right or u, d, l, r)"}`,
		},
		{
			name: "unknown environment",
			in:   `{"env": "maze", "layout": ["SG"], "actions": []}`,
			want: `{"error":"line 1: envs: unknown environment \"maze\" (want one of frozenlake, sokoban)"}`,
		},
		{
			name: "actions not strings",
			in:   `{"layout": ["#####", "#@$.#", "#####"], "actions": [1]}`,
			want: `{"error":"line 1: json: cannot unmarshal number into Go struct field replayRequest.actions of type string"}`,
		},
		{
			name: "empty line",
			in:   "  ",
			want: `{"error":"line 1: empty request"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errb := erlgo(tc.in+"\n", "replay")
			if code != 0 || errb != "" {
				t.Fatalf("exit %d, stderr %q", code, errb)
			}
			if got := strings.TrimSuffix(out, "\n"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestReplayStream checks that bad lines answer with their line number and the stream goes
// on, and that every answer is flushed before the next request is read.
func TestReplayStream(t *testing.T) {
	requests := []string{
		`{"layout": ["#####", "#@$.#", "#####"], "actions": ["r"]}`,
		`not json`,
		`{"env": "frozenlake", "layout": ["SX"], "actions": ["r"]}`,
		`{"env": "frozenlake", "layout": ["SG"], "actions": ["r"]}`,
	}
	wants := []string{`"solved":true`, `{"error":"line 2: invalid character`, `{"error":"line 3: envs: bad level: row 1, column 2`, `"final":["F√"]`}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run([]string{"replay"}, stdio{inR, outW, io.Discard})
		outW.Close()
	}()
	answers := bufio.NewReader(outR)
	for i, req := range requests {
		// The pipe blocks until read: an answer that waited for more input would hang here.
		if _, err := io.WriteString(inW, req+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := answers.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line, wants[i]) {
			t.Errorf("answer %d: %s, want it to hold %s", i+1, line, wants[i])
		}
		if !json.Valid([]byte(line)) {
			t.Errorf("answer %d is not JSON: %s", i+1, line)
		}
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
}
