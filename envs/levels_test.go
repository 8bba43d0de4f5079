package envs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestLevelsRoundTrip(t *testing.T) {
	sokoban, err := GenerateSokoban(20, 1)
	if err != nil {
		t.Fatal(err)
	}
	lake, err := GenerateFrozenLake(20, 1)
	if err != nil {
		t.Fatal(err)
	}
	ragged := Task{Env: EnvSokoban, Layout: []string{"  ####", "  #@$.#", "  #####"}, MaxSteps: 5}
	for _, tc := range []struct {
		env   string
		tasks []Task
	}{
		{EnvSokoban, append(sokoban, ragged)},
		{EnvFrozenLake, lake},
		{"", append(slices.Clip(lake), sokoban...)}, // each line names its environment
	} {
		path := filepath.Join(t.TempDir(), "levels.jsonl")
		if err := WriteLevels(path, tc.tasks); err != nil {
			t.Fatal(err)
		}
		got, err := ReadLevels(path, tc.env)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, tc.tasks, equalTasks) {
			t.Errorf("env %q: read back %v, want %v", tc.env, got, tc.tasks)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("directory holds %d files after writing, want only the level set", len(entries))
		}
	}
}

func TestDecodeLevels(t *testing.T) {
	for _, tc := range []struct {
		name, in, env string
		want          []Task
		err           string
	}{
		{
			name: "reference format, extra fields, blank lines",
			in:   `{"layout": ["#####", "#@$.#", "#####"], "max_steps": 6, "id": 3}` + "\n\n" + `{"layout": ["#####", "#.$@#", "#####"]}`,
			env:  EnvSokoban,
			want: []Task{
				{Env: EnvSokoban, Layout: []string{"#####", "#@$.#", "#####"}, MaxSteps: 6},
				{Env: EnvSokoban, Layout: []string{"#####", "#.$@#", "#####"}, MaxSteps: DefaultMaxSteps},
			},
		},
		{
			name: "bad json",
			in:   `{"layout": ["SG"], "env": "frozenlake"}` + "\n" + `{"layout": [`,
			err:  "line 2: unexpected end of JSON input",
		},
		{
			name: "bad level",
			in:   `{"layout": ["#####", "#@$$#", "#####"]}`,
			env:  EnvSokoban,
			err:  "line 1: envs: bad level: row 2, column 4: 2 boxes but 0 goals",
		},
		{
			name: "no environment",
			in:   `{"layout": ["SG"]}`,
			err:  `line 1: no "env" field`,
		},
		{
			name: "mixed environments",
			in:   `{"layout": ["SG"], "env": "frozenlake"}`,
			env:  EnvSokoban,
			err:  `line 1: level of environment "frozenlake" in a "sokoban" level set`,
		},
		{
			name: "unknown environment",
			in:   `{"layout": ["SG"]}`,
			env:  "maze",
			err:  `unknown environment "maze"`,
		},
		{
			name: "negative step budget",
			in:   `{"layout": ["SG"], "max_steps": -3}`,
			env:  EnvFrozenLake,
			err:  "line 1: envs: negative step budget -3",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeLevels(strings.NewReader(tc.in), tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.EqualFunc(got, tc.want, equalTasks) {
				t.Errorf("DecodeLevels = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestReadLevelsNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(path, []byte(`{"layout": ["SG"]}`+"\n"+`{"layout": ["SX"]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadLevels(path, EnvFrozenLake)
	want := path + ": line 2: envs: bad level: row 1, column 2: unknown character 'X'"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if _, err := ReadLevels(filepath.Join(t.TempDir(), "missing.jsonl"), EnvSokoban); err == nil {
		t.Error("reading a missing file succeeded")
	}
}

func TestWriteLevelsLeavesNothingHalfWritten(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "levels.jsonl")
	if err := os.MkdirAll(filepath.Join(target, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tasks := []Task{{Env: EnvFrozenLake, Layout: []string{"SG"}, MaxSteps: 8}}
	if err := WriteLevels(target, tasks); err == nil {
		t.Fatal("writing onto a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "levels.jsonl" {
		t.Errorf("after a failed write the directory holds %v", entries)
	}
	if err := WriteLevels(filepath.Join(dir, "missing", "levels.jsonl"), tasks); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	var buf bytes.Buffer
	if err := EncodeLevels(&buf, tasks); err != nil {
		t.Fatal(err)
	}
	if want := `{"layout":["SG"],"max_steps":8,"env":"frozenlake"}` + "\n"; buf.String() != want {
		t.Errorf("encoded %q, want %q", buf.String(), want)
	}
}

func TestWriteLevelsThroughLinksAndPipes(t *testing.T) {
	dir := t.TempDir()
	tasks := []Task{{Env: EnvFrozenLake, Layout: []string{"SG"}, MaxSteps: 8}}
	want := `{"layout":["SG"],"max_steps":8,"env":"frozenlake"}` + "\n"

	file, link := filepath.Join(dir, "levels.jsonl"), filepath.Join(dir, "link.jsonl")
	if err := os.WriteFile(file, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteLevels(link, tasks); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(file); string(got) != want {
		t.Errorf("the link's target holds %q, want %q", got, want)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes:", err)
	}
	read := make(chan []byte)
	go func() {
		got, _ := os.ReadFile(fifo)
		read <- got
	}()
	if err := WriteLevels(fifo, tasks); err != nil {
		t.Fatal(err)
	}
	if got := <-read; string(got) != want {
		t.Errorf("the pipe carried %q, want %q", got, want)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v, %v", fi.Mode(), err)
	}
}

func TestLevelSetEnv(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, content, want string }{
		{"frozenlake", `{"layout":["S.","HG"],"max_steps":8,"env":"frozenlake"}` + "\n", EnvFrozenLake},
		{"blank lines first", "\n  \n" + `{"layout":["#####","#@$.#","#####"],"env":"sokoban"}` + "\n", EnvSokoban},
		{"reference format", `{"layout":["#####","#@$.#","#####"],"max_steps":8}` + "\n", ""},
		{"not JSON", "layout: no\n", ""},
		{"empty", "", ""},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".jsonl")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := LevelSetEnv(path); got != tc.want {
			t.Errorf("%s: LevelSetEnv = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := LevelSetEnv(filepath.Join(dir, "missing.jsonl")); got != "" {
		t.Errorf("a missing file: LevelSetEnv = %q, want \"\"", got)
	}
}
