package erl

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func ptr(v float64) *float64 { return &v }

// testRecords returns n records, steps 1..n, with post-reflection success on odd steps and an
// evaluation every third step, so that both present and absent optional fields occur.
func testRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Step: i + 1, WallSeconds: 1.5 * float64(i+1), SuccessPre: 0.25}
		if i%2 == 0 {
			recs[i].SuccessPost = ptr(0.5)
		}
		if i%3 == 2 {
			recs[i].EvalGreedy, recs[i].EvalSampled = ptr(0.75), ptr(0.625)
		}
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
			var steps []int
			for _, r := range recs {
				steps = append(steps, r.Step)
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
