package erl

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/erlgo/erlgo/internal/atomicfile"
)

// File names of the metrics inside a run directory.
const (
	MetricsJSONLFile = "metrics.jsonl"
	MetricsCSVFile   = "metrics.csv"
)

// metricsColumns are the CSV columns: the json names of Record's fields in declaration order,
// so that the two files name each metric alike and a new field cannot be left out of one.
var metricsColumns = func() []string {
	t := reflect.TypeFor[Record]()
	cols := make([]string, t.NumField())
	for i := range cols {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("erl: Record field %s has no json name", t.Field(i).Name))
		}
		cols[i] = name
	}
	return cols
}()

// csvRow formats r in metricsColumns order; a nil pointer is an empty cell.
func csvRow(r Record) []string {
	v := reflect.ValueOf(r)
	row := make([]string, v.NumField())
	for i := range row {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.Int, reflect.Int64:
			row[i] = strconv.FormatInt(f.Int(), 10)
		case reflect.Float64:
			row[i] = strconv.FormatFloat(f.Float(), 'g', -1, 64)
		default:
			panic(fmt.Sprintf("erl: no CSV format for Record field of kind %s", f.Kind()))
		}
	}
	return row
}

// MetricsWriter appends Records to a run directory's metrics.jsonl and metrics.csv. Each Write
// reaches the operating system before it returns, so a run that is killed keeps every step it
// finished.
type MetricsWriter struct {
	jsonl *os.File
	csv   *os.File
	cw    *csv.Writer
}

// OpenMetrics opens the metrics files of the run directory dir for appending. A run resumed
// from the checkpoint of step resumeStep > 0 keeps the records with Step <= resumeStep, which
// drops the steps the killed run finished after its checkpoint, since they will be redone; a
// fresh run (resumeStep <= 0) starts from empty files. metrics.csv is rebuilt from
// metrics.jsonl, which is the record of truth. Both files are replaced atomically, so a crash
// while opening leaves either the old or the new contents.
func OpenMetrics(dir string, resumeStep int) (*MetricsWriter, error) {
	jsonlPath := filepath.Join(dir, MetricsJSONLFile)
	csvPath := filepath.Join(dir, MetricsCSVFile)

	var kept []Record
	if resumeStep > 0 {
		recs, err := ReadMetrics(jsonlPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, r := range recs {
			if r.Step <= resumeStep {
				kept = append(kept, r)
			}
		}
	}
	err := atomicfile.Write(jsonlPath, func(w io.Writer) error {
		for _, r := range kept {
			if err := writeJSONLine(w, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = atomicfile.Write(csvPath, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(metricsColumns); err != nil {
			return err
		}
		for _, r := range kept {
			if err := cw.Write(csvRow(r)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return nil, err
	}

	jf, err := os.OpenFile(jsonlPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	cf, err := os.OpenFile(csvPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		jf.Close()
		return nil, err
	}
	return &MetricsWriter{jsonl: jf, csv: cf, cw: csv.NewWriter(cf)}, nil
}

// Write appends r to both files. It fails, writing nothing, if a metric is NaN or infinite,
// which JSON cannot hold.
func (w *MetricsWriter) Write(r Record) error {
	if err := writeJSONLine(w.jsonl, r); err != nil {
		return fmt.Errorf("erl: step %d: %w", r.Step, err)
	}
	if err := w.cw.Write(csvRow(r)); err != nil {
		return err
	}
	w.cw.Flush()
	return w.cw.Error()
}

// Close flushes both files to stable storage and closes them.
func (w *MetricsWriter) Close() error {
	var errs []error
	for _, f := range []*os.File{w.jsonl, w.csv} {
		errs = append(errs, f.Sync(), f.Close())
	}
	return errors.Join(errs...)
}

// writeJSONLine writes r and its newline in one call, so that a killed writer leaves at most
// one torn line, the last.
func writeJSONLine(w io.Writer, r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadMetrics reads the Records of a metrics.jsonl file. Blank lines are skipped, and so is a
// final line that lacks its newline and does not parse: the run is still writing it, or was
// killed while it did. Errors name the file and line.
func ReadMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var recs []Record
	br := bufio.NewReader(f)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		complete := err == nil
		if b = bytes.TrimSpace(b); len(b) > 0 {
			var r Record
			if err := json.Unmarshal(b, &r); err != nil {
				if !complete {
					break
				}
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			recs = append(recs, r)
		}
		if !complete {
			break
		}
	}
	return recs, nil
}
