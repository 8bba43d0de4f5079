package machine

import (
	"runtime"
	"strings"
	"testing"
)

func TestParseCPUInfo(t *testing.T) {
	for _, tc := range []struct {
		about, info, name, id string
	}{
		{"x86, two processors", "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: Other\n",
			"AMD EPYC", "family 25, model 1"},
		{"no family", "processor\t: 0\nmodel name\t: Intel Xeon\n", "Intel Xeon", ""},
		{"arm64, no model name", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n", "", ""},
		{"empty", "", "", ""},
	} {
		name, id := parseCPUInfo(tc.info)
		if name != tc.name || id != tc.id {
			t.Errorf("%s: parseCPUInfo = %q, %q; want %q, %q", tc.about, name, id, tc.name, tc.id)
		}
	}
}

func TestThis(t *testing.T) {
	m := This()
	if m.CPU == "" || m.NumCPU != runtime.NumCPU() || m.GOMAXPROCS != runtime.GOMAXPROCS(0) || m.Path == "" {
		t.Errorf("This() = %+v: a field is missing", m)
	}
	s := m.String()
	for _, want := range []string{m.CPU, runtime.Version(), "kernels on the " + m.Path + " path"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, lacks %q", s, want)
		}
	}
}
