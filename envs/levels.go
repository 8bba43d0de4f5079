package envs

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/erlgo/erlgo/internal/atomicfile"
)

// levelLine is one line of a level set, in the reference implementation's format plus an
// optional environment name.
type levelLine struct {
	Layout   []string `json:"layout"`
	MaxSteps int      `json:"max_steps"`
	Env      string   `json:"env,omitempty"`
}

// ReadLevels reads a level set from a JSON lines file, one level a line:
//
//	{"layout": ["#####", "#@$.#", "#####"], "max_steps": 8}
//
// Other fields are ignored. env is the environment of lines without an "env" field; a line
// naming another environment is an error, as a level set holds one environment. With env
// empty, every line must name its environment. A missing max_steps means DefaultMaxSteps.
// Blank lines are skipped. Every level is parsed, and an error names the file and line.
func ReadLevels(path, env string) ([]Task, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tasks, err := DecodeLevels(f, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tasks, nil
}

// LevelSetEnv returns the environment that the first level of the level set at path names, or
// "" when it names none (the reference implementation's format) or the file cannot be read as
// a level set: ReadLevels reports what is wrong with it.
func LevelSetEnv(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l levelLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			return ""
		}
		return l.Env
	}
	return ""
}

// DecodeLevels reads a level set from r as ReadLevels does; an error names the line.
func DecodeLevels(r io.Reader, env string) ([]Task, error) {
	if env != "" {
		if _, err := lookupEnv(env); err != nil {
			return nil, err
		}
	}
	br := bufio.NewReader(r)
	var tasks []Task
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return tasks, fmt.Errorf("line %d: %w", n, err)
		}
		if strings.TrimSpace(line) != "" {
			t, perr := decodeLevel(line, env)
			if perr != nil {
				return tasks, fmt.Errorf("line %d: %w", n, perr)
			}
			tasks = append(tasks, t)
		}
		if err != nil {
			return tasks, nil
		}
	}
}

func decodeLevel(line, env string) (Task, error) {
	var l levelLine
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		return Task{}, err
	}
	switch {
	case l.Env == "" && env == "":
		return Task{}, errors.New(`no "env" field, and no environment given`)
	case l.Env == "":
		l.Env = env
	case env != "" && l.Env != env:
		return Task{}, fmt.Errorf("level of environment %q in a %q level set", l.Env, env)
	}
	t := Task{Env: l.Env, Layout: l.Layout, MaxSteps: cmp.Or(l.MaxSteps, DefaultMaxSteps)}
	if _, err := t.New(); err != nil {
		return Task{}, err
	}
	return t, nil
}

// EncodeLevels writes tasks to w as JSON lines, in the format ReadLevels reads, with each
// level's environment.
func EncodeLevels(w io.Writer, tasks []Task) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, t := range tasks {
		if err := enc.Encode(levelLine{Layout: t.Layout, MaxSteps: cmp.Or(t.MaxSteps, DefaultMaxSteps), Env: t.Env}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteLevels writes tasks to the file path as EncodeLevels does, whole or not at all (see
// atomicfile.Write: a link is followed, a device or pipe written to directly).
func WriteLevels(path string, tasks []Task) error {
	return atomicfile.Write(path, func(w io.Writer) error { return EncodeLevels(w, tasks) })
}
