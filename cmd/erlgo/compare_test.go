package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/machine"
	"github.com/erlgo/erlgo/report"
)

// writeRun makes a run directory under root with steps records and, if algo is not empty, a
// config.json naming it.
func writeRun(t *testing.T, root, name, algo string, steps int) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if algo != "" {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"algo":"`+algo+`","steps":9}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := erl.OpenMetrics(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= steps; s++ {
		r := erl.Record{Step: s, WallSeconds: float64(10 * s), EnvSteps: int64(100 * s), SuccessPre: 0.5}
		if s%2 == 0 {
			v := float64(s) / float64(steps)
			r.EvalSampled = &v
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompare(t *testing.T) {
	root := t.TempDir()
	erlDir := writeRun(t, root, "erl-sokoban-s1", "erl", 10)
	rlvrDir := writeRun(t, root, "rlvr-sokoban-s1", "rlvr", 8)
	erlSeed := writeRun(t, filepath.Join(root, "a"), "seed1", "erl", 4)
	rlvrSeed := writeRun(t, filepath.Join(root, "b"), "seed1", "rlvr", 4)
	noAlgo := writeRun(t, filepath.Join(root, "c"), "seed1", "", 4)
	erlSeed2 := writeRun(t, filepath.Join(root, "d"), "seed1", "erl", 4)
	empty := writeRun(t, root, "empty", "erl", 0)
	notRun := filepath.Join(root, "not-a-run")
	if err := os.Mkdir(notRun, 0o755); err != nil {
		t.Fatal(err)
	}
	figure := filepath.Join(root, "cmp.png")

	for _, tc := range []struct {
		name      string
		args      []string
		wantCode  int
		wantNames []string // the first column of the table's rows
		wantErr   string   // substring of stderr
	}{
		{
			name:      "base names",
			args:      []string{erlDir, rlvrDir, "--out", figure},
			wantNames: []string{"erl-sokoban-s1", "rlvr-sokoban-s1"},
		},
		{
			name:      "flags first",
			args:      []string{"--out", figure, erlDir, rlvrDir},
			wantNames: []string{"erl-sokoban-s1", "rlvr-sokoban-s1"},
		},
		{
			name:      "colliding names take the algorithm",
			args:      []string{erlSeed, rlvrSeed, noAlgo, "--out", figure},
			wantNames: []string{"erl", "rlvr", "seed1"},
		},
		{
			name:      "colliding algorithms take the path",
			args:      []string{erlSeed, erlSeed2, rlvrSeed, "--out", figure},
			wantNames: []string{erlSeed, erlSeed2, "rlvr"},
		},
		{
			name:      "names flag",
			args:      []string{erlDir, rlvrDir, "--names", "ERL,RLVR", "--out", figure},
			wantNames: []string{"ERL", "RLVR"},
		},
		{
			name:      "baselines",
			args:      []string{erlDir, rlvrDir, "--baseline", "random=0.027,oracle=1", "--out", figure},
			wantNames: []string{"erl-sokoban-s1", "rlvr-sokoban-s1"},
		},
		{"bad baseline", []string{erlDir, "--baseline", "random=2"}, 2, nil, `--baseline "random=2"`},
		{"names count mismatch", []string{erlDir, rlvrDir, "--names", "ERL"}, 2, nil, "2 run dirs"},
		{"no run dir", []string{"--out", figure}, 2, nil, "no RUN_DIR"},
		{"missing run dir", []string{erlDir, filepath.Join(root, "nope")}, 1, nil, "nope does not exist"},
		{"not a run dir", []string{notRun}, 1, nil, "has neither metrics.jsonl nor summary.json"},
		{"run without records", []string{empty}, 1, nil, "has no records yet"},
		{"unknown flag", []string{erlDir, "--bogus"}, 2, nil, "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(figure)
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"compare"}, tc.args...), stdio{out: &stdout, err: &stderr})
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if tc.wantNames == nil {
				if !strings.Contains(stderr.String(), tc.wantErr) {
					t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantErr)
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			var names []string
			for _, l := range lines[1:] {
				names = append(names, strings.Fields(l)[0])
			}
			if !reflect.DeepEqual(names, tc.wantNames) {
				t.Errorf("run names %q, want %q; stdout:\n%s", names, tc.wantNames, stdout.String())
			}
			if got := stderr.String(); got != "wrote "+figure+"\n" {
				t.Errorf("stderr %q, want %q: the table alone goes to stdout", got, "wrote "+figure)
			}
			checkPNG(t, figure)
		})
	}
}

func TestCompareHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"compare", "--help"}, stdio{out: &stdout, err: &stderr}); code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	if want := "Usage: erlgo compare RUN_DIR..."; !strings.HasPrefix(stdout.String(), want) {
		t.Errorf("help = %q, want it to begin %q", stdout.String(), want)
	}
}

func TestCompareDefaultOut(t *testing.T) {
	dir := writeRun(t, t.TempDir(), "run", "erl", 3)
	t.Chdir(t.TempDir())
	var stdout bytes.Buffer
	if err := runCompare(stdio{out: &stdout, err: io.Discard}, []string{dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("compare.png"); err != nil {
		t.Errorf("default figure: %v", err)
	}
}

func TestCompareGroups(t *testing.T) {
	root := t.TempDir()
	erl1 := writeRun(t, root, "erl-s1", "erl", 4)
	erl2 := writeRun(t, root, "erl-s2", "erl", 6)
	erl3 := writeRun(t, root, "erl-s3", "erl", 8)
	rlvr1 := writeRun(t, root, "rlvr-s1", "rlvr", 4)
	rlvr2 := writeRun(t, root, "rlvr-s2", "rlvr", 8)
	noAlgo := writeRun(t, root, "no-algo", "", 4)
	noEval1 := writeRun(t, root, "no-eval-s1", "erl", 1)
	noEval2 := writeRun(t, root, "no-eval-s2", "erl", 1)
	figure := filepath.Join(root, "cmp.png")

	for _, tc := range []struct {
		name       string
		args       []string
		wantHeader string     // the first word of the table's header: "group", or "run" where no group has several runs
		wantRows   [][]string // the first two columns of the table's rows
		wantCode   int
		wantErr    []string // substrings of stderr
	}{
		{
			name:       "names with repeats",
			args:       []string{erl1, erl2, erl3, rlvr1, rlvr2, "--names", "erl,erl,erl,rlvr,rlvr"},
			wantHeader: "group",
			wantRows:   [][]string{{"erl", "3"}, {"rlvr", "2"}},
		},
		{
			name:       "names interleaved",
			args:       []string{erl1, rlvr1, erl2, "--names", "a,b,a"},
			wantHeader: "group",
			wantRows:   [][]string{{"a", "2"}, {"b", "1"}},
		},
		{
			name:       "by algorithm",
			args:       []string{erl1, rlvr1, erl2, rlvr2, erl3, "--group-by-algo"},
			wantHeader: "group",
			wantRows:   [][]string{{"erl", "3"}, {"rlvr", "2"}},
		},
		{
			// Nothing to pool: the table of single runs (name, steps), named by algorithm.
			name:       "by algorithm, one run each",
			args:       []string{"--group-by-algo", erl3, rlvr1},
			wantHeader: "run",
			wantRows:   [][]string{{"erl", "8"}, {"rlvr", "4"}},
		},
		{
			name:     "names and by algorithm",
			args:     []string{erl1, erl2, "--names", "a,a", "--group-by-algo"},
			wantCode: 2,
			wantErr:  []string{"give one"},
		},
		{
			name:     "by algorithm without an algorithm",
			args:     []string{erl1, noAlgo, "--group-by-algo"},
			wantCode: 1,
			wantErr:  []string{noAlgo, "no config.json naming its algo"},
		},
		{
			name:     "a run of a group without evaluation",
			args:     []string{erl1, noEval1, erl2, "--names", "erl,erl,erl"},
			wantCode: 1,
			wantErr:  []string{"group erl: no held-out evaluation to average in 1 of its 3 runs", noEval1},
		},
		{
			name:     "a group without evaluation",
			args:     []string{noEval1, noEval2, erl1, "--names", "x,x,y"},
			wantCode: 1,
			wantErr:  []string{"group x: no held-out evaluation to average in 2 of its 2 runs", noEval1 + ", " + noEval2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(figure)
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"compare", "--out", figure}, tc.args...), stdio{out: &stdout, err: &stderr})
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if tc.wantCode != 0 {
				for _, want := range tc.wantErr {
					if !strings.Contains(stderr.String(), want) {
						t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
					}
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout = %q, want nothing printed before the error", stdout.String())
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if header := strings.Fields(lines[0])[0]; header != tc.wantHeader {
				t.Errorf("table header begins %q, want %q; stdout:\n%s", header, tc.wantHeader, stdout.String())
			}
			var rows [][]string
			for _, l := range lines[1:] {
				rows = append(rows, strings.Fields(l)[:2])
			}
			if !reflect.DeepEqual(rows, tc.wantRows) {
				t.Errorf("rows begin %q, want %q; stdout:\n%s", rows, tc.wantRows, stdout.String())
			}
			checkPNG(t, figure)
		})
	}
}

// checkPNG fails t unless path holds a PNG image.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// TestCompareTestScores: runs with test scores and a measured lift get the tables of test
// success and lift, and --json writes them, the tables going to standard error.
func TestCompareTestScores(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, sampled := range []float64{0.25, 0.5} {
		dir := writeRun(t, root, fmt.Sprintf("erl-s%d", i+1), "erl", 6)
		ev := erl.Evaluation{Sampled: erl.Score{Success: sampled, N: 40, Levels: 10, Lo: sampled - 0.1, Hi: sampled + 0.1},
			ByLength: []erl.LengthScore{{Moves: 3, Sampled: erl.Score{Success: sampled, N: 40, Levels: 10}}}}
		ts := erl.TestScores{Levels: 10, Last: erl.CheckpointScore{Step: 6, Evaluation: ev}, Best: erl.CheckpointScore{Step: 4, Evaluation: ev}}
		raw, _ := json.Marshal(ts)
		if err := os.WriteFile(erl.RunDir(dir).TestScores(), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	figure := filepath.Join(root, "cmp.png")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"compare", "--out", figure}, dirs...), stdio{out: &stdout, err: &stderr}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"0.250 [0.150, 0.350]", "0.500 [0.400, 0.600]", "3 moves"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("compare's tables lack %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	args := append([]string{"compare", "--out", figure, "--names", "erl,erl", "--json"}, dirs...)
	if code := run(args, stdio{out: &stdout, err: &stderr}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res struct {
		Groups []report.GroupReport `json:"groups"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || len(res.Groups) != 1 || res.Groups[0].Sampled == nil ||
		res.Groups[0].Sampled.Mean != 0.375 || len(res.Groups[0].Runs) != 2 || res.Groups[0].Runs[1].Test == nil {
		t.Fatalf("compare --json: %v, %q; want one group of two runs with test scores, mean 0.375", err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "0.375 (0.250–0.500)") {
		t.Errorf("the tables did not go to standard error:\n%s", stderr.String())
	}
}

// TestCompareDifferences: groups scored at the same test levels get the differences of their
// test success with intervals over runs and levels, in the tables and in --json, a run pruned
// to its summary taking part through the level file its config names in its reproduction;
// where the levels are other or unknown, compare says so and differences nothing.
func TestCompareDifferences(t *testing.T) {
	root := t.TempDir()
	repro := filepath.Join(root, "repro")
	levels := []byte("{\"layout\":[\"a\"]}\n{\"layout\":[\"b\"]}\n{\"layout\":[\"c\"]}\n{\"layout\":[\"d\"]}\n{\"layout\":[\"e\"]}\n")
	for path, raw := range map[string][]byte{"reproduce.json": []byte("{}"), "levels/test.jsonl": levels} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repro, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repro, path), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const attempts = 4
	solved := map[string][]int{ // by run: the attempts solved at each of the 5 levels
		"a-s1": {4, 3, 2, 1, 0}, "a-s2": {4, 4, 2, 2, 1}, "b-s1": {2, 1, 0, 0, 0}, "b-s2": {3, 1, 1, 0, 0}}
	scores := func(s []int) erl.TestScores {
		var n int
		for _, v := range s {
			n += v
		}
		ev := erl.Evaluation{Sampled: erl.Score{Success: float64(n) / float64(len(s)*attempts), N: len(s) * attempts, Levels: len(s)},
			Greedy: erl.Score{N: len(s), Levels: len(s)}, SampledSolved: s, GreedySolved: make([]int, len(s))}
		return erl.TestScores{Levels: len(s), Last: erl.CheckpointScore{Step: 6, Evaluation: ev}, Best: erl.CheckpointScore{Step: 4, Evaluation: ev}}
	}
	dirs := map[string]string{}
	for name, s := range solved {
		var dir string
		if strings.HasSuffix(name, "s1") { // a whole run, with its own copy of the levels
			dir = writeRun(t, filepath.Join(repro, "env"), name, "erl", 6)
			if err := os.WriteFile(erl.RunDir(dir).Test(), levels, 0o644); err != nil {
				t.Fatal(err)
			}
		} else { // pruned to its config, summary and test scores
			dir = filepath.Join(repro, "env", name)
			sum := report.Summary{Status: erl.StatusFinished, Step: 6, Steps: 6, WallSeconds: 60, EnvSteps: 600,
				Evaluations: []report.Evaluation{{Step: 2, EnvSteps: 200, WallSeconds: 20, Sampled: 0.25}, {Step: 6, EnvSteps: 600, WallSeconds: 60, Sampled: 0.5}}}
			for file, v := range map[string]any{"summary.json": sum, "config.json": map[string]string{"algo": "erl", "test_file": "levels/test.jsonl"}} {
				raw, _ := json.Marshal(v)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, file), raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		raw, _ := json.Marshal(scores(s))
		if err := os.WriteFile(erl.RunDir(dir).TestScores(), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		dirs[name] = dir
	}
	figure := filepath.Join(root, "cmp.png")
	compare := func(names string, runs ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append([]string{"compare", "--out", figure, "--json", "--names", names}, runs...)
		if code := run(args, stdio{out: &stdout, err: &stderr}); code != 0 {
			t.Fatalf("compare %q: exit %d: %s", names, code, stderr.String())
		}
		return stdout.String(), stderr.String()
	}

	out, tables := compare("a,a,b,b", dirs["a-s1"], dirs["a-s2"], dirs["b-s1"], dirs["b-s2"])
	var res struct {
		Groups      []report.GroupReport `json:"groups"`
		Differences []report.Difference  `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Differences) != 1 {
		t.Fatalf("compare --json: %v, %q; want one difference", err, out)
	}
	d := res.Differences[0]
	var sumA, sumB float64 // the plain means of the runs' success, over every attempt
	for _, v := range append(solved["a-s1"], solved["a-s2"]...) {
		sumA += float64(v) / (2 * 5 * attempts)
	}
	for _, v := range append(solved["b-s1"], solved["b-s2"]...) {
		sumB += float64(v) / (2 * 5 * attempts)
	}
	if d.A != "a" || d.B != "b" || math.Abs(d.Final.Value-(sumA-sumB)) > 1e-12 || math.Abs(d.Best.Value-(sumA-sumB)) > 1e-12 ||
		!(d.Final.Lo <= d.Final.Value && d.Final.Value <= d.Final.Hi) || d.Final.Hi-d.Final.Lo <= 0 {
		t.Errorf("difference %+v, want a − b = %.4f within an interval of some width", d, sumA-sumB)
	}
	if want := fmt.Sprintf("a − b  %+.3f [%+.3f, %+.3f]", d.Final.Value, d.Final.Lo, d.Final.Hi); !strings.Contains(tables, want) {
		t.Errorf("the tables lack %q:\n%s", want, tables)
	}
	if !strings.Contains(tables, "a      2     6") {
		t.Errorf("the group table lacks group a's two runs of 6 steps, the pruned one from its summary:\n%s", tables)
	}

	other := writeRun(t, filepath.Join(root, "elsewhere"), "c-s1", "erl", 6) // scored at other levels
	if err := os.WriteFile(erl.RunDir(other).Test(), levels[:40], 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(root, "elsewhere", "d-s1") // pruned, outside any reproduction
	if err := os.CopyFS(unknown, os.DirFS(dirs["b-s2"])); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ run, want string }{
		{other, "was scored at other test levels"},
		{unknown, "the test levels of run " + unknown + " are not known"},
	} {
		raw, _ := json.Marshal(scores(solved["b-s1"]))
		if err := os.WriteFile(erl.RunDir(tc.run).TestScores(), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		out, tables := compare("a,c", dirs["a-s1"], tc.run)
		if strings.Contains(out, "differences") || !strings.Contains(tables, "no differences of test success between the groups: ") || !strings.Contains(tables, tc.want) {
			t.Errorf("%s: --json %q, tables:\n%s\nwant no differences, saying %q", tc.run, out, tables, tc.want)
		}
	}
}

// TestCompareMachines: compare notes runs that their summaries say trained on different
// machines, and says nothing of runs that trained on one or did not record it.
func TestCompareMachines(t *testing.T) {
	root := t.TempDir()
	here := machine.This()
	other := here
	other.CPU, other.GOMAXPROCS = "Other CPU", here.GOMAXPROCS+1
	withMachine := func(name string, m *machine.Machine) string {
		dir := writeRun(t, root, name, "erl", 4)
		raw, err := json.Marshal(report.Summary{Status: erl.StatusFinished, Step: 4, Steps: 4, Machine: m})
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, report.SummaryFile), raw, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a, b, c, unrecorded := withMachine("a", &here), withMachine("b", &here), withMachine("c", &other), withMachine("d", nil)
	const note = "note: these runs trained on different machines"
	for _, tc := range []struct {
		name string
		dirs []string
		want string // in stderr; "" for no note
	}{
		{"one machine", []string{a, b, unrecorded}, ""},
		{"two machines", []string{a, b, c, unrecorded}, fmt.Sprintf("%s (2 runs); %s (1 run); not recorded for 1 run", here, other)},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"compare", "--out", filepath.Join(root, "cmp.png")}, tc.dirs...)
		if code := run(args, stdio{out: &stdout, err: &stderr}); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, stderr.String())
		}
		got := stderr.String()
		if tc.want == "" && strings.Contains(got, note) || tc.want != "" && (!strings.Contains(got, note) || !strings.Contains(got, tc.want)) {
			t.Errorf("%s: stderr %q, want %q", tc.name, got, tc.want)
		}
	}
}
