package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/erlgo/erlgo/erl"
)

func TestWriteCSV(t *testing.T) {
	dir := t.TempDir()
	recs := testRecords(6)
	if err := WriteCSV(dir, recs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, MetricsCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs)+1 {
		t.Fatalf("metrics.csv has %d rows, want header and %d records", len(rows), len(recs))
	}
	header := rows[0]
	if header[0] != "step" || len(header) != reflect.TypeFor[erl.Record]().NumField()-1 || slices.Contains(header, "retry_tasks") {
		t.Errorf("CSV header = %v, want every Record field but the list retry_tasks, step first", header)
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
