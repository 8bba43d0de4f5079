//go:build gpu || cudaemu

package cuda

import "fmt"

// The Device's kernels check their arguments as package kernels' do (package shape), but for
// the values in the slices, which are the device's: the kernels leave an output alone where an
// index falls outside its table. These are the checks of the GPU kernels' own limits.

// mustAtMost panics unless v, what a kernel calls what, is at most hi.
func mustAtMost(kernel, what string, v, hi int) {
	if v > hi {
		panic(fmt.Sprintf("cuda: %s: %s = %d, at most %d on the GPU", kernel, what, v, hi))
	}
}

// mustAttentionFits panics unless the attention kernels' shared memory holds a head of hd and
// rows of T scores.
func mustAttentionFits(kernel string, hd, T int) {
	mustAtMost(kernel, "the head dimension", hd, maxHeadDim)
	mustAtMost(kernel, "T", T, maxScores)
}
