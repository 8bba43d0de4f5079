package erl

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkPNG fails t unless path holds a PNG at least minW×minH pixels.
func checkPNG(t *testing.T, path string, minW, minH int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < minW || b.Dy() < minH {
		t.Errorf("%s is %dx%d, want at least %dx%d", path, b.Dx(), b.Dy(), minW, minH)
	}
}

// rlvrRecords returns testRecords(n) as an RLVR run would log them: no reflection, and greedy
// evaluation only.
func rlvrRecords(n int) []Record {
	recs := testRecords(n)
	for i := range recs {
		recs[i].SuccessPost = nil
		recs[i].EvalSampled = nil
	}
	return recs
}

func TestPlotRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		recs []Record
	}{
		{"erl", testRecords(50)},
		{"rlvr", rlvrRecords(50)},
		{"one step", testRecords(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := PlotRun(dir, tc.recs); err != nil {
				t.Fatal(err)
			}
			for _, file := range []string{SuccessPlotFile, LossPlotFile} {
				checkPNG(t, filepath.Join(dir, file), 600, 400)
			}
			if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(tmp) > 0 {
				t.Errorf("temporary files left behind: %v", tmp)
			}
		})
	}
	if err := PlotRun(t.TempDir(), nil); err == nil {
		t.Error("PlotRun with no records succeeded")
	}
}

func TestPlotCompare(t *testing.T) {
	runs := []Run{
		{"erl", testRecords(60)},
		{"rlvr", rlvrRecords(40)},
		{"no-eval", testRecords(2)},
	}
	path := filepath.Join(t.TempDir(), "compare.png")
	if err := PlotCompare(path, runs); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*600, 400)
	if err := PlotCompare(path, nil); err == nil {
		t.Error("PlotCompare with no runs succeeded")
	}
}

func TestCompareTable(t *testing.T) {
	table := CompareTable([]Run{
		{"erl", testRecords(30)},
		{"rlvr-long-name", rlvrRecords(24)},
		{"empty", nil},
	})
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want header and 3 runs:\n%s", len(lines), table)
	}
	// Aligned columns: every row starts its second column where the header does.
	col := strings.Index(lines[0], "steps")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row not aligned with header:\n%s", table)
		}
	}
	for _, tc := range []struct {
		row  int
		want []string
	}{
		// erl: 30 steps of 1.5 s, 40 env steps each; last evaluation at step 30 (greedy 1,
		// sampled 0.9), which is also the best; the last 3 steps' success pre is
		// (28+29+30)/3/60, and post only step 29's, 29/30.
		{1, []string{"erl", "30", "45s", "1200", "1.000", "0.900", "0.900", "30", "0.483", "0.967"}},
		// rlvr: greedy evaluation only, no reflection; success pre (22+23+24)/3/48.
		{2, []string{"rlvr-long-name", "24", "36s", "960", "1.000", "-", "-", "-", "0.479", "-"}},
		{3, []string{"empty", "-", "-", "-", "-", "-", "-", "-", "-", "-"}},
	} {
		if got := strings.Fields(lines[tc.row]); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("row %d = %q, want %q", tc.row, got, tc.want)
		}
	}
}
