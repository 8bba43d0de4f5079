package envs

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// WriteLevels writes tasks to the file path as EncodeLevels does. It writes a temporary file
// beside path and renames it, so that path is either left as it was or holds the whole set.
// A symbolic link to an existing file is followed, and something other than a regular file (a pipe, /dev/stdout)
// is written to directly: renaming over either would replace it.
func WriteLevels(path string, tasks []Task) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return errors.Join(EncodeLevels(f, tasks), f.Close())
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := EncodeLevels(tmp, tasks); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
