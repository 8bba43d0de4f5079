package kernels

import "fmt"

// The checks run before a kernel starts any goroutine, so that a caller's mistake panics in
// the caller's goroutine, where it can be seen and recovered, rather than in a worker.

// mustLen panics unless s holds at least n elements.
func mustLen[T float32 | int32](kernel, name string, s []T, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, need %d", kernel, name, len(s), n))
	}
}

// mustLenOpt is mustLen for an optional output, which may be nil.
func mustLenOpt(kernel, name string, s []float32, n int) {
	if s != nil {
		mustLen(kernel, name, s, n)
	}
}

// mustDim panics unless the dimension v is at least lo.
func mustDim(kernel, name string, v, lo int) {
	if v < lo {
		panic(fmt.Sprintf("kernels: %s: %s = %d, must be at least %d", kernel, name, v, lo))
	}
}

// mustIndices panics unless every index lies in [0, n): an index outside would read or
// write a row that does not belong to the table.
func mustIndices(kernel, name string, idx []int32, n int) {
	for i, v := range idx {
		if v < 0 || int(v) >= n {
			panic(fmt.Sprintf("kernels: %s: %s[%d] = %d, outside [0, %d)", kernel, name, i, v, n))
		}
	}
}
