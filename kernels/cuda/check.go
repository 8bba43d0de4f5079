//go:build gpu || cudaemu

package cuda

import (
	"fmt"

	"github.com/erlgo/erlgo/kernels"
)

// The checks of package kernels, on the lengths and dimensions the host can see: a device
// slice's length is the host's to read, its values (indices among them) are not. The kernels
// leave an output alone where an index falls outside its table.

func mustLen[E float32 | int32](kernel, name string, s []E, n int) {
	if len(s) < n {
		panic(fmt.Sprintf("cuda: %s: len(%s) = %d, need %d", kernel, name, len(s), n))
	}
}

func mustLenOpt(kernel, name string, s []float32, n int) {
	if s != nil {
		mustLen(kernel, name, s, n)
	}
}

func mustDim(kernel, name string, v, lo int) {
	if v < lo {
		panic(fmt.Sprintf("cuda: %s: %s = %d, must be at least %d", kernel, name, v, lo))
	}
}

func mustAtMost(kernel, what string, v, hi int) {
	if v > hi {
		panic(fmt.Sprintf("cuda: %s: %s = %d, at most %d on the GPU", kernel, what, v, hi))
	}
}

// checkAttention validates the shared arguments of the attention kernels, as package kernels
// does but for lens's values, which are the device's, and the GPU kernels' limits, and returns
// the head dimension.
func checkAttention(kernel string, qkv, att []float32, lens []int32, B, T, C, NH int) int {
	hd := kernels.CheckAttention(kernel, qkv, att, lens, B, T, C, NH)
	mustAtMost(kernel, "the head dimension", hd, maxHeadDim)
	mustAtMost(kernel, "T", T, maxScores)
	return hd
}
