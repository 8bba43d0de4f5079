package kernels

import "fmt"

// The checks run before a kernel starts any goroutine, so that a caller's mistake panics in
// the caller's goroutine, where it can be seen and recovered, rather than in a worker. Package
// shape checks the dimensions and lengths, as the CUDA Device does too; the values in the
// slices, which a device cannot read from the host, are checked here.

// mustIndices panics unless every index lies in [0, n): an index outside would read or
// write a row that does not belong to the table.
func mustIndices(kernel, name string, idx []int32, n int) {
	for i, v := range idx {
		if v < 0 || int(v) >= n {
			panic(fmt.Sprintf("kernels: %s: %s[%d] = %d, outside [0, %d)", kernel, name, i, v, n))
		}
	}
}
