package kernels

import (
	"fmt"
	"os"
	"strings"
)

// A cpuPath is one set of the kernels' inner loops: the portable Go ones, or ones written for a
// family of vector instructions. The kernels run on the active path, chosen once from what the
// CPU supports, so that every path a CPU can take is also one the tests can force.
type cpuPath struct {
	name string
	// gemmTiles are the matrix product's micro-kernels, widest first; with none, products run
	// on gonum's Sgemm.
	gemmTiles []gemmTile

	// vectorWidth is the number of floats in a vector of the path's vector loops (vec_amd64.go),
	// 0 on a path without them; vectorISA says which of them it runs.
	vectorWidth int
	vectorISA   vectorISA
}

// vectorISA names a family of vector loops (see vec_amd64.go).
type vectorISA int

// vectorPart returns how many of n elements the active path's vector loops take: n rounded
// down to a multiple of its width.
func vectorPart(n int) int {
	if w := active.vectorWidth; w > 0 {
		return n / w * w
	}
	return 0
}

// genericPath is pure Go, for every architecture.
var genericPath = &cpuPath{name: "generic"}

// cpuPaths are the paths this CPU can take, fastest first; hostPaths is per architecture.
var cpuPaths = hostPaths()

// active is the path the kernels run on: the fastest, unless the environment variable
// ERLGO_CPU names another that this CPU can take.
var active = choosePath(os.Getenv("ERLGO_CPU"))

// choosePath returns the path named name, or the fastest when name is empty. A name this CPU
// cannot take is reported on standard error, once, and the fastest is used instead: a
// benchmark asked to run a missing path must not silently measure another.
func choosePath(name string) *cpuPath {
	if name == "" {
		return cpuPaths[0]
	}
	for _, p := range cpuPaths {
		if p.name == name {
			return p
		}
	}
	fmt.Fprintf(os.Stderr, "kernels: ERLGO_CPU=%s is not a path this CPU can take (%s); using %s\n", name, CPUPaths(), cpuPaths[0].name)
	return cpuPaths[0]
}

// CPUPath names the inner loops the kernels run on: "avx512", "avx2" or "generic". The
// environment variable ERLGO_CPU, read at start, selects any path the CPU can take.
func CPUPath() string { return active.name }

// CPUPaths lists the paths this CPU can take, fastest first, separated by commas.
func CPUPaths() string {
	names := make([]string, len(cpuPaths))
	for i, p := range cpuPaths {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}
