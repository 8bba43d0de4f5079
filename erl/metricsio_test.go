package erl

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func ptr(v float64) *float64 { return &v }

// testRecords returns n records, steps 1..n, with post-reflection success on odd steps and an
// evaluation every third step, so that both present and absent optional fields occur.
func testRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		step := i + 1
		r := Record{
			Step:        step,
			WallSeconds: 1.5 * float64(step),
			EnvSteps:    int64(40 * step),
			Tokens:      int64(1000 * step),
			Loss:        1 / float64(step),
			PG:          0.5 / float64(step),
			SuccessPre:  float64(step) / float64(2*n),
			StepSeconds: 1.5,
		}
		if step%2 == 1 {
			r.SuccessPost = ptr(float64(step) / float64(n))
		}
		if step%3 == 0 {
			r.EvalGreedy = ptr(float64(step) / float64(n))
			r.EvalSampled = ptr(0.9 * float64(step) / float64(n))
		}
		recs[i] = r
	}
	return recs
}

func writeRecords(t *testing.T, dir string, resumeStep int, recs []Record) {
	t.Helper()
	w, err := OpenMetrics(dir, resumeStep)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readCSV(t *testing.T, dir string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, MetricsCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestMetricsWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := testRecords(6)
	writeRecords(t, dir, 0, want)

	got, err := ReadMetrics(filepath.Join(dir, MetricsJSONLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadMetrics = %+v, want %+v", got, want)
	}

	rows := readCSV(t, dir)
	if len(rows) != len(want)+1 {
		t.Fatalf("metrics.csv has %d rows, want header and %d records", len(rows), len(want))
	}
	header := rows[0]
	if header[0] != "step" || len(header) != reflect.TypeFor[Record]().NumField() {
		t.Errorf("CSV header = %v, want every Record field, step first", header)
	}
	col := make(map[string]int)
	for i, name := range header {
		col[name] = i
	}
	for _, c := range []struct {
		row       int
		name, val string
	}{
		{1, "step", "1"},
		{1, "wall_s", "1.5"},
		{1, "env_steps", "40"},
		{1, "success_post", "0.16666666666666666"},
		{1, "eval_greedy", ""}, // nil is an empty cell
		{2, "success_post", ""},
		{3, "eval_sampled", "0.45"},
		{6, "loss", "0.16666666666666666"},
	} {
		i, ok := col[c.name]
		if !ok {
			t.Errorf("CSV header lacks %q", c.name)
			continue
		}
		if got := rows[c.row][i]; got != c.val {
			t.Errorf("CSV row %d %s = %q, want %q", c.row, c.name, got, c.val)
		}
	}
}

func TestOpenMetricsResume(t *testing.T) {
	for _, tc := range []struct {
		name       string
		resumeStep int
		wantSteps  []int
	}{
		{"fresh run discards old records", 0, []int{1, 2}},
		{"resume drops steps after the checkpoint", 3, []int{1, 2, 3, 4, 5}},
		{"resume past the last record keeps all", 9, []int{1, 2, 3, 4, 5, 6, 10, 11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRecords(t, dir, 0, testRecords(6))
			more := testRecords(tc.resumeStep + 2)[max(tc.resumeStep, 0):]
			writeRecords(t, dir, tc.resumeStep, more)

			recs, err := ReadMetrics(filepath.Join(dir, MetricsJSONLFile))
			if err != nil {
				t.Fatal(err)
			}
			rows := readCSV(t, dir)
			if len(rows) != len(recs)+1 {
				t.Errorf("metrics.csv has %d rows for %d records", len(rows), len(recs))
			}
			var steps []int
			for i, r := range recs {
				steps = append(steps, r.Step)
				if i+1 < len(rows) && rows[i+1][0] != strconv.Itoa(r.Step) {
					t.Errorf("CSV row %d step %s, JSONL step %d", i+1, rows[i+1][0], r.Step)
				}
			}
			if !reflect.DeepEqual(steps, tc.wantSteps) {
				t.Errorf("steps = %v, want %v", steps, tc.wantSteps)
			}
		})
	}
}

func TestOpenMetricsResumeWithoutFiles(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, dir, 5, testRecords(1))
	recs, err := ReadMetrics(filepath.Join(dir, MetricsJSONLFile))
	if err != nil || len(recs) != 1 {
		t.Errorf("ReadMetrics = %d records, %v; want 1", len(recs), err)
	}
}

func TestReadMetrics(t *testing.T) {
	const good = `{"step":1,"success_pre":0.5}` + "\n"
	for _, tc := range []struct {
		name     string
		content  string
		wantRecs int
		errLine  int // the line an error must name; 0 for no error
	}{
		{"empty", "", 0, 0},
		{"blank lines", "\n" + good + "  \n" + good, 2, 0},
		{"torn last line", good + good + `{"step":3,"succ`, 2, 0},
		{"unterminated but whole last line", good + `{"step":2}`, 2, 0},
		{"bad line", good + "not json\n" + good, 0, 2},
		{"wrong type", good + good + good + `{"step":"four"}` + "\n", 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), MetricsJSONLFile)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			recs, err := ReadMetrics(path)
			if tc.errLine != 0 {
				want := fmt.Sprintf("%s:%d: ", path, tc.errLine)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want one naming %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tc.wantRecs {
				t.Errorf("got %d records, want %d", len(recs), tc.wantRecs)
			}
		})
	}
}

func TestReadMetricsMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsJSONLFile)
	if _, err := ReadMetrics(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %v, want one naming %s", err, path)
	}
}
