package erl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/erlgo/erlgo/internal/atomicfile"
)

// File names of the logs Train writes into a run directory, one JSON object a line.
const (
	// MetricsJSONLFile holds a Record a step, and one for step 0, the evaluation of the
	// initial policy.
	MetricsJSONLFile = "metrics.jsonl"
	// EpisodesFile holds the Episodes of the steps that were evaluated.
	EpisodesFile = "episodes.jsonl"
)

// runLog appends values to a JSON-lines file of a run directory. Each value reaches the
// operating system, in one write with its newline, before write returns, so that a run that
// is killed keeps every line it finished and tears at most the last.
type runLog struct{ f *os.File }

// openRunLog opens the JSON-lines file at path for appending. A run resumed from the
// checkpoint of step resumeStep > 0 keeps the lines whose "step" is at most resumeStep, which
// drops what the killed run wrote after its checkpoint, since those steps will be redone; a
// fresh run (resumeStep <= 0) starts from an empty file. The file is rewritten atomically, so
// a crash while opening leaves either the old or the new contents.
func openRunLog(path string, resumeStep int) (*runLog, error) {
	var kept []json.RawMessage
	if resumeStep > 0 {
		lines, err := readJSONL[json.RawMessage](path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for i, line := range lines {
			var s struct {
				Step *int `json:"step"`
			}
			if err := json.Unmarshal(line, &s); err != nil || s.Step == nil {
				return nil, fmt.Errorf("%s: line %d has no step", path, i+1)
			}
			if *s.Step <= resumeStep {
				kept = append(kept, line)
			}
		}
	}
	err := atomicfile.Write(path, func(w io.Writer) error {
		for _, line := range kept {
			if _, err := w.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return &runLog{f}, nil
}

// write appends v as one line. It fails, writing nothing, if v holds a NaN or an infinity,
// which JSON cannot.
func (l *runLog) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = l.f.Write(append(b, '\n'))
	return err
}

// Close flushes the file to stable storage and closes it.
func (l *runLog) Close() error {
	return errors.Join(l.f.Sync(), l.f.Close())
}

// readJSONL reads the values of a JSON-lines file, one a line. Blank lines are skipped, and
// so is a final line that lacks its newline and does not parse: its writer is still writing
// it, or was killed while it did. Errors name the file and line.
func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var vs []T
	br := bufio.NewReader(f)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		complete := err == nil
		if b = bytes.TrimSpace(b); len(b) > 0 {
			var v T
			if err := json.Unmarshal(b, &v); err != nil {
				if !complete {
					break
				}
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			vs = append(vs, v)
		}
		if !complete {
			break
		}
	}
	return vs, nil
}

// MetricsWriter appends Records to a run directory's metrics.jsonl (see runLog).
type MetricsWriter struct{ log *runLog }

// OpenMetrics opens the metrics.jsonl of the run directory dir for appending, keeping the
// records of steps up to resumeStep as openRunLog does.
func OpenMetrics(dir string, resumeStep int) (*MetricsWriter, error) {
	l, err := openRunLog(filepath.Join(dir, MetricsJSONLFile), resumeStep)
	if err != nil {
		return nil, err
	}
	return &MetricsWriter{l}, nil
}

// Write appends r. It fails, writing nothing, if a metric is NaN or infinite.
func (w *MetricsWriter) Write(r Record) error {
	if err := w.log.write(r); err != nil {
		return fmt.Errorf("erl: step %d: %w", r.Step, err)
	}
	return nil
}

// Close flushes the file to stable storage and closes it.
func (w *MetricsWriter) Close() error { return w.log.Close() }

// ReadMetrics reads the Records of a metrics.jsonl file, as readJSONL does.
func ReadMetrics(path string) ([]Record, error) { return readJSONL[Record](path) }
