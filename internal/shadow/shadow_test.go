package shadow

import (
	"math"
	"strings"
	"testing"
)

func TestMemory(t *testing.T) {
	var reports []string
	m := &Memory{Report: func(msg string) { reports = append(reports, msg) }}
	x, idx := m.Alloc(5), m.AllocIndex(3)
	for _, v := range x {
		if math.Float32bits(v) != PoisonBits {
			t.Fatalf("an address holds %v, want poison", v)
		}
	}
	if idx[0] != PoisonIndex || m.Allocs != 2 {
		t.Fatalf("index address %v, %d allocations", idx, m.Allocs)
	}
	copy(m.Floats(x[1:4]), []float32{1, 2, 3})
	copy(m.Indices(idx), []int32{7, 8, 9})
	if got := m.Floats(x); got[0] != 0 || got[1] != 1 || got[3] != 3 || got[4] != 0 {
		t.Errorf("values %v, want [0 1 2 3 0]", got)
	}
	if got := m.Indices(idx[2:]); got[0] != 9 {
		t.Errorf("index values %v, want [9]", got)
	}
	if len(reports) != 0 {
		t.Fatalf("reports on proper use: %v", reports)
	}
	x[2] = 5 // a write from the host
	m.Floats(x)
	m.Floats(make([]float32, 2))
	if len(reports) != 2 || !strings.Contains(reports[0], "written from the host") || !strings.Contains(reports[1], "not this memory's") {
		t.Errorf("reports %q, want a host write and a foreign slice", reports)
	}
	if m.Floats(nil) != nil {
		t.Error("nil translates to non-nil")
	}
}
