// Package machine describes the machine a program runs on, so that what it measures or trains
// can say where: runs differ between machines (a kernel path, the steps a time budget buys).
package machine

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/erlgo/erlgo/kernels"
)

// Machine is where a result was taken.
type Machine struct {
	// CPU is the processor's model name, and CPUID its family and model where the system says
	// them ("family 25, model 1"): virtual machines often name only the maker and line ("AMD
	// EPYC"), which spans generations.
	CPU        string `json:"cpu"`
	CPUID      string `json:"cpu_id,omitempty"`
	NumCPU     int    `json:"nproc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	// Path is the CPU path the kernels run on (kernels.CPUPath).
	Path string `json:"cpu_path"`
}

// This describes the machine the program runs on, as the program sees it.
func This() Machine {
	m := Machine{CPU: runtime.GOARCH, NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Path: kernels.CPUPath()}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if name, id := parseCPUInfo(string(info)); name != "" {
			m.CPU, m.CPUID = name, id
		}
	}
	return m
}

// String describes m in one line: "AMD EPYC (family 25, model 1), 2 CPUs, GOMAXPROCS 1,
// go1.26.8 linux/amd64, kernels on the avx2 path".
func (m Machine) String() string {
	cpu := m.CPU
	if m.CPUID != "" {
		cpu += " (" + m.CPUID + ")"
	}
	return fmt.Sprintf("%s, %d CPUs, GOMAXPROCS %d, %s %s/%s, kernels on the %s path",
		cpu, m.NumCPU, m.GOMAXPROCS, m.Go, m.OS, m.Arch, m.Path)
}

// parseCPUInfo returns the model name, and the family and model, that the text of
// /proc/cpuinfo gives its first processor; "" for what it does not give.
func parseCPUInfo(info string) (name, id string) {
	var family, model string
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) == "" && name != "" {
				break // the end of the first processor's block
			}
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "model name" && name == "":
			name = v
		case k == "cpu family" && family == "":
			family = v
		case k == "model" && model == "":
			model = v
		}
	}
	if family != "" && model != "" {
		id = "family " + family + ", model " + model
	}
	return name, id
}
